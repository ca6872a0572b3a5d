#pragma once
#include <string>

namespace sluice::cli {
// Process logs go to stderr (the access log has its own sink).
void setup_logging(const std::string& level);
}  // namespace sluice::cli
