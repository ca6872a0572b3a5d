// The config loader from a string (what `sluice check` and reload feed it): any YAML loads or fails with
// diagnostics that name a line; nothing crashes, hangs or throws.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"
#include "fuzz_check.h"

using sluice::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const sluice::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name.empty() || name[0] == 'U') return std::nullopt;  // some variables unset
    return "sk-fuzz-" + name;
  };
  const auto r = sluice::config::load_string(yaml, "fuzz.yaml", env);
  check(r.ok() == (r.errors.empty() && r.config != nullptr), "ok() means a config and no errors");
  check(r.config != nullptr || !r.errors.empty(), "a failed load says why");
  for (const auto& d : r.errors) {
    check(!d.message.empty() && d.line >= 0, "a diagnostic has a message");
    (void)d.to_string();
  }
  return 0;
}
