// The simulator's x-sim-fault header parser: any bytes parse or fail with a message, never crash; what parses
// keeps the grammar's ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/faults.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  const sluice::sim::FaultParse p = sluice::sim::parse_fault_header(header);
  if (p.error.empty()) {
    const auto& s = p.spec;
    if (s.status != 0 && (s.status < 400 || s.status > 599)) std::abort();
    if (s.keepalives < 0 || s.tokens < -1) std::abort();
  }
  return 0;
}
