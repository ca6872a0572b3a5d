#include "bench/recorder.h"

#include <algorithm>

namespace sluice::bench {

namespace {
std::uint64_t us(Clock::duration d) {
  const auto v = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}
}  // namespace

void Recorder::add(const RequestResult& r) {
  const auto end = r.start + r.e2e;
  if (end > last_end_) {
    last_end_ = end;
  }
  ++completed_;
  ++counts_[static_cast<std::size_t>(r.outcome)];
  queued_.record(us(r.queued));
  const bool ok = r.outcome == Outcome::kOk;
  const auto slice = static_cast<std::size_t>(
      std::max(0.0, std::chrono::duration<double>(end - start_).count() / kSliceSeconds));
  if (slices_.size() <= slice) {
    slices_.resize(slice + 1);
  }
  auto& b = slices_[slice];
  ++b.completed;
  if (!ok) {
    failed_e2e_.record(us(r.e2e));
    return;
  }
  ++b.ok;
  const auto tokens = static_cast<std::uint64_t>(r.tokens > 0 ? r.tokens : 0);
  b.tokens += tokens;
  ok_tokens_ += tokens;
  e2e_.record(us(r.e2e));
  if (r.ttft) {
    ttft_.record(us(*r.ttft));
    if (r.prompt_tokens >= 0) {
      const double ttft = std::chrono::duration<double>(*r.ttft).count();
      const double e2e = std::chrono::duration<double>(r.e2e).count();
      ++engine_.requests;
      engine_.prompt_tokens += static_cast<double>(r.prompt_tokens);
      engine_.cached_prompt_tokens += static_cast<double>(r.cached_prompt_tokens);
      engine_.completion_tokens += static_cast<double>(tokens);
      engine_.ttft_s += ttft;
      engine_.decode_s += std::max(0.0, e2e - ttft);
      engine_.e2e_s += e2e;
    }
  }
  for (auto gap : r.itl_us) {
    itl_.record(gap);
  }
}

std::vector<TimeBucket> Recorder::timeline(std::size_t max_points, double& step) const {
  const std::size_t per =
      std::max<std::size_t>(1, (slices_.size() + max_points - 1) / std::max<std::size_t>(max_points, 1));
  // Whole seconds once a run is long enough, so the chart reads naturally.
  const std::size_t group = per <= 1 ? 1 : per <= 10 ? 10 : (per + 9) / 10 * 10;
  step = static_cast<double>(group) * kSliceSeconds;
  std::vector<TimeBucket> out((slices_.size() + group - 1) / group);
  for (std::size_t i = 0; i < slices_.size(); ++i) {
    auto& b = out[i / group];
    b.completed += slices_[i].completed;
    b.ok += slices_[i].ok;
    b.tokens += slices_[i].tokens;
  }
  return out;
}

double Recorder::elapsed_seconds() const {
  if (completed_ == 0) {
    return 0.0;
  }
  return std::chrono::duration<double>(last_end_ - start_).count();
}

}  // namespace sluice::bench
