#include "batch/schedule.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ledger/pricing.h"

namespace sluice::batch {

std::string_view to_string(Schedule s) { return s == Schedule::kAsap ? "asap" : "off_peak"; }

std::optional<Schedule> parse_schedule(std::string_view s) {
  if (s == "asap") {
    return Schedule::kAsap;
  }
  if (s == "off_peak") {
    return Schedule::kOffPeak;
  }
  return std::nullopt;
}

namespace {
constexpr std::int64_t kMinuteMs = 60'000;

double multiplier_at(const config::Price* price, std::int64_t ms) {
  if (price == nullptr) {
    return 1.0;
  }
  return ledger::is_off_peak(*price, static_cast<std::time_t>(ms / 1000)) ? price->off_peak_multiplier : 1.0;
}
}  // namespace

std::vector<PriceSlot> price_slots(const config::Price* price, std::int64_t from_ms, std::int64_t to_ms) {
  std::vector<PriceSlot> out;
  if (to_ms <= from_ms) {
    return out;
  }
  if (price == nullptr || price->windows.empty()) {
    out.push_back({from_ms, to_ms, 1.0});
    return out;
  }
  // Windows change only on whole minutes (UTC): look at each minute boundary once.
  double m = multiplier_at(price, from_ms);
  std::int64_t start = from_ms;
  for (std::int64_t t = (from_ms / kMinuteMs + 1) * kMinuteMs; t < to_ms; t += kMinuteMs) {
    const double next = multiplier_at(price, t);
    if (next != m) {
      out.push_back({start, t, m});
      start = t;
      m = next;
    }
  }
  out.push_back({start, to_ms, m});
  return out;
}

Plan make_plan(const PlanInput& in) {
  Plan plan;
  plan.now_multiplier = in.price ? multiplier_at(in.price, in.now_ms) : 1.0;
  if (in.remaining_lines <= 0) {
    plan.start_ms = plan.finish_ms = in.now_ms;
    return plan;
  }
  const double rate = std::max(in.lines_per_second, 1e-9);
  const std::int64_t horizon = std::max(in.now_ms, in.deadline_ms - in.margin_ms);
  std::vector<PriceSlot> slots =
      price_slots(in.schedule == Schedule::kOffPeak ? in.price : nullptr, in.now_ms, horizon);
  // Fill order: cheapest first (off_peak), ties and asap by time.
  std::vector<std::size_t> order(slots.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return slots[a].multiplier < slots[b].multiplier; });
  std::vector<double> lines(slots.size(), 0);
  double left = in.remaining_lines;
  for (std::size_t i : order) {
    if (left <= 0) {
      break;
    }
    const double cap = rate * in.rate_share * double(slots[i].end_ms - slots[i].start_ms) / 1000.0;
    lines[i] = std::min(cap, left);
    left -= lines[i];
  }
  plan.meets_deadline = left <= 1e-9;
  if (!plan.meets_deadline) {
    // The deadline cannot be met even at full use: run everything as soon as possible.
    slots = {PriceSlot{in.now_ms, std::max(horizon, in.now_ms + 1), plan.now_multiplier}};
    lines = {in.remaining_lines};
  }
  double weighted = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (lines[i] <= 0) {
      continue;
    }
    const PriceSlot& s = slots[i];
    plan.slots.push_back({s.start_ms, s.end_ms, s.multiplier, lines[i]});
    weighted += lines[i] * s.multiplier;
    const auto work_ms = static_cast<std::int64_t>(std::ceil(lines[i] / rate * 1000.0));
    plan.finish_ms = std::max(plan.finish_ms, s.start_ms + work_ms);
  }
  plan.start_ms = plan.slots.front().start_ms;
  plan.run_now = plan.start_ms <= in.now_ms;
  plan.mean_multiplier = weighted / in.remaining_lines;
  return plan;
}

void Throughput::add(double slot_seconds, double completed) {
  if (slot_seconds <= 0) {
    return;
  }
  samples_.emplace_back(slot_seconds, completed);
  busy_ += slot_seconds;
  done_ += completed;
  while (samples_.size() > 1 && busy_ - samples_.front().first >= window_s_) {
    busy_ -= samples_.front().first;
    done_ -= samples_.front().second;
    samples_.pop_front();
  }
}

double Throughput::per_slot() const {
  if (busy_ >= min_busy_s_) {
    return std::max(done_ / busy_, prior_ / 100);  // a stall says "slow", not "never"
  }
  // Blend: what was seen, plus the prior for the busy time not seen yet.
  return (done_ + prior_ * (min_busy_s_ - busy_)) / min_busy_s_;
}

}  // namespace sluice::batch
