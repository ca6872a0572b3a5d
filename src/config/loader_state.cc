// The `state` section (where rate limits, budgets, provider-key pacing and the cache are kept: in the process or
// in Redis) and a virtual key's `budget`.
#include <array>

#include "config/loader_internal.h"

namespace sluice::config::detail {

namespace {
constexpr std::array<std::string_view, 7> kStateKeys{"backend",       "fail_mode", "redis",    "lease_percent",
                                                     "lease_ttl",     "sync_interval", "heartbeat"};
constexpr std::array<std::string_view, 10> kRedisKeys{"address",  "key_prefix",   "timeout",  "connect_timeout",
                                                      "pool_size", "username",    "password_env", "database",
                                                      "tls",       "enabled"};
constexpr std::array<std::string_view, 4> kTlsKeys{"enabled", "ca_file", "verify", "server_name"};
constexpr std::array<std::string_view, 2> kBudgetKeys{"daily_usd", "monthly_usd"};
constexpr double kMaxUsd = 1e6;  // nano-USD sums stay exact in Lua (below 2^53)

// Key names end up in Redis keys; keep them to characters that need no escaping and no hash-tag braces.
bool is_prefix(std::string_view s) {
  return !s.empty() && s.size() <= 64 && is_simple_name(s) && s.find_first_of("{}") == std::string_view::npos;
}

void load_tls(Reader& r, const Field& field, RedisTls& t) {
  const auto m = r.map(field, kTlsKeys);
  if (!m) {
    return;
  }
  t.enabled = true;  // a tls section turns TLS on unless it says otherwise
  if (const Field* f = m->find("enabled")) {
    t.enabled = r.boolean(*f).value_or(t.enabled);
  }
  if (const Field* f = m->find("ca_file")) {
    t.ca_file = r.string(*f).value_or("");
  }
  if (const Field* f = m->find("verify")) {
    t.verify = r.boolean(*f).value_or(t.verify);
  }
  if (const Field* f = m->find("server_name")) {
    t.server_name = r.string(*f).value_or("");
  }
}

void load_redis(Reader& r, const Field& field, RedisSettings& s) {
  const auto m = r.map(field, kRedisKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("enabled")) {
    r.error(f->key_line, f->path, "use state.backend: redis to turn Redis on");
  }
  if (const Field* f = m->find("address")) {
    if (auto text = r.string(*f)) {
      if (auto ep = parse_endpoint(*text); ep && ep->port != 0) {
        s.host = ep->host;
        s.port = ep->port;
      } else {
        r.error(f->value_line(), f->path, "invalid address \"" + *text + "\": expected host:port (port 1-65535)");
      }
    }
  }
  if (const Field* f = m->find("key_prefix")) {
    if (auto p = r.string(*f)) {
      if (is_prefix(*p)) {
        s.key_prefix = *p;
      } else {
        r.error(f->value_line(), f->path, "invalid prefix \"" + *p + "\" (1-64 characters: A-Z a-z 0-9 _ . -)");
      }
    }
  }
  if (const Field* f = m->find("timeout")) {
    s.timeout = r.duration(*f, false).value_or(s.timeout);
  }
  if (const Field* f = m->find("connect_timeout")) {
    s.connect_timeout = r.duration(*f, false).value_or(s.connect_timeout);
  }
  if (const Field* f = m->find("pool_size")) {
    s.pool_size = static_cast<std::uint32_t>(r.integer(*f, 1, 16).value_or(s.pool_size));
  }
  if (const Field* f = m->find("username")) {
    s.username = r.string(*f).value_or("");
  }
  if (const Field* f = m->find("database")) {
    s.database = static_cast<std::uint32_t>(r.integer(*f, 0, 15).value_or(0));
  }
  if (const Field* f = m->find("password_env")) {
    if (auto var = r.env_name(*f)) {
      s.password_env = *var;
      if (auto pw = r.env(*var)) {
        s.password = *pw;
      } else {
        r.error(f->value_line(), f->path, "environment variable " + *var + " is not set or empty");
      }
    }
  }
  if (const Field* f = m->find("tls")) {
    load_tls(r, *f, s.tls);
  }
  if (!s.username.empty() && s.password_env.empty()) {
    r.error(field.key_line, field.path, "username needs password_env");
  }
}
}  // namespace

void load_state(Reader& r, const Field& field, StateConfig& st) {
  const auto m = r.map(field, kStateKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("backend")) {
    if (auto s = r.string(*f)) {
      if (*s == "local") {
        st.backend = StateBackend::kLocal;
      } else if (*s == "redis") {
        st.backend = StateBackend::kRedis;
      } else {
        r.error(f->value_line(), f->path, "unknown backend \"" + *s + "\" (expected one of: local, redis)");
      }
    }
  }
  if (const Field* f = m->find("fail_mode")) {
    if (auto s = r.string(*f)) {
      if (*s == "open") {
        st.fail_mode = FailMode::kOpen;
      } else if (*s == "closed") {
        st.fail_mode = FailMode::kClosed;
      } else {
        r.error(f->value_line(), f->path, "unknown fail_mode \"" + *s + "\" (expected one of: open, closed)");
      }
    }
  }
  const Field* redis = m->find("redis");
  if (redis != nullptr) {
    load_redis(r, *redis, st.redis);
  }
  if (st.backend == StateBackend::kRedis && redis == nullptr) {
    r.error(field.key_line, field.path, "backend redis needs a redis section (at least its address)");
  }
  if (const Field* f = m->find("lease_percent")) {
    if (auto p = number(r, *f, 100)) {
      st.lease_fraction = *p / 100.0;
    }
  }
  const std::pair<std::string_view, std::chrono::milliseconds*> durations[] = {
      {"lease_ttl", &st.lease_ttl}, {"sync_interval", &st.sync_interval}, {"heartbeat", &st.heartbeat}};
  for (const auto& [key, dst] : durations) {
    if (const Field* f = m->find(key)) {
      *dst = r.duration(*f, false).value_or(*dst);
    }
  }
  if (st.sync_interval > st.lease_ttl) {
    r.error(field.key_line, join_path(field.path, "sync_interval"), "must not exceed lease_ttl");
  }
}

void load_budget(Reader& r, const Field& field, Budget& b) {
  const auto m = r.map(field, kBudgetKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("daily_usd")) {
    b.daily_usd = number(r, *f, kMaxUsd).value_or(0);
  }
  if (const Field* f = m->find("monthly_usd")) {
    b.monthly_usd = number(r, *f, kMaxUsd).value_or(0);
  }
  if (!b.any() && m->fields.empty()) {
    r.error(field.key_line, field.path, "a budget needs daily_usd or monthly_usd");
  }
}

}  // namespace sluice::config::detail
