#include "cache/tiered_cache.h"

#include "cache/answer_codec.h"
#include "common/coarse_clock.h"

namespace sluice::cache {

namespace {
std::int64_t tiered_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(CoarseWallClock::now().time_since_epoch()).count();
}
std::string shared_key(const std::string& key) { return "c:" + key; }
}  // namespace

TieredCache::TieredCache(std::shared_ptr<ResponseCache> local, std::shared_ptr<state::Backend> backend,
                         std::chrono::milliseconds ttl, std::chrono::milliseconds stale_ttl)
    : local_(std::move(local)), backend_(std::move(backend)), kv_(*backend_->kv()), ttl_(ttl), stale_ttl_(stale_ttl) {}

Lookup TieredCache::get(const std::string& key, CacheClock::time_point now, bool allow_stale) {
  return local_->get(key, now, allow_stale);
}

void TieredCache::put(const std::string& key, std::shared_ptr<const CachedAnswer> answer,
                      CacheClock::time_point now) {
  kv_.put(shared_key(key), encode_answer(*answer, tiered_unix_ms()), ttl_ + stale_ttl_);
  local_->put(key, std::move(answer), now);
}

net::awaitable<Lookup> TieredCache::fetch(const std::string& key, CacheClock::time_point now, bool allow_stale) {
  Lookup mine = local_->get(key, now, allow_stale);
  if (mine.answer && !mine.stale) {
    co_return mine;
  }
  std::optional<std::string> bytes = co_await kv_.get(shared_key(key));
  std::int64_t stored_ms = 0;
  std::optional<CachedAnswer> a;
  if (bytes) {
    a = decode_answer(*bytes, stored_ms);
  }
  if (!a) {
    co_return mine;
  }
  const auto age = std::chrono::milliseconds(std::max<std::int64_t>(0, tiered_unix_ms() - stored_ms));
  if (age >= ttl_ + stale_ttl_ || (age >= ttl_ && !allow_stale)) {
    co_return mine;
  }
  auto shared = std::make_shared<const CachedAnswer>(std::move(*a));
  local_->put(key, shared, now - age);  // expires here when it expires everywhere
  co_return Lookup{std::move(shared), age >= ttl_};
}

net::awaitable<Lookup> lookup(ResponseCache& store, const std::string& key, CacheClock::time_point now,
                              bool allow_stale) {
  if (store.remote()) {
    co_return co_await static_cast<TieredCache&>(store).fetch(key, now, allow_stale);
  }
  co_return store.get(key, now, allow_stale);
}

}  // namespace sluice::cache
