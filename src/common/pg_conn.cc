#include "common/pg_conn.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

namespace sluice {

PgResult::~PgResult() { PQclear(r_); }

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

bool PgResult::ok() const {
  if (r_ == nullptr) {
    return false;
  }
  const auto s = PQresultStatus(r_);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }

std::string PgResult::text(int row, int col) const {
  if (r_ == nullptr || PQgetisnull(r_, row, col)) {
    return {};
  }
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::int64_t PgResult::int64(int row, int col) const {
  if (r_ == nullptr || PQgetisnull(r_, row, col)) {
    return 0;
  }
  const char* p = PQgetvalue(r_, row, col);
  std::int64_t v = 0;
  std::from_chars(p, p + PQgetlength(r_, row, col), v);
  return v;
}

double PgResult::number(int row, int col) const {
  return r_ == nullptr || PQgetisnull(r_, row, col) ? 0.0 : std::strtod(PQgetvalue(r_, row, col), nullptr);
}

bool PgResult::is_null(int row, int col) const { return r_ == nullptr || PQgetisnull(r_, row, col); }

std::int64_t PgResult::affected() const {
  if (r_ == nullptr) {
    return 0;
  }
  const char* n = PQcmdTuples(r_);
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

std::string PgResult::error() const { return r_ ? PQresultErrorMessage(r_) : "no result"; }

std::string PgResult::sqlstate() const {
  const char* s = r_ ? PQresultErrorField(r_, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

std::string PgResult::command() const { return r_ ? PQcmdStatus(r_) : ""; }

PgParams& PgParams::text(std::string_view s) {
  owned_index_.push_back(owned_.size());
  owned_.emplace_back(s);
  values_.push_back(nullptr);  // pointers are taken in PgConn::exec (owned_ may still grow)
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::int64(std::int64_t v) { return text(std::to_string(v)); }

PgParams& PgParams::number(double v) { return text(fmt::format("{:.17g}", v)); }

PgParams& PgParams::binary(std::string_view bytes) {
  owned_index_.push_back(SIZE_MAX);
  values_.push_back(bytes.data());
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  return *this;
}

PgConn::~PgConn() { PQfinish(conn_); }

bool PgConn::connect(std::string& error) {
  PQfinish(conn_);
  conn_ = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    error = PQerrorMessage(conn_);
    while (!error.empty() && error.back() == '\n') {
      error.pop_back();
    }
    return false;
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them out of the log.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  return true;
}

PgResult PgConn::exec(std::string_view sql, const PgParams& params, bool binary_result) {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    if (in_tx_) {
      return PgResult{};  // the transaction is lost; its statements must not run in autocommit instead
    }
    std::string error;
    if (conn_ == nullptr ? !connect(error) : (PQreset(conn_), PQstatus(conn_) != CONNECTION_OK)) {
      spdlog::warn("batch store: PostgreSQL connection lost: {}", conn_ ? PQerrorMessage(conn_) : error);
      return PgResult{};
    }
  }
  const std::string query(sql);
  if (params.values_.empty() && !binary_result) {
    return PgResult{PQexec(conn_, query.c_str())};  // simple protocol: may hold several statements (schema)
  }
  std::vector<const char*> values = params.values_;
  std::vector<int> lengths = params.lengths_;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (params.owned_index_[i] != SIZE_MAX) {
      const std::string& s = params.owned_[params.owned_index_[i]];
      values[i] = s.c_str();
      lengths[i] = static_cast<int>(s.size());
    }
  }
  return PgResult{PQexecParams(conn_, query.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               lengths.data(), params.formats_.data(), binary_result ? 1 : 0)};
}

bool PgConn::exec_ok(std::string_view sql, std::string& error) {
  PgResult r = exec(sql);
  if (!r.ok()) {
    error = r.error();
    return false;
  }
  return true;
}

PgTx::PgTx(PgConn& c) : c_(c) {
  open_ = c_.exec_ok("BEGIN", error_);
  c_.in_tx_ = open_;
}

PgTx::~PgTx() {
  if (open_) {
    c_.exec_ok("ROLLBACK", error_);
  }
  c_.in_tx_ = false;
}

bool PgTx::commit() {
  if (!open_) {
    return false;
  }
  open_ = false;
  PgResult r = c_.exec("COMMIT");
  c_.in_tx_ = false;
  if (!r.ok() || r.command() != "COMMIT") {
    error_ = r.ok() ? "the transaction failed and was rolled back" : r.error();
    return false;
  }
  return true;
}

}  // namespace sluice
