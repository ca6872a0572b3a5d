#include "state/redis/client.h"

#include "state/redis/scripts.h"

namespace sluice::state::redis {

Client::Client(net::any_io_executor ex, std::shared_ptr<const ClientSetup> setup)
    : ex_(std::move(ex)), setup_(std::move(setup)), conns_(std::max<std::uint32_t>(1, setup_->pool_size)),
      breaker_(setup_->breaker) {}

Client::~Client() { close(); }

void Client::close() {
  closed_ = true;
  for (auto& c : conns_) {
    if (c) {
      c->close(net::error::operation_aborted);
    }
  }
}

std::int64_t Client::now_ns() const { return Clock::now().time_since_epoch().count(); }

bool Client::ready() const {
  if (closed_ || breaker_.state() != Breaker::State::kClosed) {
    return false;
  }
  for (const auto& c : conns_) {
    if (c && c->state() == Connection::State::kReady) {
      return true;
    }
  }
  return false;
}

void Client::start_connect(std::size_t slot) {
  auto c = std::make_shared<Connection>(ex_);
  conns_[slot] = c;
  c->connect(setup_->connect, [weak = weak_from_this()](error_code ec, Replies) {
    auto self = weak.lock();
    if (!self || self->closed_) {
      return;
    }
    if (ec) {
      self->breaker_.failure(self->now_ns());
      self->setup_->err_connection->inc();
    } else {
      self->breaker_.success();
    }
  });
}

std::shared_ptr<Connection> Client::pick() {
  const std::size_t n = conns_.size();
  std::shared_ptr<Connection> ready;
  for (std::size_t i = 0; i < n && !ready; ++i) {
    const std::size_t slot = (next_ + i) % n;
    if (conns_[slot] && conns_[slot]->state() == Connection::State::kReady) {
      ready = conns_[slot];
      next_ = (slot + 1) % n;
    }
  }
  // Refill the pool in the background: slots never used, or whose connection closed.
  for (std::size_t slot = 0; slot < n; ++slot) {
    const auto& c = conns_[slot];
    if (!c || c->state() == Connection::State::kClosed) {
      start_connect(slot);
      if (!ready) {
        break;  // one connect at a time while nothing works: it is also the breaker's probe
      }
    }
  }
  return ready;
}

net::awaitable<std::shared_ptr<Connection>> Client::wait_ready(Clock::time_point deadline) {
  net::steady_timer timer(ex_);
  while (!closed_ && Clock::now() < deadline) {
    bool connecting = false;
    for (const auto& c : conns_) {
      if (c && c->state() == Connection::State::kReady) {
        co_return c;
      }
      connecting = connecting || (c && c->state() == Connection::State::kConnecting);
    }
    if (!connecting) {
      break;
    }
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(use_tuple);
  }
  co_return nullptr;
}

void Client::warm_up() {
  if (!closed_ && !ready() && breaker_.allow(now_ns())) {
    pick();
  }
}

net::awaitable<CallResult> Client::call(std::vector<Command> cmds) {
  auto self = shared_from_this();
  CallResult out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (closed_ || !breaker_.allow(now_ns())) {
      setup_->err_unavailable->inc();
      out.error = CallError::kUnavailable;
      co_return out;
    }
    const auto deadline = Clock::now() + setup_->timeout;
    auto conn = pick();
    if (!conn && breaker_.clean()) {
      // A first connect in progress may finish within the timeout; after a failure, fail at once instead.
      conn = co_await wait_ready(deadline);
    }
    if (!conn) {
      setup_->err_unavailable->inc();
      out.error = CallError::kUnavailable;
      co_return out;
    }
    std::string bytes;
    for (const auto& c : cmds) {
      append_command(bytes, c);
    }
    setup_->round_trips->inc();
    auto [ec, replies] = co_await conn->async_exec(std::move(bytes), cmds.size(), deadline, use_tuple);
    if (ec) {
      breaker_.failure(now_ns());
      const bool timeout = ec == make_error_code(boost::system::errc::timed_out);
      (timeout ? setup_->err_timeout : setup_->err_connection)->inc();
      out.error = timeout ? CallError::kTimeout : CallError::kConnection;
      co_return out;
    }
    breaker_.success();
    bool noscript = false;
    for (const auto& r : replies) {
      if (r.is_error()) {
        setup_->err_reply->inc();
        noscript = noscript || r.str.starts_with("NOSCRIPT");
      }
    }
    out.replies = std::move(replies);
    if (!noscript) {
      break;
    }
    // Redis lost its scripts without dropping the connection (SCRIPT FLUSH, a failover): EVAL caches them again.
    for (auto& c : cmds) {
      scripts().to_eval(c);
    }
  }
  co_return out;
}

void Client::send(std::vector<Command> cmds) {
  net::co_spawn(
      ex_, [self = shared_from_this(), cmds = std::move(cmds)]() mutable -> net::awaitable<void> {
        co_await self->call(std::move(cmds));
      },
      net::detached);
}

namespace {
// The clients of every backend on one io_context; shut down with the io_context, on its thread.
class ClientService : public net::execution_context::service {
 public:
  using key_type = ClientService;
  static inline net::execution_context::id id;
  explicit ClientService(net::execution_context& ctx) : net::execution_context::service(ctx) {}

  std::shared_ptr<Client> get(const net::any_io_executor& ex, const std::shared_ptr<const ClientSetup>& setup) {
    std::shared_ptr<Client> found;
    for (auto it = clients_.begin(); it != clients_.end();) {
      auto live = it->first.lock();
      if (!live) {
        it->second->close();  // its backend is gone (a reload changed the state settings)
        it = clients_.erase(it);
        continue;
      }
      if (live == setup) {
        found = it->second;
      }
      ++it;
    }
    if (!found) {
      found = std::make_shared<Client>(ex, setup);
      clients_.emplace_back(setup, found);
    }
    return found;
  }

 private:
  void shutdown() override {
    for (auto& [setup, client] : clients_) {
      client->close();
    }
    clients_.clear();
  }
  std::vector<std::pair<std::weak_ptr<const ClientSetup>, std::shared_ptr<Client>>> clients_;
};
}  // namespace

std::shared_ptr<Client> client_for(const net::any_io_executor& ex, const std::shared_ptr<const ClientSetup>& setup) {
  net::execution_context& ctx = net::query(ex, net::execution::context);
  return net::use_service<ClientService>(ctx).get(ex, setup);
}

}  // namespace sluice::state::redis
