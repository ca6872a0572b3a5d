#include "http/sse.h"

#include <cstring>

#include "common/string_writer.h"

namespace sluice::http {

bool SseParser::feed(std::string_view bytes, SseSink& sink) {
  if (failed_) {
    return false;
  }
  std::size_t i = 0;
  if (skip_lf_ && !bytes.empty() && bytes[0] == '\n') {
    i = 1;
  }
  skip_lf_ = false;
  while (i < bytes.size()) {
    // Find the next line end (LF or CR) with memchr-speed scanning.
    const char* begin = bytes.data() + i;
    std::size_t rest = bytes.size() - i;
    const char* lf = static_cast<const char*>(std::memchr(begin, '\n', rest));
    const char* cr = static_cast<const char*>(std::memchr(begin, '\r', lf ? static_cast<std::size_t>(lf - begin) : rest));
    const char* end = cr ? cr : lf;
    if (!end) {
      if (line_.size() + rest + data_.size() > max_event_bytes_) {
        failed_ = true;
        return false;
      }
      line_.append(begin, rest);
      return true;
    }
    std::string_view piece{begin, static_cast<std::size_t>(end - begin)};
    if (line_.empty()) {
      process_line(piece, sink);
    } else {
      line_.append(piece);
      process_line(line_, sink);
      line_.clear();
    }
    if (failed_) {
      return false;
    }
    i = static_cast<std::size_t>(end - bytes.data()) + 1;
    if (end == cr) {
      if (i < bytes.size()) {
        if (bytes[i] == '\n') {
          ++i;
        }
      } else {
        skip_lf_ = true;
      }
    }
  }
  return true;
}

void SseParser::process_line(std::string_view line, SseSink& sink) {
  if (line.empty()) {
    if (has_data_) {
      sink.on_event(SseEvent{event_, data_, !multiline_});
    }
    data_.clear();
    event_.clear();
    has_data_ = false;
    multiline_ = false;
    return;
  }
  if (line.front() == ':') {
    line.remove_prefix(1);
    if (!line.empty() && line.front() == ' ') {
      line.remove_prefix(1);
    }
    sink.on_comment(line);
    return;
  }
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      failed_ = true;
      return;
    }
    if (has_data_) {
      data_.push_back('\n');
      multiline_ = true;
    }
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  }
  // "id" and "retry" carry nothing a relay of OpenAI streams needs; unknown fields are ignored per spec.
}

void append_sse_event(std::string& out, const SseEvent& ev) {
  using namespace std::string_view_literals;
  StringWriter w(out);
  if (!ev.event.empty()) {
    w << "event: "sv << ev.event << '\n';
  }
  std::string_view d = ev.data;
  for (;;) {
    auto nl = ev.one_line ? std::string_view::npos : d.find('\n');
    w << "data: "sv << d.substr(0, nl) << '\n';
    if (nl == std::string_view::npos) {
      break;
    }
    d.remove_prefix(nl + 1);
  }
  w << '\n';
}

}  // namespace sluice::http
