#include "bench/outcome.h"

#include <boost/asio/ssl/error.hpp>

#include "common/strings.h"
#include "openai/usage.h"

namespace sluice::bench {

std::string_view outcome_name(Outcome o) {
  static constexpr std::array<std::string_view, kOutcomeCount> kNames = {
      "ok",      "http_429", "http_503", "http_5xx",  "http_4xx", "connect",
      "timeout", "reset",    "empty",    "truncated", "protocol"};
  return kNames[static_cast<std::size_t>(o)];
}

Outcome classify_status(unsigned status) {
  if (status >= 200 && status < 300) {
    return Outcome::kOk;
  }
  if (status == 429) {
    return Outcome::kHttp429;
  }
  if (status == 503) {
    return Outcome::kHttp503;
  }
  if (status >= 500 && status < 600) {
    return Outcome::kHttp5xx;
  }
  return Outcome::kHttp4xx;
}

Outcome classify_error(const error_code& ec, bool connecting) {
  if (ec == beast::error::timeout || ec == net::error::timed_out) {
    return Outcome::kTimeout;
  }
  if (connecting) {
    return Outcome::kConnect;
  }
  if (ec.category() == error_code(bhttp::error::bad_version).category()) {
    // end_of_stream / partial_message: the peer closed mid-message; the rest is malformed HTTP.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
      return Outcome::kReset;
    }
    return Outcome::kProtocol;
  }
  return Outcome::kReset;  // eof, connection_reset, broken_pipe, stream_truncated, ...
}

namespace {
bool finished_insufficient(std::string_view json) {
  return json.find("insufficient_system_resource") != std::string_view::npos;
}
}  // namespace

bool has_nonempty_string(std::string_view json, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = json.find(name, pos)) != std::string_view::npos) {
    const std::size_t start = pos;
    pos += name.size();
    // The name must be a whole key: "name" followed by optional spaces and ':'.
    if (start == 0 || json[start - 1] != '"' || pos >= json.size() || json[pos] != '"') {
      continue;
    }
    std::size_t i = pos + 1;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t')) {
      ++i;
    }
    if (i >= json.size() || json[i] != ':') {
      continue;
    }
    ++i;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t')) {
      ++i;
    }
    if (i + 1 < json.size() && json[i] == '"' && json[i + 1] != '"') {
      return true;
    }
  }
  return false;
}

BodyCheck check_body(std::string_view body) {
  BodyCheck r;
  const auto json = trim(body, kJsonWhitespace);
  if (json.empty()) {
    r.outcome = Outcome::kEmpty;
    return r;
  }
  if (!openai::is_valid_json(json) || json.front() != '{') {
    r.outcome = Outcome::kProtocol;
    return r;
  }
  if (auto u = openai::extract_usage(json)) {
    r.completion_tokens = u->completion_tokens;
  }
  if (json.find("\"choices\"") == std::string_view::npos) {
    r.outcome = Outcome::kProtocol;  // e.g. {"error":...} with status 200
  } else if (finished_insufficient(json)) {
    r.outcome = Outcome::kTruncated;
  }
  return r;
}

unsigned StreamCheck::feed(std::string_view bytes) {
  new_tokens_ = 0;
  if (!parser_.feed(bytes, *this)) {
    malformed_ = true;
  }
  return new_tokens_;
}

void StreamCheck::on_event(const http::SseEvent& ev) {
  const auto data = trim(ev.data, kJsonWhitespace);
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  if (data.empty()) {
    return;
  }
  openai::ChunkInfo chunk;
  if (done_ || !(chunk = openai::inspect_chunk(data)).valid) {
    malformed_ = true;
    return;
  }
  if (data.find("\"error\"") != std::string_view::npos &&
      data.find("\"choices\"") == std::string_view::npos) {
    error_event_ = true;
    return;
  }
  if (has_nonempty_string(data, "content") || has_nonempty_string(data, "reasoning_content") ||
      has_nonempty_string(data, "text")) {
    ++new_tokens_;
    ++content_chunks_;
  }
  if (chunk.usage) {
    usage_tokens_ = chunk.usage->completion_tokens;
    usage_prompt_ = chunk.usage->prompt_tokens;
    usage_cached_ = chunk.usage->prompt_cache_hit_tokens;
  }
  if (finished_insufficient(data)) {
    insufficient_ = true;
  }
}

void StreamCheck::on_comment(std::string_view /*text*/) { ++comments_; }

Outcome StreamCheck::finish() const {
  if (malformed_ || error_event_) {
    return Outcome::kProtocol;
  }
  if (!done_) {
    return content_chunks_ == 0 ? Outcome::kEmpty : Outcome::kTruncated;
  }
  if (insufficient_) {
    return Outcome::kTruncated;
  }
  if (content_chunks_ == 0) {
    return Outcome::kEmpty;
  }
  return Outcome::kOk;
}

}  // namespace sluice::bench
