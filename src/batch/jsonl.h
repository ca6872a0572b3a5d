#pragma once
// Batch input files: JSONL, one request per line, in OpenAI's shape
//   {"custom_id": "...", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "...", ...}}
// validated as the upload streams in, with errors that name the line. One endpoint and one model per file,
// custom_id unique, no streaming requests.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/records.h"

namespace sluice::batch {

inline constexpr std::string_view kChatUrl = "/v1/chat/completions";
inline constexpr std::string_view kEmbeddingsUrl = "/v1/embeddings";
inline constexpr std::size_t kMaxCustomIdBytes = 512;

using store::InputLine;

class JsonlValidator {
 public:
  explicit JsonlValidator(std::size_t max_lines, std::size_t max_errors = 10)
      : max_lines_(max_lines), max_errors_(max_errors) {}

  // Any split of the file into pieces gives the same result.
  void feed(std::string_view piece);
  // The file ended; checks the last line and that there was at least one request.
  void finish();

  bool ok() const { return error_count_ == 0; }
  // "line 3: url must be ..." (the first max_errors of them).
  const std::vector<std::string>& errors() const { return errors_; }
  std::size_t error_count() const { return error_count_; }
  // One message for the client: the first errors, joined, and how many more there were.
  std::string message() const;

  std::size_t requests() const { return requests_; }
  const std::string& url() const { return url_; }
  const std::string& model() const { return model_; }

 private:
  void line_done(std::string_view line);
  void add_error(std::string text);

  std::size_t max_lines_;
  std::size_t max_errors_;
  std::string partial_;           // the current line's bytes so far
  std::uint32_t line_no_ = 0;     // lines completed
  std::uint32_t blank_line_ = 0;  // the first blank line seen (an error unless only blank lines follow)
  std::size_t requests_ = 0;
  std::string url_, model_;
  std::uint32_t url_line_ = 0, model_line_ = 0;
  std::unordered_map<std::string, std::uint32_t> custom_ids_;  // → line
  std::vector<std::string> errors_;
  std::size_t error_count_ = 0;
  bool too_many_ = false;
};

// The requests of a file that passed the validator. False with `error` when it does not parse after all.
bool parse_input_lines(std::string_view content, std::vector<InputLine>& out, std::string& error);

}  // namespace sluice::batch
