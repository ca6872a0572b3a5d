#include "state/redis/breaker.h"

#include <algorithm>

namespace sluice::state::redis {

bool Breaker::allow(Nanos now) {
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kHalfOpen:
      return false;  // one probe at a time
    case State::kOpen:
      if (now < until_) {
        return false;
      }
      state_ = State::kHalfOpen;
      return true;
  }
  return false;
}

void Breaker::success() {
  state_ = State::kClosed;
  failures_ = 0;
  cooldown_ = 0;
}

void Breaker::failure(Nanos now) {
  ++failures_;
  if (state_ == State::kHalfOpen) {
    cooldown_ = std::min(s_.max_cooldown, std::max(s_.base_cooldown, cooldown_ * 2));
  } else if (state_ == State::kClosed && failures_ >= s_.threshold) {
    cooldown_ = s_.base_cooldown;
  } else {
    return;
  }
  state_ = State::kOpen;
  until_ = now + cooldown_;
}

}  // namespace sluice::state::redis
