#pragma once
// The concurrency gate of one model group, shared by all worker threads: a limit (static, or adaptive under a
// static ceiling), a priority queue for requests above it, and shedding decided at arrival — queue full, an
// estimated wait past the request's deadline or its class's max wait, or CoDel overload for classes below
// high — so a shed request is answered in microseconds, before any upstream work.
//
// Threads: one mutex guards the queue and counters (held for a few instructions, never across I/O). A waiter
// parks on a steady_timer of its own executor; whoever grants it a slot posts the wake-up to that executor.
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "admission/adaptive.h"
#include "admission/admission_metrics.h"
#include "admission/class_queue.h"
#include "config/admission_config.h"
#include "http/asio.h"

namespace sluice::admission {

using Clock = std::chrono::steady_clock;

// kNoHeadroom: a batch request found the group without spare capacity (it never queues; retry later).
enum class ShedReason : std::uint8_t { kNone, kQueueFull, kDeadline, kMaxWait, kCodel, kClientGone, kNoHeadroom };
const char* to_string(ShedReason r);

struct GateStats {
  std::array<std::atomic<std::uint64_t>, kPriorityCount> admitted{};
  std::array<std::atomic<std::uint64_t>, kPriorityCount> queued{};
  // Shed by class and reason (reasons indexed by ShedReason).
  std::array<std::array<std::atomic<std::uint64_t>, 7>, kPriorityCount> shed{};
};

class GroupGate;

// A held slot; releasing it (destructor) lets the next waiter in.
class Slot {
 public:
  Slot() = default;
  Slot(std::shared_ptr<GroupGate> gate, Clock::time_point since) : gate_(std::move(gate)), since_(since) {}
  Slot(Slot&& o) noexcept : gate_(std::move(o.gate_)), since_(o.since_) {}
  Slot& operator=(Slot&& o) noexcept;
  ~Slot() { release(); }
  void release();
  explicit operator bool() const { return gate_ != nullptr; }

 private:
  std::shared_ptr<GroupGate> gate_;
  Clock::time_point since_{};
};

struct GateResult {
  Slot slot;  // empty when shed
  ShedReason reason = ShedReason::kNone;
  std::chrono::milliseconds waited{0};
  std::chrono::milliseconds retry_after{0};  // shed: an honest estimate of when a slot frees up for this class
};

// Lets a client-disconnect watcher wake a parked waiter (set while parked).
struct WaitHook {
  net::steady_timer* timer = nullptr;
  bool gone = false;
  void cancel() {
    gone = true;
    if (timer != nullptr) {
      timer->cancel();
    }
  }
};

class GroupGate : public std::enable_shared_from_this<GroupGate> {
 public:
  GroupGate(std::string name, const config::AdmissionGroup& group, const config::AdmissionConfig& cfg);
  ~GroupGate();
  GroupGate(const GroupGate&) = delete;
  GroupGate& operator=(const GroupGate&) = delete;

  // Must run on the caller's executor (the worker's io_context).
  net::awaitable<GateResult> acquire(Priority prio, Clock::time_point deadline, WaitHook& hook);

  // Feedback from a finished upstream attempt (adaptive limit).
  void on_attempt(std::optional<double> ttft_ms, bool overload_signal);

  // A reload with new settings keeps the queue, the in-flight count and the learnt limit.
  void reconfigure(const config::AdmissionGroup& group, const config::AdmissionConfig& cfg);

  const std::string& name() const { return name_; }
  double limit() const;
  std::size_t in_flight() const;
  std::size_t queued(Priority p) const;
  // Work this gate cannot start now: every queued request, plus requests in flight above the current limit
  // (an adaptive limit that dropped below what already runs). The autoscaling signal, read at scrape time.
  std::size_t pending() const;
  const GateStats& stats() const { return stats_; }

 private:
  friend class Slot;
  struct Waiter;
  void release(Clock::duration held);
  void dispatch_locked(Clock::time_point now);  // grants free slots to waiters
  double limit_locked() const;
  std::size_t pending_locked() const;
  // Slots batch requests may fill (of every class in flight): the limit minus the batch reserve.
  double batch_limit_locked() const;
  std::chrono::milliseconds estimate_wait_locked(std::size_t ahead) const;
  void apply_config_locked(const config::AdmissionGroup& group, const config::AdmissionConfig& cfg);

  const std::string name_;
  mutable std::mutex mu_;
  config::AdmissionGroup group_;
  std::chrono::milliseconds codel_interval_{100};
  std::size_t in_flight_ = 0;
  double hold_ewma_ms_ = 0;  // how long a slot is held (service time), for wait estimates
  AdaptiveLimit adaptive_;
  ClassQueue<std::shared_ptr<Waiter>> queue_;
  CodelDetector codel_;
  GateStats stats_;
  GateMetrics metrics_;
  std::uint64_t collector_ = 0;
  double pending_reported_ = 0;  // this gate's share of sluice_pending_work (set by the collector)
  int logged_limit_ = 0;  // last limit written to the log (changes are logged, at most once a second)
  Clock::time_point logged_at_{};
};

}  // namespace sluice::admission
