#include "telemetry/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "common/json.h"

namespace sluice::telemetry {

std::string format_access_record(const AccessRecord& r) {
  std::string out;
  out.reserve(384);
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  fmt::format_to(std::back_inserter(out), R"({{"ts":"{:%Y-%m-%dT%H:%M:%S}.{:03d}Z","id":)",
                 std::chrono::floor<std::chrono::seconds>(now), ms);
  append_json_string(out, r.request_id);
  auto field = [&](std::string_view name, std::string_view v) {
    out += ",\"";
    out += name;
    out += "\":";
    append_json_string(out, v);
  };
  auto num = [&](std::string_view name, std::optional<std::int64_t> v) {
    fmt::format_to(std::back_inserter(out), ",\"{}\":", name);
    if (v) {
      fmt::format_to(std::back_inserter(out), "{}", *v);
    } else {
      out += "null";
    }
  };
  field("key", r.key);
  field("method", r.method);
  field("path", r.path);
  field("model", r.model);
  field("upstream", r.upstream);
  num("status", r.status);
  out += r.stream ? ",\"stream\":true" : ",\"stream\":false";
  field("failure", r.failure);
  if (!r.detail.empty()) {
    field("detail", r.detail);
  }
  num("ttft_ms", r.ttft_ms);
  num("duration_ms", r.duration_ms);
  num("prompt_tokens", r.prompt_tokens);
  num("completion_tokens", r.completion_tokens);
  num("attempts", r.attempts);
  num("keepalives", static_cast<std::int64_t>(r.keepalives));
  num("bytes_out", static_cast<std::int64_t>(r.bytes_out));
  if (r.queue_ms) {
    field("priority", r.priority);
    num("queue_ms", r.queue_ms);
  }
  out += "}\n";
  return out;
}

std::unique_ptr<AccessLog> AccessLog::open(const std::string& target, std::string& error) {
  if (target == "off") {
    return std::unique_ptr<AccessLog>(new AccessLog(nullptr, false));
  }
  if (target == "stdout") {
    return std::unique_ptr<AccessLog>(new AccessLog(stdout, false));
  }
  if (target == "stderr") {
    return std::unique_ptr<AccessLog>(new AccessLog(stderr, false));
  }
  std::FILE* f = std::fopen(target.c_str(), "a");
  if (!f) {
    error = "cannot open access log " + target + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AccessLog>(new AccessLog(f, true));
}

AccessLog::~AccessLog() {
  if (owned_ && file_) {
    std::fclose(file_);
  }
}

void AccessLog::write(const AccessRecord& r) {
  if (!file_) {
    return;
  }
  std::string line = format_access_record(r);
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace sluice::telemetry
