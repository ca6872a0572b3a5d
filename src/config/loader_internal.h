#pragma once
// Private to the config loader: typed reads of yaml-cpp nodes that record diagnostics instead of
// throwing, so one pass reports every problem in the file.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/loader.h"

namespace sluice::config::detail {

std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

// 1-based line of a node, 0 when yaml-cpp has no position for it.
int line_of(const YAML::Node& node);

// "a map", "a list", "null" or the quoted scalar text; for "expected X, got Y" messages.
std::string describe(const YAML::Node& node);

// True for [A-Za-z0-9_.-]+ (upstream and key names).
bool is_simple_name(std::string_view name);

// One "key: value" pair of a YAML map.
struct Field {
  std::string key;
  std::string path;  // dotted path of the value
  int key_line = 0;
  YAML::Node value;
  // Where to point for a bad value. yaml-cpp marks an empty value ("key:") at the following line,
  // so null values point at their key instead.
  int value_line() const;
};

// The recognised pairs of a YAML map, in document order.
struct FieldMap {
  std::string path;
  int line = 0;  // reported for missing keys
  std::vector<Field> fields;
  const Field* find(std::string_view key) const;
};

struct FileContents {
  bool ok = false;
  std::string data;
  std::string error;  // strerror text when !ok
};
FileContents read_file(const std::string& path);

class Reader {
 public:
  Reader(std::string file, const EnvLookup& env) : file_(std::move(file)), env_(env) {}

  void error(int line, std::string path, std::string message);
  void warning(int line, std::string path, std::string message);

  // Checks that `node` is a map and reports unknown keys (not in `allowed`; empty = any key),
  // duplicate keys and non-scalar keys. Those pairs are left out of the result.
  std::optional<FieldMap> map(const YAML::Node& node, int line, const std::string& path,
                              std::span<const std::string_view> allowed);
  std::optional<FieldMap> map(const Field& field, std::span<const std::string_view> allowed);

  // Reports "missing required key" at the map's line when absent.
  const Field* require(const FieldMap& map, std::string_view key);

  std::optional<std::string> string(const Field& field);  // non-empty scalar
  std::optional<int64_t> integer(const Field& field, int64_t min, int64_t max);
  std::optional<bool> boolean(const Field& field);
  std::optional<Duration> duration(const Field& field, bool allow_zero);
  std::optional<std::size_t> size(const Field& field);  // > 0
  // A string that must look like an environment variable name.
  std::optional<std::string> env_name(const Field& field);

  // Value of an environment variable; unset and empty both give nullopt.
  std::optional<std::string> env(const std::string& name) const;

  const std::string& file() const { return file_; }
  std::vector<Diagnostic>& errors() { return errors_; }
  std::vector<Diagnostic>& warnings() { return warnings_; }

 private:
  std::string file_;
  const EnvLookup& env_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

// Fills cfg.upstreams from the `upstreams` map and returns every name declared there (valid or not),
// so models can be checked against it without cascading errors.
std::set<std::string> load_upstreams(Reader& reader, const Field& field, Config& cfg);

// `api_key_env`: one variable name or a list of them (several provider keys, paced by the gateway).
void load_api_keys(Reader& r, const Field& field, Upstream& up);

// Fills cfg.models (deployments, balancer, retry policy, fallbacks) and checks every reference.
void load_models(Reader& r, const Field& field, const std::set<std::string>& upstream_names, Config& cfg);

// "host:port" or "[v6]:port" (loader.cc); nullopt when malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text);

// The optional `batch` section (loader_batch.cc).
void load_batch(Reader& r, const Field& field, Config& cfg);

// Fills cfg.admin from the `admin` map (loader_admin.cc).
void load_admin(Reader& r, const Field& field, Config& cfg);
// The `metrics` section: an optional scrape-only listener (loader_admin.cc).
void load_metrics_section(Reader& r, const Field& field, Config& cfg);
// The optional `cache`, `ledger` and `pricing` sections (loader_cache.cc).
void load_cache_sections(Reader& r, const FieldMap& top, Config& cfg);
// A `pricing` map (by upstream model id); `sluice plan` reads its price cards with it too.
void load_pricing(Reader& r, const Field& field, std::map<std::string, Price>& out);
// A plain (unquoted) decimal number in [0, max].
std::optional<double> number(Reader& r, const Field& f, double max);
// Admission (loader_admission.cc): a key's allowed models, priority and limits; the `admission` section;
// model references in both, checked after the models are loaded.
void load_key_policy(Reader& r, const FieldMap& key, KeyPolicy& policy);
void load_admission(Reader& r, const Field& field, AdmissionConfig& admission);
void check_admission_refs(Reader& r, const YAML::Node& root, const Config& cfg);
// loader_state.cc: the `state` section (backend, Redis settings, leases) and a key's `budget`.
void load_state(Reader& r, const Field& field, StateConfig& state);
void load_budget(Reader& r, const Field& field, Budget& budget);
// loader_resilience.cc: a model's `hedge`, `failover` and `affinity` sections; an upstream's `load_metrics`,
// `health_check` and `slow_start`.
void load_hedge(Reader& r, const Field& field, HedgeConfig& h);
void load_failover(Reader& r, const Field& field, FailoverConfig& f);
void load_affinity(Reader& r, const Field& field, AffinityConfig& a);
void load_upstream_resilience(Reader& r, const FieldMap& upstream, Upstream& up);

// "HH:MM" (UTC, 00:00-24:00) → minutes of the day.
std::optional<int> clock_minutes(std::string_view s);

}  // namespace sluice::config::detail
