// The `models` section: each public model is a group of deployments with a balancer, a retry policy and an
// optional fallback chain. `upstream:` + `model:` is shorthand for a group of one deployment.
#include <array>

#include "config/loader_internal.h"

namespace sluice::config::detail {
namespace {

constexpr std::array<std::string_view, 12> kModelKeys{"upstream", "model", "owned_by",  "deployments",
                                                      "balancer", "retry", "fallbacks", "request_timeout",
                                                      "weight",   "hedge", "failover",  "affinity"};
constexpr std::array<std::string_view, 3> kDeploymentKeys{"upstream", "model", "weight"};
constexpr std::array<std::string_view, 10> kRetryKeys{
    "max_attempts", "backoff_base", "backoff_cap", "throttle_k", "throttle_window", "throttle_min_attempts",
    // Retired with the concurrency budget and the token throttle: accepted with a warning, no effect.
    "budget_ratio", "budget_min", "throttle_ratio", "throttle_tokens"};
constexpr std::array<std::pair<std::string_view, Balancer>, 5> kBalancers{{
    {"round_robin", Balancer::kRoundRobin},
    {"weighted_random", Balancer::kWeightedRandom},
    {"least_request", Balancer::kLeastRequest},
    {"peak_ewma", Balancer::kPeakEwma},
    {"load_aware", Balancer::kLoadAware},
}};

// Public model names are free-form (they often contain '/' or ':') but must be usable in JSON and logs.
bool is_model_name(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

struct Context {
  Reader& r;
  const std::set<std::string>& upstream_names;
  std::string known;  // "a, b" for messages
};

void check_upstream(Context& c, const Field& f, const std::string& name) {
  // With no upstream declared the `upstreams` error already explains the problem.
  if (!c.upstream_names.empty() && c.upstream_names.count(name) == 0) {
    c.r.error(f.value_line(), f.path,
              "unknown upstream \"" + name + "\" (defined upstreams: " + c.known + ")");
  }
}

std::optional<Deployment> load_deployment(Context& c, const FieldMap& m, const std::string& public_name) {
  Deployment d;
  const Field* up = c.r.require(m, "upstream");
  if (!up) {
    return std::nullopt;
  }
  auto name = c.r.string(*up);
  if (!name) {
    return std::nullopt;
  }
  check_upstream(c, *up, *name);
  d.upstream = *name;
  d.upstream_model = public_name;
  if (const Field* f = m.find("model")) {
    if (auto v = c.r.string(*f)) {
      d.upstream_model = *v;
    }
  }
  if (const Field* f = m.find("weight")) {
    if (auto w = c.r.integer(*f, 0, 1'000'000)) {
      d.weight = static_cast<std::uint32_t>(*w);
    }
  }
  return d;
}

void load_retry(Context& c, const Field& field, RetryPolicy& p) {
  const auto m = c.r.map(field, kRetryKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("max_attempts")) {
    if (auto n = c.r.integer(*f, 1, 20)) {
      p.max_attempts = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = m->find("backoff_base")) {
    if (auto d = c.r.duration(*f, false)) {
      p.backoff_base = *d;
    }
  }
  if (const Field* f = m->find("backoff_cap")) {
    if (auto d = c.r.duration(*f, false)) {
      p.backoff_cap = *d;
    }
  }
  if (const Field* f = m->find("throttle_k")) {
    if (auto k = number(c.r, *f, 100); k && *k < 1) {
      c.r.error(f->value_line(), f->path,
                "must be at least 1 (1 stops retrying as soon as any attempt fails)");
    } else if (k) {
      p.throttle_k = *k;
    }
  }
  if (const Field* f = m->find("throttle_window")) {
    if (auto d = c.r.duration(*f, false)) {
      p.throttle_window = *d;
    }
  }
  if (const Field* f = m->find("throttle_min_attempts")) {
    if (auto n = c.r.integer(*f, 0, 1'000'000)) {
      p.throttle_min_attempts = static_cast<std::uint32_t>(*n);
    }
  }
  for (const std::string_view retired : {"budget_ratio", "budget_min", "throttle_ratio", "throttle_tokens"}) {
    if (const Field* f = m->find(retired)) {
      c.r.warning(f->key_line, f->path,
                  "no longer used: retries are admitted by adaptive throttling (retry.throttle_k, "
                  "retry.throttle_window; docs/routing.md)");
    }
  }
  if (p.backoff_cap < p.backoff_base) {
    c.r.error(field.key_line, field.path, "backoff_cap must not be shorter than backoff_base");
  }
}

void load_model(Context& c, const Field& entry, Model& model) {
  const auto m = c.r.map(entry, kModelKeys);
  if (!m) {
    return;
  }
  const Field* single = m->find("upstream");
  const Field* list = m->find("deployments");
  if (single && list) {
    c.r.error(list->key_line, list->path, "use either upstream (one deployment) or deployments, not both");
  } else if (list) {
    for (const char* k : {"model", "weight"}) {
      if (const Field* f = m->find(k)) {
        c.r.error(f->key_line, f->path,
                  std::string(k) + " belongs inside each deployment when deployments is used");
      }
    }
    if (!list->value.IsSequence() || list->value.size() == 0) {
      c.r.error(list->value_line(), list->path, "expected a non-empty list of deployments");
    } else {
      for (std::size_t i = 0; i < list->value.size(); ++i) {
        const YAML::Node item = list->value[i];
        auto dm = c.r.map(item, line_of(item), index_path(list->path, i), kDeploymentKeys);
        if (dm) {
          if (auto d = load_deployment(c, *dm, model.name)) {
            model.deployments.push_back(std::move(*d));
          }
        }
      }
    }
  } else if (auto d = load_deployment(c, *m, model.name)) {  // reports "missing required key upstream"
    model.deployments.push_back(std::move(*d));
  }
  model.owned_by = model.deployments.empty() ? std::string{} : model.deployments.front().upstream;
  if (const Field* f = m->find("owned_by")) {
    if (auto v = c.r.string(*f)) {
      model.owned_by = *v;
    }
  }
  if (const Field* f = m->find("balancer")) {
    if (auto v = c.r.string(*f)) {
      bool found = false;
      for (const auto& [name, kind] : kBalancers) {
        if (*v == name) {
          model.balancer = kind;
          found = true;
        }
      }
      if (!found) {
        c.r.error(
            f->value_line(), f->path,
            "unknown balancer \"" + *v +
                "\" (expected one of: round_robin, weighted_random, least_request, peak_ewma, load_aware)");
      }
    }
  }
  if (const Field* f = m->find("retry")) {
    load_retry(c, *f, model.retry);
  }
  if (const Field* f = m->find("hedge")) {
    load_hedge(c.r, *f, model.hedge);
  }
  if (const Field* f = m->find("failover")) {
    load_failover(c.r, *f, model.failover);
  }
  if (const Field* f = m->find("affinity")) {
    load_affinity(c.r, *f, model.affinity);
  }
  if (const Field* f = m->find("request_timeout")) {
    if (auto d = c.r.duration(*f, false)) {
      model.request_timeout = *d;
    }
  }
  if (const Field* f = m->find("fallbacks")) {
    if (!f->value.IsSequence()) {
      c.r.error(f->value_line(), f->path, "expected a list of model names, got " + describe(f->value));
    } else {
      for (std::size_t i = 0; i < f->value.size(); ++i) {
        const YAML::Node item = f->value[i];
        if (!item.IsScalar() || item.Scalar().empty()) {
          c.r.error(line_of(item), index_path(f->path, i), "expected a model name, got " + describe(item));
        } else {
          model.fallbacks.push_back(item.Scalar());
        }
      }
    }
  }
}

// Fallback names must exist and must not name the model itself. Chains that loop back are cut at runtime
// (each group is tried once per request).
void check_fallbacks(Reader& r, const FieldMap& map, const Config& cfg) {
  for (const Field& entry : map.fields) {
    auto it = cfg.models.find(entry.key);
    if (it == cfg.models.end() || !entry.value.IsMap()) {
      continue;
    }
    const YAML::Node list = entry.value["fallbacks"];
    for (std::size_t i = 0; i < it->second.fallbacks.size(); ++i) {
      const std::string& fb = it->second.fallbacks[i];
      std::string path = index_path(join_path(entry.path, "fallbacks"), i);
      int line = list && list.IsSequence() && i < list.size() ? line_of(list[i]) : entry.key_line;
      if (fb == entry.key) {
        r.error(line, path, "a model cannot fall back to itself");
      } else if (cfg.models.count(fb) == 0) {
        r.error(line, path, "unknown model \"" + fb + "\"");
      }
    }
  }
}

}  // namespace

void load_models(Reader& r, const Field& field, const std::set<std::string>& upstream_names, Config& cfg) {
  const auto map = r.map(field, {});
  if (!map) {
    return;
  }
  if (map->fields.empty()) {
    r.error(field.key_line, field.path, "must define at least one model");
    return;
  }
  Context c{r, upstream_names, {}};
  for (const std::string& name : upstream_names) {
    c.known += (c.known.empty() ? "" : ", ") + name;
  }
  for (const Field& entry : map->fields) {
    if (!is_model_name(entry.key)) {
      r.error(entry.key_line, entry.path,
              "invalid model name \"" + entry.key + "\" (no spaces or control characters)");
    }
    Model model;
    model.name = entry.key;
    load_model(c, entry, model);
    cfg.models.emplace(model.name, std::move(model));
  }
  check_fallbacks(r, *map, cfg);
}

}  // namespace sluice::config::detail
