#pragma once
// The request line and headers of one upstream attempt, serialized by hand: one string, one write, none of
// the per-field allocations of a beast message. Client headers pass through the forwarding policy
// (common/forward_policy.h).
#include <string>
#include <string_view>

#include "config/config.h"
#include "http/h1.h"

namespace sluice::upstream {

struct HeadInput {
  const config::Upstream& upstream;
  std::string_view path;            // "/chat/completions", appended to the upstream's base path
  const http::h1::Request& client;  // its allow-listed headers are forwarded
  bool stream = false;
  std::size_t body_size = 0;
  std::string_view request_id;
  std::string_view api_key;  // empty: no Authorization
};

std::string build_request_head(const HeadInput& in);

// DeepSeek serves chat prefix completion under /beta: rewrites the head's target to
// "<base without /v1>/beta<path>".
void set_prefix_completion_path(std::string& head, std::string_view base_path, std::string_view path);

}  // namespace sluice::upstream
