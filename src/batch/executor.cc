#include "batch/executor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "batch/batch_metrics.h"
#include "batch/output_line.h"
#include "ledger/ledger.h"
#include "ledger/pricing.h"

namespace sluice::batch {

namespace {
using store::Store;

// The final result of one line as it goes into the output (2xx) or error file. The cost is the tokens at the
// price of `now_ms` on the planning clock (a compressed benchmark clock prices lines at their virtual time);
// without a `price` the runner's cost stands.
store::LineOutcome outcome_of(const store::BatchRecord& b, const store::LineClaim& line,
                              const LineResult& res, std::int64_t now_ms, const config::Price* price) {
  store::LineOutcome o{b.id, line.idx, line.custom_id};
  o.status_code = static_cast<int>(res.status);
  o.success = res.status >= 200 && res.status < 300;
  if (res.status != 0) {
    o.line_json = response_line(b.id, line.idx, line.custom_id, o.status_code, res.request_id,
                                res.body.empty() ? std::string_view("null") : std::string_view(res.body));
  } else {
    std::string message = "the request got no answer";
    boost::json::error_code ec;
    auto v = boost::json::parse(res.body, ec);
    if (!ec && v.is_object()) {
      if (const auto* e = v.as_object().if_contains("error"); e && e->is_object()) {
        if (const auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
          message = std::string(m->as_string());
        }
      }
    }
    o.line_json = error_line(b.id, line.idx, line.custom_id, "request_failed", message);
  }
  if (res.usage) {
    o.prompt_tokens = res.usage->prompt;
    o.completion_tokens = res.usage->completion;
    o.cache_hit_tokens = res.usage->cache_hit;
    o.cache_miss_tokens = res.usage->cache_miss;
    o.reasoning_tokens = res.usage->reasoning;
    o.cost_usd = o.full_cost_usd = res.usage->cost_usd;
    if (price != nullptr) {
      openai::Usage u;
      u.prompt_cache_hit_tokens = o.cache_hit_tokens;
      u.prompt_cache_miss_tokens = o.cache_miss_tokens;
      u.completion_tokens = o.completion_tokens;
      o.cost_usd = ledger::cost_usd(*price, u, static_cast<std::time_t>(now_ms / 1000));
      config::Price full = *price;
      full.windows.clear();  // no windows: never off-peak
      o.full_cost_usd = ledger::cost_usd(full, u, 0);
    }
  }
  o.finished_ms = now_ms;
  if (res.ledger) {
    const LineLedger& l = *res.ledger;
    o.ledger = store::LedgerEntry{b.owner,       l.model,    l.upstream, l.upstream_model,
                                  o.status_code, l.cost_usd, l.unix_ms,  l.source};
  }
  return o;
}

// The ledger's row of a stored result: one upstream request of the batch owner's key, id "<batch>/<idx>".
ledger::OnceRecord ledger_record_of(const store::UnledgeredLine& l) {
  ledger::UsageRecord r;
  r.ts_ms = l.entry.unix_ms;
  r.key = l.entry.key;
  r.model = l.entry.model;
  r.upstream = l.entry.upstream;
  r.upstream_model = l.entry.upstream_model;
  r.source = l.entry.source;
  r.status = static_cast<unsigned>(l.entry.status);
  r.prompt = l.prompt_tokens;
  r.completion = l.completion_tokens;
  r.cache_hit = l.cache_hit_tokens;
  r.cache_miss = l.cache_miss_tokens;
  r.reasoning = l.reasoning_tokens;
  (l.entry.source == "upstream" ? r.cost_usd : r.savings_usd) = l.entry.cost_usd;
  return ledger::once_record(fmt::format("{}/{}", l.batch_id, l.idx), r);
}
}  // namespace

const config::Price* price_for_model(const config::Config& cfg, std::string_view model) {
  const config::Model* m = cfg.find_model(model);
  if (m == nullptr || m->deployments.empty()) {
    return nullptr;
  }
  auto it = cfg.pricing.find(m->deployments.front().upstream_model);
  return it == cfg.pricing.end() ? nullptr : &it->second;
}

Executor::Executor(store::StoreThreads& store, LineRunner* runner, const BatchClock& clock,
                   std::string replica, std::uint64_t seed)
    : store_(store),
      runner_(runner, [](LineRunner*) {}),  // not owned
      clock_(clock),
      replica_(std::move(replica)),
      rng_(seed) {}

const Plan* Executor::last_plan(const std::string& batch_id) const {
  auto it = running_.find(batch_id);
  return it == running_.end() ? nullptr : &it->second.plan;
}

void Executor::stop() {
  stopping_ = true;
  if (sleep_ != nullptr) {
    sleep_->cancel();
  }
}

net::awaitable<void> Executor::run_loop() {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (!stopping_) {
    co_await poll_once();
    if (stopping_) {
      break;
    }
    timer.expires_after(settings().poll_interval);
    sleep_ = &timer;
    co_await timer.async_wait(use_tuple);
    sleep_ = nullptr;
  }
}

net::awaitable<void> Executor::poll_once() {
  if (!cfg_) {
    co_return;
  }
  // Results of earlier polls go to the ledger first: a batch finalized below mostly has its lines there.
  co_await feed_ledger();
  auto active_batches_job = [](Store& s) { return s.active_batches(); };
  auto batches = co_await store_.call(active_batches_job);
  std::set<std::string> active;
  for (const auto& b : batches) {
    active.insert(b.id);
    co_await poll_batch(b);
  }
  std::erase_if(running_,
                [&](const auto& kv) { return !active.contains(kv.first) && kv.second.lines.empty(); });
  batch_metrics().active_batches->set(double(active.size()));
  co_await renew_leases();
}

net::awaitable<void> Executor::feed_ledger() {
  if (!ledger_) {
    co_return;
  }
  std::shared_ptr<ledger::Ledger> ledger = ledger_;  // one swapped meanwhile stays alive for this round
  feeding_ = true;
  // Held for a lease: another replica takes these lines only if this one dies before marking them.
  auto take_job = [now = clock_.real_ms(), hold = settings().lease.count()](Store& s) {
    return s.unledgered_lines(now, hold, kLedgerFeedLimit);
  };
  store::LedgerBacklog backlog = co_await store_.call(take_job);
  batch_metrics().ledger_pending->set(double(backlog.pending));
  if (!backlog.lines.empty()) {
    std::vector<ledger::OnceRecord> records;
    std::vector<std::pair<std::string, std::int64_t>> lines;
    for (const auto& l : backlog.lines) {
      records.push_back(ledger_record_of(l));
      lines.emplace_back(l.batch_id, l.idx);
    }
    // A crash (or a failed mark) after this write feeds the lines again; the ledger skips their ids.
    const bool written = co_await ledger->async_record_once(std::move(records), net::use_awaitable);
    bool marked = false;
    if (written) {
      auto mark_job = [lines = std::move(lines)](Store& s) { return s.mark_ledgered(lines); };
      marked = co_await store_.call(mark_job);
    }
    if (marked) {
      const std::size_t n = backlog.lines.size();
      stats_.ledgered += n;
      batch_metrics().ledger_fed->inc(double(n));
      batch_metrics().ledger_pending->set(double(backlog.pending - std::int64_t(n)));
    }
  }
  feeding_ = false;
}

void Executor::account(const store::BatchRecord& b, Running& r, std::int64_t now_real) {
  // Busy time counts only while the batch ran with work for its whole cap (a short tail would understate it).
  if (r.was_running && r.last_poll_real_ms != 0) {
    const double seconds = double(now_real - r.last_poll_real_ms) / 1000.0;
    auto& rate = rates_.try_emplace(b.model, settings().initial_line_time.count() / 1000.0).first->second;
    rate.add(seconds * settings().concurrency, double(r.finished));
    if (board_ != nullptr) {
      board_->set(b.model, rate.per_slot());
    }
  }
  r.finished = 0;
  r.last_poll_real_ms = now_real;
}

Plan Executor::plan_for(const store::BatchRecord& b, const store::LineCounts& c) {
  const auto& s = settings();
  auto& rate = rates_.try_emplace(b.model, s.initial_line_time.count() / 1000.0).first->second;
  PlanInput in;
  in.now_ms = clock_.plan_ms();
  in.deadline_ms = b.deadline_ms;
  in.remaining_lines = double(c.remaining());
  in.lines_per_second = rate.per_slot() * s.concurrency / clock_.scale();  // per planning second
  in.schedule = parse_schedule(b.schedule).value_or(Schedule::kOffPeak);
  in.price = price_for_model(*cfg_, b.model);
  const std::int64_t window = b.deadline_ms - b.at.created * 1000;
  in.margin_ms = std::max<std::int64_t>(
      static_cast<std::int64_t>(2.0 * double(s.poll_interval.count()) * clock_.scale()), window / 20);
  return make_plan(in);
}

net::awaitable<void> Executor::poll_batch(const store::BatchRecord& b) {
  const std::int64_t now_real = clock_.real_ms();
  auto line_counts_job = [id = b.id, now_real](Store& s) { return s.line_counts(id, now_real); };
  auto counts = co_await store_.call(line_counts_job);
  Running& r = running_[b.id];
  account(b, r, now_real);
  r.was_running = false;
  if (co_await maybe_finalize(b, counts) || stopping_ || !runner_ || b.status != "in_progress") {
    co_return;
  }
  r.plan = plan_for(b, counts);
  if (!r.plan.run_now) {
    co_return;
  }
  r.was_running = counts.remaining() >= std::int64_t(settings().concurrency);
  const std::size_t cap = settings().concurrency;
  if (r.lines.size() >= cap) {
    co_return;
  }
  const std::int64_t lease = settings().lease.count();
  auto claim_job = [id = b.id, rep = replica_, now_real, lease, n = cap - r.lines.size()](Store& s) {
    return s.claim_lines(id, rep, now_real, lease, n);
  };
  auto claims = co_await store_.call(claim_job);
  const auto ex = co_await net::this_coro::executor;
  for (auto& line : claims) {
    r.lines.insert(line.idx);
    ++in_flight_;
    net::co_spawn(ex, run_line(b, std::move(line)), net::detached);
  }
  batch_metrics().in_flight->set(double(in_flight_));
}

net::awaitable<bool> Executor::maybe_finalize(const store::BatchRecord& b, const store::LineCounts& counts) {
  std::string target = b.fin_status;
  if (target.empty()) {
    if (b.status == "cancelling") {
      target = "cancelled";
    } else if (counts.remaining() == 0) {
      target = "completed";
    } else if (clock_.plan_ms() >= b.deadline_ms) {
      target = "expired";
    }
  }
  if (target.empty()) {
    co_return false;
  }
  // Lines still running (here, or under another replica's live lease) may yet bring results: wait for them.
  if (!running_[b.id].lines.empty() || counts.leased > 0) {
    co_return true;
  }
  co_await finalize(b, std::move(target));
  co_return true;
}

net::awaitable<void> Executor::finalize(const store::BatchRecord& b, std::string status) {
  const std::int64_t now_real = clock_.real_ms();
  const std::int64_t now_s = clock_.plan_ms() / 1000;
  auto begin_finalizing_job = [id = b.id, rep = replica_, status, now_real, lease = settings().lease.count(),
                               now_s](Store& s) {
    return s.begin_finalizing(id, rep, status, now_real, lease, now_s);
  };
  auto taken = co_await store_.call(begin_finalizing_job);
  if (!taken) {
    co_return;  // another replica is at it
  }
  store::Finalization f{b.id, *taken, now_s, clock_.plan_ms(), replica_};
  const bool cancelled = *taken == "cancelled";
  f.unfinished_line = [id = b.id, cancelled](std::int64_t idx, std::string_view custom_id) {
    return cancelled ? error_line(id, idx, custom_id, "batch_cancelled",
                                  "The batch was cancelled before this request ran.")
                     : error_line(id, idx, custom_id, "batch_expired",
                                  "The batch's completion window ended before this request ran.");
  };
  auto finalize_job = [f](Store& s) { return s.finalize(f); };
  const bool done = co_await store_.call(finalize_job);
  if (done) {
    ++stats_.finalized;
    batch_metrics().finalized(*taken)->inc();
    spdlog::info("batch {}: {} ({} line(s))", b.id, *taken, b.total);
  }
}

std::int64_t Executor::backoff_ms(std::int32_t attempts, std::chrono::milliseconds retry_after) {
  const auto& s = settings();
  const double ceiling = std::min(double(s.retry_cap.count()),
                                  double(s.retry_base.count()) * std::pow(2.0, std::min(attempts, 30)));
  std::uniform_real_distribution<double> jitter(0.0, ceiling);
  return std::max(static_cast<std::int64_t>(jitter(rng_)), static_cast<std::int64_t>(retry_after.count()));
}

net::awaitable<void> Executor::run_line(store::BatchRecord b, store::LineClaim line) {
  LineRequest req{b.owner,
                  b.endpoint,
                  line.body,
                  config::Priority::kBatch,
                  clock_.steady_at(b.deadline_ms),
                  request_line_id(b.id, line.idx)};
  LineResult res;
  try {
    std::shared_ptr<LineRunner> runner = runner_;  // a runner swapped meanwhile stays alive for this line
    res = co_await runner->run(req);
  } catch (const std::exception& e) {  // the contract says it does not throw; never lose the line if it does
    spdlog::error("batch {}: line {} runner failed: {}", b.id, line.idx, e.what());
    res = LineResult{};
    res.retryable = true;
  }
  Running& r = running_[b.id];
  if (res.retryable) {
    const std::int64_t not_before = clock_.real_ms() + backoff_ms(line.attempts, res.retry_after);
    auto retry_line_job = [id = b.id, idx = line.idx, rep = replica_, not_before](Store& s) {
      return s.retry_line(id, idx, rep, not_before);
    };
    co_await store_.call(retry_line_job);
    ++stats_.retried;
    batch_metrics().lines(LineEnd::kRetried)->inc();
  } else {
    const bool ok = res.status >= 200 && res.status < 300;
    const config::Price* price = price_for_model(*cfg_, b.model);
    auto complete_line_job = [o = outcome_of(b, line, res, clock_.plan_ms(), price)](Store& s) {
      return s.complete_line(o);
    };
    const bool wrote = co_await store_.call(complete_line_job);
    if (!wrote) {
      ++stats_.duplicates;  // another replica's result was there first (its lease had expired on us)
      batch_metrics().lines(LineEnd::kDuplicate)->inc();
    } else {
      ++(ok ? stats_.succeeded : stats_.failed);
      batch_metrics().lines(ok ? LineEnd::kSucceeded : LineEnd::kFailed)->inc();
    }
    ++r.finished;
  }
  r.lines.erase(line.idx);
  --in_flight_;
  batch_metrics().in_flight->set(double(in_flight_));
}

net::awaitable<void> Executor::renew_leases() {
  const std::int64_t now = clock_.real_ms();
  const std::int64_t lease = settings().lease.count();
  if (in_flight_ == 0 || now - renewed_real_ms_ < lease / 3) {
    co_return;
  }
  renewed_real_ms_ = now;
  std::vector<std::pair<std::string, std::int64_t>> lines;
  for (const auto& [id, r] : running_) {
    for (auto idx : r.lines) {
      lines.emplace_back(id, idx);
    }
  }
  auto renew_leases_job = [rep = replica_, lines = std::move(lines), until = now + lease](Store& s) {
    return s.renew_leases(rep, lines, until);
  };
  co_await store_.call(renew_leases_job);
}

}  // namespace sluice::batch
