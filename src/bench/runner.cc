#include "bench/runner.h"

#include <fmt/format.h>

#include <cstdio>

#include "bench/arrivals.h"

namespace sluice::bench {

Runner::Runner(const BenchConfig& config, std::vector<std::unique_ptr<TargetPool>>& pools, const Requests& requests,
               Recorder& recorder, std::vector<Recorder>& by_class, bool progress)
    : config_(config), pools_(pools), requests_(requests), recorder_(recorder), by_class_(by_class),
      show_progress_(progress) {}

void Runner::start(net::any_io_executor ex) {
  start_ = recorder_.start();
  end_ = config_.duration ? start_ + *config_.duration : Clock::time_point::max();
  if (config_.open_loop) {
    net::co_spawn(ex, open_dispatcher(), net::detached);
  } else {
    workers_left_ = config_.concurrency;
    for (unsigned i = 0; i < config_.concurrency; ++i) {
      net::co_spawn(ex, closed_worker(), net::detached);
    }
  }
  if (show_progress_) {
    net::co_spawn(ex, progress(), net::detached);
  }
}

bool Runner::may_start(Clock::time_point t) const {
  if (config_.requests && next_ >= *config_.requests) {
    return false;
  }
  return t < end_;
}

net::awaitable<void> Runner::one(std::uint64_t index, Clock::time_point start) {
  const std::size_t t = index % pools_.size();
  const std::size_t c = config_.mix.empty() ? 0 : mix_class(config_.mix, config_.seed, index);
  const auto& reqs = requests_[c][t];
  const std::string& req = reqs[(index / pools_.size()) % reqs.size()];
  RequestResult r = co_await run_request(*pools_[t], req, config_.stream, start, start + config_.timeout);
  recorder_.add(r);
  if (c < by_class_.size()) {
    by_class_[c].add(r);
  }
  --in_flight_;
}

net::awaitable<void> Runner::closed_worker() {
  while (may_start(Clock::now())) {
    const std::uint64_t index = next_++;
    ++in_flight_;
    co_await one(index, Clock::now());
  }
  if (--workers_left_ == 0) {
    dispatching_ = false;
  }
}

net::awaitable<void> Runner::open_dispatcher() {
  auto ex = co_await net::this_coro::executor;
  PoissonArrivals arrivals(config_.rate, config_.seed);
  net::steady_timer timer(ex);
  for (;;) {
    const auto at = start_ + std::chrono::duration_cast<Clock::duration>(arrivals.next());
    if (!may_start(at)) {
      break;
    }
    if (at > Clock::now()) {
      timer.expires_at(at);
      auto [ec] = co_await timer.async_wait(use_tuple);
      (void)ec;
    }
    // Latency counts from `at`, the scheduled time, even when this loop or a connection runs late.
    const std::uint64_t index = next_++;
    ++in_flight_;
    net::co_spawn(ex, one(index, at), net::detached);
  }
  dispatching_ = false;
}

void Runner::print_progress(bool final) {
  const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
  const double ok_pct = recorder_.completed() ? 100.0 * recorder_.ok() / recorder_.completed() : 0.0;
  std::string bound;
  if (config_.requests) {
    bound = fmt::format(" / {}", *config_.requests);
  }
  std::fprintf(stderr, "\r\033[K%s",
               fmt::format("  {:6.1f}s  {}{} done  {:.1f}% ok  {:.0f} req/s  in flight {}", secs,
                           recorder_.completed(), bound, ok_pct,
                           secs > 0 ? recorder_.completed() / secs : 0.0, in_flight_)
                   .c_str());
  if (final) {
    std::fputc('\n', stderr);
  }
  std::fflush(stderr);
}

net::awaitable<void> Runner::progress() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  while (dispatching_ || in_flight_ > 0) {
    timer.expires_after(std::chrono::milliseconds(250));
    auto [ec] = co_await timer.async_wait(use_tuple);
    (void)ec;
    print_progress(false);
  }
  print_progress(true);
}

}  // namespace sluice::bench
