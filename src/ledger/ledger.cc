#include "ledger/ledger.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <ctime>

#include "common/json.h"

namespace sluice::ledger {

namespace {
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS usage (
  ts_ms INTEGER NOT NULL, request_id TEXT, key TEXT, model TEXT, upstream TEXT, upstream_model TEXT,
  source TEXT NOT NULL, stream INTEGER, status INTEGER,
  prompt_tokens INTEGER, completion_tokens INTEGER, cache_hit_tokens INTEGER, cache_miss_tokens INTEGER,
  reasoning_tokens INTEGER, cost_usd REAL, savings_usd REAL);
CREATE INDEX IF NOT EXISTS usage_ts ON usage(ts_ms);
)sql";

// Each group_by name and the SQL expression it groups on.
std::optional<std::string_view> group_expr(std::string_view name) {
  if (name == "key") return "coalesce(key,'')";
  if (name == "model") return "coalesce(model,'')";
  if (name == "upstream") return "coalesce(upstream,'')";
  if (name == "source") return "source";
  if (name == "day") return "strftime('%Y-%m-%d', ts_ms / 1000, 'unixepoch')";
  if (name == "hour") return "strftime('%Y-%m-%dT%H:00Z', ts_ms / 1000, 'unixepoch')";
  return std::nullopt;
}

// Billed tokens count only answers that came from an upstream; cached and coalesced ones are savings.
constexpr std::string_view kAggregates =
    "count(*), sum(source='upstream'), sum(source='cache'), sum(source='coalesced'), sum(source='stale'),"
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

std::optional<std::int64_t> parse_time_ms(std::string_view s) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec == std::errc() && end == s.data() + s.size()) {
    return n * 1000;
  }
  std::tm tm{};
  std::string str(s);
  const char* rest = nullptr;
  if (str.size() == 10) {
    rest = strptime(str.c_str(), "%Y-%m-%d", &tm);
  } else {
    rest = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  if (!rest || *rest != '\0') {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}
}  // namespace

std::unique_ptr<Ledger> Ledger::open(const config::LedgerConfig& cfg, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(cfg.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "ledger.path " + cfg.path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  // WAL + synchronous=NORMAL: a batch commit is one sequential append, durable across process crashes.
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, &err) !=
          SQLITE_OK ||
      sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    error = "ledger.path " + cfg.path + ": " + (err ? err : "schema");
    sqlite3_free(err);
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
  sqlite3_close(db_);
}

void Ledger::record(UsageRecord r) {
  std::lock_guard lock(mu_);
  pending_.push_back(std::move(r));
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
  sched_param sp{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
  std::vector<UsageRecord> rows;
  decltype(queries_) queries;
  for (;;) {
    bool stop;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, flush_, [this] { return stop_ || !queries_.empty(); });
      rows.swap(pending_);
      queries.swap(queries_);
      stop = stop_;
    }
    if (!rows.empty()) {
      write(rows);
      rows.clear();
    }
    for (auto& [q, done] : queries) {
      done(run_query(q));
    }
    queries.clear();
    if (stop) {
      return;
    }
  }
}

void Ledger::write(std::vector<UsageRecord>& rows) {
  sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, nullptr);
  for (const auto& r : rows) {
    int i = 0;
    sqlite3_bind_int64(st, ++i, r.ts_ms);
    for (const std::string* s :
         {&r.request_id, &r.key, &r.model, &r.upstream, &r.upstream_model, &r.source}) {
      sqlite3_bind_text(st, ++i, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
    }
    sqlite3_bind_int(st, ++i, r.stream ? 1 : 0);
    sqlite3_bind_int(st, ++i, static_cast<int>(r.status));
    for (std::int64_t v : {r.prompt, r.completion, r.cache_hit, r.cache_miss, r.reasoning}) {
      sqlite3_bind_int64(st, ++i, v);
    }
    sqlite3_bind_double(st, ++i, r.cost_usd);
    sqlite3_bind_double(st, ++i, r.savings_usd);
    if (sqlite3_step(st) != SQLITE_DONE) {
      spdlog::error("ledger: insert failed: {}", sqlite3_errmsg(db_));
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    spdlog::error("ledger: commit failed: {}", sqlite3_errmsg(db_));
  }
}

std::string Ledger::run_query(const UsageQuery& q) {
  std::string cols;
  for (const auto& g : q.group_by) {
    cols += std::string(*group_expr(g)) + ",";
  }
  std::string sql =
      "SELECT " + cols + std::string(kAggregates) + " FROM usage WHERE ts_ms >= ? AND ts_ms < ?";
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
  sqlite3_bind_int64(st, 1, q.from_ms);
  sqlite3_bind_int64(st, 2, q.to_ms);
  if (!q.only_key.empty()) {
    sqlite3_bind_text(st, 3, q.only_key.data(), static_cast<int>(q.only_key.size()), SQLITE_STATIC);
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

std::optional<UsageQuery> parse_usage_query(std::string_view target, std::string& error) {
  UsageQuery q;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    error = "malformed query string";
    return std::nullopt;
  }
  for (auto p : url->params()) {
    std::string value = p.value;
    if (p.key == "from" || p.key == "to") {
      auto t = parse_time_ms(value);
      if (!t) {
        error = p.key + ": expected unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ";
        return std::nullopt;
      }
      (p.key == "from" ? q.from_ms : q.to_ms) = *t;
    } else if (p.key == "group_by") {
      std::string_view rest = value;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto name = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (!group_expr(name)) {
          error = "group_by: unknown field \"" + std::string(name) +
                  "\" (key, model, upstream, source, day, hour)";
          return std::nullopt;
        }
        q.group_by.emplace_back(name);
      }
    } else {
      error = "unknown parameter \"" + p.key + "\" (from, to, group_by)";
      return std::nullopt;
    }
  }
  return q;
}

}  // namespace sluice::ledger
