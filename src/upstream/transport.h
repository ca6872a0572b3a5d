#pragma once
// How the executor reaches upstreams: one attempt at a time, through an interface, so the routing executor
// can be tested on an in-memory fake (tests/unit/upstream/fake_transport.h) and served by sockets in
// production.
#include <map>
#include <memory>
#include <string>

#include "upstream/attempt.h"

namespace sluice::upstream {

class Transport {
 public:
  virtual ~Transport() = default;
  // One attempt of spec against spec.upstream, relayed to `sink`; `out` is filled as it goes.
  virtual net::awaitable<void> attempt(const AttemptSpec& spec, ClientSink& sink, AttemptOutcome& out) = 0;
  // Draining: stop keeping idle connections.
  virtual void on_drain() {}
};

// Pooled keep-alive connections per upstream, on one worker thread.
class SocketTransport final : public Transport {
 public:
  // `tls`: the client contexts of https upstreams, by upstream name (outlive this transport).
  SocketTransport(net::any_io_executor ex, const config::Config& cfg,
                  const std::map<std::string, std::unique_ptr<ssl::context>>& tls);
  // Not a coroutine: run_attempt's frame is the attempt's only one.
  net::awaitable<void> attempt(const AttemptSpec& spec, ClientSink& sink, AttemptOutcome& out) override {
    return run_attempt(spec, *pools_.find(spec.upstream.name)->second, sink, out);
  }
  void on_drain() override;

 private:
  std::map<std::string, std::unique_ptr<UpstreamPool>, std::less<>> pools_;
};

}  // namespace sluice::upstream
