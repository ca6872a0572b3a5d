#include "sim/capacity.h"

#include <algorithm>

namespace sluice::sim {

Capacity::Capacity(std::size_t slots, Clock clock) : clock_(std::move(clock)), slots_(slots) {
  if (!clock_) {
    clock_ = [] { return std::chrono::steady_clock::now(); };
  }
}

bool Capacity::try_acquire() {
  std::lock_guard lock{mu_};
  if (running_ < slots_ && queue_.empty()) {
    ++running_;
    return true;
  }
  return false;
}

void Capacity::enqueue(const std::shared_ptr<Waiter>& w) {
  std::deque<std::shared_ptr<Waiter>> granted;
  {
    std::lock_guard lock{mu_};
    w->enqueued = clock_();
    w->granted = false;
    queue_.push_back(w);
    granted = grant_locked();
  }
  notify(granted);
}

bool Capacity::cancel(const std::shared_ptr<Waiter>& w) {
  std::lock_guard lock{mu_};
  if (w->granted) {
    return false;
  }
  auto it = std::find(queue_.begin(), queue_.end(), w);
  if (it != queue_.end()) {
    queue_.erase(it);
  }
  return true;
}

void Capacity::release() {
  std::deque<std::shared_ptr<Waiter>> granted;
  {
    std::lock_guard lock{mu_};
    if (running_ > 0) {
      --running_;
    }
    granted = grant_locked();
  }
  notify(granted);
}

void Capacity::set_slots(std::size_t slots) {
  std::deque<std::shared_ptr<Waiter>> granted;
  {
    std::lock_guard lock{mu_};
    slots_ = slots;
    granted = grant_locked();
  }
  notify(granted);
}

std::deque<std::shared_ptr<Waiter>> Capacity::grant_locked() {
  std::deque<std::shared_ptr<Waiter>> granted;
  while (running_ < slots_ && !queue_.empty()) {
    auto w = std::move(queue_.front());
    queue_.pop_front();
    w->granted = true;
    ++running_;
    granted.push_back(std::move(w));
  }
  return granted;
}

void Capacity::notify(std::deque<std::shared_ptr<Waiter>>& granted) {
  for (auto& w : granted) {
    if (w->on_grant) {
      w->on_grant();
    }
  }
}

std::size_t Capacity::slots() const {
  std::lock_guard lock{mu_};
  return slots_;
}

std::size_t Capacity::running() const {
  std::lock_guard lock{mu_};
  return running_;
}

std::size_t Capacity::waiting() const {
  std::lock_guard lock{mu_};
  return queue_.size();
}

std::chrono::milliseconds Capacity::oldest_wait() const {
  std::lock_guard lock{mu_};
  if (queue_.empty()) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_() - queue_.front()->enqueued);
}

}  // namespace sluice::sim
