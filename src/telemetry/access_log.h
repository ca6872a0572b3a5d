#pragma once
// One JSON line per request: who, what, where it went, how it ended, how long it took, what it used.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::telemetry {

struct AccessRecord {
  std::string_view request_id;
  std::string_view key;  // virtual key name; empty when auth is off
  std::string_view method;
  std::string_view path;
  std::string_view model;
  std::string_view upstream;
  unsigned status = 0;  // 499 = client closed before the answer
  bool stream = false;
  std::string_view failure;  // UpstreamFailure name, "none" on success
  std::string_view detail;
  std::optional<std::int64_t> ttft_ms;
  std::int64_t duration_ms = 0;
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;
  std::size_t keepalives = 0;
  unsigned attempts = 0;  // upstream attempts (retries and fallbacks included)
  std::size_t bytes_out = 0;
  // Admission (only for requests that went through a group's queue gate).
  std::string_view priority;
  std::optional<std::int64_t> queue_ms;
};

std::string format_access_record(const AccessRecord& r);

class AccessLog {
 public:
  // target: "stdout", "stderr", "off" or a file path (appended). Null + error on failure.
  static std::unique_ptr<AccessLog> open(const std::string& target, std::string& error);
  ~AccessLog();
  void write(const AccessRecord& r);
  bool enabled() const { return file_ != nullptr; }

 private:
  AccessLog(std::FILE* f, bool owned) : file_(f), owned_(owned) {}
  std::FILE* file_;
  bool owned_;
  std::mutex mu_;
};

}  // namespace sluice::telemetry
