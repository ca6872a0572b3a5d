#pragma once
// A real redis-server for tests: started on a free loopback port in a temporary directory (no persistence),
// stopped (SIGKILL) and removed when the fixture dies. Also kill -9, SIGSTOP/SIGCONT and restarts on the
// same port, for the degradation tests.
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace sluice::state::testing {

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  // (Re)starts on the same port; waits until it answers PING (false after 5 s).
  bool start(const std::string& extra_args = "");
  void kill9();
  void pause();   // SIGSTOP: connections stay open, nothing is answered
  void resume();  // SIGCONT
  // Runs one command through redis-cli; its output, trimmed.
  std::string cli(const std::string& args) const;

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// True when redis-server is installed (tests skip otherwise).
bool redis_available();

}  // namespace sluice::state::testing
