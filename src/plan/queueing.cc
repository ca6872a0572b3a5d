#include "plan/queueing.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "plan/plan_config.h"

namespace sluice::plan {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxReplicas = 1 << 20;
}  // namespace

double erlang_b(int servers, double offered) {
  double b = 1.0;
  for (int k = 1; k <= servers; ++k) {
    b = offered * b / (k + offered * b);
  }
  return b;
}

double erlang_c(int servers, double offered) {
  if (offered <= 0) {
    return 0;
  }
  if (offered >= servers) {
    return 1;
  }
  const double b = erlang_b(servers, offered);
  return servers * b / (servers - offered * (1 - b));
}

double wait_quantile(int servers, double arrival_rate, double service_rate, double q) {
  const double capacity = servers * service_rate;
  if (arrival_rate <= 0) {
    return 0;
  }
  if (arrival_rate >= capacity) {
    return kInf;
  }
  const double c = erlang_c(servers, arrival_rate / service_rate);
  if (c <= 1 - q) {
    return 0;
  }
  return std::log(c / (1 - q)) / (capacity - arrival_rate);
}

double mean_wait(int servers, double arrival_rate, double service_rate) {
  const double capacity = servers * service_rate;
  if (arrival_rate >= capacity) {
    return kInf;
  }
  return erlang_c(servers, arrival_rate / service_rate) / (capacity - arrival_rate);
}

double EngineModel::service_s(double prefill_tokens, double completion_tokens) const {
  return prefill_tokens / prefill_tokens_per_s + batch * completion_tokens / decode_tokens_per_s;
}

double EngineModel::prefill_s(double prefill_tokens) const { return prefill_tokens / prefill_tokens_per_s; }

double p99_ttft(const EngineModel& e, const HourTraffic& t, int replicas) {
  const double s = e.service_s(t.mean_prefill, t.mean_completion);
  const double wait = s > 0 ? wait_quantile(replicas * e.batch, t.arrival_rate, 1.0 / s, 0.99) : 0.0;
  return wait + e.prefill_s(t.p99_prefill);
}

Sizing size_hour(const EngineModel& e, const HourTraffic& t, const Slo& slo, int min_replicas) {
  Sizing out;
  const double s = e.service_s(t.mean_prefill, t.mean_completion);
  const double busy = t.arrival_rate * s;  // batch slots in use on average
  out.feasible = e.prefill_s(t.p99_prefill) <= slo.p99_first_token_s;
  const int by_headroom = static_cast<int>(std::ceil(busy / (e.batch * slo.max_utilisation()) - 1e-9));
  int n = std::max(min_replicas, by_headroom);
  if (t.arrival_rate > 0) {
    n = std::max(n, 1);
  }
  auto meets = [&](int r) { return p99_ttft(e, t, r) <= slo.p99_first_token_s; };
  if (out.feasible && t.arrival_rate > 0 && !meets(n)) {
    // A few steps up usually do; beyond that, double then bisect.
    int lo = n;
    int hi = n + 1;
    while (hi < kMaxReplicas && !meets(hi)) {
      lo = hi;
      hi = hi < n + 8 ? hi + 1 : hi * 2;
    }
    while (hi - lo > 1) {
      const int mid = lo + (hi - lo) / 2;
      (meets(mid) ? hi : lo) = mid;
    }
    n = hi;
  }
  out.replicas = n;
  out.utilisation = n > 0 ? busy / (n * e.batch) : 0;
  out.p99_ttft_s = n > 0 ? p99_ttft(e, t, n) : e.prefill_s(t.p99_prefill);
  out.p99_wait_s = out.p99_ttft_s - e.prefill_s(t.p99_prefill);
  return out;
}

double max_rate(const EngineModel& e, const HourTraffic& t, const Slo& slo, int replicas) {
  const double s = e.service_s(t.mean_prefill, t.mean_completion);
  if (replicas <= 0 || s <= 0 || e.prefill_s(t.p99_prefill) > slo.p99_first_token_s) {
    return 0;
  }
  HourTraffic probe = t;
  double lo = 0;
  double hi = replicas * e.batch * slo.max_utilisation() / s;
  probe.arrival_rate = hi;
  if (p99_ttft(e, probe, replicas) <= slo.p99_first_token_s) {
    return hi;
  }
  for (int i = 0; i < 60 && hi - lo > 1e-9 * hi; ++i) {
    probe.arrival_rate = (lo + hi) / 2;
    (p99_ttft(e, probe, replicas) <= slo.p99_first_token_s ? lo : hi) = probe.arrival_rate;
  }
  return lo;
}

}  // namespace sluice::plan
