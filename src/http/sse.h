#pragma once
// Incremental Server-Sent Events parser (WHATWG rules: LF, CRLF or CR line ends; ':' comment lines;
// blank line dispatches; "data" lines joined with LF). Comments (DeepSeek's ": keep-alive") are reported
// separately so a relay can drop them and keep them from resetting its deadlines.
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::http {

struct SseEvent {
  std::string_view event;  // "event:" field; empty = "message"
  std::string_view data;   // "data:" lines joined with '\n'
  bool one_line = false;   // known to hold no '\n' (the parser knows; left false, the data is searched)
};

class SseSink {
 public:
  virtual ~SseSink() = default;
  virtual void on_event(const SseEvent& ev) = 0;
  virtual void on_comment(std::string_view text) = 0;
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 8 * 1024 * 1024) : max_event_bytes_(max_event_bytes) {}

  // Consumes bytes, invoking the sink for each complete event or comment. Returns false (and stays failed)
  // when one event grows past max_event_bytes.
  bool feed(std::string_view bytes, SseSink& sink);
  bool failed() const { return failed_; }
  // True while an event has started (data or a partial line) but not been dispatched.
  bool mid_event() const { return !line_.empty() || has_data_ || !event_.empty(); }

 private:
  void process_line(std::string_view line, SseSink& sink);

  std::size_t max_event_bytes_;
  std::string line_;  // an incomplete line carried between feeds
  std::string data_;
  std::string event_;
  bool has_data_ = false;
  bool multiline_ = false;  // the current event's data came in more than one line
  bool skip_lf_ = false;  // the previous feed ended with CR; a leading LF belongs to it
  bool failed_ = false;
};

// Appends ev to out in canonical form ("event: x\n" if named, "data: ...\n" per line, then "\n").
void append_sse_event(std::string& out, const SseEvent& ev);

}  // namespace sluice::http
