// `upstreams.<name>.api_key_env`: one environment variable, or a list of them for several provider keys.
#include "config/loader_internal.h"

namespace sluice::config::detail {

namespace {
void add_key(Reader& r, const Field& f, const std::string& var, bool in_list, Upstream& up) {
  if (std::find(up.api_key_envs.begin(), up.api_key_envs.end(), var) != up.api_key_envs.end()) {
    r.error(f.value_line(), f.path, "environment variable " + var + " is listed twice");
    return;
  }
  auto key = r.env(var);
  if (!key) {
    // Not fatal: self-hosted upstreams often need no key, and `sluice serve` should still start.
    r.warning(f.value_line(), f.path,
              "environment variable " + var + " is not set or empty; " +
                  (!in_list ? "requests will be sent without an API key"
                                                                     : "this key is left out"));
    if (!in_list) {
      up.api_key_env = var;
    }
    return;
  }
  if (up.api_keys.empty()) {
    up.api_key = *key;
    up.api_key_env = var;
  }
  up.api_keys.push_back(*key);
  up.api_key_envs.push_back(var);
}
}  // namespace

void load_api_keys(Reader& r, const Field& field, Upstream& up) {
  if (!field.value.IsSequence()) {
    if (auto var = r.env_name(field)) {
      add_key(r, field, *var, false, up);
    }
    return;
  }
  if (field.value.size() == 0) {
    r.error(field.value_line(), field.path, "expected an environment variable name or a non-empty list of them");
    return;
  }
  for (std::size_t i = 0; i < field.value.size(); ++i) {
    Field item{field.key, index_path(field.path, i), line_of(field.value[i]), field.value[i]};
    if (auto var = r.env_name(item)) {
      add_key(r, item, *var, true, up);
    }
  }
}

}  // namespace sluice::config::detail
