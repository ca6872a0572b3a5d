#include "state/backend.h"

#include "state/redis_backend.h"

namespace sluice::state {

std::shared_ptr<Backend> make_backend(const config::StateConfig& cfg, std::string& error) {
  if (cfg.backend == config::StateBackend::kLocal) {
    return local_backend();
  }
  return make_redis_backend(cfg, error);
}

}  // namespace sluice::state
