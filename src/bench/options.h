#pragma once
// Options of `sluice bench`, as typed by the user (strings for durations) and as validated for the run.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::bench {

// What the command line gives; validate() turns it into a BenchConfig or an error message.
struct BenchOptions {
  std::vector<std::string> urls;
  std::string model = "deepseek-chat";
  bool stream = false;
  std::optional<double> rate;             // open loop: Poisson arrivals per second
  std::optional<unsigned> concurrency;    // closed loop: requests in flight
  std::optional<std::uint64_t> requests;  // stop after this many
  std::optional<std::string> duration;    // stop starting requests after this long
  unsigned max_tokens = 64;
  std::string prompts_file;  // JSONL; empty = built-in generator
  unsigned prompt_tokens = 200;
  std::vector<std::string> headers;  // "name: value"
  std::string api_key;
  std::string timeout = "60s";
  std::uint64_t seed = 1;
  std::string json_out;  // "-" = stdout
  std::string html_out;
  std::optional<unsigned> connections;  // per target; default: concurrency (closed) or 256 (open)
  bool insecure = false;                // skip TLS peer verification
  bool quiet = false;                   // no progress line
  bool no_include_usage = false;
  // "Name: v1=w1,v2=w2": each request gets header Name with value v_i, chosen with weight w_i (seeded).
  std::string mix;
  std::string engine_out;    // engine throughput file for `sluice plan`
  unsigned engine_gpus = 1;  // GPUs of the engine replica measured
};

struct Target {
  std::string url;  // as given
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // request target, e.g. /v1/chat/completions
};

struct Header {
  std::string name;
  std::string value;
};

// One class of a --mix: its header value and share of the requests.
struct MixClass {
  std::string value;
  double weight = 0;
};

struct BenchConfig {
  std::vector<Target> targets;
  std::string model;
  bool stream = false;
  bool open_loop = false;
  double rate = 0;
  unsigned concurrency = 0;
  std::optional<std::uint64_t> requests;
  std::optional<std::chrono::milliseconds> duration;
  unsigned max_tokens = 0;
  std::string prompts_file;
  unsigned prompt_tokens = 0;
  std::vector<Header> headers;
  std::chrono::milliseconds timeout{0};
  std::uint64_t seed = 1;
  std::string json_out;
  std::string html_out;
  unsigned connections = 0;
  bool insecure = false;
  bool quiet = false;
  bool include_usage = true;
  std::string mix_header;        // empty = no mix
  std::vector<MixClass> mix;     // weights normalized to sum 1
  std::string engine_out;
  unsigned engine_gpus = 1;
};

// "http[s]://host[:port][/path]". An empty path or "/" means /v1/chat/completions; a path ending in
// /completions is used as is; any other path is a base URL (like the OpenAI SDK's) and gets
// /chat/completions appended. Returns an error message or empty.
std::string parse_target(const std::string& url, Target& out);

// "Name: value" → Header; error message or empty.
std::string parse_header(const std::string& text, Header& out);

// "X-Priority: high=20,low=80" → header name and classes (weights normalized); error message or empty.
std::string parse_mix(const std::string& text, std::string& header, std::vector<MixClass>& out);

// The class of request `index` (deterministic for the seed; shares follow the weights).
std::size_t mix_class(const std::vector<MixClass>& mix, std::uint64_t seed, std::uint64_t index);

// Checks every option; returns an error message (naming the option) or empty.
std::string validate(const BenchOptions& in, BenchConfig& out);

}  // namespace sluice::bench
