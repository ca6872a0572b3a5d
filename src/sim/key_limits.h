#pragma once
// Per-API-key request limits, the way OpenAI-style providers publish them: a fixed window per key, with
// x-ratelimit-* headers on every answer and 429 beyond the limit; keys whose balance is gone answer 402.
// Lets tests and users rehearse key pacing (several provider keys behind one deployment).
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace sluice::sim {

struct KeyLimitSpec {
  std::size_t default_limit = 0;                // 0: keys without their own limit are unlimited
  std::map<std::string, std::size_t, std::less<>> per_key;  // key → requests per window
  std::chrono::milliseconds window{60'000};
  std::set<std::string, std::less<>> broke;     // these keys answer 402 Insufficient Balance
  bool any() const { return default_limit > 0 || !per_key.empty() || !broke.empty(); }
};

// "N" or "KEY=N,KEY=N[,*=N]"; returns an error message, or nullopt.
std::optional<std::string> parse_key_limits(std::string_view spec, KeyLimitSpec& out);

class KeyLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  KeyLimiter(KeyLimitSpec spec, Clock::time_point start) : spec_(std::move(spec)), start_(start) {}

  struct Decision {
    bool limited = false;  // the key has a limit: headers apply
    bool allowed = true;
    std::size_t limit = 0;
    std::size_t remaining = 0;             // after this request
    std::chrono::milliseconds reset{0};  // until the window ends
  };
  // Counts one request for `key` (allowed or not) in the current window.
  Decision take(std::string_view key, Clock::time_point now);
  bool broke(std::string_view key) const { return spec_.broke.contains(key); }
  bool enabled() const { return spec_.any(); }

 private:
  struct Window {
    long long index = -1;
    std::size_t used = 0;
  };
  KeyLimitSpec spec_;
  Clock::time_point start_;
  std::mutex mu_;
  std::map<std::string, Window, std::less<>> windows_;
};

// "20ms", "1.5s", "6m0s": the duration shape OpenAI uses in x-ratelimit-reset-*.
std::string format_reset(std::chrono::milliseconds d);

}  // namespace sluice::sim
