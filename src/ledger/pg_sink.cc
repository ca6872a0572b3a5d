// The ledger in PostgreSQL: when the Batch API's store is PostgreSQL, every replica writes its per-second
// totals to the same `usage` table, so /admin/usage on any replica sees them all.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "common/pg_conn.h"
#include "ledger/ledger.h"
#include "ledger/schema.h"

namespace sluice::ledger {

namespace {

constexpr std::string_view kPgUsageTable = R"sql(
CREATE TABLE IF NOT EXISTS usage(
  id BIGSERIAL PRIMARY KEY, ts_ms BIGINT NOT NULL, request_id TEXT, key TEXT, model TEXT, upstream TEXT,
  upstream_model TEXT, source TEXT NOT NULL, stream INTEGER, status INTEGER, prompt_tokens BIGINT,
  completion_tokens BIGINT, cache_hit_tokens BIGINT, cache_miss_tokens BIGINT, reasoning_tokens BIGINT,
  cost_usd DOUBLE PRECISION, savings_usd DOUBLE PRECISION, requests BIGINT NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS usage_ts ON usage(ts_ms);
CREATE TABLE IF NOT EXISTS usage_applied(id TEXT PRIMARY KEY, ts_ms BIGINT NOT NULL);
)sql";

constexpr std::size_t kPgRowsPerInsert = 100;
constexpr std::size_t kPgIdsPerInsert = 500;

// group_by fields in PostgreSQL's SQL (schema::group_expr has SQLite's).
std::optional<std::string_view> pg_group_expr(std::string_view name) {
  if (name == "day") {
    return "to_char(to_timestamp(ts_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
  }
  if (name == "hour") {
    return "to_char(to_timestamp(ts_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":00Z\"')";
  }
  return schema::group_expr(name);
}

class PgSink final : public LedgerSink {
 public:
  explicit PgSink(std::string conninfo) : c_(std::move(conninfo)) {}

  bool open(std::string& error) {
    if (!c_.connect(error)) {
      return false;
    }
    PgTx tx(c_);
    return tx.ok() && c_.exec_ok("SELECT pg_advisory_xact_lock(7305241094)", error) &&
           c_.exec_ok(kPgUsageTable, error) && tx.commit();
  }

  bool write(const std::vector<Row>& rows) override {
    PgTx tx(c_);
    if (!tx.ok()) {
      spdlog::error("ledger (PostgreSQL): {} row(s) not written yet, kept for the next flush: {}",
                    rows.size(), tx.error());
      return false;
    }
    if (!insert_rows(rows)) {
      return false;
    }
    if (!tx.commit()) {
      spdlog::error("ledger (PostgreSQL): {} row(s) not written yet, kept for the next flush: {}",
                    rows.size(), tx.error());
      return false;
    }
    return true;
  }

  bool write_once(const std::vector<OnceRecord>& records, std::size_t& applied) override {
    PgTx tx(c_);
    if (!tx.ok()) {
      spdlog::error("ledger (PostgreSQL): {} once-only record(s) not written: {}", records.size(),
                    tx.error());
      return false;
    }
    // In id order: replicas applying overlapping ids lock them in the same order (no deadlock); a second
    // one waits for the first's commit, then finds the ids there.
    const std::vector<const OnceRecord*> distinct = distinct_by_id(records);
    std::vector<const Row*> fresh;
    for (std::size_t from = 0; from < distinct.size(); from += kPgIdsPerInsert) {
      const std::size_t to = std::min(distinct.size(), from + kPgIdsPerInsert);
      std::string sql = "INSERT INTO usage_applied(id, ts_ms) VALUES ";
      PgParams p;
      for (std::size_t i = from; i < to; ++i) {
        const std::size_t k = 2 * (i - from) + 1;
        sql += fmt::format("{}(${}, ${}::bigint)", i == from ? "" : ",", k, k + 1);
        p.text(distinct[i]->id).int64(distinct[i]->row.first.second * 1000);
      }
      PgResult r = c_.exec(sql + " ON CONFLICT (id) DO NOTHING RETURNING id", p);
      if (!r.ok()) {
        spdlog::error("ledger (PostgreSQL): applying {} once-only record(s) failed: {}", records.size(),
                      r.error());
        return false;
      }
      std::set<std::string> inserted;
      for (int i = 0; i < r.rows(); ++i) {
        inserted.insert(r.text(i, 0));
      }
      for (std::size_t i = from; i < to; ++i) {
        if (inserted.contains(distinct[i]->id)) {
          fresh.push_back(&distinct[i]->row);
        }
      }
    }
    if (!insert_rows(fold_rows(fresh))) {
      return false;
    }
    if (!tx.commit()) {
      spdlog::error("ledger (PostgreSQL): {} once-only record(s) not written: {}", records.size(),
                    tx.error());
      return false;
    }
    applied = fresh.size();
    return true;
  }

  std::string query(const UsageQuery& q) override {
    std::string cols;
    for (const auto& g : q.group_by) {
      cols += std::string(*pg_group_expr(g)) + ",";
    }
    std::string sql =
        "SELECT " + cols + std::string(kUsageAggregates) + " FROM usage WHERE ts_ms >= $1 AND ts_ms < $2";
    PgParams p;
    p.int64(q.from_ms).int64(q.to_ms);
    if (!q.only_key.empty()) {
      sql += " AND key = $3";
      p.text(q.only_key);
    }
    if (!cols.empty()) {
      cols.pop_back();
      sql += " GROUP BY " + cols + " ORDER BY " + cols;
    }
    PgResult r = c_.exec(sql, p);
    if (!r.ok()) {
      spdlog::error("ledger (PostgreSQL): query failed: {}", r.error());
      return R"({"error":"ledger query failed"})";
    }
    std::vector<std::vector<std::string>> rows;
    const int columns = static_cast<int>(q.group_by.size() + kUsageAggregateCount);
    for (int i = 0; i < r.rows(); ++i) {
      auto& row = rows.emplace_back();
      for (int c = 0; c < columns; ++c) {
        row.push_back(r.text(i, c));
      }
    }
    return usage_json(q, rows);
  }

 private:
  // Inside a transaction: appends the rows, kPgRowsPerInsert per statement; false (logged) when one failed.
  bool insert_rows(const std::vector<Row>& rows) {
    for (std::size_t from = 0; from < rows.size(); from += kPgRowsPerInsert) {
      const std::size_t to = std::min(rows.size(), from + kPgRowsPerInsert);
      std::string sql = fmt::format("INSERT INTO usage ({}) VALUES ", schema::kInsertColumns);
      PgParams p;
      int n = 0;
      for (std::size_t i = from; i < to; ++i) {
        sql += i == from ? "(" : ",(";
        for (int c = 0; c < schema::kColumnCount; ++c) {
          sql += fmt::format("{}${}", c ? "," : "", ++n);
        }
        sql += ')';
        bind_row(p, rows[i].first, rows[i].second);
      }
      if (PgResult r = c_.exec(sql, p); !r.ok()) {
        spdlog::error("ledger (PostgreSQL): writing {} row(s) failed: {}", rows.size(), r.error());
        return false;
      }
    }
    return true;
  }

  // In schema::kInsertColumns order.
  static void bind_row(PgParams& p, const GroupKey& k, const Totals& t) {
    p.int64(k.second * 1000).text(k.key).text(k.model).text(k.upstream).text(k.upstream_model).text(k.source);
    p.int64(k.stream ? 1 : 0).int64(k.status);
    for (std::int64_t v : {t.requests, t.prompt, t.completion, t.cache_hit, t.cache_miss, t.reasoning}) {
      p.int64(v);
    }
    p.number(t.cost_usd).number(t.savings_usd);
  }

  PgConn c_;
};
}  // namespace

std::unique_ptr<LedgerSink> open_postgres_sink(const std::string& conninfo, std::string& error) {
  auto sink = std::make_unique<PgSink>(conninfo);
  if (!sink->open(error)) {
    error = "ledger (PostgreSQL): " + error;
    return nullptr;
  }
  return sink;
}

}  // namespace sluice::ledger
