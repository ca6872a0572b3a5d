#pragma once
// Shared by the store and executor tests: fresh SQLite paths and batch records.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/records.h"

namespace sluice::testing {

// A fresh SQLite file path (under the temp dir, per process); an earlier file of that name, with its WAL and
// shared-memory files, is removed first.
inline std::string temp_db_path(const std::string& area, const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-" + area + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string p = (dir / (name + ".db")).string();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(p + suffix);
  }
  return p;
}

// An in-progress chat batch of `total` lines (asap, no metadata), created at `created_s`.
inline store::BatchRecord test_batch(std::string id, std::string owner, std::int64_t total,
                                     std::int64_t created_s, std::int64_t deadline_ms) {
  store::BatchRecord b;
  b.id = std::move(id);
  b.owner = std::move(owner);
  b.status = "in_progress";
  b.endpoint = "/v1/chat/completions";
  b.model = "deepseek-chat";
  b.input_file_id = "file-in";
  b.completion_window = "24h";
  b.schedule = "asap";
  b.at.created = created_s;
  b.at.in_progress = created_s;
  b.deadline_ms = deadline_ms;
  b.at.expires = deadline_ms / 1000;
  b.total = total;
  return b;
}

}  // namespace sluice::testing
