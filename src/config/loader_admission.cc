// Admission settings: the extra fields of each virtual key (allowed models, priority, limits) and the
// top-level `admission` section (queue policy, CoDel, per-model-group concurrency and degradation).
#include <array>

#include "config/loader_internal.h"

namespace sluice::config {

const char* to_string(Priority p) {
  switch (p) {
    case Priority::kHigh:
      return "high";
    case Priority::kMedium:
      return "medium";
    case Priority::kLow:
      return "low";
    case Priority::kBatch:
      return "batch";
  }
  return "medium";
}

std::optional<Priority> parse_priority(std::string_view s) {
  if (s == "high") {
    return Priority::kHigh;
  }
  if (s == "medium") {
    return Priority::kMedium;
  }
  if (s == "low") {
    return Priority::kLow;
  }
  return std::nullopt;
}

namespace detail {
namespace {

constexpr std::array<std::string_view, 6> kLimitKeys{"rpm",    "tpm",           "max_concurrent",
                                                     "window", "request_burst", "token_burst"};
constexpr std::array<std::string_view, 4> kAdmissionKeys{"policy", "weights", "codel", "groups"};
constexpr std::array<std::string_view, 2> kCodelKeys{"target", "interval"};
constexpr std::array<std::string_view, 3> kClassKeys{"high", "medium", "low"};
constexpr std::array<std::string_view, 8> kGroupKeys{"max_concurrent", "adaptive",  "min_concurrent",
                                                     "initial_concurrent", "max_queue", "max_wait",
                                                     "degrade", "batch_reserve"};
constexpr std::int64_t kMaxCount = 1'000'000'000'000;  // per window; far beyond any real limit

std::optional<Priority> priority(Reader& r, const Field& f) {
  auto s = r.string(f);
  if (!s) {
    return std::nullopt;
  }
  auto p = parse_priority(*s);
  if (!p) {
    r.error(f.value_line(), f.path, "invalid priority \"" + *s + "\" (expected one of: high, medium, low)");
  }
  return p;
}

void load_limits(Reader& r, const Field& field, RateLimits& out) {
  const auto m = r.map(field, kLimitKeys);
  if (!m) {
    return;
  }
  const std::pair<std::string_view, std::uint64_t*> counts[] = {
      {"rpm", &out.rpm},
      {"tpm", &out.tpm},
      {"request_burst", &out.request_burst},
      {"token_burst", &out.token_burst},
  };
  for (const auto& [key, dst] : counts) {
    if (const Field* f = m->find(key)) {
      if (auto n = r.integer(*f, 0, kMaxCount)) {
        *dst = static_cast<std::uint64_t>(*n);
      }
    }
  }
  if (const Field* f = m->find("max_concurrent")) {
    if (auto n = r.integer(*f, 0, 1'000'000)) {
      out.max_concurrent = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = m->find("window")) {
    if (auto d = r.duration(*f, false)) {
      out.window = *d;
    }
  }
  if (out.request_burst != 0 && out.rpm == 0) {
    r.error(field.key_line, field.path, "request_burst needs rpm");
  }
  if (out.token_burst != 0 && out.tpm == 0) {
    r.error(field.key_line, field.path, "token_burst needs tpm");
  }
}

// A map of class name → value, e.g. {high: 30s, low: 5s}.
template <class Fn>
void per_class(Reader& r, const Field& field, Fn&& fn) {
  const auto m = r.map(field, kClassKeys);
  if (!m) {
    return;
  }
  for (const Field& f : m->fields) {
    fn(f, *parse_priority(f.key));
  }
}

void load_group(Reader& r, const Field& entry, AdmissionGroup& g) {
  const auto m = r.map(entry, kGroupKeys);
  if (!m) {
    return;
  }
  const std::pair<std::string_view, std::uint32_t*> counts[] = {
      {"max_concurrent", &g.max_concurrent},
      {"min_concurrent", &g.min_concurrent},
      {"initial_concurrent", &g.initial_concurrent},
      {"max_queue", &g.max_queue},
  };
  for (const auto& [key, dst] : counts) {
    if (const Field* f = m->find(key)) {
      if (auto n = r.integer(*f, key == "max_queue" ? 0 : 1, 1'000'000)) {
        *dst = static_cast<std::uint32_t>(*n);
      }
    }
  }
  if (const Field* f = m->find("batch_reserve")) {
    if (auto n = r.integer(*f, 0, 100)) {
      g.batch_reserve = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = m->find("adaptive")) {
    if (auto s = r.string(*f)) {
      if (*s == "off") {
        g.adaptive = AdaptiveAlgorithm::kOff;
      } else if (*s == "gradient") {
        g.adaptive = AdaptiveAlgorithm::kGradient;
      } else if (*s == "aimd") {
        g.adaptive = AdaptiveAlgorithm::kAimd;
      } else {
        r.error(f->value_line(), f->path,
                "unknown algorithm \"" + *s + "\" (expected one of: off, gradient, aimd)");
      }
    }
  }
  if (const Field* f = m->find("max_wait")) {
    per_class(r, *f, [&](const Field& cf, Priority p) {
      if (auto d = r.duration(cf, true)) {
        g.max_wait[static_cast<std::size_t>(p)] = *d;
      }
    });
  }
  if (const Field* f = m->find("degrade")) {
    per_class(r, *f, [&](const Field& cf, Priority p) {
      if (auto s = r.string(cf)) {
        g.degrade_to[static_cast<std::size_t>(p)] = *s;
      }
    });
  }
  if (g.adaptive != AdaptiveAlgorithm::kOff && g.max_concurrent == 0) {
    r.error(entry.key_line, entry.path, "an adaptive limit needs max_concurrent (its ceiling)");
  }
  if (g.max_concurrent != 0 && g.min_concurrent > g.max_concurrent) {
    r.error(entry.key_line, entry.path, "min_concurrent must not exceed max_concurrent");
  }
  if (g.initial_concurrent != 0 &&
      (g.initial_concurrent < g.min_concurrent ||
       (g.max_concurrent != 0 && g.initial_concurrent > g.max_concurrent))) {
    r.error(entry.key_line, entry.path, "initial_concurrent must be between min_concurrent and max_concurrent");
  }
}

void check_model(Reader& r, const Config& cfg, const YAML::Node& node, int line, const std::string& path) {
  if (node.IsScalar() && cfg.find_model(node.Scalar()) == nullptr) {
    r.error(line, path, "unknown model \"" + node.Scalar() + "\"");
  }
}

}  // namespace

void load_key_policy(Reader& r, const FieldMap& key, KeyPolicy& p) {
  if (const Field* f = key.find("allowed_models")) {
    if (!f->value.IsSequence()) {
      r.error(f->value_line(), f->path, "expected a list of model names, got " + describe(f->value));
    } else {
      for (std::size_t i = 0; i < f->value.size(); ++i) {
        const YAML::Node item = f->value[i];
        if (!item.IsScalar() || item.Scalar().empty()) {
          r.error(line_of(item), index_path(f->path, i), "expected a model name, got " + describe(item));
        } else {
          p.allowed_models.push_back(item.Scalar());
        }
      }
    }
  }
  if (const Field* f = key.find("priority")) {
    if (auto v = priority(r, *f)) {
      p.default_priority = *v;
    }
  }
  if (const Field* f = key.find("max_priority")) {
    if (auto v = priority(r, *f)) {
      p.max_priority = *v;
    }
  }
  if (p.default_priority < p.max_priority) {  // "higher" priority = smaller value
    r.error(key.line, key.path, "priority must not be above max_priority");
  }
  if (const Field* f = key.find("limits")) {
    load_limits(r, *f, p.limits);
  }
  if (const Field* f = key.find("model_limits")) {
    if (const auto m = r.map(*f, {})) {
      for (const Field& mf : m->fields) {
        load_limits(r, mf, p.model_limits[mf.key]);
      }
    }
  }
  if (const Field* f = key.find("default_max_tokens")) {
    if (auto n = r.integer(*f, 0, 10'000'000)) {
      p.default_max_tokens = static_cast<std::uint32_t>(*n);
    }
  }
  if (const Field* f = key.find("budget")) {
    load_budget(r, *f, p.budget);
  }
}

void load_admission(Reader& r, const Field& field, AdmissionConfig& a) {
  const auto m = r.map(field, kAdmissionKeys);
  if (!m) {
    return;
  }
  if (const Field* f = m->find("policy")) {
    if (auto s = r.string(*f)) {
      if (*s == "strict") {
        a.policy = QueuePolicy::kStrict;
      } else if (*s == "weighted") {
        a.policy = QueuePolicy::kWeighted;
      } else {
        r.error(f->value_line(), f->path, "unknown policy \"" + *s + "\" (expected one of: strict, weighted)");
      }
    }
  }
  if (const Field* f = m->find("weights")) {
    per_class(r, *f, [&](const Field& cf, Priority p) {
      if (auto n = r.integer(cf, 1, 1000)) {
        a.weights[static_cast<std::size_t>(p)] = static_cast<std::uint32_t>(*n);
      }
    });
  }
  if (const Field* f = m->find("codel")) {
    if (const auto cm = r.map(*f, kCodelKeys)) {
      if (const Field* t = cm->find("target")) {
        if (auto d = r.duration(*t, false)) {
          a.codel_target = *d;
        }
      }
      if (const Field* t = cm->find("interval")) {
        if (auto d = r.duration(*t, false)) {
          a.codel_interval = *d;
        }
      }
    }
  }
  if (const Field* f = m->find("groups")) {
    if (const auto gm = r.map(*f, {})) {
      for (const Field& entry : gm->fields) {
        load_group(r, entry, a.groups[entry.key]);
      }
    }
  }
}

// Model names in keys and in the admission section must exist; checked once the models are loaded.
void check_admission_refs(Reader& r, const YAML::Node& root, const Config& cfg) {
  if (cfg.models.empty()) {
    return;  // the models error explains it
  }
  const YAML::Node keys = root["keys"];
  if (keys && keys.IsSequence()) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const YAML::Node k = keys[i];
      if (!k.IsMap()) {
        continue;
      }
      const std::string path = index_path("keys", i);
      if (const YAML::Node am = k["allowed_models"]; am && am.IsSequence()) {
        for (std::size_t j = 0; j < am.size(); ++j) {
          check_model(r, cfg, am[j], line_of(am[j]), index_path(join_path(path, "allowed_models"), j));
        }
      }
      if (const YAML::Node ml = k["model_limits"]; ml && ml.IsMap()) {
        for (const auto& kv : ml) {
          check_model(r, cfg, kv.first, line_of(kv.first), join_path(join_path(path, "model_limits"), kv.first.Scalar()));
        }
      }
    }
  }
  const YAML::Node adm = root["admission"];
  if (!adm || !adm.IsMap()) {
    return;
  }
  const YAML::Node groups = adm["groups"];
  if (!groups || !groups.IsMap()) {
    return;
  }
  for (const auto& kv : groups) {
    const std::string path = join_path("admission.groups", kv.first.Scalar());
    check_model(r, cfg, kv.first, line_of(kv.first), path);
    if (!kv.second.IsMap()) {
      continue;
    }
    if (const YAML::Node d = kv.second["degrade"]; d && d.IsMap()) {
      for (const auto& c : d) {
        const std::string dpath = join_path(join_path(path, "degrade"), c.first.Scalar());
        check_model(r, cfg, c.second, line_of(c.second), dpath);
        if (c.second.IsScalar() && c.second.Scalar() == kv.first.Scalar()) {
          r.error(line_of(c.second), dpath, "a model cannot degrade to itself");
        }
      }
    }
  }
}

}  // namespace detail
}  // namespace sluice::config
