#include "state/redis_flight.h"

#include "state/redis_backend.h"

namespace sluice::state {

namespace {
// Built outside coroutines (GCC 12 and initializer lists in coroutine frames).
redis::Command flight_set(const std::string& key, const std::string& owner, long long ttl_ms) {
  redis::Command c;
  c.arg("SET").arg(key).arg(owner).arg("NX").arg("PX").arg(ttl_ms);
  return c;
}
redis::Command flight_exists(const std::string& key) {
  redis::Command c;
  c.arg("EXISTS").arg(key);
  return c;
}
}  // namespace

std::string RedisFlightLock::lock_key(const std::string& key) const { return b_.key("c:" + key, "lock"); }
std::string RedisFlightLock::channel() const { return b_.config().redis.key_prefix + ":flights"; }

net::awaitable<FlightLock::Role> RedisFlightLock::lead(std::string key) {
  if (!b_.usable()) {
    co_return Role::kAlone;
  }
  auto client = co_await b_.local_client();
  redis::CallResult r = co_await client->call(redis::one(flight_set(lock_key(key), b_.replica_id(), kLockTtl.count())));
  if (!r.ok() || r.replies.empty() || r.replies[0].is_error()) {
    co_return Role::kAlone;
  }
  if (r.replies[0].is_nil()) {
    co_return Role::kFollower;
  }
  std::lock_guard lock(mu_);
  held_.insert(std::move(key));
  co_return Role::kLeader;
}

net::awaitable<FlightLock::Wait> RedisFlightLock::wait(std::string key, std::chrono::steady_clock::time_point deadline) {
  auto s = std::make_shared<Sleeper>(co_await net::this_coro::executor);
  {
    std::lock_guard lock(mu_);
    sleepers_.emplace(key, s);
  }
  struct Unregister {
    RedisFlightLock& self;
    const std::string& key;
    const std::shared_ptr<Sleeper>& s;
    ~Unregister() {
      std::lock_guard lock(self.mu_);
      auto [a, b] = self.sleepers_.equal_range(key);
      for (auto it = a; it != b; ++it) {
        if (it->second == s) {
          self.sleepers_.erase(it);
          break;
        }
      }
    }
  } unregister{*this, key, s};
  auto poll = std::chrono::milliseconds(50);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (s->woken) {
      co_return Wait::kAnnounced;
    }
    if (now >= deadline) {
      co_return Wait::kTimeout;
    }
    s->timer.expires_at(std::min(deadline, now + poll));
    co_await s->timer.async_wait(use_tuple);
    if (s->woken) {
      co_return Wait::kAnnounced;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return Wait::kTimeout;
    }
    // The safety net: a message may have been lost (subscriber reconnecting); is the leader still at it?
    if (!b_.usable()) {
      co_return Wait::kGone;
    }
    auto client = co_await b_.local_client();
    redis::CallResult r = co_await client->call(redis::one(flight_exists(lock_key(key))));
    if (!r.ok() || (!r.replies.empty() && r.replies[0].integer == 0)) {
      co_return Wait::kGone;
    }
    poll = std::min(poll * 2, std::chrono::milliseconds(400));
  }
}

void RedisFlightLock::done(std::string key, bool) {
  {
    std::lock_guard lock(mu_);
    held_.erase(key);
  }
  // After the cache entry (sent earlier on the same connection): unlock, then wake the followers.
  std::vector<redis::Command> cmds;
  redis::Command unlock = redis::scripts().call(redis::Script::kUnlock, {lock_key(key)});
  unlock.arg(b_.replica_id());
  cmds.push_back(std::move(unlock));
  redis::Command pub;
  pub.arg("PUBLISH").arg(channel()).arg(key);
  cmds.push_back(std::move(pub));
  b_.send_background(std::move(cmds));
}

void RedisFlightLock::wake(const std::string& key) {
  std::lock_guard lock(mu_);
  auto [a, b] = sleepers_.equal_range(key);
  for (auto it = a; it != b; ++it) {
    net::post(it->second->timer.get_executor(), [s = it->second] {
      s->woken = true;
      s->timer.cancel();
    });
  }
}

std::vector<redis::Command> RedisFlightLock::renewals(std::chrono::steady_clock::time_point now) {
  std::vector<redis::Command> out;
  std::lock_guard lock(mu_);
  if (held_.empty() || now - last_renewal_ < kLockTtl / 6) {
    return out;
  }
  last_renewal_ = now;
  for (const auto& key : held_) {
    redis::Command c;
    c.arg("PEXPIRE").arg(lock_key(key)).arg(static_cast<long long>(kLockTtl.count()));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sluice::state
