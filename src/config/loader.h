#pragma once
// YAML → validated Config. The only place that knows YAML.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sluice::config {

// One problem found while loading; printed as "file:line: key.path: message".
struct Diagnostic {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  std::string path;  // dotted key path, e.g. "upstreams.deepseek.timeouts.connect"
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is non-empty
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;  // e.g. api_key_env names an unset variable
  bool ok() const { return errors.empty() && config != nullptr; }
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

LoadResult load_string(std::string_view yaml, const std::string& source_name, const EnvLookup& env);
LoadResult load_file(const std::string& path, const EnvLookup& env);

// Built-in config used by `sluice serve` without -c: DeepSeek's two models via DEEPSEEK_API_KEY.
std::string_view embedded_default_yaml();

}  // namespace sluice::config
