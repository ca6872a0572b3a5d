#pragma once
// Helpers shared by the config loader tests.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace sluice::config::testing {

using EnvMap = std::map<std::string, std::string>;

inline EnvLookup fake_env(EnvMap vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

// Loads `yaml` as "test.yaml". A leading newline is dropped so raw-string literals can start on
// their own line and still have line 1 be the first line of YAML.
inline LoadResult load(std::string_view yaml, EnvMap env = {}) {
  if (!yaml.empty() && yaml.front() == '\n') {
    yaml.remove_prefix(1);
  }
  return load_string(yaml, "test.yaml", fake_env(std::move(env)));
}

inline std::vector<std::string> strings(const std::vector<Diagnostic>& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags) {
    out.push_back(d.to_string());
  }
  return out;
}

inline std::vector<std::string> errors(const LoadResult& r) { return strings(r.errors); }
inline std::vector<std::string> warnings(const LoadResult& r) { return strings(r.warnings); }

// Smallest valid tail: append to sections under test.
inline constexpr std::string_view kMinimalTail = R"(upstreams:
  up:
    base_url: http://127.0.0.1:9000/v1
models:
  m:
    upstream: up
)";

// `head` (the sections under test) followed by kMinimalTail.
inline std::string with_tail(std::string_view head) { return std::string(head) + std::string(kMinimalTail); }

}  // namespace sluice::config::testing
