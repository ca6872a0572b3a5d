#include "batch/jsonl.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

namespace sluice::batch {

namespace json = boost::json;

namespace {
constexpr std::string_view kTopFields[] = {"custom_id", "method", "url", "body"};

std::string_view drop_cr(std::string_view line) {
  return !line.empty() && line.back() == '\r' ? line.substr(0, line.size() - 1) : line;
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}
}  // namespace

void JsonlValidator::add_error(std::string text) {
  ++error_count_;
  if (errors_.size() < max_errors_) {
    errors_.push_back(std::move(text));
  }
}

std::string JsonlValidator::message() const {
  std::string out;
  for (const auto& e : errors_) {
    out += out.empty() ? e : "; " + e;
  }
  if (error_count_ > errors_.size()) {
    out += fmt::format(" (and {} more error(s))", error_count_ - errors_.size());
  }
  return out;
}

void JsonlValidator::feed(std::string_view piece) {
  while (!piece.empty()) {
    const auto nl = piece.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return;
    }
    if (partial_.empty()) {
      line_done(piece.substr(0, nl));
    } else {
      partial_.append(piece.substr(0, nl));
      line_done(partial_);
      partial_.clear();
    }
    piece.remove_prefix(nl + 1);
  }
}

void JsonlValidator::finish() {
  if (!partial_.empty()) {
    line_done(partial_);  // a last line without its newline
    partial_.clear();
  }
  if (requests_ == 0 && error_count_ == 0) {
    add_error("the file holds no requests (expected one JSON object per line)");
  }
}

void JsonlValidator::line_done(std::string_view raw) {
  const std::uint32_t n = ++line_no_;
  const std::string_view line = drop_cr(raw);
  if (blank(line)) {
    if (blank_line_ == 0) {
      blank_line_ = n;
    }
    return;
  }
  if (blank_line_ != 0) {  // blank lines are only allowed at the end of the file
    add_error(fmt::format("line {}: empty line", blank_line_));
    blank_line_ = 0;
  }
  if (requests_ >= max_lines_) {
    if (!too_many_) {
      add_error(fmt::format("line {}: too many requests (at most {} per file)", n, max_lines_));
      too_many_ = true;
    }
    return;
  }
  ++requests_;
  json::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) {
    add_error(fmt::format("line {}: invalid JSON: {}", n, ec.message()));
    return;
  }
  const json::object* o = v.if_object();
  if (!o) {
    add_error(fmt::format("line {}: expected a JSON object", n));
    return;
  }
  for (const auto& kv : *o) {
    if (std::find(std::begin(kTopFields), std::end(kTopFields), kv.key()) == std::end(kTopFields)) {
      add_error(fmt::format("line {}: unknown field \"{}\" (expected custom_id, method, url, body)", n,
                            std::string_view(kv.key())));
      return;
    }
  }
  const json::string* id = string_field(*o, "custom_id");
  if (!id || id->empty()) {
    add_error(fmt::format("line {}: custom_id must be a non-empty string", n));
    return;
  }
  if (id->size() > kMaxCustomIdBytes) {
    add_error(fmt::format("line {}: custom_id is longer than {} bytes", n, kMaxCustomIdBytes));
    return;
  }
  if (auto [it, fresh] = custom_ids_.emplace(std::string(*id), n); !fresh) {
    add_error(fmt::format("line {}: duplicate custom_id \"{}\" (first on line {})", n, std::string_view(*id),
                          it->second));
    return;
  }
  const json::string* method = string_field(*o, "method");
  if (!method || *method != "POST") {
    add_error(fmt::format("line {}: method must be \"POST\"", n));
    return;
  }
  const json::string* url = string_field(*o, "url");
  if (!url || (*url != kChatUrl && *url != kEmbeddingsUrl)) {
    add_error(fmt::format("line {}: url must be \"{}\" or \"{}\"", n, kChatUrl, kEmbeddingsUrl));
    return;
  }
  if (url_.empty()) {
    url_ = std::string(*url);
    url_line_ = n;
  } else if (*url != url_) {
    add_error(fmt::format("line {}: url \"{}\" differs from line {}'s \"{}\" (one endpoint per file)", n,
                          std::string_view(*url), url_line_, url_));
    return;
  }
  const json::value* body_v = o->if_contains("body");
  const json::object* body = body_v ? body_v->if_object() : nullptr;
  if (!body) {
    add_error(fmt::format("line {}: body must be a JSON object (the request)", n));
    return;
  }
  const json::string* model = string_field(*body, "model");
  if (!model || model->empty()) {
    add_error(fmt::format("line {}: body.model must be a non-empty string", n));
    return;
  }
  if (model_.empty()) {
    model_ = std::string(*model);
    model_line_ = n;
  } else if (*model != model_) {
    add_error(fmt::format("line {}: model \"{}\" differs from line {}'s \"{}\" (one model per file)", n,
                          std::string_view(*model), model_line_, model_));
    return;
  }
  if (const json::value* s = body->if_contains("stream"); s && s->is_bool() && s->get_bool()) {
    add_error(fmt::format("line {}: body.stream must not be true in a batch", n));
  }
}

bool parse_input_lines(std::string_view content, std::vector<InputLine>& out, std::string& error) {
  std::uint32_t n = 0;
  while (!content.empty()) {
    const auto nl = content.find('\n');
    const std::string_view line = drop_cr(content.substr(0, nl));
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    ++n;
    if (blank(line)) {
      continue;
    }
    json::error_code ec;
    json::value v = json::parse(line, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::string* id = o ? string_field(*o, "custom_id") : nullptr;
    const json::value* body = o ? o->if_contains("body") : nullptr;
    if (!id || !body || !body->is_object()) {
      error = fmt::format("line {}: not a valid request line", n);
      return false;
    }
    out.push_back(InputLine{n, std::string(*id), json::serialize(*body)});
  }
  return true;
}

}  // namespace sluice::batch
