#pragma once
// SHA-256 for virtual keys: the config and memory hold only digests of client secrets.
#include <string>
#include <string_view>

namespace sluice {

// Lowercase hex SHA-256 of `data` (64 characters).
std::string sha256_hex(std::string_view data);

}  // namespace sluice
