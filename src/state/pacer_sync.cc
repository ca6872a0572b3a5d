// Provider-key pacing shared between replicas: every sync each replica writes what its answers last said about
// each provider key (x-ratelimit-*, Retry-After, 429/402, on the wall clock) and its requests in flight on it,
// and reads the newest observation any replica made and the others' requests in flight.
#include <chrono>

#include "state/redis_backend.h"
#include "common/unix_time.h"

namespace sluice::state {

std::shared_ptr<void> RedisBackend::attach_pacing(const std::string& upstream, PacingView& view) {
  std::vector<PacedKey> keys;
  for (std::size_t k = 0; k < view.size(); ++k) {
    keys.push_back({key("pk:" + upstream + ":" + view.name(k), ""), &view, k});
  }
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_attachment_++;
  pacers_.emplace(id, std::move(keys));
  // Detaching takes the lock the sync holds while it touches the views, so none is used after this returns.
  return std::shared_ptr<void>(nullptr, [this, id](void*) {
    std::lock_guard l(mu_);
    pacers_.erase(id);
  });
}

std::vector<redis::Command> RedisBackend::pacer_commands(std::vector<std::pair<std::uint64_t, std::size_t>>& who) {
  const std::int64_t unix_ms = unix_now_ms();
  std::vector<redis::Command> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, keys] : pacers_) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const PacedKey& pk = keys[i];
      const PacingObservation o = pk.view->observation(pk.index, unix_ms);
      redis::Command c = redis::scripts().call(redis::Script::kPacer, {pk.redis_key});
      c.arg(replica_id_)
          .arg(o.observed_ms > 0 ? o.encode() : std::string())
          .arg(static_cast<long long>(o.observed_ms))
          .arg(static_cast<long long>(pk.view->pending(pk.index)))
          .arg(static_cast<long long>(allotment_ttl_ms()));
      out.push_back(std::move(c));
      who.emplace_back(id, i);
    }
  }
  return out;
}

void RedisBackend::pacer_replies(const std::vector<std::pair<std::uint64_t, std::size_t>>& who,
                                 const redis::Replies& r, std::size_t first) {
  const std::int64_t unix_ms = unix_now_ms();
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < who.size() && first + i < r.size(); ++i) {
    const redis::Reply& reply = r[first + i];
    auto it = pacers_.find(who[i].first);
    if (it == pacers_.end() || reply.type != redis::Reply::Type::kArray || reply.elements.size() < 2) {
      continue;  // detached meanwhile, or an error reply
    }
    const PacedKey& pk = it->second.at(who[i].second);
    const PacingObservation o = PacingObservation::decode(reply.elements[0].str);
    pk.view->merge(pk.index, o, static_cast<std::uint32_t>(std::max(0LL, reply.at(1))), unix_ms);
  }
}

}  // namespace sluice::state
