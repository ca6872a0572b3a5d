// The `batch` section: the Batch API's store (SQLite or PostgreSQL), limits, leases and scheduling knobs.
#include <array>
#include <tuple>

#include "config/loader_internal.h"

namespace sluice::config::detail {

namespace {
constexpr std::array<std::string_view, 18> kBatchKeys{"enabled",
                                                      "store",
                                                      "data_dir",
                                                      "sqlite_path",
                                                      "postgres",
                                                      "max_file_bytes",
                                                      "max_lines",
                                                      "concurrency",
                                                      "lease",
                                                      "poll_interval",
                                                      "min_completion_window",
                                                      "max_completion_window",
                                                      "retry_base",
                                                      "retry_cap",
                                                      "assumed_output_tokens",
                                                      "initial_line_time",
                                                      "time_scale",
                                                      "time_start"};
constexpr std::array<std::string_view, 3> kPostgresKeys{"conninfo_env", "connections", "ledger"};

void load_postgres(Reader& r, const Field& field, BatchConfig& b) {
  const auto m = r.map(field, kPostgresKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("conninfo_env")) {
    b.postgres_conninfo_env = r.env_name(*f).value_or(b.postgres_conninfo_env);
  }
  if (const Field* f = m->find("connections")) {
    if (auto n = r.integer(*f, 1, 64)) {
      b.postgres_connections = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = m->find("ledger")) {
    b.postgres_ledger = r.boolean(*f).value_or(b.postgres_ledger);
  }
}

void load_durations(Reader& r, const FieldMap& m, BatchConfig& b) {
  const std::pair<std::string_view, Duration*> durations[] = {
      {"lease", &b.lease},
      {"poll_interval", &b.poll_interval},
      {"min_completion_window", &b.min_completion_window},
      {"max_completion_window", &b.max_completion_window},
      {"retry_base", &b.retry_base},
      {"retry_cap", &b.retry_cap},
      {"initial_line_time", &b.initial_line_time},
  };
  for (const auto& [key, out] : durations) {
    if (const Field* f = m.find(key)) {
      *out = r.duration(*f, false).value_or(*out);
    }
  }
}

void load_counts(Reader& r, const FieldMap& m, BatchConfig& b) {
  const std::tuple<std::string_view, std::uint32_t*, std::int64_t> counts[] = {
      {"max_lines", &b.max_lines, 10'000'000},
      {"concurrency", &b.concurrency, 10'000},
      {"assumed_output_tokens", &b.assumed_output_tokens, 10'000'000},
  };
  for (const auto& [key, out, max] : counts) {
    if (const Field* f = m.find(key)) {
      if (auto n = r.integer(*f, 1, max)) {
        *out = static_cast<std::uint32_t>(*n);
      }
    }
  }
}

void check_batch(Reader& r, const Field& field, const FieldMap& m, BatchConfig& b, LedgerConfig& ledger) {
  const std::string& path = field.path;
  if (b.min_completion_window > b.max_completion_window) {
    r.error(m.line, path + ".min_completion_window", "must not exceed max_completion_window");
  }
  if (b.retry_base > b.retry_cap) {
    r.error(m.line, path + ".retry_base", "must not exceed retry_cap");
  }
  if (b.poll_interval * 2 > b.lease) {
    r.error(m.line, path + ".lease",
            "must be at least twice poll_interval (leases are renewed on each poll)");
  }
  if (b.store == BatchConfig::Store::kPostgres && b.enabled) {
    if (auto dsn = r.env(b.postgres_conninfo_env)) {
      b.postgres_conninfo = *dsn;
      if (b.postgres_ledger) {
        ledger.postgres_conninfo = *dsn;  // /admin/usage then sees every replica
      }
    } else {
      const Field* pg = m.find("postgres");
      r.error(pg ? pg->key_line : field.key_line, path + ".postgres.conninfo_env",
              "environment variable " + b.postgres_conninfo_env + " is not set or empty (store: postgres)");
    }
  }
  if (b.sqlite_path.empty()) {
    b.sqlite_path = b.data_dir + "/batch.db";
  }
}
}  // namespace

void load_batch(Reader& r, const Field& field, Config& cfg) {
  const auto m = r.map(field, kBatchKeys);
  if (!m) {
    return;
  }
  BatchConfig& b = cfg.batch;
  b.enabled = true;  // a batch section turns the API on unless `enabled: false`
  if (const Field* f = m->find("enabled")) {
    b.enabled = r.boolean(*f).value_or(b.enabled);
  }
  if (const Field* f = m->find("store")) {
    if (auto s = r.string(*f)) {
      if (*s == "sqlite") {
        b.store = BatchConfig::Store::kSqlite;
      } else if (*s == "postgres") {
        b.store = BatchConfig::Store::kPostgres;
      } else {
        r.error(f->value_line(), f->path, "unknown store \"" + *s + "\" (expected one of: sqlite, postgres)");
      }
    }
  }
  for (auto [key, out] : {std::pair{"data_dir", &b.data_dir}, std::pair{"sqlite_path", &b.sqlite_path}}) {
    if (const Field* f = m->find(key)) {
      *out = r.string(*f).value_or(*out);
    }
  }
  if (const Field* f = m->find("postgres")) {
    load_postgres(r, *f, b);
  }
  if (const Field* f = m->find("max_file_bytes")) {
    b.max_file_bytes = r.size(*f).value_or(b.max_file_bytes);
  }
  if (const Field* f = m->find("time_scale")) {
    if (auto v = number(r, *f, 1e6)) {
      if (*v <= 0) {
        r.error(f->value_line(), f->path, "must be greater than 0");
      } else {
        b.time_scale = *v;
      }
    }
  }
  if (const Field* f = m->find("time_start")) {
    if (auto s = r.string(*f)) {
      if (auto minute = clock_minutes(*s); minute && *minute < 24 * 60) {
        b.time_start_minute = *minute;
      } else {
        r.error(f->value_line(), f->path, "expected \"HH:MM\" (UTC), got \"" + *s + "\"");
      }
    }
  }
  load_counts(r, *m, b);
  load_durations(r, *m, b);
  check_batch(r, field, *m, b, cfg.ledger);
}

}  // namespace sluice::config::detail
