#include "upstream/stitch.h"

#include <boost/json.hpp>
#include <cmath>

namespace sluice::upstream {

namespace json = boost::json;

namespace {

// Boost.JSON reads a number beyond double's range (1e400) as infinity and writes it back as 1e99999, which
// strict parsers (the client's) refuse: such a chunk is malformed, not something to rewrite. The parser's
// depth limit bounds the recursion.
bool finite_numbers(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const json::value& x : v.get_array()) {
        if (!finite_numbers(x)) {
          return false;
        }
      }
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!finite_numbers(kv.value())) {
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}
constexpr std::string_view kContinuePrompt =
    "Continue your previous answer exactly where it stopped. Do not repeat anything, do not add any "
    "preamble.";

bool nonempty_string(const json::value* v) { return v && v->is_string() && !v->as_string().empty(); }
}  // namespace

void StreamStitch::begin_continuation() {
  ++legs_;
  chunks_before_leg_ = chunks_;
}

// What reading one event found, and what it changed.
struct StreamStitch::Edit {
  bool changed = false;
  bool carries = false;  // content, a finish or usage: something the client must see
  bool cut = false;      // the provider cut the answer short (insufficient_system_resource)
};

void StreamStitch::on_id(json::object& o, Edit& e) {
  if (auto* id = o.if_contains("id"); id && id->is_string()) {
    if (id_.empty()) {
      id_ = std::string(id->as_string());
    } else if (continuing() && id->as_string() != id_) {
      *id = id_;
      e.changed = true;
    }
  }
}

void StreamStitch::on_choice(json::object& c, Edit& e) {
  if (auto* d = c.if_contains("delta"); d && d->is_object()) {
    json::object& delta = d->as_object();
    if (continuing() && delta.contains("role")) {
      delta.erase("role");  // the client already had the role chunk
      e.changed = true;
    }
    if (auto* content = delta.if_contains("content"); nonempty_string(content)) {
      content_.append(content->as_string().c_str(), content->as_string().size());
      ++chunks_;
      e.carries = true;
    }
    if (nonempty_string(delta.if_contains("reasoning_content")) || delta.contains("tool_calls")) {
      unresumable_ = true;  // a prefix can continue text, not a half-sent thought or tool call
      e.carries = true;
    }
  }
  if (auto* fr = c.if_contains("finish_reason"); fr && fr->is_string()) {
    if (fr->as_string() == "insufficient_system_resource") {
      *fr = nullptr;  // the answer is not finished: another host completes it
      e.cut = true;
      e.changed = true;
    } else {
      e.carries = true;
    }
  }
}

void StreamStitch::on_usage(json::object& o, Edit& e) const {
  auto* u = o.if_contains("usage");
  if (!u || !u->is_object()) {
    return;
  }
  if (e.cut) {
    o.erase("usage");  // one final usage, from the leg that really finishes
    return;
  }
  e.carries = true;
  if (continuing()) {
    json::object& usage = u->as_object();
    auto num = [&](std::string_view k) -> std::int64_t {
      auto* x = usage.if_contains(k);
      return x && x->is_int64() ? x->as_int64() : x && x->is_uint64() ? std::int64_t(x->as_uint64()) : 0;
    };
    const auto completion = num("completion_tokens") + std::int64_t(chunks_before_leg_);
    usage["completion_tokens"] = completion;
    usage["total_tokens"] = num("prompt_tokens") + completion;
    e.changed = true;
  }
}

StreamStitch::Verdict StreamStitch::on_event(std::string_view data, std::string& rewritten) {
  rewritten.clear();
  if (data == "[DONE]") {
    return Verdict::kForward;
  }
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object() || !finite_numbers(v)) {
    return Verdict::kBreak;  // a malformed chunk: the rest of this stream cannot be trusted
  }
  json::object& o = v.as_object();
  if (o.contains("error")) {
    return Verdict::kBreak;  // an in-band error event ends this leg
  }
  Edit e;
  on_id(o, e);
  if (auto* choices = o.if_contains("choices"); choices && choices->is_array()) {
    for (json::value& cv : choices->as_array()) {
      if (cv.is_object()) {
        on_choice(cv.as_object(), e);
      }
    }
  }
  on_usage(o, e);
  if (!continuing() && !e.cut) {
    e.carries = true;  // the first leg passes through untouched (its role chunk included)
  }
  if (e.cut) {
    if (e.carries) {
      rewritten = json::serialize(v);
    }
    return Verdict::kBreak;
  }
  if (!e.carries) {
    return Verdict::kDrop;  // e.g. a continuation's role-only chunk
  }
  if (e.changed) {
    rewritten = json::serialize(v);
    return Verdict::kRewritten;
  }
  return Verdict::kForward;
}

std::optional<std::string> continuation_request(std::string_view original, std::string_view answered,
                                                std::int64_t used_tokens, config::FailoverConfig::Mode mode) {
  if (answered.empty()) {
    return std::string(original);  // nothing to continue: ask again
  }
  boost::system::error_code ec;
  json::value v = json::parse(original, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  json::object& o = v.as_object();
  auto* messages = o.if_contains("messages");
  if (!messages || !messages->is_array()) {
    return std::nullopt;
  }
  for (std::string_view key : {"max_tokens", "max_completion_tokens"}) {
    if (auto* m = o.if_contains(key); m && (m->is_int64() || m->is_uint64())) {
      const std::int64_t left = (m->is_int64() ? m->as_int64() : std::int64_t(m->as_uint64())) - used_tokens;
      if (left <= 0) {
        return std::nullopt;
      }
      *m = left;
    }
  }
  json::array& msgs = messages->as_array();
  json::object prefix{{"role", "assistant"}, {"content", answered}};
  if (mode == config::FailoverConfig::Mode::kPrefix) {
    prefix["prefix"] = true;
    msgs.emplace_back(std::move(prefix));
  } else {
    msgs.emplace_back(std::move(prefix));
    msgs.emplace_back(json::object{{"role", "user"}, {"content", kContinuePrompt}});
  }
  return json::serialize(v);
}

std::optional<std::string> StreamStitch::continuation_body(std::string_view original,
                                                           config::FailoverConfig::Mode mode) const {
  return continuation_request(original, content_, std::int64_t(chunks_), mode);
}

}  // namespace sluice::upstream
