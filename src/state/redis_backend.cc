#include "state/redis_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <limits>
#include <random>

#include "state/redis_counters.h"
#include "state/redis_kv.h"
#include "common/unix_time.h"

namespace sluice::state {

namespace {
Nanos steady_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

// host:pid:random — unique per process, readable in redis-cli.
std::string make_replica_id() {
  char host[64] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, static_cast<long>(getpid()), rd());
}
}  // namespace

RedisBackend::RedisBackend(const config::StateConfig& cfg, std::shared_ptr<redis::ClientSetup> setup,
                           StateMetrics metrics)
    : cfg_(cfg),
      setup_(std::move(setup)),
      metrics_(metrics),
      replica_id_(make_replica_id()),
      kv_(std::make_unique<RedisKv>(*this)),
      flight_(std::make_unique<RedisFlightLock>(*this)) {
  metrics_.up->set(0);
  metrics_.replicas->set(1);
}

RedisBackend::~RedisBackend() {
  stopping_ = true;
  if (thread_.joinable() && usable()) {
    // Last sync with every lease treated as ended: unused slices, idle slots and settled spend go back to Redis
    // (a reload that changed the state settings, or shutdown). Bounded by the call's timeout.
    auto flushed = std::make_shared<std::promise<void>>();
    auto done = flushed->get_future();
    net::co_spawn(ioc_, [this, flushed]() -> net::awaitable<void> {
      net::steady_timer t(ioc_);
      while (in_sync_) {  // the loop's sync in flight finishes first (they share per-counter sync state)
        t.expires_after(std::chrono::milliseconds(1));
        co_await t.async_wait(use_tuple);
      }
      co_await sync_once(std::numeric_limits<Nanos>::max() / 4);
      flushed->set_value();
    }, net::detached);
    done.wait_for(cfg_.redis.timeout * 3 + std::chrono::milliseconds(50));
  }
  if (thread_.joinable()) {
    net::post(ioc_, [this] {
      if (bg_) {
        bg_->close();
      }
      if (subscriber_) {
        subscriber_->close(net::error::operation_aborted);
      }
      ioc_.stop();
    });
    thread_.join();
  }
}

std::string RedisBackend::key(std::string_view tag, std::string_view name) const {
  std::string k = cfg_.redis.key_prefix;
  k += ":{";
  k += tag;
  k += '}';
  if (!name.empty()) {
    k += ':';
    k += name;
  }
  return k;
}

Nanos RedisBackend::allotment_ttl_ms() const { return std::max<Nanos>(5000, 3 * cfg_.heartbeat.count()); }

void RedisBackend::start() {
  auto first = std::make_shared<std::promise<void>>();
  auto ready = first->get_future();
  // One connection for the state thread: a cache entry, its unlock and its announcement go out in order.
  auto single = std::make_shared<redis::ClientSetup>();
  single->connect = setup_->connect;
  single->timeout = setup_->timeout;
  single->pool_size = 1;
  count_calls(*single, metrics_);
  bg_setup_ = single;
  bg_ = std::make_shared<redis::Client>(ioc_.get_executor(), bg_setup_);
  net::co_spawn(ioc_, [this, first]() -> net::awaitable<void> {
    // At startup, try for up to the connect timeout so the first requests already share state.
    const auto until = std::chrono::steady_clock::now() + cfg_.redis.connect_timeout + cfg_.redis.timeout;
    net::steady_timer t(ioc_);
    while (!co_await heartbeat_once() && std::chrono::steady_clock::now() < until && !stopping_) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(use_tuple);
    }
    first->set_value();
    net::co_spawn(ioc_, heartbeat_loop(), net::detached);
    net::co_spawn(ioc_, sync_loop(), net::detached);
    net::co_spawn(ioc_, subscriber_loop(), net::detached);
  }, net::detached);
  thread_ = std::thread([this] {
    auto guard = net::make_work_guard(ioc_);
    ioc_.run();
  });
  ready.wait();
  if (!usable()) {
    spdlog::warn("state: redis at {}:{} does not answer; limits use this replica's share until it does",
                 cfg_.redis.host, cfg_.redis.port);
  }
}

void RedisBackend::set_up(bool up) {
  if (up_.exchange(up, std::memory_order_relaxed) == up) {
    return;
  }
  metrics_.up->set(up ? 1 : 0);
  if (!up) {
    outages_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("state: redis unreachable; each limit falls back to this replica's share (1/{}){}", replicas(),
                 cfg_.fail_mode == config::FailMode::kClosed ? ", fail_mode closed: refusing" : "");
  } else {
    spdlog::info("state: redis reachable ({} replica(s))", replicas());
  }
}

redis::Command RedisBackend::presence_command() const {
  redis::Command c = redis::scripts().call(redis::Script::kPresence, {key("replicas", "")});
  c.arg(replica_id_).arg(static_cast<long long>(3 * cfg_.heartbeat.count()));
  return c;
}

void RedisBackend::note_call(redis::CallError err) {
  if (err == redis::CallError::kNone) {
    slow_calls_ = 0;
    set_up(true);
    return;
  }
  // Gone (connection refused or lost, breaker open): at once. Slow: only when it stays slow (two timeouts in a
  // row), so one late reply on a busy machine does not switch every limit to its local share.
  if (err != redis::CallError::kTimeout || ++slow_calls_ >= 2) {
    set_up(false);
  }
}

net::awaitable<bool> RedisBackend::heartbeat_once() {
  redis::CallResult r = co_await bg_->call(redis::one(presence_command()));
  const bool ok = r.ok() && !r.replies.empty() && !r.replies[0].is_error();
  if (ok) {
    const auto n = static_cast<std::uint32_t>(std::max(1LL, r.replies[0].as_int().value_or(1)));
    replicas_.store(n, std::memory_order_relaxed);
    metrics_.replicas->set(n);
  }
  note_call(ok ? redis::CallError::kNone : (r.ok() ? redis::CallError::kConnection : r.error));
  co_return ok;
}

net::awaitable<void> RedisBackend::heartbeat_loop() {
  net::steady_timer t(ioc_);
  while (!stopping_) {
    // While Redis is away, probe more often (the client's breaker still spaces the attempts).
    t.expires_after(usable() ? cfg_.heartbeat : std::min(cfg_.heartbeat, std::chrono::milliseconds(200)));
    co_await t.async_wait(use_tuple);
    if (stopping_) {
      co_return;
    }
    co_await heartbeat_once();
  }
}

net::awaitable<void> RedisBackend::sync_loop() {
  net::steady_timer t(ioc_);
  while (!stopping_) {
    t.expires_after(cfg_.sync_interval);
    co_await t.async_wait(use_tuple);
    if (stopping_) {
      co_return;
    }
    co_await sync_once();
  }
}

template <class T>
std::vector<std::shared_ptr<T>> RedisBackend::live(std::vector<std::weak_ptr<T>>& v) {
  std::vector<std::shared_ptr<T>> out;
  std::lock_guard lock(mu_);
  for (auto it = v.begin(); it != v.end();) {
    if (auto p = it->lock()) {
      out.push_back(std::move(p));
      ++it;
    } else {
      it = v.erase(it);
    }
  }
  return out;
}

net::awaitable<void> RedisBackend::sync_once(Nanos as_of) {
  in_sync_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{in_sync_};
  const auto counters = live(synced_);
  const Nanos now = as_of != 0 ? as_of : steady_ns();
  const std::int64_t unix_ms = unix_now_ms();
  std::vector<redis::Command> cmds;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // per counter: [first, end) of its commands
  for (const auto& c : counters) {
    auto mine = c->sync_commands(now, unix_ms);
    ranges.emplace_back(cmds.size(), cmds.size() + mine.size());
    for (auto& m : mine) {
      cmds.push_back(std::move(m));
    }
  }
  for (auto& c : flight_->renewals(std::chrono::steady_clock::now())) {
    cmds.push_back(std::move(c));  // held flight locks: no reply needed
  }
  std::vector<std::pair<std::uint64_t, std::size_t>> paced;
  const std::size_t pacer_first = cmds.size();
  for (auto& c : pacer_commands(paced)) {
    cmds.push_back(std::move(c));
  }
  if (cmds.empty()) {
    co_return;
  }
  redis::CallResult r = co_await bg_->call(std::move(cmds));
  const Nanos after = steady_ns();
  if (r.ok()) {
    pacer_replies(paced, r.replies, pacer_first);
  }
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const auto [first, end] = ranges[i];
    if (first == end) {
      continue;
    }
    redis::Replies mine;
    if (r.ok()) {
      mine.assign(std::make_move_iterator(r.replies.begin() + static_cast<std::ptrdiff_t>(first)),
                  std::make_move_iterator(r.replies.begin() + static_cast<std::ptrdiff_t>(end)));
    }
    counters[i]->on_sync(mine, r.error, after);
  }
  if (r.error != redis::CallError::kUnavailable) {
    note_call(r.error);
  }
}

net::awaitable<void> RedisBackend::subscriber_loop() {
  net::steady_timer t(ioc_);
  while (!stopping_) {
    if ((!subscriber_ || subscriber_->state() == redis::Connection::State::kClosed) && usable()) {
      subscriber_ = std::make_shared<redis::Connection>(ioc_.get_executor());
      redis::ConnectOptions o = setup_->connect;
      o.setup.clear();
      redis::Command sub;
      sub.arg("SUBSCRIBE").arg(flight_->channel());
      o.setup.push_back(std::move(sub));
      subscriber_->on_push([this](redis::Reply r) {
        if (r.type == redis::Reply::Type::kArray && r.elements.size() == 3 && r.elements[0].str == "message") {
          flight_->wake(r.elements[2].str);
        }
      });
      subscriber_->connect(std::move(o), [](error_code, redis::Replies) {});
    }
    t.expires_after(std::chrono::milliseconds(250));
    co_await t.async_wait(use_tuple);
  }
}

FlightLock* RedisBackend::flight_lock() { return flight_.get(); }

template <class T, class... Args>
std::shared_ptr<T> RedisBackend::registered(const std::string& id, Args&&... args) {
  std::lock_guard lock(mu_);
  std::weak_ptr<void>& slot = registry_[id];
  if (auto existing = std::static_pointer_cast<T>(slot.lock())) {
    return existing;  // a reload asks again for the counters it already has
  }
  auto c = std::make_shared<T>(*this, std::forward<Args>(args)...);
  slot = c;
  synced_.push_back(c);
  return c;
}

std::shared_ptr<RateCounter> RedisBackend::rate(const std::string& tag, const std::string& name) {
  const std::string k = key("vk:" + tag, name);
  return registered<RedisRate>("rate " + k, k, tag, name);
}

std::shared_ptr<SlotCounter> RedisBackend::slots(const std::string& tag, const std::string& name) {
  const std::string k = key("vk:" + tag, name);
  return registered<RedisSlots>("slots " + k, k);
}

std::shared_ptr<SpendCounter> RedisBackend::spend(const std::string& tag) {
  return registered<RedisSpend>("spend " + tag, "vk:" + tag);
}

void RedisBackend::send_background(std::vector<redis::Command> cmds) {
  net::post(ioc_, [this, cmds = std::move(cmds)]() mutable {
    if (!stopping_) {
      bg_->send(std::move(cmds));
    }
  });
}

net::awaitable<std::shared_ptr<redis::Client>> RedisBackend::local_client() {
  co_return redis::client_for(co_await net::this_coro::executor, setup_);
}

net::awaitable<void> RedisBackend::refill(std::span<Refillable* const> needs) {
  const Nanos now = steady_ns();
  const std::int64_t unix_ms = unix_now_ms();
  std::vector<redis::Command> cmds;
  std::vector<SharedCounter*> who;
  for (Refillable* n : needs) {
    auto* c = static_cast<SharedCounter*>(n);
    if (auto cmd = c->refill_command(now, unix_ms)) {
      cmds.push_back(std::move(*cmd));
      who.push_back(c);
    }
  }
  if (cmds.empty()) {
    co_return;
  }
  metrics_.refills->inc();
  redis::CallResult r;
  r.error = redis::CallError::kUnavailable;
  if (usable()) {
    auto client = co_await local_client();
    r = co_await client->call(std::move(cmds));
  }
  const Nanos after = steady_ns();
  for (std::size_t i = 0; i < who.size(); ++i) {
    if (r.ok() && i < r.replies.size() && !r.replies[i].is_error()) {
      who[i]->on_refill(r.replies[i], after);
    } else {
      who[i]->on_refill_failed(after, r.error != redis::CallError::kUnavailable);
    }
  }
}

void count_calls(redis::ClientSetup& s, const StateMetrics& m) {
  s.err_timeout = m.err_timeout;
  s.err_connection = m.err_connection;
  s.err_unavailable = m.err_unavailable;
  s.err_reply = m.err_reply;
  s.round_trips = m.round_trips;
}

net::awaitable<SpendView> RedisBackend::spend_view(SpendCounter& c, const BudgetCaps&, std::int64_t unix_ms) {
  auto* rs = dynamic_cast<RedisSpend*>(&c);
  if (rs == nullptr || !usable()) {
    co_return c.local_view(unix_ms);
  }
  auto client = co_await local_client();
  redis::CallResult r = co_await client->call(redis::one(rs->view_command(unix_ms)));
  if (!r.ok() || r.replies.empty() || r.replies[0].is_error()) {
    co_return c.local_view(unix_ms);
  }
  co_return rs->read_view(r.replies[0], unix_ms);
}

namespace {
std::unique_ptr<redis::ssl::context> make_redis_tls(const config::RedisTls& t, std::string& error) {
  try {
    auto ctx = std::make_unique<redis::ssl::context>(redis::ssl::context::tls_client);
    ctx->set_default_verify_paths();
    if (!t.ca_file.empty()) {
      ctx->load_verify_file(t.ca_file);
    }
    ctx->set_verify_mode(t.verify ? redis::ssl::verify_peer : redis::ssl::verify_none);
    return ctx;
  } catch (const std::exception& e) {
    error = "state.redis.tls: " + std::string(e.what());
    return nullptr;
  }
}
}  // namespace

std::shared_ptr<Backend> make_redis_backend(const config::StateConfig& cfg, std::string& error) {
  auto setup = std::make_shared<redis::ClientSetup>();
  const config::RedisSettings& rs = cfg.redis;
  if (rs.tls.enabled) {
    setup->tls = make_redis_tls(rs.tls, error);
    if (!setup->tls) {
      return nullptr;
    }
  }
  setup->connect.host = rs.host;
  setup->connect.port = rs.port;
  setup->connect.username = rs.username;
  setup->connect.password = rs.password;
  setup->connect.database = rs.database;
  setup->connect.tls = setup->tls.get();
  setup->connect.server_name = rs.tls.server_name;
  setup->connect.verify = rs.tls.verify;
  setup->connect.connect_timeout = rs.connect_timeout;
  setup->connect.setup = redis::scripts().load_commands();
  setup->timeout = rs.timeout;
  setup->pool_size = rs.pool_size;
  StateMetrics m = make_state_metrics("redis");
  count_calls(*setup, m);
  auto backend = std::make_shared<RedisBackend>(cfg, std::move(setup), m);
  backend->start();
  return backend;
}

}  // namespace sluice::state
