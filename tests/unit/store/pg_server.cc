#include "pg_server.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace sluice::testing {

namespace {
constexpr std::string_view kBin = "/usr/lib/postgresql/15/bin";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool run(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }
}  // namespace

PgServer* PgServer::get(std::string* why) {
  static std::string failure;
  static std::unique_ptr<PgServer> server = [] {
    std::unique_ptr<PgServer> s(new PgServer());
    if (!s->start(failure)) {
      s.reset();
    }
    return s;
  }();
  if (!server && why) {
    *why = failure;
  }
  return server.get();
}

bool PgServer::start(std::string& why) {
  const std::string initdb = fmt::format("{}/initdb", kBin);
  if (!std::filesystem::exists(initdb)) {
    why = fmt::format("{} not found (apt-get install postgresql-15)", initdb);
    return false;
  }
  char tmpl[] = "/tmp/sluice-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    why = "mkdtemp failed";
    return false;
  }
  dir_ = tmpl;
  std::string prefix;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      why = "running as root and there is no postgres user to run PostgreSQL as";
      return false;
    }
    as_postgres_ = true;
    prefix = "runuser -u postgres -- ";
  }
  port_ = free_port();
  const std::string data = dir_ + "/data";
  if (!run(fmt::format("{}{}/initdb -D {} -A trust -U postgres -E UTF8 --no-sync > {}/initdb.log 2>&1",
                       prefix, kBin, data, dir_))) {
    why = "initdb failed (see " + dir_ + "/initdb.log)";
    return false;
  }
  // Unix socket in our directory only; fsync off: a test database need not survive a power cut.
  if (!run(fmt::format("{}{}/pg_ctl -D {} -l {}/server.log -w -t 30 -o \"-p {} -k {} -c listen_addresses='' "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start > /dev/null",
                       prefix, kBin, data, dir_, port_, dir_))) {
    why = "pg_ctl start failed (see " + dir_ + "/server.log)";
    return false;
  }
  return true;
}

PgServer::~PgServer() {
  run(fmt::format("{}{}/pg_ctl -D {}/data -m immediate -w stop > /dev/null 2>&1",
                  as_postgres_ ? "runuser -u postgres -- " : "", kBin, dir_));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgServer::conninfo(const std::string& db) const {
  return fmt::format("host={} port={} user=postgres dbname={}", dir_, port_, db);
}

std::string PgServer::fresh_database() {
  const std::string name = fmt::format("t{}_{}", ::getpid(), ++databases_);
  PGconn* c = PQconnectdb(conninfo("postgres").c_str());
  PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
  PQclear(r);
  PQfinish(c);
  return conninfo(name);
}

}  // namespace sluice::testing
