#include "upstream/key_lease.h"

#include <spdlog/spdlog.h>

namespace sluice::upstream {

namespace {
// Time an attempt needs after a wait for the wait to be worth it.
constexpr std::chrono::milliseconds kMinAttempt{50};
}  // namespace

KeyLease::~KeyLease() {
  if (key_) {
    host_.keys().release(*key_, 0, {}, Clock::now());
  }
}

net::awaitable<bool> KeyLease::acquire(Clock::time_point deadline, CancelScope& cancel) {
  routing::KeyPacer& keys = host_.keys();
  bool counted = false;
  for (;;) {
    auto now = Clock::now();
    auto choice = keys.pick(now);
    if (choice.key) {
      key_ = choice.key;
      co_return true;
    }
    if (choice.ready_at == Clock::time_point::max() || choice.ready_at + kMinAttempt > deadline) {
      key_ = keys.pick_anyway(now);  // no time to wait: the provider's answer (429/402) will say why
      co_return true;
    }
    if (!counted) {
      keys.count_wait();
      counted = true;
    }
    net::steady_timer timer{co_await net::this_coro::executor, choice.ready_at};
    auto stop = [&timer] { timer.cancel(); };
    const CancelScope::Hook hook(cancel, CancelScope::kWait, stop);
    if (cancel.cancelled(CancelScope::kWait)) {
      co_return false;
    }
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec || cancel.cancelled(CancelScope::kWait)) {
      co_return false;  // cancelled: the client left
    }
  }
}

bool KeyLease::try_take(Clock::time_point now) {
  auto choice = host_.keys().pick(now);
  key_ = choice.key;
  return key_.has_value();
}

void KeyLease::take_now(Clock::time_point now) {
  auto choice = host_.keys().pick(now);
  key_ = choice.key ? *choice.key : host_.keys().pick_anyway(now);
}

std::string_view KeyLease::secret() const {
  const auto& up = host_.upstream();
  if (key_ && *key_ < up.api_keys.size()) {
    return up.api_keys[*key_];
  }
  return up.api_key;
}

void KeyLease::finish(const AttemptOutcome& out, Clock::time_point now) {
  if (!key_) {
    return;
  }
  std::size_t k = *key_;
  key_.reset();
  std::string change = host_.keys().release(k, out.upstream_status, out.rate, now);
  if (!change.empty()) {
    // A 429 is routine information for the pacer; a key taken out of service is news for the operator.
    spdlog::log(out.upstream_status == 429 ? spdlog::level::debug : spdlog::level::warn,
                "upstream {}: API key {} {}", host_.upstream().name, host_.keys().name(k), change);
  }
}

}  // namespace sluice::upstream
