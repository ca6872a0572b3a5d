#include "plan/profile.h"

namespace sluice::plan {

void Tokens::add(const Tokens& t, double scale) {
  requests += t.requests * scale;
  cache_hit += t.cache_hit * scale;
  cache_miss += t.cache_miss * scale;
  completion += t.completion * scale;
}

Tokens Tokens::scaled(double f) const {
  Tokens out;
  out.add(*this, f);
  return out;
}

Tokens HourLoad::total() const {
  Tokens t = peak;
  t.add(off_peak);
  return t;
}

Tokens ModelProfile::week_total() const {
  Tokens t;
  for (const auto& h : hours) {
    t.add(h.total());
  }
  return t;
}

double Profile::week_requests() const {
  double n = 0;
  for (const auto& m : models) {
    n += m.week_total().requests;
  }
  return n;
}

}  // namespace sluice::plan
