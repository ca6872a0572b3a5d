#include "cache/flight.h"

namespace sluice::cache {

namespace {
// Outside the lock: a joiner on this same thread may be resumed inline and read the flight at once.
void notify(const std::vector<std::shared_ptr<Wakeup>>& waiters) {
  for (const auto& w : waiters) {
    w->try_send(boost::system::error_code{});  // full = a wake-up is already pending; that one will do
  }
}
}  // namespace

void Flight::on_event(std::string_view upstream, std::string_view event, bool usage_only) {
  std::unique_lock lock(mu_);
  if (saw_done_ || state_ != FlightState::kRunning) {
    return;
  }
  if (upstream_.empty()) {
    upstream_ = upstream;
  }
  data_ += event;
  events_.push_back({data_.size(), usage_only});
  saw_done_ = event.starts_with("data: [DONE]");
  auto waiters = waiters_;
  lock.unlock();
  notify(waiters);
}

void Flight::on_body(std::string_view upstream, std::string_view json) {
  std::lock_guard lock(mu_);
  if (stream_ || has_body_ || state_ != FlightState::kRunning) {
    return;  // a stream request answered as JSON is not replayable to stream joiners: finish() fails it
  }
  upstream_ = upstream;
  data_ = json;
  has_body_ = true;
}

bool Flight::complete() const {
  std::lock_guard lock(mu_);
  return stream_ ? saw_done_ : has_body_;
}

std::string Flight::stream_bytes() const {
  std::lock_guard lock(mu_);
  return data_;
}

std::string Flight::body() const {
  std::lock_guard lock(mu_);
  return has_body_ ? data_ : std::string{};
}

void Flight::finish(FlightState state, unsigned status, std::string error_body, std::string retry_after) {
  std::unique_lock lock(mu_);
  if (state == FlightState::kDone && !(stream_ ? saw_done_ : has_body_)) {
    state = FlightState::kAbandoned;
  }
  state_ = state;
  status_ = status;
  error_body_ = std::move(error_body);
  retry_after_ = std::move(retry_after);
  auto waiters = waiters_;
  lock.unlock();
  notify(waiters);
}

void Flight::set_usage(std::optional<openai::Usage> usage, std::string upstream_model) {
  std::lock_guard lock(mu_);
  usage_ = usage;
  upstream_model_ = std::move(upstream_model);
}

std::shared_ptr<Wakeup> Flight::join(const net::any_io_executor& ex) {
  auto w = std::make_shared<Wakeup>(ex, 1);
  std::lock_guard lock(mu_);
  waiters_.push_back(w);
  joiners_.fetch_add(1, std::memory_order_relaxed);
  return w;
}

void Flight::leave(const std::shared_ptr<Wakeup>& w) {
  std::lock_guard lock(mu_);
  std::erase(waiters_, w);
  joiners_.fetch_sub(1, std::memory_order_relaxed);
}

FlightView Flight::read(std::size_t from, bool with_usage) const {
  FlightView v;
  std::lock_guard lock(mu_);
  v.state = state_;
  v.upstream = upstream_;
  v.usage = usage_;
  v.upstream_model = upstream_model_;
  if (state_ == FlightState::kFailed) {
    v.status = status_;
    v.error_body = error_body_;
    v.retry_after = retry_after_;
    return v;
  }
  if (!stream_) {
    if (state_ == FlightState::kDone) {
      v.bytes = data_;
    }
    return v;
  }
  std::size_t start = from == 0 ? 0 : events_[from - 1].end;
  for (std::size_t i = from; i < events_.size(); ++i) {
    if (with_usage || !events_[i].usage_only) {
      v.bytes.append(data_, start, events_[i].end - start);
    }
    start = events_[i].end;
  }
  v.next_event = events_.size();
  return v;
}

std::shared_ptr<Flight> FlightTable::lead_or_join(const std::string& key, bool stream, bool& leader) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  auto [it, inserted] = s.map.try_emplace(key);
  if (inserted) {
    it->second = std::make_shared<Flight>(stream);
  }
  leader = inserted;
  return it->second;
}

void FlightTable::remove(const std::string& key, const Flight* f) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(key); it != s.map.end() && it->second.get() == f) {
    s.map.erase(it);
  }
}

}  // namespace sluice::cache
