#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace sluice::state::testing {

namespace {
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool answers_ping(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char ping[] = "PING\r\n";
    timeval tv{0, 200'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[16] = {};
    ok = ::write(fd, ping, sizeof ping - 1) == sizeof ping - 1 && ::read(fd, buf, sizeof buf) > 0 &&
         std::string(buf).starts_with("+PONG");
  }
  ::close(fd);
  return ok;
}
}  // namespace

bool redis_available() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

RedisServer::RedisServer() {
  char tmpl[] = "/tmp/sluice-redis-XXXXXX";
  if (char* d = ::mkdtemp(tmpl)) {
    dir_ = d;
  }
  port_ = free_port();
  start();
}

RedisServer::~RedisServer() {
  kill9();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool RedisServer::start(const std::string& extra_args) {
  if (pid_ > 0) {
    return true;
  }
  std::vector<std::string> args = {"redis-server", "--port",   std::to_string(port_), "--bind", "127.0.0.1",
                                   "--dir",        dir_,       "--save",              "",       "--appendonly",
                                   "no",           "--daemonize", "no",               "--loglevel", "warning"};
  std::istringstream extra(extra_args);
  for (std::string w; extra >> w;) {
    args.push_back(w);
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawnp(&pid_, "redis-server", &fa, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  for (int i = 0; i < 500 && pid_ > 0; ++i) {
    if (answers_ping(port_)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void RedisServer::kill9() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::pause() {
  if (pid_ > 0) {
    ::kill(pid_, SIGSTOP);
  }
}

void RedisServer::resume() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
  }
}

std::string RedisServer::cli(const std::string& args) const {
  const std::string cmd = "redis-cli -p " + std::to_string(port_) + " " + args + " 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) {
      out.append(buf.data(), n);
    }
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

}  // namespace sluice::state::testing
