#pragma once
// A small libpq wrapper (the Batch API's store and the ledger's PostgreSQL sink): one connection
// (re-established when it broke), parameterised statements with text or binary parameters, RAII results and
// transactions. Blocking: used only on store threads.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace sluice {

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  bool ok() const;  // command or tuples OK
  int rows() const;
  std::string text(int row, int col) const;
  std::int64_t int64(int row, int col) const;
  double number(int row, int col) const;
  bool is_null(int row, int col) const;
  std::int64_t affected() const;  // rows an INSERT/UPDATE/DELETE touched
  std::string error() const;
  std::string sqlstate() const;  // e.g. 23505 unique_violation
  std::string command() const;   // the command tag: "COMMIT", or "ROLLBACK" for a failed transaction

 private:
  pg_result* r_ = nullptr;
};

// One result row as a row reader wants it (store/columns.h).
struct PgRow {
  const PgResult& r;
  int row;
  std::string text(int col) const { return r.text(row, col); }
  std::int64_t int64(int col) const { return r.int64(row, col); }
};

// Parameters of one statement, $1.. in order.
class PgParams {
 public:
  PgParams& text(std::string_view s);
  PgParams& int64(std::int64_t v);
  PgParams& number(double v);
  PgParams& binary(std::string_view bytes);  // not copied: must outlive the call
  // Binds like columns::bind_batch expects (1-based positions are the call order).
  void bind_text(int, std::string_view s) { text(s); }
  void bind_int64(int, std::int64_t v) { int64(v); }

 private:
  friend class PgConn;
  std::vector<std::string> owned_;
  std::vector<const char*> values_;
  std::vector<int> lengths_, formats_;
  std::vector<std::size_t> owned_index_;  // values_[i] points into owned_[owned_index_[i]] unless binary
};

class PgConn {
 public:
  explicit PgConn(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  bool connect(std::string& error);
  // Runs one statement; reconnects first when the connection broke. `binary_result`: columns come back in
  // binary (used for bytea content).
  PgResult exec(std::string_view sql, const PgParams& params = {}, bool binary_result = false);
  bool exec_ok(std::string_view sql, std::string& error);

 private:
  friend class PgTx;
  std::string conninfo_;
  pg_conn* conn_ = nullptr;
  bool in_tx_ = false;  // a broken connection is not re-established inside a transaction
};

// BEGIN ... COMMIT on a connection; rolled back unless commit() succeeded.
class PgTx {
 public:
  explicit PgTx(PgConn& c);
  ~PgTx();
  PgTx(const PgTx&) = delete;
  PgTx& operator=(const PgTx&) = delete;
  bool ok() const { return open_; }
  bool commit();
  const std::string& error() const { return error_; }

 private:
  PgConn& c_;
  bool open_ = false;
  std::string error_;
};

}  // namespace sluice
