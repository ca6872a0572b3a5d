#pragma once
// Request coalescing (singleflight): identical cacheable requests in flight at once share one upstream call.
// The leader's relay feeds the Flight (a RelayTap); joiners on any worker thread replay what was already
// relayed and then follow live. A joiner waits on its own concurrent channel, so the leader's thread never
// touches another worker's sockets.
#include <atomic>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/relay_tap.h"
#include "http/asio.h"
#include "openai/usage.h"

namespace sluice::cache {

using Wakeup = net::experimental::concurrent_channel<void(boost::system::error_code)>;

enum class FlightState { kRunning, kDone, kFailed, kAbandoned };

// What a joiner copies out of the flight on each wake-up.
struct FlightView {
  std::string bytes;  // new stream bytes since the last view (or the whole body once done)
  std::size_t next_event = 0;
  FlightState state = FlightState::kRunning;
  std::string upstream;
  std::optional<openai::Usage> usage;  // set with kDone: what the shared answer cost upstream
  std::string upstream_model;
  // kFailed: the answer the leader's client got.
  unsigned status = 0;
  std::string error_body;
  std::string retry_after;
};

class Flight : public RelayTap {
 public:
  explicit Flight(bool stream) : stream_(stream) {}

  // RelayTap (leader's thread).
  void on_event(std::string_view upstream, std::string_view event, bool usage_only) override;
  void on_body(std::string_view upstream, std::string_view json) override;
  bool wanted() const override { return joiners_.load(std::memory_order_relaxed) > 0; }

  // The leader's request ended. kDone needs a complete answer (stream: [DONE] seen; else a body).
  void finish(FlightState state, unsigned status = 0, std::string error_body = {},
              std::string retry_after = {});
  void set_usage(std::optional<openai::Usage> usage, std::string upstream_model);
  bool complete() const;             // a whole answer went through the tap
  std::string stream_bytes() const;  // leader side, after the relay: every event as relayed
  std::string body() const;

  // Joiner side.
  std::shared_ptr<Wakeup> join(const net::any_io_executor& ex);
  void leave(const std::shared_ptr<Wakeup>& w);
  // Events from `from` on; the include_usage chunk left out unless `with_usage`.
  FlightView read(std::size_t from, bool with_usage) const;
  bool stream() const { return stream_; }

 private:
  const bool stream_;
  mutable std::mutex mu_;
  std::string data_;  // stream: events back to back; non-stream: the body
  struct Event {
    std::size_t end;
    bool usage_only;
  };
  std::vector<Event> events_;
  bool saw_done_ = false;
  bool has_body_ = false;
  FlightState state_ = FlightState::kRunning;
  std::string upstream_;
  unsigned status_ = 0;
  std::string error_body_, retry_after_;
  std::optional<openai::Usage> usage_;
  std::string upstream_model_;
  std::vector<std::shared_ptr<Wakeup>> waiters_;
  std::atomic<int> joiners_{0};
};

// Flights by key (key includes the shape: stream and non-stream requests coalesce separately).
class FlightTable {
 public:
  // The flight for `key`, creating it (leader = true) when none is in the air.
  std::shared_ptr<Flight> lead_or_join(const std::string& key, bool stream, bool& leader);
  // The leader removes its flight when done, before waking joiners for the last time.
  void remove(const std::string& key, const Flight* f);

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<Flight>> map;
  };
  Shard shards_[kShards];
  Shard& shard_of(const std::string& key) { return shards_[std::hash<std::string>{}(key) % kShards]; }
};

}  // namespace sluice::cache
