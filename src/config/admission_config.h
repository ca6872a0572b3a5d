#pragma once
// Admission settings: per-key limits and priority classes, per-model-group concurrency, queueing and
// shedding. Parsed by loader_admission.cc; runtime code lives in src/admission/.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::config {

// Lower value = served first. kBatch is the Batch API's class (never chosen by a client): it never queues and
// only takes a slot while the group keeps `batch_reserve` of its limit free for the classes above.
enum class Priority : std::uint8_t { kHigh = 0, kMedium = 1, kLow = 2, kBatch = 3 };
inline constexpr std::size_t kPriorityCount = 4;
const char* to_string(Priority p);
// A client's class: "high" | "medium" | "low" (never kBatch).
std::optional<Priority> parse_priority(std::string_view s);

// Limits of one key (or one model of one key). 0 = unlimited. Counts are per `window` (1 minute by default,
// hence the names); shorter windows exist for tests and bursty tenants.
struct RateLimits {
  std::uint64_t rpm = 0;
  std::uint64_t tpm = 0;
  std::uint32_t max_concurrent = 0;
  std::chrono::milliseconds window{60'000};
  // GCRA burst, in requests / tokens: how much of the window may be used at once. 0 = the whole limit
  // (a token bucket of `rpm` refilled at rpm per window).
  std::uint64_t request_burst = 0;
  std::uint64_t token_burst = 0;
  bool any() const { return rpm != 0 || tpm != 0 || max_concurrent != 0; }
};

// Spend caps of one key in USD, from the pricing table; 0 = none. Days and months are UTC.
struct Budget {
  double daily_usd = 0;
  double monthly_usd = 0;
  bool any() const { return daily_usd > 0 || monthly_usd > 0; }
  bool operator==(const Budget&) const = default;
};

// Fields of a virtual key beyond name and secret.
struct KeyPolicy {
  std::vector<std::string> allowed_models;  // empty = every model
  Priority default_priority = Priority::kMedium;
  Priority max_priority = Priority::kHigh;  // ceiling: X-Priority above it is lowered to it
  RateLimits limits;
  std::map<std::string, RateLimits> model_limits;  // by public model name, in addition to `limits`
  // Tokens assumed for max_tokens when a request does not send it (for the TPM estimate).
  std::uint32_t default_max_tokens = 4096;
  Budget budget;
};

enum class QueuePolicy : std::uint8_t { kStrict, kWeighted };
enum class AdaptiveAlgorithm : std::uint8_t { kOff, kGradient, kAimd };

// Concurrency and queueing of one model group (a public model name).
struct AdmissionGroup {
  std::uint32_t max_concurrent = 0;  // static cap; 0 = no cap (no queueing) unless adaptive
  AdaptiveAlgorithm adaptive = AdaptiveAlgorithm::kOff;
  std::uint32_t min_concurrent = 1;       // adaptive floor
  std::uint32_t initial_concurrent = 0;   // adaptive start; 0 = max_concurrent / 2 (at least min)
  std::uint32_t max_queue = 1000;         // waiters over all classes; beyond it → shed
  // Longest a request of each class may wait for a slot (its own deadline may be shorter).
  std::array<std::chrono::milliseconds, kPriorityCount> max_wait{
      std::chrono::milliseconds{30'000}, std::chrono::milliseconds{10'000}, std::chrono::milliseconds{5'000},
      std::chrono::milliseconds{0}};  // batch never waits in the queue
  // Model served instead of an error when a class is shed (degradation hook); empty = none.
  std::array<std::string, kPriorityCount> degrade_to;
  // Percent of the limit batch work leaves free: a batch request is admitted only while fewer than
  // floor(limit × (100 − batch_reserve) / 100) requests of any class are in flight and nobody waits.
  std::uint32_t batch_reserve = 25;
};

struct AdmissionConfig {
  QueuePolicy policy = QueuePolicy::kStrict;
  std::array<std::uint32_t, kPriorityCount> weights{8, 4, 1, 1};  // kWeighted: share of dequeues per class
  // CoDel: when the queue delay stays above `codel_target` for `codel_interval`, the group is overloaded and
  // requests below high priority that would wait longer than `codel_interval` are shed at once.
  std::chrono::milliseconds codel_target{5};
  std::chrono::milliseconds codel_interval{100};
  std::map<std::string, AdmissionGroup> groups;  // by public model name
};

}  // namespace sluice::config
