// The `upstreams` section: base URLs, credentials, TLS and per-upstream timeouts.
#include <algorithm>
#include <array>
#include <boost/url.hpp>
#include <charconv>

#include "common/forward_policy.h"
#include "common/units.h"
#include "config/loader_internal.h"

namespace sluice::config::detail {
namespace {

constexpr std::array<std::string_view, 12> kUpstreamKeys{
    "base_url", "api_key_env",  "max_idle_connections", "tls_ca_file", "tls_verify",     "timeouts",
    "outlier",  "key_pacing",   "load_metrics",         "health_check", "slow_start", "forward_headers"};
constexpr std::array<std::string_view, 3> kOutlierKeys{"consecutive_failures", "base_ejection", "max_ejection"};
constexpr std::array<std::string_view, 4> kTimeoutKeys{"connect", "first_token", "idle", "total"};
constexpr int64_t kMaxIdleConnections = 100'000;

// Fills scheme/host/port/base_path; returns an error message on failure.
std::optional<std::string> parse_base_url(std::string_view text, Upstream& up) {
  const auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    return "invalid URL \"" + std::string(text) + "\": expected http(s)://host[:port][/path]";
  }
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::http) {
    up.scheme = "http";
  } else if (u.scheme_id() == boost::urls::scheme::https) {
    up.scheme = "https";
  } else {
    return "unsupported scheme \"" + std::string(u.scheme()) + "\" (expected http or https)";
  }
  if (u.has_userinfo()) {
    return "must not contain user info; use api_key_env for credentials";
  }
  if (u.has_query()) {
    return "must not contain a query string";
  }
  if (u.has_fragment()) {
    return "must not contain a fragment";
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return "missing host in \"" + std::string(text) + "\"";
  }
  up.host = u.host_address();  // IPv6 without brackets, ready for a resolver
  up.port = up.scheme == "https" ? 443 : 80;
  if (u.has_port() && !u.port().empty()) {
    const std::string_view p = u.port();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port == 0 || port > 65535) {
      return "invalid port \"" + std::string(p) + "\" (expected 1-65535)";
    }
    up.port = static_cast<uint16_t>(port);
  }
  std::string_view path = u.encoded_path();
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  up.base_path = std::string(path);
  return std::nullopt;
}

void load_timeouts(Reader& r, const Field& field, UpstreamTimeouts& t) {
  const auto map = r.map(field, kTimeoutKeys);
  if (!map) {
    return;
  }
  const std::pair<std::string_view, Duration*> items[] = {
      {"connect", &t.connect}, {"first_token", &t.first_token}, {"idle", &t.idle}, {"total", &t.total}};
  bool all_ok = true;
  for (const auto& [key, out] : items) {
    if (const Field* f = map->find(key)) {
      if (auto d = r.duration(*f, false)) {
        *out = *d;
      } else {
        all_ok = false;
      }
    }
  }
  if (!all_ok) {
    return;  // comparing against a value that failed to parse would only add noise
  }
  const Field* total = map->find("total");
  // A phase longer than the whole attempt could never fire; blame whichever key the user wrote.
  for (const auto& [key, value] : {std::pair<std::string_view, Duration>{"first_token", t.first_token},
                                   std::pair<std::string_view, Duration>{"idle", t.idle}}) {
    if (value <= t.total) {
      continue;
    }
    const Field* f = map->find(key);
    const Field* at = f != nullptr ? f : total;
    const int line = at != nullptr ? at->value_line() : map->line;
    r.error(line, at != nullptr ? at->path : join_path(map->path, key),
            std::string(key) + " (" + format_duration(value) + ") must not exceed total (" +
                format_duration(t.total) + ")");
  }
}

void load_outlier(Reader& r, const Field& field, Upstream& up) {
  const auto map = r.map(field, kOutlierKeys);
  if (!map) {
    return;
  }
  if (const Field* f = map->find("consecutive_failures")) {
    if (auto n = r.integer(*f, 1, 1000)) {
      up.outlier_consecutive_failures = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = map->find("base_ejection")) {
    if (auto d = r.duration(*f, false)) {
      up.outlier_base_ejection = *d;
    }
  }
  if (const Field* f = map->find("max_ejection")) {
    if (auto d = r.duration(*f, false)) {
      up.outlier_max_ejection = *d;
    }
  }
  if (up.outlier_max_ejection < up.outlier_base_ejection) {
    r.error(field.key_line, field.path, "max_ejection must not be shorter than base_ejection");
  }
}

bool is_header_token(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Extra client headers this upstream receives; sluice's own, credentials and hop-by-hop names are refused.
void load_forward_headers(Reader& r, const Field& f, Upstream& up) {
  if (!f.value.IsSequence()) {
    r.error(f.value_line(), f.path, "expected a list of header names, got " + describe(f.value));
    return;
  }
  for (std::size_t i = 0; i < f.value.size(); ++i) {
    const YAML::Node& n = f.value[i];
    std::string name = n.IsScalar() ? n.Scalar() : std::string{};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; });
    if (!is_header_token(name)) {
      r.error(line_of(n), index_path(f.path, i), "expected a header name, got " + describe(n));
    } else if (never_forwarded_header(name)) {
      r.error(line_of(n), index_path(f.path, i),
              "\"" + name + "\" is never forwarded (credentials, hop-by-hop, addresses and sluice's own "
                            "headers stay at the gateway; docs/security.md)");
    } else {
      up.forward_headers.push_back(std::move(name));
    }
  }
}

void load_upstream(Reader& r, const Field& entry, Upstream& up) {
  const auto map = r.map(entry, kUpstreamKeys);
  if (!map) {
    return;
  }
  if (const Field* f = r.require(*map, "base_url")) {
    if (auto url = r.string(*f)) {
      if (auto err = parse_base_url(*url, up)) {
        r.error(f->value_line(), f->path, *err);
      }
    }
  }
  if (const Field* f = map->find("api_key_env")) {
    load_api_keys(r, *f, up);
  }
  if (const Field* f = map->find("key_pacing")) {
    if (auto b = r.boolean(*f)) {
      up.key_pacing = *b;
    }
  }
  if (const Field* f = map->find("max_idle_connections")) {
    if (auto n = r.integer(*f, 0, kMaxIdleConnections)) {
      up.max_idle_connections = static_cast<std::size_t>(*n);
    }
  }
  if (const Field* f = map->find("tls_ca_file")) {
    if (auto path = r.string(*f)) {
      up.tls_ca_file = *path;
      // Fail at startup rather than on the first TLS handshake.
      if (const FileContents c = read_file(*path); !c.ok) {
        r.error(f->value_line(), f->path, "cannot read CA file \"" + *path + "\": " + c.error);
      } else if (up.scheme == "http") {
        r.warning(f->value_line(), f->path, "ignored for http upstreams");
      }
    }
  }
  if (const Field* f = map->find("tls_verify")) {
    if (auto b = r.boolean(*f)) {
      up.tls_verify = *b;
    }
  }
  if (const Field* f = map->find("timeouts")) {
    load_timeouts(r, *f, up.timeouts);
  }
  if (const Field* f = map->find("outlier")) {
    load_outlier(r, *f, up);
  }
  if (const Field* f = map->find("forward_headers")) {
    load_forward_headers(r, *f, up);
  }
  load_upstream_resilience(r, *map, up);
}

}  // namespace

std::set<std::string> load_upstreams(Reader& r, const Field& field, Config& cfg) {
  std::set<std::string> names;
  const auto map = r.map(field, {});
  if (!map) {
    return names;
  }
  if (map->fields.empty()) {
    r.error(field.key_line, field.path, "must define at least one upstream");
    return names;
  }
  for (const Field& entry : map->fields) {
    names.insert(entry.key);
    if (!is_simple_name(entry.key)) {
      r.error(entry.key_line, entry.path,
              "invalid upstream name \"" + entry.key + "\" (allowed characters: A-Z a-z 0-9 _ . -)");
    }
    Upstream up;
    up.name = entry.key;
    load_upstream(r, entry, up);
    cfg.upstreams.emplace(up.name, std::move(up));
  }
  return names;
}

}  // namespace sluice::config::detail
