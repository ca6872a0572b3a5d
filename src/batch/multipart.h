#pragma once
// A strict, incremental multipart/form-data parser (RFC 7578 over RFC 2046): bytes go in as they arrive, in
// pieces of any size; part headers and data come out through callbacks. Memory stays bounded by the piece
// size plus the delimiter, so an upload never has to be held twice. Anything malformed (no boundary, an
// unterminated header block, a part without Content-Disposition: form-data and a name, a body that ends
// before the closing delimiter) is an error with a message fit for the client.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::batch {

struct PartHeaders {
  std::string name;      // Content-Disposition name
  std::string filename;  // empty when the part is not a file
  bool has_filename = false;
  std::string content_type;  // empty when absent
};

struct MultipartLimits {
  std::size_t max_parts = 16;
  std::size_t max_header_bytes = 8 * 1024;  // one part's header block; also the preamble
};

class MultipartParser {
 public:
  struct Callbacks {
    std::function<bool(const PartHeaders&)> on_part;  // false: stop with the error set by the callee
    std::function<bool(std::string_view)> on_data;    // a piece of the current part's content
    std::function<bool()> on_part_end;
  };

  MultipartParser(std::string_view boundary, Callbacks cb, MultipartLimits limits = {});

  // Parses the next piece. False on error (error() says why); later calls keep failing.
  bool feed(std::string_view piece);
  // The body ended: true only if the closing delimiter was seen.
  bool finish();

  const std::string& error() const { return error_; }
  // Lets a callback fail the parse with its own message (returning false from the callback).
  void fail(std::string message);
  std::size_t parts() const { return parts_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kEpilogue, kFailed };
  bool step();  // one transition over buf_; false when it needs more bytes (or failed)
  bool parse_headers(std::string_view block);

  std::string delimiter_;  // "\r\n--" + boundary
  Callbacks cb_;
  MultipartLimits limits_;
  State state_ = State::kPreamble;
  std::string buf_;      // bytes not yet consumed (at most a piece plus a delimiter)
  std::size_t pos_ = 0;  // consumed prefix of buf_
  std::size_t parts_ = 0;
  std::size_t preamble_ = 0;
  std::string error_;
};

// The boundary parameter of a multipart/form-data Content-Type, or nullopt with `error` set.
std::optional<std::string> form_data_boundary(std::string_view content_type, std::string& error);

// A Content-Disposition value: `form-data` and its name / filename parameters (quoted or tokens; filename*
// in RFC 5987 form when no plain filename is given). False when it is not form-data or has no name.
bool parse_content_disposition(std::string_view value, PartHeaders& out);

}  // namespace sluice::batch
