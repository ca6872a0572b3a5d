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
#include "config/state_config.h"

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
  // A client that sends a whole request and then half-closes (FIN): cancel its request like a client that left
  // (false, nginx's 499), or answer it and close (true). A FIN cannot tell "done sending" from "gone".
  bool finish_on_half_close = false;
  Duration shutdown_delay{0};          // SIGTERM: keep serving (readyz 503) this long before the drain
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
  // Every key when api_key_env lists several (the first is api_key); parallel vectors. Never logged.
  std::vector<std::string> api_keys;
  std::vector<std::string> api_key_envs;
  bool key_pacing = true;  // spread over keys by their x-ratelimit-* headers, skip exhausted/broke keys
  UpstreamTimeouts timeouts;
  std::size_t max_idle_connections = 64;  // per worker thread
  std::string tls_ca_file;                // extra CA bundle (self-hosted upstreams); empty = system CAs
  bool tls_verify = true;
  // Passive outlier detection: consecutive failures eject the host for base × times-ejected (capped).
  std::uint32_t outlier_consecutive_failures = 5;
  Duration outlier_base_ejection{30'000};
  Duration outlier_max_ejection{300'000};
  // Load-aware balancing: scrape the host's Prometheus metrics (vLLM / SGLang names) every interval.
  struct LoadMetrics {
    bool enabled = false;
    std::string url;            // full http URL; default scheme://host:port/metrics
    Duration interval{1'000};
    std::uint32_t capacity = 0;  // concurrent sequences the host runs; 0 = learn from what it reports
  } load_metrics;
  // Active health checks: GET path every interval; `unhealthy_threshold` failures in a row eject the host
  // until `healthy_threshold` successes in a row. Optional.
  struct HealthCheck {
    bool enabled = false;
    std::string path = "/health";
    Duration interval{5'000};
    Duration timeout{2'000};
    std::uint32_t unhealthy_threshold = 2;
    std::uint32_t healthy_threshold = 2;
  } health_check;
  Duration slow_start{0};  // after an ejection ends, the host's weight ramps from 10 % to 100 % over this
  // Client header names (lowercase) forwarded to this upstream besides W3C trace context (docs/security.md).
  std::vector<std::string> forward_headers;
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
  // Retry admission (routing/retry_budget.h): adaptive throttling over the group's recent attempts. A retry,
  // hedge or resume goes with probability 1 - max(0, (requests - k * accepts) / (requests + 1)).
  double throttle_k = 2.0;
  Duration throttle_window{120'000};
  std::uint32_t throttle_min_attempts = 10;  // fewer attempts in the window: every retry goes
};

enum class Balancer : std::uint8_t { kRoundRobin, kWeightedRandom, kLeastRequest, kPeakEwma, kLoadAware };

// Hedging: when no first token arrived within the delay, a second attempt goes to another host; the first to
// produce content answers, the other is cancelled. Each hedge takes a slot of the retry budget.
struct HedgeConfig {
  bool enabled = false;
  std::optional<Duration> delay;  // fixed; nullopt = learned quantile of the group's time to first token
  std::uint32_t quantile = 95;    // percent
  Duration min_delay{50};
  Duration max_delay{30'000};     // also the delay until min_samples were seen
  std::uint32_t min_samples = 20;
};

// Mid-stream failover: a stream that breaks after content was sent continues on another host, which is asked
// to complete the partial answer (DeepSeek chat prefix completion, or a generic "continue" instruction).
struct FailoverConfig {
  bool enabled = false;
  enum class Mode : std::uint8_t { kPrefix, kContinue } mode = Mode::kPrefix;
  std::uint32_t max_resumes = 2;  // continuations per request
};

// Prefix affinity: requests whose first `prefix_bytes` bytes of prompt match prefer the same host (consistent
// hashing), to reuse its KV cache, unless that host is overloaded.
struct AffinityConfig {
  std::size_t prefix_bytes = 0;  // 0 = off
  double overload_factor = 2.0;   // skip the hashed host when its load is above this × the group's mean
};

struct Model {
  std::string name;      // public name clients send
  std::string owned_by;  // shown in GET /v1/models
  std::vector<Deployment> deployments;  // at least one
  Balancer balancer = Balancer::kPeakEwma;
  RetryPolicy retry;
  std::vector<std::string> fallbacks;  // public model names tried in order once this group is exhausted
  Duration request_timeout{600'000};   // all attempts of one request; X-Request-Timeout may shorten it
  HedgeConfig hedge;
  FailoverConfig failover;
  AffinityConfig affinity;
};

struct VirtualKey {
  std::string name;
  std::string secret_sha256;  // lowercase hex SHA-256 of the bearer secret
  KeyPolicy policy;           // allowed models, priority, limits (admission)
};

// Admin API and dashboard (docs/operations.md). Neither listen nor a key: no admin endpoints at all.
struct AdminConfig {
  std::optional<Endpoint> listen;   // separate admin listener (loopback recommended)
  std::string key_env;              // env var holding the admin key; required on the main listener
  std::string key_sha256;           // of that key, resolved at load time; empty = no key
  bool enabled() const { return listen.has_value() || !key_sha256.empty(); }
};

// Where GET /metrics is served (docs/security.md): with the admin routes by default; `listen` adds a
// scrape-only listener (no key: protect it at the network level).
struct MetricsConfig {
  std::optional<Endpoint> listen;
};

// Response cache and request coalescing (docs/cache.md).
struct CacheConfig {
  bool enabled = true;
  std::size_t max_bytes = 64 * 1024 * 1024;  // LRU byte budget (keys + both replay shapes)
  std::size_t max_entry_bytes = 1024 * 1024;  // larger answers are not stored
  Duration ttl{3'600'000};                    // fresh for this long
  Duration stale_ttl{0};                      // past ttl, served only when every upstream failed; 0 = never
  bool coalesce = true;                       // identical in-flight requests share one upstream call
  bool cache_nondeterministic = false;        // also cache requests without temperature 0
  std::vector<std::string> opt_in_keys;       // virtual key names treated as cache_nondeterministic
  bool operator==(const CacheConfig&) const = default;
};

// USD per 1M tokens for one upstream model id, with an optional time-of-day discount (UTC).
struct Price {
  double input_cache_hit = 0;
  double input_cache_miss = 0;
  double output = 0;
  // Minutes of the day [start, end) in UTC; end < start wraps past midnight.
  std::vector<std::pair<int, int>> windows;
  bool windows_are_peak = false;  // listed windows are peak (full price) and the rest off-peak, or the reverse
  bool weekdays_only = false;     // windows apply Monday-Friday; weekends are wholly off-peak
  double off_peak_multiplier = 1.0;
};

struct LedgerConfig {
  bool enabled = true;
  std::string path = "sluice-ledger.db";   // SQLite file; ":memory:" keeps nothing across restarts
  // How often the writer thread stores the per-second totals gathered since its last flush. Workers fold
  // requests into totals themselves, so a flush is a few rows whatever the request rate; a crash loses at
  // most this much usage.
  Duration flush_interval{1000};
  std::string admin_key_env = "SLUICE_ADMIN_KEY";
  std::string admin_key;                   // resolved at load time; never logged
  // How long a write waits for another process holding the file's write lock (not in YAML; tests shorten it).
  Duration busy_timeout{5000};
  // Not in YAML: set when the Batch API's store is PostgreSQL (batch.postgres.ledger), so every replica's
  // usage goes to that database instead of `path`. Never logged.
  std::string postgres_conninfo;
  bool operator==(const LedgerConfig&) const = default;
};

// Async Batch API (docs/batch.md): files and batches in a durable store, run through the gateway's own path at
// the `batch` admission class, scheduled into the cheapest pricing windows that meet each batch's deadline.
struct BatchConfig {
  bool enabled = false;
  enum class Store : std::uint8_t { kSqlite, kPostgres } store = Store::kSqlite;
  std::string data_dir = "sluice-data";  // holds batch.db (SQLite mode)
  std::string sqlite_path;               // resolved: data_dir/batch.db unless set
  std::string postgres_conninfo_env = "SLUICE_BATCH_PG";  // libpq conninfo or URI, from this variable
  std::string postgres_conninfo;         // resolved at load time; never logged
  std::uint32_t postgres_connections = 2;  // store threads, one connection each
  bool postgres_ledger = true;           // postgres mode: the usage ledger goes to the same database
  std::size_t max_file_bytes = 100 * 1024 * 1024;  // one upload (also the HTTP body limit of POST /v1/files)
  std::uint32_t max_lines = 50'000;                // requests in one input file
  std::uint32_t concurrency = 8;                   // lines of one batch in flight on one replica
  Duration lease{60'000};          // a claimed line is another replica's after this (renewed while it runs)
  Duration poll_interval{1'000};   // how often the executor looks for work and re-plans
  Duration min_completion_window{60'000};
  Duration max_completion_window{7 * 24 * 3'600'000};
  Duration retry_base{1'000};      // backoff between attempts of a retryable line: U(0, min(cap, base·2^n))
  Duration retry_cap{60'000};
  std::uint32_t assumed_output_tokens = 256;  // per line, for estimates (capped by the line's max_tokens)
  Duration initial_line_time{10'000};          // assumed duration of one line until some were measured
  double time_scale = 1;  // benchmarks only: the planner's clock runs this many times faster than real time
  int time_start_minute = -1;  // benchmarks only: the planner's clock starts at this UTC minute of today
  bool operator==(const BatchConfig&) const = default;
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
  AdminConfig admin;
  MetricsConfig metrics;
  CacheConfig cache;
  LedgerConfig ledger;
  std::map<std::string, Price> pricing;  // by upstream model id
  AdmissionConfig admission;
  StateConfig state;  // local (default) or shared through Redis (docs/scale-out.md)
  BatchConfig batch;

  const Model* find_model(std::string_view name) const;
  // /metrics on the main listener without a key: only a gateway with no admin routes, no scrape-only listener
  // and no virtual keys (nobody's spend to hide; anyone who reaches it may use it anyway).
  bool metrics_open_on_main() const { return !admin.enabled() && !metrics.listen && keys.empty(); }
};

}  // namespace sluice::config
