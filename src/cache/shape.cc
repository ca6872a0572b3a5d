#include "cache/shape.h"

#include <boost/json.hpp>
#include <map>

#include "http/sse.h"
#include "openai/usage.h"

namespace sluice::cache {

namespace {
// OpenAI's limits: at most 128 tools per request (so as many calls per choice) and n ≤ 128 choices.
constexpr std::int64_t kMaxToolCalls = 128;
constexpr std::int64_t kMaxChoices = 128;

namespace json = boost::json;

void append_event(std::string& out, const json::value& v) {
  out += "data: ";
  out += json::serialize(v);
  out += "\n\n";
}

// The chunk envelope every stream event shares.
json::object chunk_head(const json::object& src) {
  json::object c;
  for (const char* k : {"id", "object", "created", "model", "system_fingerprint"}) {
    if (const auto* v = src.if_contains(k)) {
      c[k] = *v;
    }
  }
  c["object"] = "chat.completion.chunk";
  return c;
}

std::string_view str_or_empty(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

class EventCollector : public http::SseSink {
 public:
  void on_event(const http::SseEvent& ev) override { events.emplace_back(ev.data); }
  void on_comment(std::string_view) override {}
  std::vector<std::string> events;
};

// One choice being rebuilt from its deltas.
struct ChoiceAcc {
  std::string role = "assistant";
  std::string content, reasoning;
  bool has_content = false, has_reasoning = false;
  json::array tool_calls;
  json::value finish = nullptr;
};
}  // namespace

std::optional<CachedAnswer> answer_from_json(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  const auto& o = v.get_object();
  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) {
    return std::nullopt;
  }
  CachedAnswer a;
  a.json = std::string(body);
  const json::object head = chunk_head(o);
  for (const auto& cv : choices->get_array()) {
    if (!cv.is_object()) {
      return std::nullopt;
    }
    const auto& c = cv.get_object();
    json::object delta;
    if (const auto* m = c.if_contains("message"); m && m->is_object()) {
      for (const auto& [k, val] : m->get_object()) {
        if (k == "tool_calls" && val.is_array()) {
          json::array calls;
          std::int64_t i = 0;
          for (const auto& tc : val.get_array()) {
            json::object t = tc.is_object() ? tc.get_object() : json::object{};
            t["index"] = i++;
            calls.push_back(std::move(t));
          }
          delta[k] = std::move(calls);
        } else {
          delta[k] = val;
        }
      }
    }
    json::value index = c.contains("index") ? c.at("index") : json::value(0);
    json::object ch = head;
    ch["choices"] = json::array{json::object{
        {"index", index}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", nullptr}}};
    append_event(a.sse_main, ch);
    json::object fin = head;
    fin["choices"] = json::array{
        json::object{{"index", index},
                     {"delta", json::object{}},
                     {"logprobs", nullptr},
                     {"finish_reason", c.contains("finish_reason") ? c.at("finish_reason") : nullptr}}};
    append_event(a.sse_main, fin);
  }
  if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
    json::object uc = head;
    uc["choices"] = json::array{};
    uc["usage"] = *u;
    append_event(a.sse_usage, uc);
    a.usage = openai::extract_usage(body).value_or(openai::Usage{});
  }
  return a;
}

std::optional<CachedAnswer> answer_from_sse(std::string_view sse) {
  EventCollector col;
  http::SseParser parser;
  if (!parser.feed(sse, col) || parser.mid_event()) {
    return std::nullopt;
  }
  CachedAnswer a;
  json::object head;
  std::map<std::int64_t, ChoiceAcc> acc;
  json::value usage = nullptr;
  bool first = true;
  for (const auto& data : col.events) {
    if (data == "[DONE]") {
      break;
    }
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);
    if (ec || !v.is_object() || v.get_object().contains("error")) {
      return std::nullopt;
    }
    const auto& o = v.get_object();
    if (first) {
      head = chunk_head(o);
      first = false;
    }
    const auto* u = o.if_contains("usage");
    if (u && u->is_object()) {
      usage = *u;
    }
    const auto* choices = o.if_contains("choices");
    bool usage_only = u && u->is_object() && choices && choices->is_array() && choices->get_array().empty();
    std::string& dst = usage_only ? a.sse_usage : a.sse_main;
    dst += "data: ";
    dst += data;
    dst += "\n\n";
    if (!choices || !choices->is_array()) {
      continue;
    }
    for (const auto& cv : choices->get_array()) {
      if (!cv.is_object()) {
        return std::nullopt;
      }
      const auto& c = cv.get_object();
      std::int64_t idx = 0;
      if (const auto* i = c.if_contains("index"); i && i->is_int64()) {
        idx = i->get_int64();
      }
      if (idx < 0 || idx >= kMaxChoices) {
        return std::nullopt;
      }
      ChoiceAcc& ch = acc[idx];
      if (const auto* f = c.if_contains("finish_reason"); f && !f->is_null()) {
        ch.finish = *f;
      }
      const auto* d = c.if_contains("delta");
      if (!d || !d->is_object()) {
        continue;
      }
      const auto& delta = d->get_object();
      if (auto r = str_or_empty(delta, "role"); !r.empty()) {
        ch.role = r;
      }
      if (const auto* s = delta.if_contains("content"); s && s->is_string()) {
        ch.content += s->get_string();
        ch.has_content = true;
      }
      if (const auto* s = delta.if_contains("reasoning_content"); s && s->is_string()) {
        ch.reasoning += s->get_string();
        ch.has_reasoning = true;
      }
      if (const auto* tcs = delta.if_contains("tool_calls"); tcs && tcs->is_array()) {
        for (const auto& tcv : tcs->get_array()) {
          if (!tcv.is_object()) {
            continue;
          }
          const auto& tc = tcv.get_object();
          std::size_t ti = ch.tool_calls.size();
          if (const auto* i = tc.if_contains("index"); i && i->is_int64()) {
            // Tool calls are numbered from 0 without gaps, at most one per tool a request may offer: any other
            // index (negative, huge) makes the answer uncacheable instead of an unbounded allocation.
            const std::int64_t at = i->get_int64();
            if (at < 0 || at >= kMaxToolCalls || static_cast<std::size_t>(at) > ch.tool_calls.size()) {
              return std::nullopt;
            }
            ti = static_cast<std::size_t>(at);
          }
          if (ti >= static_cast<std::size_t>(kMaxToolCalls)) {
            return std::nullopt;
          }
          while (ch.tool_calls.size() <= ti) {
            ch.tool_calls.push_back(json::object{
                {"type", "function"}, {"function", json::object{{"name", ""}, {"arguments", ""}}}});
          }
          auto& dst_tc = ch.tool_calls[ti].get_object();
          if (auto id = str_or_empty(tc, "id"); !id.empty()) {
            dst_tc["id"] = id;
          }
          if (auto t = str_or_empty(tc, "type"); !t.empty()) {
            dst_tc["type"] = t;
          }
          if (const auto* fn = tc.if_contains("function"); fn && fn->is_object()) {
            auto& dfn = dst_tc["function"].get_object();
            for (const char* k : {"name", "arguments"}) {
              if (auto s = str_or_empty(fn->get_object(), k); !s.empty()) {
                std::string joined(dfn[k].get_string());
                joined += s;
                dfn[k] = joined;
              }
            }
          }
        }
      }
    }
  }
  if (acc.empty()) {
    return std::nullopt;
  }
  json::object out;
  for (const char* k : {"id", "created", "model", "system_fingerprint"}) {
    if (const auto* v = head.if_contains(k)) {
      out[k] = *v;
    }
  }
  out["object"] = "chat.completion";
  json::array choices;
  for (auto& [idx, ch] : acc) {
    json::object msg{{"role", ch.role},
                     {"content", ch.has_content ? json::value(ch.content) : json::value(nullptr)}};
    if (ch.has_reasoning) {
      msg["reasoning_content"] = ch.reasoning;
    }
    if (!ch.tool_calls.empty()) {
      msg["tool_calls"] = std::move(ch.tool_calls);
    }
    choices.push_back(json::object{
        {"index", idx}, {"message", std::move(msg)}, {"logprobs", nullptr}, {"finish_reason", ch.finish}});
  }
  out["choices"] = std::move(choices);
  if (!usage.is_null()) {
    out["usage"] = usage;
  }
  a.json = json::serialize(out);
  a.usage = openai::extract_usage(a.json).value_or(openai::Usage{});
  return a;
}

}  // namespace sluice::cache
