#include "state/redis_kv.h"

#include "state/redis_backend.h"

namespace sluice::state {

namespace {
// Built outside the coroutine: GCC 12 cannot copy an initializer_list's array into a coroutine frame.
redis::Command kv_get(std::string key) {
  redis::Command c;
  c.arg("GET").arg(key);
  return c;
}
}  // namespace

net::awaitable<std::optional<std::string>> RedisKv::get(std::string key) {
  if (!b_.usable()) {
    co_return std::nullopt;
  }
  auto client = co_await b_.local_client();
  redis::CallResult r = co_await client->call(redis::one(kv_get(b_.key(key, ""))));
  if (!r.ok() || r.replies.empty() || r.replies[0].type != redis::Reply::Type::kString) {
    co_return std::nullopt;
  }
  co_return std::move(r.replies[0].str);
}

void RedisKv::put(std::string key, std::string value, std::chrono::milliseconds ttl) {
  if (!b_.usable()) {
    return;  // the local LRU still has it
  }
  redis::Command c{"SET", b_.key(key, ""), value, "PX"};
  c.arg(static_cast<long long>(std::max<std::int64_t>(1, ttl.count())));
  b_.send_background(redis::one(std::move(c)));
}

}  // namespace sluice::state
