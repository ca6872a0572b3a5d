#include "config/loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <map>
#include <sstream>

#include "common/sha256.h"
#include "config/loader_internal.h"

namespace sluice::config {
namespace {

using detail::Field;
using detail::FieldMap;
using detail::Reader;

constexpr std::array<std::string_view, 16> kTopKeys{"listen", "workers", "log_level", "access_log",
                                                    "server", "keys",    "upstreams", "models",
                                                    "admin",  "metrics", "cache",     "ledger",
                                                    "pricing", "admission", "state", "batch"};
constexpr std::array<std::string_view, 10> kServerKeys{
    "max_body_bytes",    "max_header_bytes", "max_response_bytes", "header_timeout", "body_timeout",
    "keepalive_timeout", "write_timeout",    "drain_timeout",      "shutdown_delay", "half_close"};
constexpr std::array<std::string_view, 10> kKeyKeys{"name", "secret_env", "secret_sha256",
                                                    "allowed_models", "priority", "max_priority",
                                                    "limits", "model_limits", "default_max_tokens",
                                                    "budget"};
constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info", "warn", "error", "off"};

constexpr int64_t kMaxWorkers = 256;

// "host:port" or "[v6]:port"; the host is stored without brackets so it can go straight to a resolver.
std::optional<Endpoint> parse_listen(std::string_view s) {
  std::string_view host;
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = s.substr(1, close - 1);
    rest = s.substr(close + 1);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = s.substr(0, colon);
    rest = s.substr(colon);
    if (host.find(':') != std::string_view::npos) {  // bare IPv6 needs brackets to find the port
      return std::nullopt;
    }
  }
  if (host.empty() || host.find_first_of(" \t[]") != std::string_view::npos || rest.size() < 2 ||
      rest.front() != ':') {
    return std::nullopt;
  }
  const std::string_view port_text = rest.substr(1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  return Endpoint{std::string(host), static_cast<uint16_t>(port)};
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}


void load_server(Reader& r, const Field& field, ServerLimits& limits) {
  const auto map = r.map(field, kServerKeys);
  if (!map) {
    return;
  }
  const std::pair<std::string_view, std::size_t*> sizes[] = {
      {"max_body_bytes", &limits.max_body_bytes},
      {"max_header_bytes", &limits.max_header_bytes},
      {"max_response_bytes", &limits.max_response_bytes},
  };
  for (const auto& [key, out] : sizes) {
    if (const Field* f = map->find(key)) {
      if (auto v = r.size(*f)) {
        *out = *v;
      }
    }
  }
  const std::pair<std::string_view, Duration*> durations[] = {
      {"header_timeout", &limits.header_timeout},       {"body_timeout", &limits.body_timeout},
      {"keepalive_timeout", &limits.keepalive_timeout}, {"write_timeout", &limits.write_timeout},
      {"drain_timeout", &limits.drain_timeout},         {"shutdown_delay", &limits.shutdown_delay},
  };
  for (const auto& [key, out] : durations) {
    if (const Field* f = map->find(key)) {
      // drain_timeout 0 means "stop at once", shutdown_delay 0 "drain at once"; every other timeout of 0
      // would fail every request.
      if (auto v = r.duration(*f, key == "drain_timeout" || key == "shutdown_delay")) {
        *out = *v;
      }
    }
  }
  if (const Field* f = map->find("half_close")) {
    if (auto v = r.string(*f)) {
      if (*v == "cancel" || *v == "finish") {
        limits.finish_on_half_close = *v == "finish";
      } else {
        r.error(f->value_line(), f->path, "expected cancel or finish, got \"" + *v + "\"");
      }
    }
  }
}

void load_keys(Reader& r, const Field& field, std::vector<VirtualKey>& keys) {
  if (!field.value.IsSequence()) {
    r.error(field.value_line(), field.path, "expected a list, got " + detail::describe(field.value));
    return;
  }
  std::map<std::string, std::string> name_owner;    // name -> path of first use
  std::map<std::string, std::string> secret_owner;  // digest -> "keys[i] (\"name\")"
  for (std::size_t i = 0; i < field.value.size(); ++i) {
    const YAML::Node item = field.value[i];
    const std::string path = detail::index_path(field.path, i);
    const int line = detail::line_of(item) == 0 || item.IsNull() ? field.key_line : detail::line_of(item);
    const auto map = r.map(item, line, path, kKeyKeys);
    if (!map) {
      continue;
    }
    VirtualKey key;
    if (const Field* f = r.require(*map, "name")) {
      if (auto name = r.string(*f)) {
        if (!detail::is_simple_name(*name)) {
          r.error(f->value_line(), f->path,
                  "invalid name \"" + *name + "\" (allowed characters: A-Z a-z 0-9 _ . -)");
        } else if (auto [it, inserted] = name_owner.emplace(*name, path); !inserted) {
          r.error(f->value_line(), f->path,
                  "duplicate key name \"" + *name + "\" (also used by " + it->second + ")");
        }
        key.name = *name;
      }
    }
    detail::load_key_policy(r, *map, key.policy);
    const Field* env_field = map->find("secret_env");
    const Field* hash_field = map->find("secret_sha256");
    const Field* secret_field = env_field != nullptr ? env_field : hash_field;
    if (env_field != nullptr && hash_field != nullptr) {
      r.error(hash_field->key_line, path,
              "secret_env and secret_sha256 are mutually exclusive; set only one");
      continue;
    }
    if (secret_field == nullptr) {
      r.error(map->line, path, "missing secret: set exactly one of secret_env or secret_sha256");
      continue;
    }
    if (env_field != nullptr) {
      auto var = r.env_name(*env_field);
      if (!var) {
        continue;
      }
      auto secret = r.env(*var);
      if (!secret) {
        r.error(env_field->value_line(), env_field->path,
                "environment variable " + *var + " is not set or empty");
        continue;
      }
      key.secret_sha256 = sha256_hex(*secret);
    } else {
      auto hex = r.string(*hash_field);
      if (!hex) {
        continue;
      }
      if (!is_hex64(*hex)) {
        r.error(hash_field->value_line(), hash_field->path, "expected 64 hex characters (a SHA-256 digest)");
        continue;
      }
      key.secret_sha256 = lowercase(*hex);
    }
    // The digest identifies the caller, so two names sharing one secret would make attribution ambiguous.
    const std::string owner = path + " (\"" + key.name + "\")";
    if (auto [it, inserted] = secret_owner.emplace(key.secret_sha256, owner); !inserted) {
      r.error(secret_field->value_line(), secret_field->path, "same secret as " + it->second);
      continue;
    }
    keys.push_back(std::move(key));
  }
}

void load_top(Reader& r, const YAML::Node& root, Config& cfg) {
  if (!root.IsMap()) {
    r.error(detail::line_of(root), "", "top level must be a map, got " + detail::describe(root));
    return;
  }
  const auto top = r.map(root, 0, "", kTopKeys);
  if (!top) {
    return;
  }
  if (const Field* f = top->find("listen")) {
    if (auto s = r.string(*f)) {
      if (auto ep = parse_listen(*s)) {
        cfg.listen = *ep;
      } else {
        r.error(f->value_line(), f->path,
                "invalid address \"" + *s + "\": expected host:port or [ipv6]:port with port 0-65535");
      }
    }
  }
  if (const Field* f = top->find("workers")) {
    if (auto n = r.integer(*f, 0, kMaxWorkers)) {
      cfg.workers = static_cast<unsigned>(*n);
    }
  }
  if (const Field* f = top->find("log_level")) {
    if (auto s = r.string(*f)) {
      if (std::find(kLogLevels.begin(), kLogLevels.end(), *s) == kLogLevels.end()) {
        r.error(f->value_line(), f->path,
                "invalid log level \"" + *s + "\" (expected one of: trace, debug, info, warn, error, off)");
      } else {
        cfg.log_level = *s;
      }
    }
  }
  if (const Field* f = top->find("access_log")) {
    if (auto s = r.string(*f)) {
      cfg.access_log = *s;
    }
  }
  if (const Field* f = top->find("server")) {
    load_server(r, *f, cfg.limits);
  }
  if (const Field* f = top->find("keys")) {
    load_keys(r, *f, cfg.keys);
  }
  std::set<std::string> upstream_names;
  if (const Field* f = r.require(*top, "upstreams")) {
    upstream_names = detail::load_upstreams(r, *f, cfg);
  }
  if (const Field* f = r.require(*top, "models")) {
    load_models(r, *f, upstream_names, cfg);
  }
  if (const Field* f = top->find("admin")) {
    detail::load_admin(r, *f, cfg);
  }
  if (const Field* f = top->find("metrics")) {
    detail::load_metrics_section(r, *f, cfg);
  }
  detail::load_cache_sections(r, *top, cfg);
  if (const Field* f = top->find("admission")) {
    detail::load_admission(r, *f, cfg.admission);
  }
  detail::check_admission_refs(r, root, cfg);
  if (const Field* f = top->find("state")) {
    detail::load_state(r, *f, cfg.state);
  }
  if (const Field* f = top->find("batch")) {
    detail::load_batch(r, *f, cfg);
  }
}

}  // namespace

std::optional<Endpoint> detail::parse_endpoint(std::string_view text) { return parse_listen(text); }

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) {
      return std::nullopt;
    }
    return std::string(v);
  };
}

namespace {
// Notes where the second document starts, without building it (yaml-cpp's EventHandler): the line of its
// first node (as line_of() reports a node), else of its start marker.
class SecondDocument final : public YAML::EventHandler {
 public:
  int starts = 0;
  int line = 0;  // 1-based
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++starts == 2) line = mark.line + 1;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  bool have_node_ = false;
  void node(const YAML::Mark& mark) {
    if (starts == 2 && !have_node_ && !mark.is_null()) {
      have_node_ = true;
      line = mark.line + 1;
    }
  }
};

// The line where a second document starts, or 0 for a single one. Documents are counted with the parser and
// at most two are read: yaml-cpp 0.7's LoadAll never returns for some inputs (a lone "," yields empty
// documents forever, each allocated: found by tests/fuzz/fuzz_config.cc).
int second_document_line(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  SecondDocument second;
  int documents = 0;
  while (documents < 2 && parser.HandleNextDocument(second)) {
    ++documents;
  }
  return documents >= 2 ? std::max(1, second.line) : 0;
}
}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& source_name, const EnvLookup& env) {
  Reader r(source_name, env);
  auto cfg = std::make_shared<Config>();
  cfg->source = source_name;
  // yaml-cpp reports through exceptions; none may escape, callers only look at diagnostics.
  try {
    const std::string text(yaml);
    const YAML::Node doc = YAML::Load(text);
    if (doc.IsNull()) {
      r.error(0, "", "config is empty");
    } else if (const int second = second_document_line(text); second > 0) {
      r.error(second, "", "multiple YAML documents are not supported");
    } else {
      load_top(r, doc, *cfg);
    }
  } catch (const YAML::Exception& e) {
    r.error(e.mark.is_null() ? 0 : e.mark.line + 1, "", e.msg);
  } catch (const std::exception& e) {
    r.error(0, "", std::string("internal error: ") + e.what());
  }
  LoadResult out;
  out.errors = std::move(r.errors());
  out.warnings = std::move(r.warnings());
  if (out.errors.empty()) {
    out.config = std::move(cfg);
  }
  return out;
}

LoadResult load_file(const std::string& path, const EnvLookup& env) {
  const detail::FileContents contents = detail::read_file(path);
  if (!contents.ok) {
    LoadResult out;
    out.errors.push_back({path, 0, "", "cannot read file: " + contents.error});
    return out;
  }
  return load_string(contents.data, path, env);
}

}  // namespace sluice::config
