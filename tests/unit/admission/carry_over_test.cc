// A config reload keeps key budgets (by key name) and group gates (by model name).
#include <gtest/gtest.h>

#include "admission/admission.h"

namespace sluice::admission {
namespace {

config::Config make_config(std::uint64_t rpm, bool with_key = true) {
  config::Config c;
  if (with_key) {
    config::VirtualKey k;
    k.name = "tenant";
    k.policy.limits.rpm = rpm;
    c.keys.push_back(k);
  }
  config::AdmissionGroup g;
  g.max_concurrent = 4;
  c.admission.groups["m"] = g;
  return c;
}

TEST(AdmissionCarryOver, KeyBudgetsAndGatesSurviveAReload) {
  Admission old_state(make_config(2));
  const Nanos now = 1'000'000'000'000;
  for (int i = 0; i < 2; ++i) {
    KeyTicket t;
    ASSERT_EQ(check_key(*old_state.key("tenant"), "m", 0, now, t).rejected, LimitKind::kNone);
  }
  Admission fresh(make_config(2));
  Admission::carry_over(old_state, fresh);
  KeyTicket t;
  EXPECT_EQ(check_key(*fresh.key("tenant"), "m", 0, now, t).rejected, LimitKind::kRequests);
  EXPECT_EQ(fresh.gate("m")->get(), old_state.gate("m")->get());

  // Without carry-over (or for a new key) the budget starts full.
  Admission unrelated(make_config(2));
  KeyTicket t2;
  EXPECT_EQ(check_key(*unrelated.key("tenant"), "m", 0, now, t2).rejected, LimitKind::kNone);
  // A revoked key is gone from the new state.
  Admission revoked(make_config(2, false));
  Admission::carry_over(old_state, revoked);
  EXPECT_EQ(revoked.key("tenant"), nullptr);
}

}  // namespace
}  // namespace sluice::admission
