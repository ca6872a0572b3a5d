#include "batch/api_json.h"

#include <fmt/format.h>

#include "common/json.h"

namespace sluice::batch {

namespace {
void field_string(std::string& out, std::string_view key, std::string_view value) {
  out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

// A string field that is null when empty.
void field_id(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) {
    out += ',';
    append_json_string(out, key);
    out += ":null";
  } else {
    field_string(out, key, value);
  }
}

// A timestamp field that is null when 0.
void field_time(std::string& out, std::string_view key, std::int64_t value) {
  out += ',';
  append_json_string(out, key);
  out += value == 0 ? std::string(":null") : ":" + std::to_string(value);
}
}  // namespace

std::string file_json(const store::FileRecord& f) {
  std::string out = R"({"object":"file")";
  field_string(out, "id", f.id);
  out += fmt::format(R"(,"bytes":{},"created_at":{})", f.bytes, f.created_at);
  field_string(out, "filename", f.filename);
  field_string(out, "purpose", f.purpose);
  out += R"(,"status":"processed","status_details":null})";
  return out;
}

std::string batch_json(const store::BatchRecord& b, const store::BatchUsage* usage) {
  std::string out = R"({"object":"batch")";
  field_string(out, "id", b.id);
  field_string(out, "endpoint", b.endpoint);
  out += R"(,"errors":)" + b.errors_json;
  field_string(out, "input_file_id", b.input_file_id);
  field_string(out, "completion_window", b.completion_window);
  field_string(out, "status", b.status);
  field_id(out, "output_file_id", b.output_file_id);
  field_id(out, "error_file_id", b.error_file_id);
  out += fmt::format(R"(,"created_at":{})", b.at.created);
  const std::pair<std::string_view, std::int64_t> times[] = {
      {"in_progress_at", b.at.in_progress}, {"expires_at", b.at.expires},
      {"finalizing_at", b.at.finalizing},   {"completed_at", b.at.completed},
      {"failed_at", b.at.failed},           {"expired_at", b.at.expired},
      {"cancelling_at", b.at.cancelling},   {"cancelled_at", b.at.cancelled},
  };
  for (const auto& [key, value] : times) {
    field_time(out, key, value);
  }
  out += fmt::format(R"(,"request_counts":{{"total":{},"completed":{},"failed":{}}})", b.total, b.completed,
                     b.failed);
  out += R"(,"metadata":)" + b.metadata_json;
  field_string(out, "model", b.model);
  out += R"(,"sluice_estimate":)" + b.estimate_json;
  if (usage != nullptr) {
    out += fmt::format(
        R"(,"sluice_usage":{{"prompt_tokens":{},"completion_tokens":{},"prompt_cache_hit_tokens":{},)"
        R"("prompt_cache_miss_tokens":{},"reasoning_tokens":{},"cost_usd":{:.9f},"full_price_usd":{:.9f}}})",
        usage->prompt_tokens, usage->completion_tokens, usage->cache_hit_tokens, usage->cache_miss_tokens,
        usage->reasoning_tokens, usage->cost_usd, usage->full_cost_usd);
  }
  out += '}';
  return out;
}

std::string deleted_json(std::string_view id) {
  std::string out = R"({"object":"file","deleted":true)";
  field_string(out, "id", id);
  out += '}';
  return out;
}

std::string list_json(const std::vector<std::string>& items, const std::vector<std::string>& ids,
                      bool has_more) {
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? "," : "";
    out += items[i];
  }
  out += ']';
  field_id(out, "first_id", ids.empty() ? std::string_view{} : std::string_view(ids.front()));
  field_id(out, "last_id", ids.empty() ? std::string_view{} : std::string_view(ids.back()));
  out += fmt::format(R"(,"has_more":{}}})", has_more ? "true" : "false");
  return out;
}

std::string errors_json(const std::vector<BatchError>& errors) {
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const auto& e = errors[i];
    out += i ? ",{" : "{";
    out += R"("code":)";
    append_json_string(out, e.code);
    field_string(out, "message", e.message);
    field_id(out, "param", e.param);
    out += e.line == 0 ? std::string(R"(,"line":null})") : fmt::format(R"(,"line":{}}})", e.line);
  }
  out += "]}";
  return out;
}

}  // namespace sluice::batch
