#pragma once
// Scheduling by price and deadline: pure functions over a time line, unit-tested with fixed clocks.
//
// The time from now to the batch's deadline is cut into slots of constant price (the model's pricing windows,
// minute resolution, UTC). Each slot can run `rate × duration` lines. `off_peak` fills the cheapest slots
// first (earliest first among equal prices) until the remaining lines fit; when the off-peak slots before the
// deadline cannot hold them, peak slots are used only for what is left. `asap` fills slots in time order. The
// executor runs lines while the slot containing "now" holds planned lines, and re-plans on every poll with
// the lines still open and the latest throughput estimate, so a plan corrects itself as history updates.
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sluice::batch {

enum class Schedule : std::uint8_t { kAsap, kOffPeak };
std::string_view to_string(Schedule s);
std::optional<Schedule> parse_schedule(std::string_view s);  // "asap" | "off_peak"

// A stretch of time with one price multiplier (1 = full price).
struct PriceSlot {
  std::int64_t start_ms = 0, end_ms = 0;
  double multiplier = 1;
};

// [from, to) cut at every change of the multiplier; one slot at 1.0 without a price or windows.
std::vector<PriceSlot> price_slots(const config::Price* price, std::int64_t from_ms, std::int64_t to_ms);

struct PlanInput {
  std::int64_t now_ms = 0;
  std::int64_t deadline_ms = 0;
  double remaining_lines = 0;
  double lines_per_second = 1;  // expected throughput of this batch
  Schedule schedule = Schedule::kOffPeak;
  const config::Price* price = nullptr;
  // Safety: plan as if only this share of the rate were reached, and to finish this long before the deadline.
  double rate_share = 0.8;
  std::int64_t margin_ms = 0;
};

struct PlannedSlot {
  std::int64_t start_ms = 0, end_ms = 0;
  double multiplier = 1;
  double lines = 0;
};

struct Plan {
  std::vector<PlannedSlot> slots;  // time order; only slots with planned lines
  bool run_now = false;            // the slot holding now has lines
  bool meets_deadline = true;      // everything fits before deadline − margin
  std::int64_t start_ms = 0;       // first planned slot's start
  std::int64_t finish_ms = 0;      // expected end of the last planned work (at the full estimated rate)
  double now_multiplier = 1;       // price multiplier at now
  double mean_multiplier = 1;      // line-weighted multiplier of the plan
};

Plan make_plan(const PlanInput& in);

// Lines per second one line slot (one unit of concurrency) achieves for a model, from recent busy time:
// completions over the time lines were running, over a sliding window of `window_s` seconds of busy time.
// Until `min_busy_s` was seen the prior (1 / initial line time) fills the gap.
class Throughput {
 public:
  explicit Throughput(double initial_line_seconds, double window_s = 600, double min_busy_s = 30)
      : prior_(1.0 / initial_line_seconds), window_s_(window_s), min_busy_s_(min_busy_s) {}

  // One poll interval: `slot_seconds` = seconds × lines allowed in flight while work was available,
  // `completed` = lines finished (with a final result) in it.
  void add(double slot_seconds, double completed);
  double per_slot() const;  // lines per second per unit of concurrency

 private:
  double prior_;
  double window_s_, min_busy_s_;
  std::deque<std::pair<double, double>> samples_;  // (slot seconds, completed)
  double busy_ = 0, done_ = 0;
};

// Throughput estimates by model, published by the executor for the API's estimates (thread-safe).
class RateBoard {
 public:
  void set(const std::string& model, double per_slot) {
    std::lock_guard lock(mu_);
    rates_[model] = per_slot;
  }
  std::optional<double> get(const std::string& model) const {
    std::lock_guard lock(mu_);
    auto it = rates_.find(model);
    return it == rates_.end() ? std::nullopt : std::optional<double>(it->second);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, double> rates_;
};

}  // namespace sluice::batch
