// Per-model resilience sections beyond retries: `hedge`.
#include <array>

#include "config/loader_internal.h"

namespace sluice::config::detail {
namespace {
constexpr std::array<std::string_view, 6> kHedgeKeys{"enabled",   "delay",     "quantile",
                                                     "min_delay", "max_delay", "min_samples"};
}  // namespace

void load_hedge(Reader& r, const Field& field, HedgeConfig& h) {
  const auto m = r.map(field, kHedgeKeys);
  if (!m) {
    return;
  }
  h.enabled = true;  // a hedge section turns hedging on unless it says enabled: false
  if (const Field* f = m->find("enabled")) {
    if (auto b = r.boolean(*f)) {
      h.enabled = *b;
    }
  }
  if (const Field* f = m->find("delay")) {
    if (f->value.IsScalar() && f->value.Scalar() == "auto") {
      h.delay.reset();
    } else if (auto d = r.duration(*f, false)) {
      h.delay = *d;
    }
  }
  if (const Field* f = m->find("quantile")) {
    if (auto q = r.integer(*f, 1, 100)) {
      h.quantile = static_cast<std::uint32_t>(*q);
    }
  }
  if (const Field* f = m->find("min_delay")) {
    if (auto d = r.duration(*f, true)) {
      h.min_delay = *d;
    }
  }
  if (const Field* f = m->find("max_delay")) {
    if (auto d = r.duration(*f, false)) {
      h.max_delay = *d;
    }
  }
  if (const Field* f = m->find("min_samples")) {
    if (auto n = r.integer(*f, 1, 100'000)) {
      h.min_samples = static_cast<std::uint32_t>(*n);
    }
  }
  if (h.max_delay < h.min_delay) {
    r.error(field.key_line, field.path, "max_delay must not be shorter than min_delay");
  }
}

}  // namespace sluice::config::detail

namespace sluice::config::detail {
namespace {
constexpr std::array<std::string_view, 3> kFailoverKeys{"enabled", "mode", "max_resumes"};
constexpr std::array<std::string_view, 2> kAffinityKeys{"prefix_bytes", "overload_factor"};
constexpr std::array<std::string_view, 4> kLoadMetricsKeys{"enabled", "url", "interval", "capacity"};
constexpr std::array<std::string_view, 6> kHealthKeys{"enabled",  "path", "interval", "timeout",
                                                      "unhealthy_threshold", "healthy_threshold"};

void load_load_metrics(Reader& r, const Field& field, Upstream& up) {
  const auto m = r.map(field, kLoadMetricsKeys);
  if (!m) {
    return;
  }
  auto& lm = up.load_metrics;
  lm.enabled = true;
  if (const Field* f = m->find("enabled")) {
    if (auto b = r.boolean(*f)) {
      lm.enabled = *b;
    }
  }
  if (const Field* f = m->find("url")) {
    if (auto v = r.string(*f)) {
      if (!v->starts_with("http://")) {
        r.error(f->value_line(), f->path, "expected an http:// URL (metrics are scraped over plain HTTP)");
      }
      lm.url = *v;
    }
  }
  if (const Field* f = m->find("interval")) {
    if (auto d = r.duration(*f, false)) {
      lm.interval = *d;
      if (*d < Duration(50)) {
        r.error(f->value_line(), f->path, "must be at least 50ms");
      }
    }
  }
  if (const Field* f = m->find("capacity")) {
    if (auto n = r.integer(*f, 1, 1'000'000)) {
      lm.capacity = static_cast<std::uint32_t>(*n);
    }
  }
  if (lm.url.empty() && lm.enabled) {
    if (up.scheme != "http") {
      r.error(field.key_line, field.path, "set url: an https upstream's metrics need an explicit http:// URL");
    }
    lm.url = "http://" + (up.host.find(':') != std::string::npos ? "[" + up.host + "]" : up.host) + ":" +
             std::to_string(up.port) + "/metrics";
  }
}

void load_health_check(Reader& r, const Field& field, Upstream& up) {
  const auto m = r.map(field, kHealthKeys);
  if (!m) {
    return;
  }
  auto& hc = up.health_check;
  hc.enabled = true;
  if (const Field* f = m->find("enabled")) {
    if (auto b = r.boolean(*f)) {
      hc.enabled = *b;
    }
  }
  if (const Field* f = m->find("path")) {
    if (auto v = r.string(*f)) {
      if (!v->starts_with("/")) {
        r.error(f->value_line(), f->path, "must start with /");
      }
      hc.path = *v;
    }
  }
  if (const Field* f = m->find("interval")) {
    if (auto d = r.duration(*f, false)) {
      hc.interval = *d;
    }
  }
  if (const Field* f = m->find("timeout")) {
    if (auto d = r.duration(*f, false)) {
      hc.timeout = *d;
    }
  }
  if (const Field* f = m->find("unhealthy_threshold")) {
    if (auto n = r.integer(*f, 1, 100)) {
      hc.unhealthy_threshold = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = m->find("healthy_threshold")) {
    if (auto n = r.integer(*f, 1, 100)) {
      hc.healthy_threshold = static_cast<std::uint32_t>(*n);
    }
  }
  if (up.scheme != "http" && hc.enabled) {
    r.error(field.key_line, field.path, "active health checks support http upstreams only");
  }
}
}  // namespace

void load_failover(Reader& r, const Field& field, FailoverConfig& fo) {
  const auto m = r.map(field, kFailoverKeys);
  if (!m) {
    return;
  }
  fo.enabled = true;
  if (const Field* f = m->find("enabled")) {
    if (auto b = r.boolean(*f)) {
      fo.enabled = *b;
    }
  }
  if (const Field* f = m->find("mode")) {
    if (auto v = r.string(*f)) {
      if (*v == "prefix") {
        fo.mode = FailoverConfig::Mode::kPrefix;
      } else if (*v == "continue") {
        fo.mode = FailoverConfig::Mode::kContinue;
      } else {
        r.error(f->value_line(), f->path, "unknown mode \"" + *v + "\" (expected one of: prefix, continue)");
      }
    }
  }
  if (const Field* f = m->find("max_resumes")) {
    if (auto n = r.integer(*f, 1, 10)) {
      fo.max_resumes = static_cast<std::uint32_t>(*n);
    }
  }
}

void load_affinity(Reader& r, const Field& field, AffinityConfig& a) {
  const auto m = r.map(field, kAffinityKeys);
  if (!m) {
    return;
  }
  if (const Field* f = r.require(*m, "prefix_bytes")) {
    if (auto n = r.integer(*f, 16, 1 << 20)) {
      a.prefix_bytes = static_cast<std::size_t>(*n);
    }
  }
  if (const Field* f = m->find("overload_factor")) {
    if (auto pct = r.integer(*f, 100, 10'000)) {
      a.overload_factor = double(*pct) / 100.0;
    }
  }
}

void load_upstream_resilience(Reader& r, const FieldMap& m, Upstream& up) {
  if (const Field* f = m.find("load_metrics")) {
    load_load_metrics(r, *f, up);
  }
  if (const Field* f = m.find("health_check")) {
    load_health_check(r, *f, up);
  }
  if (const Field* f = m.find("slow_start")) {
    if (auto d = r.duration(*f, true)) {
      up.slow_start = *d;
    }
  }
}

}  // namespace sluice::config::detail
