#pragma once
// Where shared state lives (docs/scale-out.md): `local` keeps everything in the process (one replica);
// `redis` shares rate limits, spend budgets, provider-key pacing and the response cache between replicas.
// Parsed by loader_state.cc; runtime code lives in src/state/.
#include <chrono>
#include <cstdint>
#include <string>

namespace sluice::config {

enum class StateBackend : std::uint8_t { kLocal, kRedis };
// While Redis is unreachable: kOpen = each replica enforces its share of every limit (limit ÷ replicas seen
// recently); kClosed = requests of keys with shared limits or budgets are refused (503).
enum class FailMode : std::uint8_t { kOpen, kClosed };

struct RedisTls {
  bool enabled = false;
  std::string ca_file;      // extra CA bundle; system CAs always apply
  bool verify = true;
  std::string server_name;  // SNI and certificate name; default: the address's host
  bool operator==(const RedisTls&) const = default;
};

struct RedisSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string key_prefix = "sluice";
  std::chrono::milliseconds timeout{20};           // one command (a pipelined batch) end to end
  std::chrono::milliseconds connect_timeout{250};  // TCP + TLS + AUTH
  std::uint32_t pool_size = 1;                     // connections per worker thread
  std::string username;                            // ACL user (AUTH username password); empty = default
  std::string password_env;                        // variable holding the password; empty = no AUTH
  std::string password;                            // resolved at load time; never logged
  std::uint32_t database = 0;                      // SELECT
  RedisTls tls;
  bool operator==(const RedisSettings&) const = default;
};

struct StateConfig {
  StateBackend backend = StateBackend::kLocal;
  FailMode fail_mode = FailMode::kOpen;
  RedisSettings redis;
  // Allowance leases: a replica may take up to `lease_fraction` of a limit ÷ replicas ahead of use and
  // returns what it did not use after `lease_ttl`. Smaller = more accurate per window, more round trips.
  double lease_fraction = 0.02;
  std::chrono::milliseconds lease_ttl{1000};
  // Background sync: settled usage, returned leases, provider-key views (sync_interval); presence (heartbeat).
  std::chrono::milliseconds sync_interval{100};
  std::chrono::milliseconds heartbeat{1000};
  bool operator==(const StateConfig&) const = default;
};

}  // namespace sluice::config
