#pragma once
// The GPU capacity model: S concurrent slots and a FIFO wait queue. Pure logic (no I/O); the clock is
// injectable so tests can drive queue times. Thread-safe: workers share one node's capacity.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace sluice::sim {

using Clock = std::function<std::chrono::steady_clock::time_point()>;

// A queued request. on_grant runs (outside the lock, on the releasing thread) when it gets a slot;
// it must only hand the news to the waiter's own thread.
struct Waiter {
  std::function<void()> on_grant;
  std::chrono::steady_clock::time_point enqueued{};
  bool granted = false;  // guarded by Capacity's mutex
};

class Capacity {
 public:
  explicit Capacity(std::size_t slots, Clock clock = {});

  // Takes a slot if one is free and nobody is queued ahead (FIFO fairness).
  bool try_acquire();
  // Queues a waiter; if a slot is free right now it is granted at once (on_grant runs before return).
  void enqueue(const std::shared_ptr<Waiter>& w);
  // Removes a waiter that gave up. Returns false if it had already been granted: the caller then owns a
  // slot and must release() it.
  bool cancel(const std::shared_ptr<Waiter>& w);
  // Frees a slot and grants it to the head of the queue, if any.
  void release();
  // Changes the slot count (scenario phases); growing grants queued waiters.
  void set_slots(std::size_t slots);

  std::size_t slots() const;
  std::size_t running() const;
  std::size_t waiting() const;
  // Longest current wait (0 when the queue is empty).
  std::chrono::milliseconds oldest_wait() const;

 private:
  // Grants as many queued waiters as free slots allow; returns them so callbacks run unlocked.
  std::deque<std::shared_ptr<Waiter>> grant_locked();
  static void notify(std::deque<std::shared_ptr<Waiter>>& granted);

  Clock clock_;
  mutable std::mutex mu_;
  std::size_t slots_;
  std::size_t running_ = 0;
  std::deque<std::shared_ptr<Waiter>> queue_;
};

}  // namespace sluice::sim
