#pragma once
// The cache's part of the request path (docs/cache.md): exact-match hits, coalescing of identical requests in
// flight, storing complete answers, stale answers when every upstream failed, and the usage ledger row.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "cache/flight.h"
#include "cache/response_cache.h"
#include "config/config.h"
#include "http/responder.h"
#include "ledger/ledger.h"
#include "openai/request_view.h"
#include "routing/router.h"
#include "telemetry/metrics.h"

namespace sluice::gateway {

struct PlanResult;

// The cache's metrics (issue 7 contract). Label children are resolved once at startup: the hot path only
// increments. Cost children exist for every configured key × model × deployment upstream.
struct CacheStats {
  telemetry::Counter *hit, *miss, *bypass, *stale;
  std::map<std::string, telemetry::Counter*, std::less<>> coalesced;  // by model
  struct Money {
    telemetry::Counter* cost;
    telemetry::Counter* savings;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Money, std::less<>>
      money;  // key, model, upstream
  Money* money_for(std::string_view key, std::string_view model, std::string_view upstream);
};

struct CacheServices {
  // Shared with the next config generation when a reload leaves its settings unchanged (keeps the entries).
  std::shared_ptr<cache::ResponseCache> store;  // null when cache.enabled is false
  cache::FlightTable flights;
  std::shared_ptr<ledger::Ledger> ledger;  // null when ledger.enabled is false; shared like `store`
  CacheStats stats;
  std::uint64_t collector = 0;  // cache bytes/entries gauges, refreshed at scrape
  ~CacheServices();
};

// `prev`/`prev_cfg`: the running generation's, on a reload; its store and ledger are taken over when their
// settings did not change, so a reload neither empties the cache nor reopens the ledger.
std::unique_ptr<CacheServices> make_cache_services(const config::Config& cfg, std::string& error,
                                                   const CacheServices* prev = nullptr,
                                                   const config::Config* prev_cfg = nullptr);

// One request's passage through the cache.
struct CacheTicket {
  std::string key;  // empty: not cacheable (or bypassed)
  bool may_read = false;
  bool may_store = false;
  bool stream = false;
  bool include_usage = false;
  std::shared_ptr<cache::Flight> flight;  // the tee of a cacheable request that goes upstream
  bool leader = false;                    // false with a flight: joined another request's call
  bool registered = false;                // the flight is in the table (others may join)
  std::string_view header = "bypass";     // X-Sluice-Cache
  RelayTap* tap() const { return leader ? flight.get() : nullptr; }
  bool shared() const { return flight && flight->wanted(); }  // others read along
  bool settles() const { return flight && leader; }           // cache_settle() has work to do
};

CacheTicket cache_admit(CacheServices& svc, const config::Config& cfg, bool chat, std::string_view path,
                        const routing::Group& group, std::string_view key_name, const http::Request& req,
                        std::string_view body, const openai::RequestView& view);

// False when cache_answer() has nothing to do (not cacheable, or bypassed); it then sets X-Sluice-Cache
// itself. Lets the common uncached request skip cache_answer()'s coroutine frame.
bool cache_may_answer(const CacheTicket& t, http::Responder& res);

// Answers from the cache or from another request's upstream call. Returns the access-log outcome
// ("cache_hit", "coalesced") when it answered; empty when the request must go upstream itself.
net::awaitable<std::string_view> cache_answer(CacheServices& svc, const config::Config& cfg, CacheTicket& t,
                                              const routing::Group& group, std::string_view key_name,
                                              http::Responder& res);

// After the plan: store a complete answer, release joiners, and on failure serve a stale answer when allowed.
// Returns true when it answered the client (stale).
net::awaitable<bool> cache_settle(CacheServices& svc, const config::Config& cfg, CacheTicket& t,
                                  const routing::Group& group, std::string_view key_name,
                                  const PlanResult& plan, http::Responder& res);

// The ledger row of a request that went upstream (any outcome).
void record_upstream_usage(CacheServices& svc, const config::Config& cfg, std::string_view key_name,
                           const routing::Group& group, const PlanResult& plan, bool stream,
                           const http::Responder& res);

struct GatewayState;
// GET /admin/usage?from=&to=&group_by= (usage_route.cc).
net::awaitable<void> handle_usage(GatewayState& state, const http::Request& req, http::Responder& res);

}  // namespace sluice::gateway
