#include "batch/multipart.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace sluice::batch {

namespace {
constexpr std::string_view kCrlf = "\r\n";

bool is_boundary_char(char c) {
  // RFC 2046 bchars (the space is allowed, but not as the last character).
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// Splits `s` at the first ';' outside a quoted string.
std::pair<std::string_view, std::string_view> split_param(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ';' && !quoted) {
      return {s.substr(0, i), s.substr(i + 1)};
    }
  }
  return {s, {}};
}

// A parameter value: a quoted string (backslash escapes undone) or a token.
std::optional<std::string> param_value(std::string_view v) {
  v = trim(v);
  if (v.empty()) {
    return std::nullopt;
  }
  if (v.front() != '"') {
    return std::string(v);
  }
  if (v.size() < 2 || v.back() != '"') {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) {
      ++i;
    }
    out += v[i];
  }
  return out;
}

// RFC 5987 ext-value: charset'lang'percent-encoded.
std::optional<std::string> ext_value(std::string_view v) {
  const auto q1 = v.find('\'');
  const auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      unsigned byte = 0;
      for (int k = 1; k <= 2; ++k) {
        const char c = v[i + static_cast<std::size_t>(k)];
        const int d = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                               : -1;
        if (d < 0) {
          return std::nullopt;
        }
        byte = byte * 16 + static_cast<unsigned>(d);
      }
      out += static_cast<char>(byte);
      i += 2;
    } else if (v[i] == '%') {
      return std::nullopt;
    } else {
      out += v[i];
    }
  }
  return out;
}
}  // namespace

std::optional<std::string> form_data_boundary(std::string_view content_type, std::string& error) {
  auto [type, params] = split_param(content_type);
  if (lower_ascii(trim(type)) != "multipart/form-data") {
    error = "Content-Type must be multipart/form-data";
    return std::nullopt;
  }
  while (!params.empty()) {
    auto [param, rest] = split_param(params);
    params = rest;
    const auto eq = param.find('=');
    if (eq == std::string_view::npos || lower_ascii(trim(param.substr(0, eq))) != "boundary") {
      continue;
    }
    auto b = param_value(param.substr(eq + 1));
    if (!b || b->empty() || b->size() > 70 || b->back() == ' ' ||
        b->find_first_of("\r\n") != std::string::npos ||
        !std::all_of(b->begin(), b->end(), is_boundary_char)) {
      error = "multipart boundary must be 1-70 characters of RFC 2046's set";
      return std::nullopt;
    }
    return b;
  }
  error = "multipart/form-data Content-Type without a boundary parameter";
  return std::nullopt;
}

bool parse_content_disposition(std::string_view value, PartHeaders& out) {
  auto [type, params] = split_param(value);
  if (lower_ascii(trim(type)) != "form-data") {
    return false;
  }
  std::optional<std::string> name, filename, filename_ext;
  while (!params.empty()) {
    auto [param, rest] = split_param(params);
    params = rest;
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    const std::string key = lower_ascii(trim(param.substr(0, eq)));
    if (key == "name") {
      name = param_value(param.substr(eq + 1));
    } else if (key == "filename") {
      filename = param_value(param.substr(eq + 1));
    } else if (key == "filename*") {
      filename_ext = ext_value(trim(param.substr(eq + 1)));
    }
  }
  if (!name || name->empty()) {
    return false;
  }
  out.name = *name;
  out.has_filename = filename.has_value() || filename_ext.has_value();
  out.filename = filename ? *filename : filename_ext.value_or("");
  return true;
}

MultipartParser::MultipartParser(std::string_view boundary, Callbacks cb, MultipartLimits limits)
    : delimiter_("\r\n--" + std::string(boundary)), cb_(std::move(cb)), limits_(limits) {
  buf_ = kCrlf;  // the first delimiter may start the body: it then lacks its CRLF
}

void MultipartParser::fail(std::string message) {
  if (state_ != State::kFailed) {
    error_ = std::move(message);
    state_ = State::kFailed;
  }
}

bool MultipartParser::feed(std::string_view piece) {
  if (state_ == State::kFailed) {
    return false;
  }
  if (state_ == State::kEpilogue) {
    return true;  // after the closing delimiter everything is ignored
  }
  buf_.erase(0, pos_);
  pos_ = 0;
  buf_.append(piece);
  while (step()) {
  }
  return state_ != State::kFailed;
}

bool MultipartParser::finish() {
  if (state_ == State::kFailed) {
    return false;
  }
  if (state_ != State::kEpilogue) {
    fail(parts_ == 0 && state_ == State::kPreamble ? "multipart body has no part (boundary not found)"
                                                   : "multipart body ends before its closing boundary");
    return false;
  }
  return true;
}

bool MultipartParser::step() {
  const std::string_view rest = std::string_view(buf_).substr(pos_);
  switch (state_) {
    case State::kPreamble: {
      const auto at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // Keep a possible delimiter start; bound what a client may send before the first part.
        const std::size_t keep = std::min(rest.size(), delimiter_.size() - 1);
        preamble_ += rest.size() - keep;
        pos_ += rest.size() - keep;
        if (preamble_ > limits_.max_header_bytes) {
          fail("multipart boundary not found at the start of the body");
        }
        return false;
      }
      pos_ += at + delimiter_.size();
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kAfterDelimiter: {
      if (rest.size() < 2) {
        return false;
      }
      if (rest.substr(0, 2) == "--") {
        pos_ = buf_.size();
        state_ = State::kEpilogue;
        return false;
      }
      // Transport padding (spaces, tabs) before the CRLF ends the delimiter line.
      std::size_t i = 0;
      while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) {
        ++i;
      }
      if (i + 2 > rest.size()) {
        if (i > 64) {
          fail("malformed multipart delimiter line");
        }
        return false;
      }
      if (rest.substr(i, 2) != kCrlf) {
        fail("malformed multipart delimiter line (expected CRLF after the boundary)");
        return false;
      }
      pos_ += i + 2;
      if (++parts_ > limits_.max_parts) {
        fail(fmt::format("too many multipart parts (at most {})", limits_.max_parts));
        return false;
      }
      state_ = State::kHeaders;
      return true;
    }
    case State::kHeaders: {
      // An empty header block is just CRLF; otherwise headers end with a blank line.
      std::size_t end = rest.starts_with(kCrlf) ? 0 : rest.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (rest.size() > limits_.max_header_bytes) {
          fail(fmt::format("multipart part {} has a header block over {} bytes", parts_,
                           limits_.max_header_bytes));
        }
        return false;
      }
      const std::string_view block = rest.substr(0, end);
      pos_ += end == 0 ? 2 : end + 4;
      if (block.size() > limits_.max_header_bytes) {
        fail(fmt::format("multipart part {} has a header block over {} bytes", parts_,
                         limits_.max_header_bytes));
        return false;
      }
      if (!parse_headers(block)) {
        return false;
      }
      state_ = State::kBody;
      return true;
    }
    case State::kBody: {
      const auto at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        const std::size_t keep = std::min(rest.size(), delimiter_.size() - 1);
        if (rest.size() > keep) {
          if (!cb_.on_data(rest.substr(0, rest.size() - keep))) {
            fail(error_.empty() ? "multipart part rejected" : error_);
            return false;
          }
          pos_ += rest.size() - keep;
        }
        return false;
      }
      if ((at > 0 && !cb_.on_data(rest.substr(0, at))) || !cb_.on_part_end()) {
        fail(error_.empty() ? "multipart part rejected" : error_);
        return false;
      }
      pos_ += at + delimiter_.size();
      state_ = State::kAfterDelimiter;
      return state_ != State::kFailed;
    }
    case State::kEpilogue:
    case State::kFailed:
      return false;
  }
  return false;
}

bool MultipartParser::parse_headers(std::string_view block) {
  PartHeaders h;
  bool disposition = false;
  while (!block.empty()) {
    const auto eol = block.find(kCrlf);
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' || line.front() == '\t') {
      fail(fmt::format("multipart part {} has a malformed header line", parts_));
      return false;
    }
    const std::string name = lower_ascii(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      if (disposition || !parse_content_disposition(value, h)) {
        fail(fmt::format("multipart part {} needs one Content-Disposition: form-data with a name", parts_));
        return false;
      }
      disposition = true;
    } else if (name == "content-type") {
      h.content_type = std::string(value);
    }
  }
  if (!disposition) {
    fail(fmt::format("multipart part {} has no Content-Disposition header", parts_));
    return false;
  }
  if (!cb_.on_part(h)) {
    fail(error_.empty() ? "multipart part rejected" : error_);
    return false;
  }
  return state_ != State::kFailed;
}

}  // namespace sluice::batch
