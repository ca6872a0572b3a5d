#pragma once
// How the batch executor runs one request line: through an interface, so the gateway's own request path
// (routing, retries, failover, cache, ledger with the key's attribution, admission at the `batch` class)
// can serve it in production and a fake can in tests. The contract is in docs/batch.md ("LineRunner").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/admission_config.h"
#include "http/asio.h"

namespace sluice::batch {

struct LineRequest {
  std::string key;       // virtual key that owns the batch ("" on a gateway without keys): limits, ledger
  std::string endpoint;  // "/v1/chat/completions" | "/v1/embeddings"
  std::string body;      // the line's request body, a JSON object (never "stream": true)
  config::Priority priority = config::Priority::kBatch;
  // No answer is useful after this (the batch's completion window ends): the whole request, retries
  // included, must be over by then.
  std::chrono::steady_clock::time_point deadline;
  std::string request_id;  // batch_req_..., for the access log and x-request-id
};

struct LineUsage {
  std::int64_t prompt = 0, completion = 0, cache_hit = 0, cache_miss = 0, reasoning = 0;
  double cost_usd = 0;  // as the ledger priced it
};

// The usage ledger's row of a line that reached an upstream. The runner does not write it: the executor
// stores it with the line's final result and feeds the ledger from the store, so it is counted once even when
// the process dies (docs/batch.md "Exactly once in the ledger").
struct LineLedger {
  std::string model, upstream, upstream_model;  // the model that answered, its upstream and upstream model id
  double cost_usd = 0;                          // tokens at the real time's price, as the ledger prices them
  std::int64_t unix_ms = 0;                     // when the answer came (real clock)
  std::string source = "upstream";              // upstream (cost_usd paid) | cache (cost_usd saved)
};

struct LineResult {
  // HTTP status of the final answer; 0 when there was none (shed by admission, every attempt failed without
  // an HTTP answer, deadline).
  unsigned status = 0;
  std::string body;        // the answer (JSON), or an OpenAI error body; empty with status 0 is allowed
  std::string request_id;  // the gateway's id of the request that produced it
  std::optional<LineUsage> usage;
  std::optional<LineLedger> ledger;  // set when an upstream was asked (the tokens are `usage`'s)
  // True: the executor should try the line again later (429, 5xx, timeouts, admission shed); false: the
  // answer is final (2xx, or a client error such as 400/401/402/403/404/422).
  bool retryable = false;
  std::chrono::milliseconds retry_after{0};  // the soonest a retry makes sense (Retry-After, shed estimate)
};

class LineRunner {
 public:
  virtual ~LineRunner() = default;
  // Awaited on the executor's io_context; the implementation may hop to a worker's executor for the
  // upstream work but must resume the caller on its own executor (co_await of an asio awaitable does).
  // Must not throw; every failure is a LineResult.
  virtual net::awaitable<LineResult> run(const LineRequest& req) = 0;
};

}  // namespace sluice::batch
