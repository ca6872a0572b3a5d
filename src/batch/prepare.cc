#include "batch/prepare.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "admission/token_estimate.h"
#include "batch/api_json.h"
#include "batch/executor.h"

namespace sluice::batch {

namespace json = boost::json;

std::optional<std::int64_t> parse_completion_window(std::string_view s) {
  if (s.size() < 2) {
    return std::nullopt;
  }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (ec != std::errc() || end != s.data() + s.size() - 1 || n <= 0 || s.front() == '0' || n > 1'000'000) {
    return std::nullopt;
  }
  switch (s.back()) {
    case 's':
      return n * 1000;
    case 'm':
      return n * 60'000;
    case 'h':
      return n * 3'600'000;
    case 'd':
      return n * 86'400'000;
    default:
      return std::nullopt;
  }
}

namespace {
std::optional<ParamError> check_metadata(const json::value& v, CreateParams& out) {
  if (v.is_null()) {
    return std::nullopt;
  }
  const json::object* o = v.if_object();
  if (!o || o->size() > 16) {
    return ParamError{"metadata must be an object of at most 16 string values", "invalid_value", "metadata"};
  }
  for (const auto& kv : *o) {
    if (kv.key().size() > 64 || !kv.value().is_string() || kv.value().as_string().size() > 512) {
      return ParamError{"metadata keys are at most 64 characters and values strings of at most 512",
                        "invalid_value", "metadata"};
    }
    if (kv.key() == kScheduleKey) {
      out.schedule = parse_schedule(kv.value().as_string());
      if (!out.schedule) {
        return ParamError{fmt::format("metadata.{} must be \"asap\" or \"off_peak\"", kScheduleKey),
                          "invalid_value", fmt::format("metadata.{}", kScheduleKey)};
      }
    }
  }
  out.metadata_json = json::serialize(v);
  return std::nullopt;
}

const json::string* required_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() && !v->as_string().empty() ? &v->as_string() : nullptr;
}
}  // namespace

std::optional<ParamError> parse_create_params(std::string_view body, const config::BatchConfig& cfg,
                                              CreateParams& out) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return ParamError{"the request body must be a JSON object", "invalid_json", ""};
  }
  const json::object& o = v.as_object();
  for (std::string_view key : {"input_file_id", "endpoint", "completion_window"}) {
    if (!required_string(o, key)) {
      return ParamError{fmt::format("missing required parameter: {} (a non-empty string)", key),
                        "missing_required_parameter", std::string(key)};
    }
  }
  out.input_file_id = std::string(*required_string(o, "input_file_id"));
  out.endpoint = std::string(*required_string(o, "endpoint"));
  out.completion_window = std::string(*required_string(o, "completion_window"));
  if (out.endpoint != kChatUrl && out.endpoint != kEmbeddingsUrl) {
    return ParamError{
        fmt::format("unsupported endpoint \"{}\": use {} or {}", out.endpoint, kChatUrl, kEmbeddingsUrl),
        "invalid_value", "endpoint"};
  }
  auto window = parse_completion_window(out.completion_window);
  if (!window || *window < cfg.min_completion_window.count() || *window > cfg.max_completion_window.count()) {
    return ParamError{
        fmt::format("completion_window \"{}\" is not accepted: use a whole number of s, m, h or d "
                    "between {} and {} seconds, e.g. \"24h\"",
                    out.completion_window, cfg.min_completion_window.count() / 1000,
                    cfg.max_completion_window.count() / 1000),
        "invalid_value", "completion_window"};
  }
  out.window_ms = *window;
  if (const json::value* m = o.if_contains("metadata")) {
    return check_metadata(*m, out);
  }
  return std::nullopt;
}

double line_cost_usd(const config::Price& price, std::string_view endpoint, const std::string& body,
                     std::uint32_t assumed_output_tokens) {
  const double prompt = double(admission::estimate_prompt_tokens(body));
  double output = 0;
  if (endpoint != kEmbeddingsUrl) {
    output = assumed_output_tokens;
    json::error_code ec;
    json::value v = json::parse(body, ec);
    for (std::string_view key : {"max_tokens", "max_completion_tokens"}) {
      if (const json::value* mt = ec || !v.is_object() ? nullptr : v.as_object().if_contains(key);
          mt && mt->is_int64()) {
        output = std::min(output, double(std::max<std::int64_t>(0, mt->as_int64())));
      }
    }
  }
  return (prompt * price.input_cache_miss + output * price.output) / 1e6;
}

namespace {
// Reasons a valid file cannot run as this batch (OpenAI fails the batch at validation, naming the line).
std::vector<BatchError> check_lines(const config::Config& cfg, std::string_view owner, const CreateParams& p,
                                    const JsonlValidator& v) {
  std::vector<BatchError> errors;
  if (!v.ok()) {
    errors.push_back({"invalid_file", v.message(), "input_file_id", 0});
    return errors;
  }
  if (v.url() != p.endpoint) {
    errors.push_back(
        {"mismatched_endpoint",
         fmt::format("the file's requests use url {} but the batch's endpoint is {}", v.url(), p.endpoint),
         "url", 1});
  }
  if (cfg.find_model(v.model()) == nullptr) {
    errors.push_back({"model_not_found",
                      fmt::format("model \"{}\" is not configured on this gateway", v.model()), "body.model",
                      1});
  }
  for (const auto& k : cfg.keys) {
    const auto& allowed = k.policy.allowed_models;
    if (k.name == owner && !allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), v.model()) == allowed.end()) {
      errors.push_back({"model_not_allowed",
                        fmt::format("key \"{}\" may not use model \"{}\"", owner, v.model()), "body.model",
                        1});
    }
  }
  return errors;
}

std::string estimate_json(const PrepareInput& in, const store::BatchRecord& r,
                          const std::vector<InputLine>& lines, Schedule schedule) {
  const config::Price* price = price_for_model(in.cfg, r.model);
  double full = 0;
  for (const auto& l : lines) {
    full += price ? line_cost_usd(*price, r.endpoint, l.body, in.cfg.batch.assumed_output_tokens) : 0.0;
  }
  PlanInput pi;
  pi.now_ms = in.now_ms;
  pi.deadline_ms = r.deadline_ms;
  pi.remaining_lines = double(lines.size());
  const double initial = 1000.0 / double(in.cfg.batch.initial_line_time.count());
  const double per_slot = in.rates ? in.rates->get(r.model).value_or(initial) : initial;
  pi.lines_per_second = per_slot * in.cfg.batch.concurrency / in.time_scale;
  pi.schedule = schedule;
  pi.price = price;
  pi.margin_ms = std::max<std::int64_t>(
      static_cast<std::int64_t>(2.0 * double(in.cfg.batch.poll_interval.count()) * in.time_scale),
      in.params.window_ms / 20);
  const Plan plan = make_plan(pi);
  return fmt::format(
      R"({{"schedule":"{}","priced":{},"cost_now_usd":{:.6f},"cost_scheduled_usd":{:.6f},"expected_start_at":{},)"
      R"("expected_finish_at":{},"meets_deadline":{},"lines_per_hour":{:.1f},"assumed_output_tokens_per_line":{}}})",
      to_string(schedule), price ? "true" : "false", full * plan.now_multiplier, full * plan.mean_multiplier,
      plan.start_ms / 1000, plan.finish_ms / 1000, plan.meets_deadline ? "true" : "false",
      pi.lines_per_second * in.time_scale * 3600, in.cfg.batch.assumed_output_tokens);
}
}  // namespace

Prepared prepare_batch(const PrepareInput& in, std::string id) {
  Prepared out;
  store::BatchRecord& r = out.record;
  r.id = std::move(id);
  r.owner = std::string(in.owner);
  r.endpoint = in.params.endpoint;
  r.input_file_id = in.params.input_file_id;
  r.completion_window = in.params.completion_window;
  r.metadata_json = in.params.metadata_json;
  r.at.created = in.now_ms / 1000;
  r.at.expires = (in.now_ms + in.params.window_ms) / 1000;
  r.deadline_ms = in.now_ms + in.params.window_ms;
  JsonlValidator v(in.cfg.batch.max_lines);
  v.feed(in.content);
  v.finish();
  r.model = v.model();
  const config::Price* price = price_for_model(in.cfg, r.model);
  const bool windows = price != nullptr && !price->windows.empty();
  const Schedule schedule = in.params.schedule.value_or(windows ? Schedule::kOffPeak : Schedule::kAsap);
  r.schedule = std::string(to_string(schedule));
  std::string parse_error;
  auto errors = check_lines(in.cfg, in.owner, in.params, v);
  if (errors.empty() && !parse_input_lines(in.content, out.lines, parse_error)) {
    errors.push_back({"invalid_file", parse_error, "input_file_id", 0});
  }
  if (!errors.empty()) {
    out.lines.clear();
    r.status = "failed";
    r.at.failed = r.at.created;
    r.errors_json = errors_json(errors);
    return out;
  }
  r.status = "in_progress";
  r.at.in_progress = r.at.created;
  r.total = static_cast<std::int64_t>(out.lines.size());
  r.estimate_json = estimate_json(in, r, out.lines, schedule);
  return out;
}

}  // namespace sluice::batch
