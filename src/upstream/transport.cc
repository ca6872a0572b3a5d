#include "upstream/transport.h"

namespace sluice::upstream {

SocketTransport::SocketTransport(net::any_io_executor ex, const config::Config& cfg,
                                 const std::map<std::string, std::unique_ptr<ssl::context>>& tls) {
  for (const auto& [name, up] : cfg.upstreams) {
    auto it = tls.find(name);
    pools_.emplace(name,
                   std::make_unique<UpstreamPool>(ex, up, it == tls.end() ? nullptr : it->second.get()));
  }
}

void SocketTransport::on_drain() {
  for (auto& [name, pool] : pools_) {
    pool->clear();
  }
}

}  // namespace sluice::upstream
