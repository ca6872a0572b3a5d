#include "config/config.h"

#include "config/loader.h"

namespace sluice::config {

const Model* Config::find_model(std::string_view name) const {
  const auto it = models.find(std::string(name));
  return it == models.end() ? nullptr : &it->second;
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
  }
  if (!out.empty()) {
    out += ": ";
  }
  if (!path.empty()) {
    out += path + ": ";
  }
  return out + message;
}

}  // namespace sluice::config
