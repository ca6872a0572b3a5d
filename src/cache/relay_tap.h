#pragma once
// What a coalescing leader's relay delivers, seen by the requests that share its upstream call
// (cache/flight.h). The upstream relay calls it on the attempt's thread; the cache implements it.
#include <string_view>

namespace sluice::cache {

class RelayTap {
 public:
  virtual ~RelayTap() = default;
  // One SSE event as relayed (canonical bytes, "data: [DONE]" included); usage_only: the include_usage chunk.
  virtual void on_event(std::string_view upstream, std::string_view event, bool usage_only) = 0;
  // A complete non-stream answer.
  virtual void on_body(std::string_view upstream, std::string_view json) = 0;
  // True while others read along: the relay keeps reading after its own client left.
  virtual bool wanted() const = 0;
};

}  // namespace sluice::cache
