#pragma once
// One request's passage through the cache (docs/cache.md), as decisions: bypass, a fresh hit, joining an
// identical request in flight, or leading one (its relay tees into a Flight that fills the cache). After the
// upstream part: store a complete answer, release the joiners, and on failure find a stale answer.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/services.h"
#include "config/config.h"
#include "openai/request_view.h"
#include "openai/usage.h"

namespace sluice::cache {

struct CacheTicket {
  std::string key;  // empty: not cacheable (or bypassed)
  bool may_read = false;
  bool may_store = false;
  bool stream = false;
  bool include_usage = false;
  std::shared_ptr<Flight> flight;      // the tee of a cacheable request that goes upstream
  bool leader = false;                 // false with a flight: joined another request's call
  bool registered = false;             // the flight is in the table (others may join)
  std::string_view header = "bypass";  // X-Sluice-Cache
  bool check_shared = false;           // lookup_shared() decides (a local miss with a shared tier behind it)
  bool replica_leader = false;         // holds the cross-replica flight lock (shared_lookup.h)
  RelayTap* tap() const { return leader ? flight.get() : nullptr; }
  bool shared() const { return flight && flight->wanted(); }  // others read along
  bool settles() const { return flight && leader; }           // settle() has work to do
  std::string flight_key() const { return key + (stream ? "/s" : "/j"); }
};

struct CacheRequest {
  bool chat = false;  // only chat completions are cached
  std::string_view path;
  std::string_view model;  // the group that will answer
  std::string_view key_name;
  std::string_view cache_control;  // the request's Cache-Control header
  std::string_view body;
  const openai::RequestView& view;
};

enum class CacheStep : std::uint8_t {
  kUpstream,  // go upstream: bypassed, or leading a flight (t.tap() set)
  kHit,       // answer with `hit`
  kJoin,      // follow t.flight, another request's upstream call; then served(), or go upstream (run_own)
};

struct CacheDecision {
  CacheStep step = CacheStep::kUpstream;
  Lookup hit;
};

// Decides without waiting. Counts the outcome and sets t.header.
CacheDecision lookup(CacheServices& svc, const config::Config& cfg, const CacheRequest& req, CacheTicket& t);
// A joined flight whose leader left before any answer: this request goes upstream itself, uncoalesced.
void run_own(CacheServices& svc, CacheTicket& t);
// Go upstream as the tee's leader (the flight fills the cache), counting a miss or a bypass.
CacheDecision go_upstream(CacheServices& svc, CacheTicket& t);

// How the leader's upstream part ended, for settle().
struct UpstreamEnd {
  bool ok = false;         // the answer was complete
  bool committed = false;  // the client's answer had started
  bool client_gone = false;
  std::string_view upstream;
  std::string upstream_model;
  std::optional<openai::Usage> usage;
  // A failure, as the leader's client gets it (joiners get the same).
  unsigned status = 0;
  std::string error_body;
  std::string retry_after;
};

// After the leader's upstream part: stores a complete answer and releases joiners. On a failure before
// anything was sent, returns an expired answer that may stand in (stale_ttl); its flight's joiners go
// upstream themselves.
std::optional<Lookup> settle(CacheServices& svc, const config::Config& cfg, CacheTicket& t, UpstreamEnd end);

}  // namespace sluice::cache
