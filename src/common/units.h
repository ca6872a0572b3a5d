#pragma once
// Human-friendly durations ("250ms", "1.5s", "2m") and byte sizes ("4MiB") used by the config file.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// "<number><unit>" with unit ms, s, m or h; the number may have a decimal fraction ("1.5s").
// A bare integer means milliseconds. Negative values, spaces and sub-millisecond precision are
// rejected (nullopt) rather than silently rounded.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "<integer>[suffix]" with suffix B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
// Case-sensitive; nullopt on malformed input or overflow.
std::optional<std::size_t> parse_size(std::string_view text);

// Shortest exact form in the largest fitting unit: 0 -> "0s", 250 -> "250ms", 1500 -> "1.5s",
// 120000 -> "2m", 3600000 -> "1h". parse_duration(format_duration(d)) == d for d >= 0.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace sluice
