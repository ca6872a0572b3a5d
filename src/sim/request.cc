#include "sim/request.h"

#include <fmt/format.h>

#include "sim/prefix_cache.h"
#include "sim/text_gen.h"

namespace sluice::sim {

namespace {
using simdjson::ondemand::json_type;

// Feeds text into both the prefix hasher (cache) and a content hash (text seed).
struct Digest {
  PrefixHasher prefix;
  uint64_t hash = 0xcbf29ce484222325ULL;
  void add(std::string_view s) {
    prefix.add(s);
    for (char c : s) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
  }
};

// content: a string, or an array of parts {"type":"text","text":...}.
simdjson::error_code read_content(simdjson::ondemand::value v, Digest& d) {
  json_type t;
  if (auto e = v.type().get(t)) {
    return e;
  }
  if (t == json_type::string) {
    std::string_view s;
    if (auto e = v.get_string().get(s)) {
      return e;
    }
    d.add(s);
    return simdjson::SUCCESS;
  }
  if (t == json_type::array) {
    for (auto part : v.get_array()) {
      simdjson::ondemand::object o;
      if (auto e = part.get_object().get(o)) {
        return e;
      }
      for (auto f : o) {
        std::string_view key;
        if (auto e = f.unescaped_key().get(key)) {
          return e;
        }
        if (key == "text") {
          std::string_view s;
          if (auto e = f.value().get_string().get(s)) {
            return e;
          }
          d.add(s);
        }
      }
    }
    return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;  // null content (assistant tool calls) counts as empty
}

// DeepSeek chat prefix completion: a last message {"role":"assistant","content":...,"prefix":true} is text the
// answer must continue. It is billed as prompt but does not change the answer's seed, so a continuation of a
// cut stream produces exactly the rest of the original text.
simdjson::error_code read_messages(simdjson::ondemand::value v, Digest& d, std::size_t& count,
                                   std::string& assistant_prefix) {
  simdjson::ondemand::array arr;
  if (auto e = v.get_array().get(arr)) {
    return e;
  }
  uint64_t hash_before_last = d.hash;
  bool last_is_prefix = false;
  std::string last_content;
  for (auto m : arr) {
    simdjson::ondemand::object o;
    if (auto e = m.get_object().get(o)) {
      return e;
    }
    hash_before_last = d.hash;
    bool assistant = false;
    bool prefix = false;
    last_content.clear();
    for (auto f : o) {
      std::string_view key;
      if (auto e = f.unescaped_key().get(key)) {
        return e;
      }
      if (key == "role") {
        std::string_view role;
        if (auto e = f.value().get_string().get(role)) {
          return e;
        }
        assistant = role == "assistant";
        d.add(role);
        d.add(":");
      } else if (key == "content") {
        simdjson::ondemand::value cv;
        json_type t;
        if (auto e = f.value().get(cv); e || (e = cv.type().get(t))) {
          return e;
        }
        if (t == json_type::string) {
          std::string_view s;
          if (auto e = cv.get_string().get(s)) {
            return e;
          }
          d.add(s);
          last_content.assign(s);
        } else if (auto e = read_content(cv, d)) {
          return e;
        }
      } else if (key == "prefix") {
        json_type t;
        if (auto e = f.value().type().get(t)) {
          return e;
        }
        if (t == json_type::boolean) {
          if (auto e = f.value().get_bool().get(prefix)) {
            return e;
          }
        }
      }
    }
    last_is_prefix = assistant && prefix;
    ++count;
  }
  if (last_is_prefix) {
    d.hash = hash_before_last;
    assistant_prefix = std::move(last_content);
  }
  return simdjson::SUCCESS;
}

std::string describe(simdjson::error_code e, std::string_view field) {
  return fmt::format("Failed to deserialize the JSON body into the target type: {}: {}", field,
                     simdjson::error_message(e));
}
}  // namespace

ApiParse parse_api_request(simdjson::ondemand::parser& parser, const std::string& body, Endpoint ep) {
  ApiParse r;
  simdjson::padded_string copy;
  simdjson::padded_string_view view;
  if (body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING) {
    view = simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  } else {
    copy = simdjson::padded_string(body);
    view = copy;
  }
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (auto e = parser.iterate(view).get(doc); e || (e = doc.get_object().get(obj))) {
    r.error = describe(e, "body");
    return r;
  }
  Digest d;
  std::size_t messages = 0;
  bool has_prompt = false;
  for (auto f : obj) {
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) {
      r.error = describe(e, "body");
      return r;
    }
    simdjson::ondemand::value v;
    if (auto e = f.value().get(v)) {
      r.error = describe(e, key);
      return r;
    }
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "model") {
      std::string_view m;
      e = v.get_string().get(m);
      r.req.model = m;
    } else if (key == "stream") {
      json_type t;
      e = v.type().get(t);
      if (!e && t != json_type::null) {
        e = v.get_bool().get(r.req.stream);
      }
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      json_type t;
      e = v.type().get(t);
      if (!e && t != json_type::null) {
        uint64_t n = 0;
        e = v.get_uint64().get(n);
        if (!e && (n < 1 || n > 1'000'000)) {
          r.error = fmt::format("Invalid max_tokens value, the valid range of max_tokens is [1, 1000000]");
          return r;
        }
        r.req.max_tokens = n;
      }
    } else if (key == "stream_options") {
      json_type t;
      e = v.type().get(t);
      if (!e && t == json_type::object) {
        bool inc = false;
        auto iu = v.find_field_unordered("include_usage");
        if (iu.error() == simdjson::SUCCESS) {
          e = iu.get_bool().get(inc);
        }
        r.req.include_usage = inc;
      }
    } else if (key == "messages" && ep == Endpoint::kChat) {
      e = read_messages(v, d, messages, r.req.assistant_prefix);
    } else if (key == "prompt" && ep == Endpoint::kCompletions) {
      std::string_view s;
      e = v.get_string().get(s);
      d.add(s);
      has_prompt = true;
    } else if (key == "input" && ep == Endpoint::kEmbeddings) {
      json_type t;
      e = v.type().get(t);
      auto add_input = [&](std::string_view s) {
        Digest one;
        one.add(s);
        d.add(s);
        r.req.inputs.push_back(one.hash);
      };
      if (!e && t == json_type::string) {
        std::string_view s;
        e = v.get_string().get(s);
        add_input(s);
      } else if (!e && t == json_type::array) {
        for (auto item : v.get_array()) {
          std::string_view s;
          if ((e = item.get_string().get(s))) {
            break;
          }
          add_input(s);
        }
      } else if (!e) {
        e = simdjson::INCORRECT_TYPE;
      }
    } else if (key == "encoding_format") {
      std::string_view s;
      e = v.get_string().get(s);
      r.req.base64 = s == "base64";
    }
    // Other fields (temperature, tools, ...) are accepted and ignored: skipping is automatic on demand.
    if (e) {
      r.error = describe(e, key);
      return r;
    }
  }
  if (r.req.model.empty()) {
    r.error = "Failed to deserialize the JSON body into the target type: missing field `model`";
  } else if (ep == Endpoint::kChat && messages == 0) {
    r.error = "Failed to deserialize the JSON body into the target type: messages: must not be empty";
  } else if (ep == Endpoint::kCompletions && !has_prompt) {
    r.error = "Failed to deserialize the JSON body into the target type: missing field `prompt`";
  } else if (ep == Endpoint::kEmbeddings && r.req.inputs.empty()) {
    r.error = "Failed to deserialize the JSON body into the target type: missing field `input`";
  }
  r.req.prompt_tokens = std::max<uint64_t>(1, (d.prefix.tenths() + 9) / 10);
  r.req.prefix_blocks = d.prefix.blocks();
  r.req.content_hash = d.hash;
  return r;
}

}  // namespace sluice::sim
