// The shared store: PostgreSQL through libpq, for several gateway replicas on one database. Each store
// thread owns one connection. Lines are claimed with SELECT ... FOR UPDATE SKIP LOCKED under leases.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "common/pg_conn.h"
#include "store/columns.h"
#include "store/store.h"

namespace sluice::store {

namespace {
// Serialises schema creation of replicas that start at the same moment (CREATE ... IF NOT EXISTS races).
constexpr std::string_view kSchemaLock = "SELECT pg_advisory_xact_lock(7305241093)";

constexpr std::string_view kPgCounts =
    ", (SELECT count(*) FROM batch_results r WHERE r.batch_id = b.id AND r.success = 1)"
    ", (SELECT count(*) FROM batch_results r WHERE r.batch_id = b.id AND r.success = 0)";

std::string dollars(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    out += (i > 1 ? ", $" : "$") + std::to_string(i);
  }
  return out;
}

class PgStore final : public Store {
 public:
  explicit PgStore(std::string conninfo) : c_(std::move(conninfo)) {}

  bool open(std::string& error) {
    if (!c_.connect(error)) {
      return false;
    }
    PgTx tx(c_);
    std::string sql = columns::schema_sql(true);
    for (std::size_t i = 0; i < std::size(columns::kLedgerColumns); ++i) {
      sql +=
          "ALTER TABLE batch_results ADD COLUMN IF NOT EXISTS " + columns::ledger_column_sql(i, true) + ";";
    }
    sql += columns::kLedgerIndex;
    return tx.ok() && c_.exec_ok(kSchemaLock, error) && c_.exec_ok(sql, error) && tx.commit();
  }

  bool put_file(const FileRecord& f, std::string_view content, std::string& error) override {
    PgParams p;
    p.text(f.id)
        .text(f.owner)
        .text(f.purpose)
        .text(f.filename)
        .int64(f.bytes)
        .int64(f.created_at)
        .binary(content);
    PgResult r = c_.exec(
        "INSERT INTO batch_files(id, owner, purpose, filename, bytes, created_at, content) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        p);
    if (!r.ok()) {
      error = r.error();
      return false;
    }
    return true;
  }

  std::optional<FileRecord> get_file(std::string_view owner, std::string_view id) override {
    PgResult r =
        c_.exec(fmt::format("SELECT {} FROM batch_files WHERE owner = $1 AND id = $2", columns::kFile),
                PgParams().text(owner).text(id));
    if (r.rows() == 0) {
      return std::nullopt;
    }
    PgRow row{r, 0};
    return columns::read_file(row);
  }

  std::optional<std::string> file_content(std::string_view owner, std::string_view id) override {
    PgResult r = c_.exec("SELECT content FROM batch_files WHERE owner = $1 AND id = $2",
                         PgParams().text(owner).text(id), true);
    if (r.rows() == 0) {
      return std::nullopt;
    }
    return r.text(0, 0);  // binary format: the raw bytes
  }

  std::vector<FileRecord> list_files(const ListQuery& q) override {
    PgResult r = c_.exec(
        fmt::format("SELECT {} FROM batch_files WHERE owner = $1 AND ($2::text = '' OR purpose = $2) AND "
                    "($3::text = '' OR seq {} (SELECT seq FROM batch_files WHERE owner = $1 AND id = $3)) "
                    "ORDER BY seq {} LIMIT $4",
                    columns::kFile, q.ascending ? ">" : "<", q.ascending ? "ASC" : "DESC"),
        PgParams().text(q.owner).text(q.purpose).text(q.after).int64(static_cast<std::int64_t>(q.limit + 1)));
    std::vector<FileRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
      PgRow row{r, i};
      out.push_back(columns::read_file(row));
    }
    return out;
  }

  bool delete_file(std::string_view owner, std::string_view id) override {
    return c_.exec("DELETE FROM batch_files WHERE owner = $1 AND id = $2", PgParams().text(owner).text(id))
               .affected() > 0;
  }

  bool create_batch(const BatchRecord& b, const std::vector<InputLine>& lines, std::string& error) override {
    PgTx tx(c_);
    PgParams p;
    columns::bind_batch(p, b);
    PgResult r = c_.exec(fmt::format("INSERT INTO batches({}) VALUES ({})", columns::kBatch, dollars(25)), p);
    if (!tx.ok() || !r.ok()) {
      error = tx.ok() ? r.error() : tx.error();
      return false;
    }
    // Lines in slices of one multi-row INSERT each: one round trip per 500 lines.
    constexpr std::size_t kSlice = 500;
    for (std::size_t from = 0; from < lines.size(); from += kSlice) {
      const std::size_t to = std::min(lines.size(), from + kSlice);
      std::string sql = "INSERT INTO batch_lines(batch_id, idx, custom_id, body) VALUES ";
      PgParams lp;
      lp.text(b.id);
      for (std::size_t i = from; i < to; ++i) {
        const int k = static_cast<int>(2 + 3 * (i - from));
        sql += fmt::format("{}($1, ${}, ${}, ${})", i == from ? "" : ",", k, k + 1, k + 2);
        lp.int64(static_cast<std::int64_t>(i)).text(lines[i].custom_id).text(lines[i].body);
      }
      PgResult lr = c_.exec(sql, lp);
      if (!lr.ok()) {
        error = lr.error();
        return false;
      }
    }
    if (!tx.commit()) {
      error = tx.error();
      return false;
    }
    return true;
  }

  std::optional<BatchRecord> get_batch(std::string_view owner, std::string_view id) override {
    PgResult r = c_.exec(fmt::format("SELECT {}{} FROM batches b WHERE b.owner = $1 AND b.id = $2",
                                     columns::kBatchQualified, kPgCounts),
                         PgParams().text(owner).text(id));
    if (r.rows() == 0) {
      return std::nullopt;
    }
    PgRow row{r, 0};
    return columns::read_batch(row);
  }

  std::vector<BatchRecord> list_batches(const ListQuery& q) override {
    PgResult r =
        c_.exec(fmt::format("SELECT {}{} FROM batches b WHERE b.owner = $1 AND ($2::text = '' OR b.seq < "
                            "(SELECT seq FROM batches WHERE owner = $1 AND id = $2)) "
                            "ORDER BY b.seq DESC LIMIT $3",
                            columns::kBatchQualified, kPgCounts),
                PgParams().text(q.owner).text(q.after).int64(static_cast<std::int64_t>(q.limit + 1)));
    return read_batches(r);
  }

  std::optional<BatchRecord> request_cancel(std::string_view owner, std::string_view id,
                                            std::int64_t now_s) override {
    c_.exec(
        "UPDATE batches SET status = 'cancelling', cancelling_at = $3 WHERE owner = $1 AND id = $2 AND "
        "status IN ('validating', 'in_progress')",
        PgParams().text(owner).text(id).int64(now_s));
    return get_batch(owner, id);
  }

  std::vector<BatchRecord> active_batches() override {
    PgResult r =
        c_.exec(fmt::format("SELECT {}{} FROM batches b WHERE b.status IN ('in_progress', 'cancelling', "
                            "'finalizing') ORDER BY b.seq",
                            columns::kBatchQualified, kPgCounts));
    return read_batches(r);
  }

  std::vector<LineClaim> claim_lines(std::string_view batch_id, std::string_view replica, std::int64_t now_ms,
                                     std::int64_t lease_ms, std::size_t limit) override {
    PgResult r = c_.exec(
        "WITH c AS (SELECT idx FROM batch_lines WHERE batch_id = $1 AND done = 0 AND lease_until <= $3 AND "
        "not_before <= $3 ORDER BY idx LIMIT $5 FOR UPDATE SKIP LOCKED) "
        "UPDATE batch_lines l SET lease_owner = $2, lease_until = $4 FROM c WHERE l.batch_id = $1 AND "
        "l.idx = c.idx RETURNING l.idx, l.custom_id, l.body, l.attempts",
        PgParams()
            .text(batch_id)
            .text(replica)
            .int64(now_ms)
            .int64(now_ms + lease_ms)
            .int64(static_cast<std::int64_t>(limit)));
    std::vector<LineClaim> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(LineClaim{std::string(batch_id), r.int64(i, 0), r.text(i, 1), r.text(i, 2),
                              static_cast<std::int32_t>(r.int64(i, 3))});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.idx < b.idx; });
    return out;
  }

  std::size_t renew_leases(std::string_view replica,
                           const std::vector<std::pair<std::string, std::int64_t>>& lines,
                           std::int64_t until_ms) override {
    std::size_t held = 0;
    for (const auto& [batch_id, idx] : lines) {
      held += c_.exec(
                    "UPDATE batch_lines SET lease_until = $4 WHERE batch_id = $1 AND idx = $2 AND "
                    "lease_owner = $3 AND done = 0",
                    PgParams().text(batch_id).int64(idx).text(replica).int64(until_ms))
                          .affected() > 0
                  ? 1
                  : 0;
    }
    return held;
  }

  bool complete_line(const LineOutcome& o) override {
    PgTx tx(c_);
    const bool wrote = insert_result(o);
    c_.exec("UPDATE batch_lines SET done = 1, lease_owner = NULL WHERE batch_id = $1 AND idx = $2",
            PgParams().text(o.batch_id).int64(o.idx));
    return tx.commit() && wrote;
  }

  bool retry_line(std::string_view batch_id, std::int64_t idx, std::string_view replica,
                  std::int64_t not_before_ms) override {
    return c_.exec(
                 "UPDATE batch_lines SET attempts = attempts + 1, not_before = $4, lease_owner = NULL, "
                 "lease_until = 0 WHERE batch_id = $1 AND idx = $2 AND lease_owner = $3 AND done = 0",
                 PgParams().text(batch_id).int64(idx).text(replica).int64(not_before_ms))
               .affected() > 0;
  }

  LineCounts line_counts(std::string_view batch_id, std::int64_t now_ms) override {
    PgResult r = c_.exec(
        "SELECT count(*), count(*) FILTER (WHERE done = 1), count(*) FILTER (WHERE done = 0 AND lease_until "
        "> $2), "
        "count(*) FILTER (WHERE done = 0 AND lease_until <= $2 AND not_before > $2), "
        "(SELECT count(*) FROM batch_results WHERE batch_id = $1 AND success = 1) "
        "FROM batch_lines WHERE batch_id = $1",
        PgParams().text(batch_id).int64(now_ms));
    if (r.rows() == 0) {
      return {};
    }
    return LineCounts{r.int64(0, 0), r.int64(0, 1), r.int64(0, 2), r.int64(0, 3), r.int64(0, 4)};
  }

  BatchUsage batch_usage(std::string_view batch_id) override {
    PgResult r = c_.exec(std::string(columns::kUsageSums) + "$1", PgParams().text(batch_id));
    if (r.rows() == 0) {
      return {};
    }
    return BatchUsage{r.int64(0, 0), r.int64(0, 1),  r.int64(0, 2), r.int64(0, 3),
                      r.int64(0, 4), r.number(0, 5), r.number(0, 6)};
  }

  std::optional<std::string> begin_finalizing(std::string_view batch_id, std::string_view replica,
                                              std::string_view status, std::int64_t now_ms,
                                              std::int64_t lease_ms, std::int64_t now_s) override {
    PgResult r = c_.exec(
        "UPDATE batches SET fin_status = CASE WHEN fin_status = '' THEN $3::text ELSE fin_status END, "
        "status = CASE WHEN (CASE WHEN fin_status = '' THEN $3::text ELSE fin_status END) = 'completed' "
        "THEN 'finalizing' ELSE status END, "
        "finalizing_at = CASE WHEN finalizing_at = 0 AND (CASE WHEN fin_status = '' THEN $3::text ELSE "
        "fin_status END) = 'completed' THEN $6::bigint ELSE finalizing_at END, "
        "fin_owner = $2, fin_until = $4::bigint + $5::bigint WHERE id = $1 AND status IN ('in_progress', "
        "'cancelling', 'finalizing') AND (fin_owner IS NULL OR fin_owner = $2 OR fin_until <= $4::bigint) "
        "RETURNING fin_status",
        PgParams().text(batch_id).text(replica).text(status).int64(now_ms).int64(lease_ms).int64(now_s));
    if (r.rows() == 0) {
      return std::nullopt;
    }
    return r.text(0, 0);
  }

  bool finalize(const Finalization& f) override;

  void release_all_leases() override {}  // replicas share the database: leases expire on their own

  LedgerBacklog unledgered_lines(std::int64_t now_ms, std::int64_t hold_ms, std::size_t limit) override {
    LedgerBacklog out;
    PgResult count = c_.exec("SELECT count(*) FROM batch_results WHERE ledgered = 0");
    if (count.rows() == 0 || (out.pending = count.int64(0, 0)) == 0) {
      return out;
    }
    // SKIP LOCKED: replicas feeding at the same moment take disjoint lines.
    PgResult r = c_.exec(
        fmt::format("WITH c(b, cid) AS (SELECT batch_id, custom_id FROM batch_results WHERE ledgered = 0 AND "
                    "ledger_until <= $1 LIMIT $3 FOR UPDATE SKIP LOCKED) "
                    "UPDATE batch_results r SET ledger_until = $2 FROM c WHERE r.batch_id = c.b AND "
                    "r.custom_id = c.cid RETURNING {}",
                    columns::kUnledgered),
        PgParams().int64(now_ms).int64(now_ms + hold_ms).int64(static_cast<std::int64_t>(limit)));
    for (int i = 0; i < r.rows(); ++i) {
      PgRow row{r, i};
      out.lines.push_back(columns::read_unledgered(row));
      out.lines.back().entry.cost_usd = r.number(i, 7);
    }
    return out;
  }

  bool mark_ledgered(const std::vector<std::pair<std::string, std::int64_t>>& lines) override {
    constexpr std::size_t kSlice = 500;  // one statement per 500 lines
    for (std::size_t from = 0; from < lines.size(); from += kSlice) {
      const std::size_t to = std::min(lines.size(), from + kSlice);
      std::string values;
      PgParams p;
      for (std::size_t i = from; i < to; ++i) {
        const int k = static_cast<int>(2 * (i - from) + 1);
        values += fmt::format("{}(${}, ${}::bigint)", i == from ? "" : ",", k, k + 1);
        p.text(lines[i].first).int64(lines[i].second);
      }
      PgResult r = c_.exec("UPDATE batch_results r SET ledgered = 1 FROM (VALUES " + values +
                               ") v(b, i) WHERE r.batch_id = v.b AND r.idx = v.i",
                           p);
      if (!r.ok()) {
        return false;
      }
    }
    return true;
  }

 private:
  std::vector<BatchRecord> read_batches(const PgResult& r) {
    std::vector<BatchRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
      PgRow row{r, i};
      out.push_back(columns::read_batch(row));
    }
    return out;
  }
  bool insert_result(const LineOutcome& o);

  PgConn c_;
};

bool PgStore::insert_result(const LineOutcome& o) {
  PgParams p;
  p.text(o.batch_id)
      .text(o.custom_id)
      .int64(o.idx)
      .int64(o.success ? 1 : 0)
      .text(o.line_json)
      .int64(o.status_code);
  for (std::int64_t v :
       {o.prompt_tokens, o.completion_tokens, o.cache_hit_tokens, o.cache_miss_tokens, o.reasoning_tokens}) {
    p.int64(v);
  }
  p.number(o.cost_usd).number(o.full_cost_usd).int64(o.finished_ms);
  const LedgerEntry none;
  const LedgerEntry& l = o.ledger ? *o.ledger : none;
  p.text(l.key).text(l.model).text(l.upstream).text(l.upstream_model).int64(l.status).number(l.cost_usd);
  p.int64(l.unix_ms).int64(o.ledger ? 0 : 1).text(l.source);
  return c_.exec(fmt::format("INSERT INTO batch_results({}) VALUES ({}) ON CONFLICT (batch_id, custom_id) DO "
                             "NOTHING",
                             columns::kResult, dollars(columns::kResultCount)),
                 p)
             .affected() > 0;
}

bool PgStore::finalize(const Finalization& f) {
  PgTx tx(c_);
  // The row lock makes concurrent finalizers of one batch take turns; the second sees a final status.
  PgResult head =
      c_.exec("SELECT owner, status FROM batches WHERE id = $1 FOR UPDATE", PgParams().text(f.batch_id));
  if (!tx.ok() || head.rows() == 0) {
    return false;
  }
  const std::string owner = head.text(0, 0);
  const std::string status = head.text(0, 1);
  if (status != "in_progress" && status != "cancelling" && status != "finalizing") {
    return false;
  }
  PgResult open_lines = c_.exec("SELECT idx, custom_id FROM batch_lines WHERE batch_id = $1 AND done = 0",
                                PgParams().text(f.batch_id));
  for (int i = 0; i < open_lines.rows(); ++i) {
    LineOutcome o{f.batch_id, open_lines.int64(i, 0), open_lines.text(i, 1)};
    o.line_json = f.unfinished_line ? f.unfinished_line(o.idx, o.custom_id) : "";
    o.finished_ms = f.now_ms;
    insert_result(o);
  }
  c_.exec("UPDATE batch_lines SET done = 1, lease_owner = NULL WHERE batch_id = $1 AND done = 0",
          PgParams().text(f.batch_id));
  columns::FileContents files;
  PgResult results = c_.exec("SELECT success, line FROM batch_results WHERE batch_id = $1 ORDER BY idx",
                             PgParams().text(f.batch_id));
  for (int i = 0; i < results.rows(); ++i) {
    files.add(results.int64(i, 0) != 0, results.text(i, 1));
  }
  std::string error;
  for (const auto& out : files.files(f.batch_id, owner, f.at_s)) {
    c_.exec("DELETE FROM batch_files WHERE id = $1", PgParams().text(out.record.id));
    if (!put_file(out.record, *out.content, error)) {
      return false;
    }
  }
  PgResult fin = c_.exec(fmt::format("UPDATE batches SET status = $2, {}_at = $3, output_file_id = $4, "
                                     "error_file_id = $5, fin_owner = NULL WHERE id = $1",
                                     f.status),
                         PgParams()
                             .text(f.batch_id)
                             .text(f.status)
                             .int64(f.at_s)
                             .text(files.output_id(f.batch_id))
                             .text(files.error_id(f.batch_id)));
  return fin.ok() && tx.commit();
}
}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& conninfo, std::string& error) {
  auto s = std::make_unique<PgStore>(conninfo);
  if (!s->open(error)) {
    error = "batch store (PostgreSQL): " + error;
    return nullptr;
  }
  return s;
}

}  // namespace sluice::store
