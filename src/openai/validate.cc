// Top-level members of chat, completions and embeddings requests: types and ranges as the OpenAI API checks
// them.
#include "openai/validate.h"

#include <cstdint>
#include <cstring>

namespace sluice::openai::validate {

using detail::boolean, detail::integer_in, detail::is_integer, detail::number_in;
using simdjson::dom::element;
using simdjson::dom::element_type;

// "stop": a string, or up to 16 strings (DeepSeek's limit; OpenAI's is 4).
bool stop(element v, Error& err) {
  constexpr std::size_t kMaxStops = 16;
  if (v.type() == element_type::STRING) {
    return true;
  }
  simdjson::dom::array a;
  if (v.get(a)) {
    return type_or_null(err, {"stop"}, "a string or an array of strings", v);
  }
  if (a.size() > kMaxStops) {
    return fail_too_long(err, {"stop"}, kMaxStops, a.size());
  }
  std::size_t i = 0;
  for (element s : a) {
    if (s.type() != element_type::STRING) {
      return fail_type(err, {"stop", i}, "a string", s);
    }
    ++i;
  }
  return true;
}

bool stream_options(element v, RequestView& out, Error& err) {
  simdjson::dom::object o;
  if (v.get(o)) {
    return type_or_null(err, {"stream_options"}, "an object", v);
  }
  element iu;
  return o["include_usage"].get(iu) || iu.is_null() ||
         boolean(Param{"stream_options", Param::kNone, "include_usage"}, iu, out.include_usage, err);
}

// "logit_bias": token id → bias in [-100, 100].
bool logit_bias(element v, Error& err) {
  simdjson::dom::object o;
  if (v.get(o)) {
    return type_or_null(err, {"logit_bias"}, "an object", v);
  }
  for (auto [token, bias] : o) {
    if (!number_in(Param{"logit_bias", Param::kNone, token}, bias, -100, 100, err)) {
      return false;
    }
  }
  return true;
}

// Completions' "prompt" and embeddings' "input": a string, or an array of strings, of token ids, or of arrays
// of token ids (each at least one). Embeddings refuse empty strings (there is nothing to embed).
bool text_or_tokens(std::string_view name, element v, bool non_empty_strings, Error& err) {
  constexpr std::size_t kMaxItems = 2048;
  constexpr std::string_view kEmpty =
      "string too short. Expected a string with minimum length 1, but got an "
      "empty string instead.";
  std::string_view s;
  if (!v.get(s)) {
    return !(non_empty_strings && s.empty()) ||
           fail_empty_string(err, {name}, "string_below_min_length", kEmpty);
  }
  simdjson::dom::array a;
  if (v.get(a)) {
    return fail_type(err, {name}, "a string, an array of strings, or an array of token arrays", v);
  }
  if (a.size() == 0 || a.size() > kMaxItems) {
    return a.size() == 0 ? fail_empty_array(err, {name}) : fail_too_long(err, {name}, kMaxItems, a.size());
  }
  std::size_t i = 0;
  for (element item : a) {
    const element_type t = item.type();
    simdjson::dom::array tokens;
    if (t == element_type::STRING) {
      if (non_empty_strings && item.get_string().value_unsafe().empty()) {
        return fail_empty_string(err, {name, i}, "string_below_min_length", kEmpty);
      }
    } else if (is_integer(t)) {
      if (!integer_in(Param{name, i}, item, 0, INT64_MAX, err)) {
        return false;
      }
    } else if (!item.get(tokens)) {
      if (tokens.size() == 0) {
        return fail_empty_array(err, {name, i});
      }
      std::size_t j = 0;
      for (element token : tokens) {
        if (!integer_in(Param{name, i, {}, j}, token, 0, INT64_MAX, err)) {
          return false;
        }
        ++j;
      }
    } else {
      return fail_type(err, {name, i}, "a string, an integer or an array of integers", item);
    }
    ++i;
  }
  return true;
}

bool encoding_format(element v, Error& err) {
  std::string_view s;
  if (v.get(s)) {
    return type_or_null(err, {"encoding_format"}, "a string", v);
  }
  return s == "float" || s == "base64" || fail_value(err, {"encoding_format"}, s, "'float' and 'base64'");
}

bool required(Api api, const Seen& seen, Error& err) {
  switch (api) {
    case Api::kChatCompletions:
      return seen.messages || fail_missing(err, {"messages"});
    case Api::kCompletions:
      return seen.prompt || fail_missing(err, {"prompt"});
    case Api::kEmbeddings:
      return seen.input || fail_missing(err, {"input"});
  }
  return true;
}

}  // namespace sluice::openai::validate
