#pragma once
// One request's cancellation: whatever may have to stop early (an upstream connection, a backoff or pacing
// timer, a hedge leg) registers a Hook for as long as it runs; cancel() runs the hooks of the kinds asked
// for. Hooks are intrusive (they live in the frames that register them), so cancelling allocates nothing and
// a request pays only two pointer writes per registration. Single-threaded: one request, one worker thread.
#include <cstdint>

#include "common/function_ref.h"

namespace sluice {

class CancelScope {
 public:
  // Which hooks a cancel reaches. A coalescing leader whose client left keeps its upstream read going for the
  // requests that share it (kUpstream), while its waits (kWait) still stop.
  enum Kind : std::uint8_t { kWait = 1, kUpstream = 2, kAll = kWait | kUpstream };

  class Hook {
   public:
    // Registering on a scope already cancelled (for this kind) runs `on_cancel` at once.
    Hook(CancelScope& scope, Kind kind, FunctionRef<void()> on_cancel)
        : scope_(&scope), kind_(kind), on_cancel_(on_cancel) {
      if ((scope.cancelled_ & kind) != 0) {
        on_cancel_();
      }
      next_ = scope.hooks_;
      if (next_ != nullptr) {
        next_->prev_ = this;
      }
      scope.hooks_ = this;
    }
    ~Hook() {
      if (prev_ != nullptr) {
        prev_->next_ = next_;
      } else {
        scope_->hooks_ = next_;
      }
      if (next_ != nullptr) {
        next_->prev_ = prev_;
      }
      if (scope_->running_ == this) {
        scope_->running_ = next_;
      }
    }
    Hook(const Hook&) = delete;
    Hook& operator=(const Hook&) = delete;

   private:
    friend class CancelScope;
    CancelScope* scope_;
    Kind kind_;
    FunctionRef<void()> on_cancel_;
    Hook* prev_ = nullptr;
    Hook* next_ = nullptr;
  };

  CancelScope() = default;
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

  // Runs the registered hooks of `kinds` (each at most once per kind) and marks the scope cancelled for them:
  // later registrations of those kinds run at once. A hook may unregister others while this runs.
  void cancel(unsigned kinds = kAll) {
    const unsigned fresh = kinds & ~cancelled_;
    cancelled_ |= static_cast<std::uint8_t>(kinds);
    for (Hook* h = hooks_; h != nullptr;) {
      running_ = h->next_;
      if ((h->kind_ & fresh) != 0) {
        h->on_cancel_();
      }
      h = running_;
    }
    running_ = nullptr;
  }
  bool cancelled(Kind kind = kAll) const { return (cancelled_ & kind) != 0; }

 private:
  Hook* hooks_ = nullptr;
  Hook* running_ = nullptr;  // the next hook cancel() visits (kept valid when hooks unregister themselves)
  std::uint8_t cancelled_ = 0;
};

}  // namespace sluice
