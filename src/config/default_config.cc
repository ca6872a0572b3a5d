#include "config/loader.h"

namespace sluice::config {

std::string_view embedded_default_yaml() {
  static constexpr std::string_view kYaml =
      R"yaml(# Built-in sluice configuration, used by `sluice serve` when no -c file is given.
# It listens on 127.0.0.1:8080 and forwards DeepSeek's two public models to api.deepseek.com,
# sending the API key from $DEEPSEEK_API_KEY. No client keys are defined, so local clients need
# no Authorization header. To change anything, copy this text to a file and pass it with -c.
listen: "127.0.0.1:8080"
upstreams:
  deepseek:
    base_url: https://api.deepseek.com
    api_key_env: DEEPSEEK_API_KEY
models:
  deepseek-chat:
    upstream: deepseek
  deepseek-reasoner:
    upstream: deepseek
)yaml";
  return kYaml;
}

}  // namespace sluice::config
