#pragma once
// The waiting room of one group: one FIFO per priority class, dequeued strictly (highest class first) or
// weighted (stride scheduling: class c gets weights[c] of every sum(weights) dequeues while all wait).
// Pure and single-threaded; the caller locks.
#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>

#include "config/admission_config.h"

namespace sluice::admission {

using config::Priority;
using config::kPriorityCount;

template <class T>
class ClassQueue {
 public:
  ClassQueue(config::QueuePolicy policy, std::array<std::uint32_t, kPriorityCount> weights) {
    configure(policy, weights);
  }

  void configure(config::QueuePolicy policy, std::array<std::uint32_t, kPriorityCount> weights) {
    policy_ = policy;
    for (std::size_t c = 0; c < kPriorityCount; ++c) {
      stride_[c] = 1.0 / double(std::max<std::uint32_t>(weights[c], 1));
    }
  }

  void push(Priority p, T item) {
    auto c = static_cast<std::size_t>(p);
    if (q_[c].empty()) {
      // A class that was idle starts level with the busiest one instead of cashing in its idle time.
      double floor = 0;
      bool any = false;
      for (std::size_t o = 0; o < kPriorityCount; ++o) {
        if (!q_[o].empty()) {
          floor = any ? std::min(floor, pass_[o]) : pass_[o];
          any = true;
        }
      }
      pass_[c] = any ? std::max(pass_[c], floor) : 0;
    }
    q_[c].push_back(std::move(item));
    ++size_;
  }

  std::optional<T> pop() {
    std::optional<std::size_t> pick;
    for (std::size_t c = 0; c < kPriorityCount; ++c) {
      if (q_[c].empty()) {
        continue;
      }
      if (policy_ == config::QueuePolicy::kStrict) {
        pick = c;
        break;
      }
      if (!pick || pass_[c] < pass_[*pick]) {
        pick = c;
      }
    }
    if (!pick) {
      return std::nullopt;
    }
    T item = std::move(q_[*pick].front());
    q_[*pick].pop_front();
    pass_[*pick] += stride_[*pick];
    --size_;
    return item;
  }

  bool remove(Priority p, const T& item) {
    auto& q = q_[static_cast<std::size_t>(p)];
    auto it = std::find(q.begin(), q.end(), item);
    if (it == q.end()) {
      return false;
    }
    q.erase(it);
    --size_;
    return true;
  }

  std::size_t size() const { return size_; }
  std::size_t size(Priority p) const { return q_[static_cast<std::size_t>(p)].size(); }
  bool empty() const { return size_ == 0; }
  // Waiters a new request of class `p` would (roughly) have ahead of it: its class and the ones above.
  std::size_t ahead(Priority p) const {
    std::size_t n = 0;
    for (std::size_t c = 0; c <= static_cast<std::size_t>(p); ++c) {
      n += q_[c].size();
    }
    return n;
  }

 private:
  config::QueuePolicy policy_ = config::QueuePolicy::kStrict;
  std::array<std::deque<T>, kPriorityCount> q_;
  std::array<double, kPriorityCount> pass_{};
  std::array<double, kPriorityCount> stride_{1, 1, 1, 1};
  std::size_t size_ = 0;
};

// CoDel's overload detector (Nichols & Jacobson; folly's variant): the group is overloaded while the smallest
// queue delay seen over each `interval` stays above `target`.
class CodelDetector {
 public:
  void configure(std::int64_t target_ns, std::int64_t interval_ns) {
    target_ns_ = target_ns;
    interval_ns_ = interval_ns;
  }
  void on_dequeue(std::int64_t delay_ns, std::int64_t now) {
    roll(now);
    min_delay_ = std::min(min_delay_, delay_ns);
  }
  bool overloaded(std::int64_t now) {
    roll(now);
    return overloaded_;
  }

 private:
  void roll(std::int64_t now) {
    if (interval_start_ == 0) {
      interval_start_ = now;
      return;
    }
    if (now - interval_start_ < interval_ns_) {
      return;
    }
    // An interval without dequeues (nothing waited) is not overloaded.
    overloaded_ = min_delay_ != kNone && min_delay_ > target_ns_;
    min_delay_ = kNone;
    interval_start_ = now;
  }
  static constexpr std::int64_t kNone = INT64_MAX;
  std::int64_t target_ns_ = 5'000'000;
  std::int64_t interval_ns_ = 100'000'000;
  std::int64_t interval_start_ = 0;
  std::int64_t min_delay_ = kNone;
  bool overloaded_ = false;
};

}  // namespace sluice::admission
