#pragma once
// Claim-before-commit: when several attempts of one request run at once (a hedge), only the one that claims
// the gate first may write to the client. Attempts of one request share one worker thread, so no locking.
#include "common/function_ref.h"

namespace sluice::upstream {

class AttemptGate {
 public:
  static constexpr int kNobody = -1;

  // True when `id` owns the client (now or already). The first claim runs on_claim, which cancels the others.
  bool claim(int id) {
    if (winner_ == kNobody) {
      winner_ = id;
      if (on_claim) {
        on_claim(id);
      }
    }
    return winner_ == id;
  }
  // Another attempt already owns the client: `id` should stop at once.
  bool lost(int id) const { return winner_ != kNobody && winner_ != id; }
  int winner() const { return winner_; }

  FunctionRef<void(int)> on_claim;

 private:
  int winner_ = kNobody;
};

}  // namespace sluice::upstream
