// The engine's throughput: inline in plan.yaml (with its source) or an engine file from
// `sluice bench --engine-out` named by engine.file.
#include <algorithm>
#include <array>

#include "plan/load_common.h"

namespace sluice::plan {

namespace {
using detail::Field;
using detail::FieldMap;
using detail::Reader;

constexpr std::array<std::string_view, 7> kEngineFileKeys{
    "source", "model", "batch", "gpus", "prefill_tokens_per_s", "decode_tokens_per_s", "measured"};
constexpr std::array<std::string_view, 10> kEnginePlanKeys{
    "file",     "source",       "model", "batch", "gpus", "prefill_tokens_per_s", "decode_tokens_per_s",
    "measured", "prefix_cache", "models"};
constexpr std::array<std::string_view, 6> kMeasuredKeys{
    "requests",    "mean_prompt_tokens", "mean_cached_prompt_tokens", "mean_completion_tokens",
    "mean_ttft_s", "mean_e2e_s"};
constexpr double kMaxTokenRate = 1e9;

void load_engine_measured(Reader& r, const Field& field, Engine& e) {
  auto m = r.map(field, kMeasuredKeys);
  if (!m) {
    return;
  }
  EngineMeasurement out;
  const std::pair<std::string_view, double*> values[] = {
      {"requests", &out.requests},
      {"mean_prompt_tokens", &out.mean_prompt_tokens},
      {"mean_cached_prompt_tokens", &out.mean_cached_prompt_tokens},
      {"mean_completion_tokens", &out.mean_completion_tokens},
      {"mean_ttft_s", &out.mean_ttft_s},
      {"mean_e2e_s", &out.mean_e2e_s}};
  for (const auto& [key, dst] : values) {
    if (const Field* f = m->find(key)) {
      *dst = detail::fraction(r, *f, 1e12).value_or(0);
    }
  }
  e.measured = out;
}

// The values an engine file holds (and plan.yaml's engine section without `file`).
void load_engine_values(Reader& r, const FieldMap& m, Engine& e) {
  if (const Field* f = r.require(m, "source")) {
    e.source = r.string(*f).value_or("");
  }
  if (const Field* f = m.find("model")) {
    e.model = r.string(*f).value_or("");
  }
  if (const Field* f = r.require(m, "batch")) {
    e.batch = static_cast<int>(r.integer(*f, 1, 100000).value_or(0));
  }
  if (const Field* f = m.find("gpus")) {
    e.gpus = static_cast<int>(r.integer(*f, 1, 1024).value_or(1));
  }
  if (const Field* f = r.require(m, "prefill_tokens_per_s")) {
    e.prefill_tokens_per_s = detail::positive(r, *f, kMaxTokenRate).value_or(0);
  }
  if (const Field* f = r.require(m, "decode_tokens_per_s")) {
    e.decode_tokens_per_s = detail::positive(r, *f, kMaxTokenRate).value_or(0);
  }
  if (const Field* f = m.find("measured")) {
    load_engine_measured(r, *f, e);
  }
}

void load_model_list(Reader& r, const Field& f, const PlanConfig& cfg, Engine& e) {
  if (!f.value.IsSequence() || f.value.size() == 0) {
    r.error(f.value_line(), f.path,
            "expected a list of upstream model ids, got " + config::detail::describe(f.value));
    return;
  }
  for (std::size_t i = 0; i < f.value.size(); ++i) {
    const YAML::Node& n = f.value[i];
    const auto path = config::detail::index_path(f.path, i);
    if (!n.IsScalar() || n.Scalar().empty()) {
      r.error(config::detail::line_of(n), path, "expected a model id, got " + config::detail::describe(n));
      continue;
    }
    if (!cfg.pricing.empty() && !cfg.pricing.contains(n.Scalar())) {
      r.error(config::detail::line_of(n), path, "\"" + n.Scalar() + "\" has no price in pricing");
      continue;
    }
    e.models.push_back(n.Scalar());
  }
}

}  // namespace

bool Engine::serves(const std::string& model_id) const {
  return models.empty() || std::find(models.begin(), models.end(), model_id) != models.end();
}

std::optional<Engine> load_engine_file(const std::string& path, Diagnostics& diag) {
  const config::EnvLookup no_env;
  Reader r(path, no_env);
  Engine e;
  e.file = path;
  if (auto root = detail::read_document(r, path)) {
    if (auto m = r.map(*root, 0, "", kEngineFileKeys)) {
      m->line = 1;
      load_engine_values(r, *m, e);
    }
  }
  const bool ok = r.errors().empty();
  detail::collect(r, diag);
  return ok ? std::optional<Engine>(e) : std::nullopt;
}

namespace detail {
void load_engine(Reader& r, const Field& field, PlanConfig& cfg, Diagnostics& diag) {
  auto m = r.map(field, kEnginePlanKeys);
  if (!m) {
    return;
  }
  std::optional<Engine> e;
  if (const Field* f = m->find("file")) {
    for (std::string_view key : kEngineFileKeys) {
      if (const Field* inline_value = m->find(key)) {
        r.error(inline_value->key_line, inline_value->path,
                "set either engine.file or the engine's values, not both");
      }
    }
    if (auto name = r.string(*f)) {
      const std::string path = resolve_path(cfg.source, *name);
      Diagnostics file_diag;
      e = load_engine_file(path, file_diag);
      if (!file_diag.ok()) {
        r.error(f->value_line(), f->path, "engine file " + path + " is invalid (errors below)");
      }
      diag.errors.insert(diag.errors.end(), file_diag.errors.begin(), file_diag.errors.end());
    }
  } else {
    e.emplace();
    load_engine_values(r, *m, *e);
  }
  if (!e) {
    return;
  }
  if (const Field* f = m->find("prefix_cache")) {
    e->prefix_cache = r.boolean(*f).value_or(true);
  }
  if (const Field* f = m->find("models")) {
    load_model_list(r, *f, cfg, *e);
  }
  cfg.engine = std::move(e);
}
}  // namespace detail

}  // namespace sluice::plan
