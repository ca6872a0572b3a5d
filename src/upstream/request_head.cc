#include "upstream/request_head.h"

#include "common/forward_policy.h"
#include "common/string_writer.h"
#include "sluice/version.h"

namespace sluice::upstream {

namespace {
using namespace std::string_view_literals;
const std::string kUserAgent = std::string("sluice/") + kVersion;

bool default_port(const config::Upstream& up) {
  return (up.scheme == "https" && up.port == 443) || (up.scheme == "http" && up.port == 80);
}
}  // namespace

std::string build_request_head(const HeadInput& in) {
  const config::Upstream& up = in.upstream;
  std::string h;
  {
    StringWriter w(h);
    w << "POST "sv << up.base_path << in.path << " HTTP/1.1\r\n"sv;
    const std::string_view connection = in.client[bhttp::field::connection];
    for (const auto f : in.client) {
      if (forwardable_header(f.name, up.forward_headers) &&
          (connection.empty() || !named_in_connection(f.name, connection))) {
        w.field(f.name, f.value);
      }
    }
    w << "Host: "sv << up.host;
    if (!default_port(up)) {
      w << ':' << up.port;
    }
    w << "\r\n"sv;
    w.field("User-Agent", kUserAgent);
    w.field("Content-Type", "application/json");
    w.field("Accept", in.stream ? "text/event-stream" : "application/json");
    w.field("X-Request-Id", in.request_id);
    if (!in.api_key.empty()) {
      w << "Authorization: Bearer "sv << in.api_key << "\r\n"sv;
    }
    w << "Content-Length: "sv << in.body_size << "\r\n\r\n"sv;
  }
  return h;
}

void set_prefix_completion_path(std::string& head, std::string_view base_path, std::string_view path) {
  std::string_view base = base_path;
  if (base.ends_with("/v1")) {
    base.remove_suffix(3);
  }
  std::string target = "POST " + std::string(base);
  if (!base.ends_with("/beta")) {
    target += "/beta";
  }
  target += path;
  head.replace(0, head.find(" HTTP/1.1"), target);
}

}  // namespace sluice::upstream
