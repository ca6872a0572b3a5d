#include "ledger/ledger.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <tuple>

#include "common/thread_name.h"

namespace sluice::ledger {

std::unique_ptr<Ledger> Ledger::open(const config::LedgerConfig& cfg, std::string& error) {
  auto sink = cfg.postgres_conninfo.empty() ? open_sqlite_sink(cfg, error)
                                            : open_postgres_sink(cfg.postgres_conninfo, error);
  if (!sink) {
    return nullptr;
  }
  return std::unique_ptr<Ledger>(new Ledger(std::move(sink), cfg.flush_interval));
}

Ledger::Ledger(std::unique_ptr<LedgerSink> sink, std::chrono::milliseconds flush)
    : sink_(std::move(sink)), flush_(flush) {
  thread_ = std::thread([this] { run(); });
}

Ledger::~Ledger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Totals::add(const UsageRecord& r) {
  ++requests;
  prompt += r.prompt;
  completion += r.completion;
  cache_hit += r.cache_hit;
  cache_miss += r.cache_miss;
  reasoning += r.reasoning;
  cost_usd += r.cost_usd;
  savings_usd += r.savings_usd;
}

void Totals::add(const Totals& t) {
  requests += t.requests;
  prompt += t.prompt;
  completion += t.completion;
  cache_hit += t.cache_hit;
  cache_miss += t.cache_miss;
  reasoning += t.reasoning;
  cost_usd += t.cost_usd;
  savings_usd += t.savings_usd;
}

namespace {
// A group's fields as one tuple, for a GroupKey and for a request alike: hashing and equality are written
// once, over this list. The cheap fields come first, so a mismatch usually ends the comparison there.
using Dims = std::tuple<std::int64_t, bool, unsigned, std::string_view, std::string_view, std::string_view,
                        std::string_view, std::string_view>;
Dims dims(const GroupKey& k) {
  return {k.second, k.stream, k.status, k.key, k.model, k.upstream, k.upstream_model, k.source};
}
Dims dims(const UsageRecord& r) {
  return {second_of(r.ts_ms), r.stream, r.status, r.key, r.model, r.upstream, r.upstream_model, r.source};
}

std::size_t hash_dims(const Dims& d) {
  const auto& [second, stream, status, key, model, upstream, upstream_model, source] = d;
  std::size_t h = std::hash<std::int64_t>{}(second * 2 + (stream ? 1 : 0)) ^ (std::size_t{status} << 48);
  for (std::string_view n : {key, model, upstream, upstream_model, source}) {
    h ^= std::hash<std::string_view>{}(n) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}
}  // namespace

std::size_t GroupHash::operator()(const GroupKey& k) const { return hash_dims(dims(k)); }
std::size_t GroupHash::operator()(const UsageRecord& r) const { return hash_dims(dims(r)); }
bool GroupEq::operator()(const GroupKey& a, const GroupKey& b) const { return dims(a) == dims(b); }
bool GroupEq::operator()(const UsageRecord& r, const GroupKey& k) const { return dims(r) == dims(k); }

namespace {
GroupKey group_of_record(const UsageRecord& r) {
  return GroupKey{second_of(r.ts_ms),
                  std::string(r.key),
                  std::string(r.model),
                  std::string(r.upstream),
                  std::string(r.upstream_model),
                  std::string(r.source),
                  r.stream,
                  r.status};
}
}  // namespace

OnceRecord once_record(std::string id, const UsageRecord& r) {
  OnceRecord o{std::move(id), {group_of_record(r), Totals{}}};
  o.row.second.add(r);
  return o;
}

std::vector<const OnceRecord*> distinct_by_id(const std::vector<OnceRecord>& records) {
  std::vector<const OnceRecord*> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  out.erase(std::unique(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->id == b->id; }),
            out.end());
  return out;
}

std::vector<Row> fold_rows(const std::vector<const Row*>& rows) {
  std::unordered_map<GroupKey, Totals, GroupHash, GroupEq> groups;
  for (const Row* r : rows) {
    groups[r->first].add(r->second);
  }
  return {std::make_move_iterator(groups.begin()), std::make_move_iterator(groups.end())};
}

void Ledger::record_once(std::vector<OnceRecord> records, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mu_);
    once_.emplace_back(std::move(records), std::move(done));
  }
  cv_.notify_one();
}

void Ledger::record(const UsageRecord& r) {
  std::lock_guard lock(mu_);
  if (last_ != nullptr && GroupEq{}(r, last_->first)) {
    last_->second.add(r);
    return;
  }
  auto it = pending_.find(r);
  if (it == pending_.end()) {
    it = pending_.emplace(group_of_record(r), Totals{}).first;
  }
  last_ = &*it;
  it->second.add(r);
}

void Ledger::query(UsageQuery q, std::function<void(std::string)> done) {
  {
    std::lock_guard lock(mu_);
    queries_.emplace_back(std::move(q), std::move(done));
  }
  cv_.notify_one();
}

void Ledger::run() {
  // Bookkeeping must not take CPU from workers answering clients: batch scheduling (no wake-up preemption),
  // lower weight. Rows just wait a little longer when the machine is busy. Failures are harmless.
  name_this_thread("sluice-ledger");
  sched_param sp{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
  Groups groups;
  std::vector<Row> unwritten;  // oldest first: rows a failed flush kept, then this flush's
  decltype(queries_) queries;
  decltype(once_) once;
  for (;;) {
    bool stop;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, flush_, [this] { return stop_ || !queries_.empty() || !once_.empty(); });
      groups.swap(pending_);  // workers get the emptied map back, its buckets still allocated
      last_ = nullptr;
      queries.swap(queries_);
      once.swap(once_);
      stop = stop_;
    }
    while (!groups.empty()) {
      auto node = groups.extract(groups.begin());
      unwritten.emplace_back(std::move(node.key()), node.mapped());
    }
    if (!unwritten.empty()) {
      if (sink_->write(unwritten)) {
        unwritten.clear();
      } else if (unwritten.size() > kMaxPendingRows) {
        spdlog::error("ledger: {} row(s) dropped: the file cannot be written and memory holds at most {}",
                      unwritten.size() - kMaxPendingRows, kMaxPendingRows);
        unwritten.erase(unwritten.begin(), unwritten.end() - static_cast<std::ptrdiff_t>(kMaxPendingRows));
      }
    }
    for (auto& [records, done] : once) {
      std::size_t applied = 0;
      done(sink_->write_once(records, applied));
    }
    once.clear();
    for (auto& [q, done] : queries) {
      done(sink_->query(q));
    }
    queries.clear();
    if (stop) {
      if (!unwritten.empty()) {
        spdlog::error("ledger: {} row(s) lost at shutdown: the file could not be written", unwritten.size());
      }
      return;
    }
  }
}

}  // namespace sluice::ledger
