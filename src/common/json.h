#pragma once
// Minimal JSON writing helpers for hot paths where building a DOM would be waste.
#include <string>
#include <string_view>

namespace sluice {

// Appends `s` as a JSON string literal (with quotes), escaping control characters, quotes and backslashes.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);

}  // namespace sluice
