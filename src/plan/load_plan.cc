// plan.yaml: traffic source, price cards (API and GPU), engine, SLO, autoscaling and gateway sizing.
#include <fmt/format.h>

#include <array>
#include <cmath>

#include "plan/load_common.h"

namespace sluice::plan {

namespace {
using detail::Field;
using detail::FieldMap;
using detail::Reader;

constexpr std::array<std::string_view, 7> kPlanTopKeys{"traffic", "pricing",     "gpu",    "engine",
                                                       "slo",     "autoscaling", "gateway"};
constexpr std::array<std::string_view, 4> kTrafficKeys{"profile", "ledger", "deferrable_share",
                                                       "defer_max_delay"};
constexpr std::array<std::string_view, 7> kGpuKeys{"on_demand_per_hour",
                                                   "on_demand_per_year",
                                                   "reserved_per_hour",
                                                   "reserved_per_year",
                                                   "spot_per_hour",
                                                   "spot_share",
                                                   "owned"};
constexpr std::array<std::string_view, 4> kOwnedKeys{"capex", "lifetime_years", "power_per_hour",
                                                     "hosting_per_hour"};
constexpr std::array<std::string_view, 2> kSloKeys{"p99_first_token", "headroom"};
constexpr std::array<std::string_view, 5> kAutoscalingKeys{"scale_up_cooldown", "scale_down_cooldown",
                                                           "provision_time", "min_replicas", "predictive"};
constexpr std::array<std::string_view, 4> kGatewayKeys{"rps_per_replica", "in_flight_per_replica",
                                                       "min_replicas", "request_duration"};
constexpr double kMaxUsd = 1e9;
constexpr double kMaxHeadroom = 0.95;

// "x_per_hour" or "x_per_year" (÷ 8760), not both.
std::optional<double> hourly_price(Reader& r, const FieldMap& m, std::string_view hour_key,
                                   std::string_view year_key) {
  const Field* h = m.find(hour_key);
  const Field* y = m.find(year_key);
  if (h && y) {
    r.error(y->key_line, y->path, fmt::format("set either {} or {}, not both", hour_key, year_key));
    return std::nullopt;
  }
  if (h) {
    return detail::positive(r, *h, kMaxUsd);
  }
  if (y) {
    auto v = detail::positive(r, *y, kMaxUsd);
    return v ? std::optional<double>(*v / kHoursPerYear) : std::nullopt;
  }
  return std::nullopt;
}

void load_owned(Reader& r, const Field& field, GpuPrices& gpu) {
  auto m = r.map(field, kOwnedKeys);
  if (!m) {
    return;
  }
  OwnedHardware o;
  if (const Field* f = r.require(*m, "capex")) {
    o.capex = detail::positive(r, *f, kMaxUsd).value_or(0);
  }
  if (const Field* f = r.require(*m, "lifetime_years")) {
    o.lifetime_years = detail::positive(r, *f, 50).value_or(0);
  }
  if (const Field* f = m->find("power_per_hour")) {
    o.power_per_hour = detail::fraction(r, *f, kMaxUsd).value_or(0);
  }
  if (const Field* f = m->find("hosting_per_hour")) {
    o.hosting_per_hour = detail::fraction(r, *f, kMaxUsd).value_or(0);
  }
  if (o.capex > 0 && o.lifetime_years > 0) {
    gpu.owned = o;
  }
}

void load_gpu(Reader& r, const Field& field, GpuPrices& gpu) {
  auto m = r.map(field, kGpuKeys);
  if (!m) {
    return;
  }
  gpu.on_demand_per_hour = hourly_price(r, *m, "on_demand_per_hour", "on_demand_per_year");
  gpu.reserved_per_hour = hourly_price(r, *m, "reserved_per_hour", "reserved_per_year");
  if (const Field* f = m->find("spot_per_hour")) {
    gpu.spot_per_hour = detail::positive(r, *f, kMaxUsd);
  }
  if (const Field* f = m->find("spot_share")) {
    gpu.spot_share = detail::fraction(r, *f, 1.0).value_or(0);
    if (gpu.spot_share > 0 && !m->find("spot_per_hour")) {
      r.error(f->key_line, f->path, "needs gpu.spot_per_hour");
    }
    if (gpu.spot_share > 0 && !gpu.on_demand_per_hour) {
      r.error(f->key_line, f->path, "spot takes a share of the on-demand hours: set gpu.on_demand_per_hour");
    }
  }
  if (const Field* f = m->find("owned")) {
    load_owned(r, *f, gpu);
  }
  if (!m->find("on_demand_per_hour") && !m->find("on_demand_per_year") && !m->find("reserved_per_hour") &&
      !m->find("reserved_per_year") && !m->find("owned")) {
    r.error(field.key_line, field.path,
            "expected at least one of on_demand_per_hour, reserved_per_hour, owned");
  }
}

void load_traffic(Reader& r, const Field& field, PlanConfig& cfg) {
  auto m = r.map(field, kTrafficKeys);
  if (!m) {
    return;
  }
  const Field* profile = m->find("profile");
  const Field* ledger = m->find("ledger");
  if (profile && ledger) {
    r.error(ledger->key_line, ledger->path, "set either traffic.profile or traffic.ledger, not both");
  } else if (profile) {
    cfg.profile_path = detail::resolve_path(cfg.source, r.string(*profile).value_or(""));
  } else if (ledger) {
    cfg.ledger_path = detail::resolve_path(cfg.source, r.string(*ledger).value_or(""));
  }
  if (const Field* f = m->find("deferrable_share")) {
    cfg.ledger_deferrable_share = detail::fraction(r, *f, 1.0).value_or(0);
  }
  if (const Field* f = m->find("defer_max_delay")) {
    if (auto s = detail::seconds(r, *f, false)) {
      cfg.defer_max_delay_h = *s / 3600.0;
      if (cfg.defer_max_delay_h > kHoursPerWeek) {
        r.error(f->value_line(), f->path, "must be at most one week (168h)");
      }
    }
  }
}

void load_slo(Reader& r, const Field& field, Slo& slo) {
  auto m = r.map(field, kSloKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("p99_first_token")) {
    slo.p99_first_token_s = detail::seconds(r, *f, false).value_or(slo.p99_first_token_s);
  }
  if (const Field* f = m->find("headroom")) {
    slo.headroom = detail::fraction(r, *f, kMaxHeadroom).value_or(slo.headroom);
  }
}

int minutes_up(double seconds) { return static_cast<int>(std::ceil(seconds / 60.0 - 1e-9)); }

void load_autoscaling(Reader& r, const Field& field, Autoscaling& a) {
  auto m = r.map(field, kAutoscalingKeys);
  if (!m) {
    return;
  }
  const std::pair<std::string_view, int*> durations[] = {{"scale_up_cooldown", &a.scale_up_cooldown_min},
                                                         {"scale_down_cooldown", &a.scale_down_cooldown_min},
                                                         {"provision_time", &a.provision_min}};
  for (const auto& [key, out] : durations) {
    if (const Field* f = m->find(key)) {
      if (auto s = detail::seconds(r, *f, true)) {
        if (*s > 24 * 3600) {
          r.error(f->value_line(), f->path, "must be at most 24h");
        } else {
          *out = minutes_up(*s);
        }
      }
    }
  }
  if (const Field* f = m->find("min_replicas")) {
    a.min_replicas = static_cast<int>(r.integer(*f, 0, 100000).value_or(a.min_replicas));
  }
  if (const Field* f = m->find("predictive")) {
    a.predictive = r.boolean(*f).value_or(false);
  }
}

void load_gateway(Reader& r, const Field& field, GatewaySizing& g) {
  auto m = r.map(field, kGatewayKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("rps_per_replica")) {
    g.rps_per_replica = detail::positive(r, *f, 1e9).value_or(g.rps_per_replica);
  }
  if (const Field* f = m->find("in_flight_per_replica")) {
    g.in_flight_per_replica = detail::positive(r, *f, 1e9).value_or(g.in_flight_per_replica);
  }
  if (const Field* f = m->find("min_replicas")) {
    g.min_replicas = static_cast<int>(r.integer(*f, 1, 10000).value_or(g.min_replicas));
  }
  if (const Field* f = m->find("request_duration")) {
    g.request_duration_s = detail::seconds(r, *f, false);
  }
}

}  // namespace

namespace detail {
void load_engine(Reader& r, const Field& field, PlanConfig& cfg, Diagnostics& diag);
}

std::optional<PlanConfig> load_plan_string(const std::string& yaml, const std::string& path,
                                           Diagnostics& diag) {
  const config::EnvLookup no_env;
  Reader r(path, no_env);
  PlanConfig cfg;
  cfg.source = path;
  auto root = detail::parse_document(r, yaml);
  std::optional<FieldMap> top;
  if (root) {
    top = r.map(*root, 1, "", kPlanTopKeys);
  }
  if (top) {
    if (const Field* f = top->find("traffic")) {
      load_traffic(r, *f, cfg);
    }
    if (const Field* f = r.require(*top, "pricing")) {
      config::detail::load_pricing(r, *f, cfg.pricing);
    }
    if (const Field* f = top->find("gpu")) {
      load_gpu(r, *f, cfg.gpu);
    }
    if (const Field* f = top->find("engine")) {
      detail::load_engine(r, *f, cfg, diag);
    }
    if (const Field* f = top->find("slo")) {
      load_slo(r, *f, cfg.slo);
    }
    if (const Field* f = top->find("autoscaling")) {
      load_autoscaling(r, *f, cfg.autoscaling);
    }
    if (const Field* f = top->find("gateway")) {
      load_gateway(r, *f, cfg.gateway);
    }
    if (cfg.engine && !top->find("gpu")) {
      r.warning(top->find("engine")->key_line, "engine",
                "no gpu prices: the self-hosted and hybrid options are left out");
    }
    if (!cfg.engine && top->find("gpu")) {
      r.warning(top->find("gpu")->key_line, "gpu",
                "no engine: the self-hosted and hybrid options are left out");
    }
  }
  detail::collect(r, diag);
  if (!diag.ok()) {
    return std::nullopt;
  }
  return cfg;
}

std::optional<PlanConfig> load_plan(const std::string& path, Diagnostics& diag) {
  const auto contents = config::detail::read_file(path);
  if (!contents.ok) {
    diag.errors.push_back({path, 0, "", "cannot read file: " + contents.error});
    return std::nullopt;
  }
  return load_plan_string(contents.data, path, diag);
}

}  // namespace sluice::plan
