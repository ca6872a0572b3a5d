#include "ledger/ledger.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <tuple>

#include "common/json.h"
#include "common/thread_name.h"
#include "ledger/schema.h"

namespace sluice::ledger {

using schema::exec;
using schema::kColumnCount;
using schema::kRowsPerInsert;
using schema::minute_of;

namespace {
// Billed tokens count only answers that came from an upstream; cached and coalesced ones are savings.
constexpr std::string_view kAggregates =
    "sum(requests), sum(CASE WHEN source='upstream' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='cache' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='coalesced' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='stale' THEN requests ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN prompt_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN completion_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN cache_hit_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN cache_miss_tokens ELSE 0 END),"
    "sum(CASE WHEN source='upstream' THEN reasoning_tokens ELSE 0 END),"
    "total(cost_usd), total(savings_usd)";
constexpr std::array<std::string_view, 12> kAggregateNames{"requests",
                                                           "upstream_requests",
                                                           "cache_hits",
                                                           "coalesced",
                                                           "stale",
                                                           "prompt_tokens",
                                                           "completion_tokens",
                                                           "prompt_cache_hit_tokens",
                                                           "prompt_cache_miss_tokens",
                                                           "reasoning_tokens",
                                                           "cost_usd",
                                                           "savings_usd"};

}  // namespace

std::unique_ptr<Ledger> Ledger::open(const config::LedgerConfig& cfg, std::string& error) {
  // SQLite's allocation statistics take a global mutex per malloc; nothing reads them.
  static std::once_flag no_memstatus;
  std::call_once(no_memstatus, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(cfg.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "ledger.path " + cfg.path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, static_cast<int>(cfg.busy_timeout.count()));
  // WAL + synchronous=NORMAL: a batch commit is one sequential append, durable across process crashes.
  std::string why;
  if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", why) || !schema::ensure(db, why)) {
    error = "ledger.path " + cfg.path + ": " + why;
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<Ledger>(new Ledger(db, cfg.flush_interval));
}

Ledger::Ledger(sqlite3* db, std::chrono::milliseconds flush) : db_(db), flush_(flush) {
  thread_ = std::thread([this] { run(); });
}

Ledger::~Ledger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  stmts_.reset();
  sqlite3_close(db_);
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

void Ledger::record(const UsageRecord& r) {
  std::lock_guard lock(mu_);
  if (last_ != nullptr && GroupEq{}(r, last_->first)) {
    last_->second.add(r);
    return;
  }
  auto it = pending_.find(r);
  if (it == pending_.end()) {
    GroupKey k{second_of(r.ts_ms),
               std::string(r.key),
               std::string(r.model),
               std::string(r.upstream),
               std::string(r.upstream_model),
               std::string(r.source),
               r.stream,
               r.status};
    it = pending_.emplace(std::move(k), Totals{}).first;
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
  for (;;) {
    bool stop;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, flush_, [this] { return stop_ || !queries_.empty(); });
      groups.swap(pending_);  // workers get the emptied map back, its buckets still allocated
      last_ = nullptr;
      queries.swap(queries_);
      stop = stop_;
    }
    while (!groups.empty()) {
      auto node = groups.extract(groups.begin());
      unwritten.emplace_back(std::move(node.key()), node.mapped());
    }
    if (!unwritten.empty()) {
      if (write(unwritten)) {
        unwritten.clear();
      } else if (unwritten.size() > kMaxPendingRows) {
        spdlog::error("ledger: {} row(s) dropped: the file cannot be written and memory holds at most {}",
                      unwritten.size() - kMaxPendingRows, kMaxPendingRows);
        unwritten.erase(unwritten.begin(), unwritten.end() - static_cast<std::ptrdiff_t>(kMaxPendingRows));
      }
    }
    for (auto& [q, done] : queries) {
      done(run_query(q));
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

namespace {
// Binds in schema::kInsertColumns order.
void bind_row(sqlite3_stmt* st, int first, const GroupKey& k, const Totals& t) {
  int i = first;
  sqlite3_bind_int64(st, ++i, k.second * 1000);
  for (const std::string* s : {&k.key, &k.model, &k.upstream, &k.upstream_model, &k.source}) {
    sqlite3_bind_text(st, ++i, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
  }
  sqlite3_bind_int(st, ++i, k.stream ? 1 : 0);
  sqlite3_bind_int(st, ++i, static_cast<int>(k.status));
  for (std::int64_t v : {t.requests, t.prompt, t.completion, t.cache_hit, t.cache_miss, t.reasoning}) {
    sqlite3_bind_int64(st, ++i, v);
  }
  sqlite3_bind_double(st, ++i, t.cost_usd);
  sqlite3_bind_double(st, ++i, t.savings_usd);
}

// Runs a prepared statement to completion and resets it; false (and a log line) when it failed.
bool step_done(sqlite3* db, sqlite3_stmt* st, std::size_t rows) {
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  if (!ok) {
    spdlog::error("ledger: writing {} row(s) failed: {}", rows, sqlite3_errmsg(db));
  }
  sqlite3_reset(st);
  return ok;
}
}  // namespace

struct Ledger::Statements {
  sqlite3_stmt* insert_one = nullptr;
  sqlite3_stmt* insert_many = nullptr;
  sqlite3_stmt* last_id = nullptr;
  sqlite3_stmt* span = nullptr;

  explicit Statements(sqlite3* db) {
    sqlite3_prepare_v3(db, schema::insert_sql(1).c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert_one,
                       nullptr);
    sqlite3_prepare_v3(db, schema::insert_sql(kRowsPerInsert).c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                       &insert_many, nullptr);
    sqlite3_prepare_v3(db, "SELECT coalesce(max(rowid), 0) FROM usage", -1, SQLITE_PREPARE_PERSISTENT,
                       &last_id, nullptr);
    sqlite3_prepare_v3(db,
                       "INSERT INTO usage_span VALUES (?1, ?2, ?3) ON CONFLICT(minute) DO UPDATE SET "
                       "first_id = min(first_id, ?2), last_id = max(last_id, ?3)",
                       -1, SQLITE_PREPARE_PERSISTENT, &span, nullptr);
  }
  ~Statements() {
    for (auto* st : {insert_one, insert_many, last_id, span}) {
      sqlite3_finalize(st);
    }
  }
  Statements(const Statements&) = delete;
  Statements& operator=(const Statements&) = delete;

  std::int64_t max_id() {
    std::int64_t id = sqlite3_step(last_id) == SQLITE_ROW ? sqlite3_column_int64(last_id, 0) : 0;
    sqlite3_reset(last_id);
    return id;
  }
};

bool Ledger::write(const std::vector<Row>& rows) {
  if (!stmts_) {
    stmts_ = std::make_unique<Statements>(db_);
  }
  auto& st = *stmts_;
  // IMMEDIATE takes the write lock first, so no other writer's rows can fall inside [first, last].
  std::string error;
  if (!exec(db_, "BEGIN IMMEDIATE", error)) {
    spdlog::error("ledger: {} row(s) not written yet, kept for the next flush: {}", rows.size(), error);
    return false;
  }
  std::int64_t first = st.max_id() + 1;
  std::size_t i = 0;
  for (; i + kRowsPerInsert <= rows.size(); i += kRowsPerInsert) {
    for (int k = 0; k < kRowsPerInsert; ++k) {
      const auto& [key, totals] = rows[i + static_cast<std::size_t>(k)];
      bind_row(st.insert_many, k * kColumnCount, key, totals);
    }
    step_done(db_, st.insert_many, kRowsPerInsert);
  }
  for (; i < rows.size(); ++i) {
    bind_row(st.insert_one, 0, rows[i].first, rows[i].second);
    step_done(db_, st.insert_one, 1);
  }
  if (std::int64_t last = st.max_id(); last >= first) {
    // Every minute this batch has rows for now also spans the batch's ids (usually one or two minutes).
    boost::container::small_vector<std::int64_t, 4> minutes;
    for (const auto& [key, totals] : rows) {
      auto m = minute_of(key.second * 1000);
      if (std::find(minutes.begin(), minutes.end(), m) == minutes.end()) {
        minutes.push_back(m);
      }
    }
    for (auto m : minutes) {
      sqlite3_bind_int64(st.span, 1, m);
      sqlite3_bind_int64(st.span, 2, first);
      sqlite3_bind_int64(st.span, 3, last);
      step_done(db_, st.span, 0);
    }
  }
  if (!exec(db_, "COMMIT", error)) {
    spdlog::error("ledger: commit of {} row(s) failed, kept for the next flush: {}", rows.size(), error);
    exec(db_, "ROLLBACK", error);
    return false;
  }
  return true;
}

std::pair<std::int64_t, std::int64_t> Ledger::id_range(std::int64_t from_ms, std::int64_t to_ms) {
  if (to_ms <= from_ms) {
    return {1, 0};
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT min(first_id), max(last_id) FROM usage_span WHERE minute BETWEEN ? AND ?",
                     -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, minute_of(from_ms));
  sqlite3_bind_int64(st, 2, minute_of(to_ms - 1));
  std::pair<std::int64_t, std::int64_t> range{1, 0};
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    range = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
  }
  sqlite3_finalize(st);
  return range;
}

std::string Ledger::run_query(const UsageQuery& q) {
  std::string cols;
  for (const auto& g : q.group_by) {
    cols += std::string(*schema::group_expr(g)) + ",";
  }
  std::string sql = "SELECT " + cols + std::string(kAggregates) +
                    " FROM usage WHERE rowid BETWEEN ? AND ? AND ts_ms >= ? AND ts_ms < ?";
  if (!q.only_key.empty()) {
    sql += " AND key = ?";
  }
  if (!cols.empty()) {
    cols.pop_back();
    sql += " GROUP BY " + cols + " ORDER BY " + cols;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return R"({"error":"ledger query failed"})";
  }
  auto [first_id, last_id] = id_range(q.from_ms, q.to_ms);
  sqlite3_bind_int64(st, 1, first_id);
  sqlite3_bind_int64(st, 2, last_id);
  sqlite3_bind_int64(st, 3, q.from_ms);
  sqlite3_bind_int64(st, 4, q.to_ms);
  if (!q.only_key.empty()) {
    sqlite3_bind_text(st, 5, q.only_key.data(), static_cast<int>(q.only_key.size()), SQLITE_STATIC);
  }
  auto aggregates = [&](std::string& out, int first) {
    for (std::size_t i = 0; i < kAggregateNames.size(); ++i) {
      out += ',';
      append_json_string(out, kAggregateNames[i]);
      out += ':';
      int c = first + static_cast<int>(i);
      if (i >= 10) {
        out += fmt::format("{:.9f}", sqlite3_column_double(st, c));
      } else {
        out += std::to_string(sqlite3_column_int64(st, c));
      }
    }
  };
  std::string groups;
  std::string totals;
  int ng = static_cast<int>(q.group_by.size());
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row = "{";
    for (int i = 0; i < ng; ++i) {
      if (i) {
        row += ',';
      }
      append_json_string(row, q.group_by[i]);
      row += ':';
      const unsigned char* t = sqlite3_column_text(st, i);
      append_json_string(row, t ? reinterpret_cast<const char*>(t) : "");
    }
    std::string agg;
    aggregates(agg, ng);
    row += ng == 0 ? agg.substr(1) : agg;
    row += '}';
    if (ng == 0) {
      totals = row;
    } else {
      groups += (groups.empty() ? "" : ",") + row;
    }
  }
  sqlite3_finalize(st);
  std::string out = fmt::format(R"({{"from_ms":{},"to_ms":{},"group_by":[)", q.from_ms, q.to_ms);
  for (std::size_t i = 0; i < q.group_by.size(); ++i) {
    out += i ? "," : "";
    append_json_string(out, q.group_by[i]);
  }
  out += "],";
  if (ng == 0) {
    out += R"("totals":)" + totals + "}";
  } else {
    out += R"("groups":[)" + groups + "]}";
  }
  return out;
}

}  // namespace sluice::ledger
