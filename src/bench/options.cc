#include "bench/options.h"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <cmath>
#include <cstdio>

#include "common/units.h"

namespace sluice::bench {

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool valid_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
}  // namespace

std::string parse_target(const std::string& url, Target& out) {
  auto r = boost::urls::parse_absolute_uri(url);
  if (!r) {
    return fmt::format("--url '{}': not an absolute URL (expected http://host:port[/path])", url);
  }
  const auto& u = *r;
  out = Target{};
  out.url = url;
  if (u.scheme() == "http") {
    out.tls = false;
  } else if (u.scheme() == "https") {
    out.tls = true;
  } else {
    return fmt::format("--url '{}': scheme must be http or https", url);
  }
  out.host = std::string(u.encoded_host());
  if (out.host.empty()) {
    return fmt::format("--url '{}': missing host", url);
  }
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  out.port = u.has_port() ? std::string(u.port()) : (out.tls ? "443" : "80");
  if (out.port.empty() || (u.has_port() && u.port_number() == 0)) {
    return fmt::format("--url '{}': bad port", url);
  }
  if (u.has_query() || u.has_fragment() || u.has_userinfo()) {
    return fmt::format("--url '{}': query, fragment and user info are not supported", url);
  }
  std::string path(u.encoded_path());
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  if (path.empty() || path == "/") {
    out.path = "/v1/chat/completions";
  } else if (ends_with(path, "/completions")) {
    out.path = path;
  } else {
    out.path = path + "/chat/completions";
  }
  return {};
}

std::string parse_header(const std::string& text, Header& out) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    return fmt::format("--header '{}': expected 'Name: value'", text);
  }
  out.name = text.substr(0, colon);
  for (char c : out.name) {
    if (!valid_token_char(c)) {
      return fmt::format("--header '{}': invalid character in the header name", text);
    }
  }
  auto v = text.substr(colon + 1);
  const auto b = v.find_first_not_of(" \t");
  const auto e = v.find_last_not_of(" \t");
  out.value = b == std::string::npos ? "" : v.substr(b, e - b + 1);
  for (char c : out.value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return fmt::format("--header '{}': control characters in the value", text);
    }
  }
  return {};
}

std::string parse_mix(const std::string& text, std::string& header, std::vector<MixClass>& out) {
  Header h;
  if (auto err = parse_header(text, h); !err.empty()) {
    return fmt::format("--mix '{}': expected 'Name: value=weight,value=weight'", text);
  }
  header = h.name;
  out.clear();
  double total = 0;
  std::string_view rest = h.value;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    const auto eq = item.rfind('=');
    double w = 0;
    if (eq == std::string_view::npos || eq == 0 ||
        std::sscanf(std::string(item.substr(eq + 1)).c_str(), "%lf", &w) != 1 || !std::isfinite(w) || w <= 0) {
      return fmt::format("--mix '{}': each item must be value=weight with a positive weight", text);
    }
    out.push_back({std::string(item.substr(0, eq)), w});
    total += w;
  }
  if (out.empty()) {
    return fmt::format("--mix '{}': no classes", text);
  }
  for (auto& c : out) {
    c.weight /= total;
  }
  return {};
}

std::size_t mix_class(const std::vector<MixClass>& mix, std::uint64_t seed, std::uint64_t index) {
  // splitmix64 of (seed, index): independent of the arrival schedule's generator.
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const double u = double(z >> 11) / double(1ull << 53);
  double acc = 0;
  for (std::size_t i = 0; i < mix.size(); ++i) {
    acc += mix[i].weight;
    if (u < acc) {
      return i;
    }
  }
  return mix.size() - 1;
}

std::string validate(const BenchOptions& in, BenchConfig& out) {
  out = BenchConfig{};
  if (in.urls.empty()) {
    return "--url is required (e.g. --url http://127.0.0.1:8080)";
  }
  for (const auto& u : in.urls) {
    Target t;
    if (auto err = parse_target(u, t); !err.empty()) {
      return err;
    }
    out.targets.push_back(std::move(t));
  }
  if (in.model.empty()) {
    return "--model must not be empty";
  }
  out.model = in.model;
  out.stream = in.stream;
  if (in.rate && in.concurrency) {
    return "--rate (open loop) and --concurrency (closed loop) are mutually exclusive";
  }
  if (in.rate) {
    if (!std::isfinite(*in.rate) || *in.rate <= 0 || *in.rate > 1e6) {
      return fmt::format("--rate must be a number of requests per second in (0, 1000000], got {}", *in.rate);
    }
    out.open_loop = true;
    out.rate = *in.rate;
  } else {
    out.concurrency = in.concurrency.value_or(8);
    if (out.concurrency == 0 || out.concurrency > 100000) {
      return "--concurrency must be between 1 and 100000";
    }
  }
  if (in.requests) {
    if (*in.requests == 0) {
      return "--requests must be at least 1";
    }
    out.requests = in.requests;
  }
  if (in.duration) {
    auto d = parse_duration(*in.duration);
    if (!d || d->count() <= 0) {
      return fmt::format("--duration: expected a positive duration like 30s or 2m, got '{}'", *in.duration);
    }
    out.duration = d;
  }
  if (!out.requests && !out.duration) {
    out.duration = std::chrono::seconds(10);  // an unbounded run is never what one wants from a benchmark
  }
  auto t = parse_duration(in.timeout);
  if (!t || t->count() <= 0) {
    return fmt::format("--timeout: expected a positive duration like 60s, got '{}'", in.timeout);
  }
  out.timeout = *t;
  if (in.max_tokens == 0) {
    return "--max-tokens must be at least 1";
  }
  out.max_tokens = in.max_tokens;
  if (in.prompt_tokens == 0 || in.prompt_tokens > 1000000) {
    return "--prompt-tokens must be between 1 and 1000000";
  }
  out.prompt_tokens = in.prompt_tokens;
  out.prompts_file = in.prompts_file;
  for (const auto& h : in.headers) {
    Header hd;
    if (auto err = parse_header(h, hd); !err.empty()) {
      return err;
    }
    out.headers.push_back(std::move(hd));
  }
  if (!in.api_key.empty()) {
    out.headers.push_back(Header{"Authorization", "Bearer " + in.api_key});
  }
  out.seed = in.seed;
  out.json_out = in.json_out;
  out.html_out = in.html_out;
  if (in.connections) {
    if (*in.connections == 0 || *in.connections > 100000) {
      return "--connections must be between 1 and 100000";
    }
    out.connections = *in.connections;
  } else {
    out.connections = out.open_loop ? 256 : out.concurrency;
  }
  out.insecure = in.insecure;
  out.quiet = in.quiet;
  out.include_usage = !in.no_include_usage;
  if (!in.mix.empty()) {
    if (auto err = parse_mix(in.mix, out.mix_header, out.mix); !err.empty()) {
      return err;
    }
  }
  if (!in.engine_out.empty() && (!out.stream || out.open_loop || !out.include_usage)) {
    return "--engine-out needs --stream and --concurrency N (closed loop: N is the batch size measured) "
           "with usage in streams";
  }
  if (in.engine_gpus == 0 || in.engine_gpus > 1024) {
    return "--engine-gpus must be between 1 and 1024";
  }
  out.engine_out = in.engine_out;
  out.engine_gpus = in.engine_gpus;
  return {};
}

}  // namespace sluice::bench
