#pragma once
// Typed, validated gateway configuration. Built once by config::load_*; immutable afterwards.
// Runtime code never sees YAML.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/admission_config.h"

namespace sluice::config {

using Duration = std::chrono::milliseconds;

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
};

struct ServerLimits {
  std::size_t max_body_bytes = 4 * 1024 * 1024;      // request body; over it → 413
  std::size_t max_header_bytes = 16 * 1024;          // request header block; over it → 431
  std::size_t max_response_bytes = 64 * 1024 * 1024;  // buffered non-stream upstream body
  Duration header_timeout{10'000};     // whole request header must arrive within this (slow-loris guard)
  Duration body_timeout{30'000};       // request body after the header
  Duration keepalive_timeout{60'000};  // idle client connection between requests
  Duration write_timeout{30'000};      // one write to a client may block at most this long
  Duration drain_timeout{30'000};      // SIGTERM: wait this long for in-flight requests
};

struct UpstreamTimeouts {
  Duration connect{5'000};
  Duration first_token{120'000};  // until the first content byte/token; keep-alive bytes do not count
  Duration idle{60'000};          // between content chunks after the first token
  Duration total{600'000};        // whole attempt
};

// A provider endpoint (DeepSeek, another host of DeepSeek models, a vLLM fleet behind one URL).
struct Upstream {
  std::string name;
  std::string scheme;      // "http" | "https"
  std::string host;
  uint16_t port = 0;
  std::string base_path;   // e.g. "" or "/v1"; request paths are appended to it
  std::string api_key;     // resolved from api_key_env at load time; never logged
  std::string api_key_env;
  UpstreamTimeouts timeouts;
  std::size_t max_idle_connections = 64;  // per worker thread
  std::string tls_ca_file;                // extra CA bundle (self-hosted upstreams); empty = system CAs
  bool tls_verify = true;
  // Passive outlier detection: consecutive failures eject the host for base × times-ejected (capped).
  std::uint32_t outlier_consecutive_failures = 5;
  Duration outlier_base_ejection{30'000};
  Duration outlier_max_ejection{300'000};
};

// One place a model can be served: an upstream plus the id that upstream knows the model by.
struct Deployment {
  std::string upstream;        // key into Config::upstreams
  std::string upstream_model;  // id sent upstream; the public name unless rewritten
  std::uint32_t weight = 1;    // for weighted_random (and weighted least_request)
};

struct RetryPolicy {
  std::uint32_t max_attempts = 3;  // per model group, first try included
  Duration backoff_base{100};      // full jitter: U(0, min(cap, base * 2^n))
  Duration backoff_cap{2'000};
  double budget_ratio = 0.2;       // concurrent retries <= max(budget_min, ratio * active requests)
  std::uint32_t budget_min = 3;
  // Token throttle (gRPC A6 shape): 10 tokens, -1 per failed attempt, +throttle_ratio per success, retries only
  // above 5. 0.5 keeps retrying while fewer than about a third of attempts fail, and stops in an outage.
  double throttle_ratio = 0.5;
};

enum class Balancer : std::uint8_t { kRoundRobin, kWeightedRandom, kLeastRequest, kPeakEwma };

struct Model {
  std::string name;      // public name clients send
  std::string owned_by;  // shown in GET /v1/models
  std::vector<Deployment> deployments;  // at least one
  Balancer balancer = Balancer::kPeakEwma;
  RetryPolicy retry;
  std::vector<std::string> fallbacks;  // public model names tried in order once this group is exhausted
  Duration request_timeout{600'000};   // all attempts of one request; X-Request-Timeout may shorten it
};

struct VirtualKey {
  std::string name;
  std::string secret_sha256;  // lowercase hex SHA-256 of the bearer secret
  KeyPolicy policy;           // allowed models, priority, limits (admission)
};

struct Config {
  std::string source;  // file path or "<embedded>"
  Endpoint listen;
  unsigned workers = 0;  // 0 = hardware concurrency
  ServerLimits limits;
  std::string access_log = "stdout";  // stdout | stderr | off | file path
  std::string log_level = "info";
  std::map<std::string, Upstream> upstreams;
  std::map<std::string, Model> models;  // by public name
  std::vector<VirtualKey> keys;         // empty = no client auth
  AdmissionConfig admission;

  const Model* find_model(std::string_view name) const;
};

}  // namespace sluice::config
