#pragma once
// A throwaway PostgreSQL server for tests, from Debian's binaries: initdb into a temporary directory, pg_ctl
// start on a free port with a Unix socket in that directory (no TCP), stopped and removed at process exit.
// PostgreSQL refuses to run as root, so under root it runs as the `postgres` system user (runuser) on a
// directory that user owns. One server per test process; each test takes a fresh database.
#include <memory>
#include <string>

namespace sluice::testing {

class PgServer {
 public:
  // The process's server, started on first use; null when it cannot run here (`why` says why).
  static PgServer* get(std::string* why = nullptr);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // libpq conninfo for database `db`.
  std::string conninfo(const std::string& db) const;
  // Creates an empty database and returns its conninfo.
  std::string fresh_database();
  int port() const { return port_; }

 private:
  PgServer() = default;
  bool start(std::string& why);

  std::string dir_;
  int port_ = 0;
  bool as_postgres_ = false;  // running under root: commands go through runuser -u postgres
  int databases_ = 0;
};

}  // namespace sluice::testing
