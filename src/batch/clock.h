#pragma once
// The batch code's clocks. Leases use real time (replicas compare them); schedules, deadlines and the API's
// timestamps use the planning clock, which equals real time unless a benchmark compresses it
// (batch.time_scale: planning time runs `scale` times faster from the moment the process started;
// batch.time_start: and starts at that UTC time of day of the current date, so a benchmark's day begins at
// the same hour whenever it runs).
#include <chrono>
#include <cstdint>
#include "common/unix_time.h"

namespace sluice::batch {

class BatchClock {
 public:
  virtual ~BatchClock() = default;
  virtual std::int64_t real_ms() const = 0;     // unix ms
  virtual std::int64_t plan_ms() const = 0;     // unix ms on the planning clock
  virtual double scale() const { return 1.0; }  // planning ms per real ms
  // When (on the steady clock) the planning clock reaches `plan_ms`.
  std::chrono::steady_clock::time_point steady_at(std::int64_t plan_ms) const {
    const double real_left_ms = double(plan_ms - this->plan_ms()) / scale();
    return steady_now() + std::chrono::milliseconds(static_cast<std::int64_t>(real_left_ms));
  }
  virtual std::chrono::steady_clock::time_point steady_now() const {
    return std::chrono::steady_clock::now();
  }
};

class SystemBatchClock final : public BatchClock {
 public:
  // start_minute: minutes after 00:00 UTC where the planning clock starts; negative = now.
  explicit SystemBatchClock(double scale = 1.0, int start_minute = -1)
      : scale_(scale), anchor_(unix_now_ms()), plan_anchor_(plan_start(anchor_, start_minute)) {}
  std::int64_t real_ms() const override { return unix_now_ms(); }
  std::int64_t plan_ms() const override {
    return plan_anchor_ + static_cast<std::int64_t>(double(unix_now_ms() - anchor_) * scale_);
  }
  double scale() const override { return scale_; }

 private:
  static std::int64_t plan_start(std::int64_t now_ms, int start_minute) {
    constexpr std::int64_t kDayMs = 86'400'000;
    return start_minute < 0 ? now_ms : now_ms - now_ms % kDayMs + std::int64_t{start_minute} * 60'000;
  }
  double scale_;
  std::int64_t anchor_;       // real unix ms at start
  std::int64_t plan_anchor_;  // planning unix ms at start
};

}  // namespace sluice::batch
