#include "upstream/answer_stitch.h"

#include <boost/json.hpp>

#include "upstream/stitch.h"

namespace sluice::upstream {

namespace json = boost::json;

namespace {
std::int64_t int_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : v && v->is_uint64() ? std::int64_t(v->as_uint64()) : 0;
}

// The single choice's message of a chat.completion, when it holds only text.
const json::object* text_message(const json::object& o, std::string_view& finish) {
  const json::value* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->as_array().size() != 1 || !choices->as_array()[0].is_object()) {
    return nullptr;
  }
  const json::object& c = choices->as_array()[0].as_object();
  if (const json::value* f = c.if_contains("finish_reason"); f && f->is_string()) {
    finish = f->as_string();
  }
  const json::value* m = c.if_contains("message");
  if (!m || !m->is_object()) {
    return nullptr;
  }
  const json::object& msg = m->as_object();
  const json::value* content = msg.if_contains("content");
  const json::value* reasoning = msg.if_contains("reasoning_content");
  const json::value* tools = msg.if_contains("tool_calls");
  if (!content || !content->is_string() || (reasoning && reasoning->is_string() && !reasoning->as_string().empty()) ||
      (tools && !tools->is_null())) {
    return nullptr;
  }
  return &msg;
}
}  // namespace

bool AnswerStitch::add(std::string_view piece) {
  boost::system::error_code ec;
  const json::value v = json::parse(piece, ec);
  if (ec || !v.is_object()) {
    return false;
  }
  std::string_view finish;
  const json::object* msg = text_message(v.as_object(), finish);
  if (!msg) {
    return false;
  }
  if (pieces_ == 0) {
    first_ = std::string(piece);
  }
  const json::string& text = msg->at("content").as_string();
  content_.append(text.data(), text.size());
  finish_ = std::string(finish);
  if (const json::value* u = v.as_object().if_contains("usage"); u && u->is_object()) {
    const json::object& uo = u->as_object();
    usage_.prompt_tokens += int_of(uo, "prompt_tokens");
    usage_.completion_tokens += int_of(uo, "completion_tokens");
    usage_.prompt_cache_hit_tokens += int_of(uo, "prompt_cache_hit_tokens");
    usage_.prompt_cache_miss_tokens += int_of(uo, "prompt_cache_miss_tokens");
    completion_ += int_of(uo, "completion_tokens");
  }
  usage_.total_tokens = usage_.prompt_tokens + usage_.completion_tokens;
  ++pieces_;
  return true;
}

std::optional<std::string> AnswerStitch::continuation_body(std::string_view original,
                                                           config::FailoverConfig::Mode mode) const {
  return continuation_request(original, content_, completion_, mode);
}

std::string AnswerStitch::merged() const {
  boost::system::error_code ec;
  json::value v = json::parse(first_, ec);
  if (ec || !v.is_object()) {
    return first_;
  }
  json::object& o = v.as_object();
  json::object& c = o["choices"].as_array()[0].as_object();
  c["message"].as_object()["content"] = content_;
  c["finish_reason"] = finish_;
  json::object usage{{"prompt_tokens", usage_.prompt_tokens},
                     {"completion_tokens", usage_.completion_tokens},
                     {"total_tokens", usage_.total_tokens}};
  if (usage_.prompt_cache_hit_tokens + usage_.prompt_cache_miss_tokens > 0) {
    usage["prompt_cache_hit_tokens"] = usage_.prompt_cache_hit_tokens;
    usage["prompt_cache_miss_tokens"] = usage_.prompt_cache_miss_tokens;
  }
  o["usage"] = std::move(usage);
  return json::serialize(v);
}

}  // namespace sluice::upstream
