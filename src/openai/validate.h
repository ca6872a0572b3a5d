#pragma once
// Request validation the way the OpenAI API does it: each top-level member the API defines is checked for its
// type and range as the request view's key loop meets it (no second parse); unknown members pass (providers
// have extensions). Errors read like OpenAI's ("Invalid type for 'messages[0].content': expected ...") and
// name the parameter.
//
// The checks return true when the value is valid, else false with `err` set. The request path checks a
// handful of members per request, so the valid case is kept to a few instructions each: errors are built by
// the cold fail_* functions below, from a Param that names the member without building a string.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "openai/request_view.h"

namespace sluice::openai::validate {

// Where a failed check leaves its error (empty until then: nothing to build while the request is valid).
using Error = std::optional<RequestError>;

// Members whose presence matters after the key loop.
struct Seen {
  bool messages = false, prompt = false, input = false;
};

// Checks one top-level member and fills what the view reads from it (stream, stream_options.include_usage,
// max_tokens, temperature). `model` and duplicate keys are the caller's. Inline, below: it runs for every key
// of every request.
inline bool member(Api api, std::string_view key, simdjson::dom::element value, RequestView& out, Seen& seen,
                   Error& err);
// After the loop: the member the API requires (messages, prompt, input) is there.
bool required(Api api, const Seen& seen, Error& err);

// Members checked out of line, in validate.cc.
bool stop(simdjson::dom::element v, Error& err);
bool stream_options(simdjson::dom::element v, RequestView& out, Error& err);
bool logit_bias(simdjson::dom::element v, Error& err);
bool text_or_tokens(std::string_view name, simdjson::dom::element v, bool non_empty_strings, Error& err);
bool encoding_format(simdjson::dom::element v, Error& err);

// Members with structure, in validate_messages.cc.
bool messages(simdjson::dom::element value, Error& err);
bool tools(simdjson::dom::element value, Error& err);
bool tool_choice(simdjson::dom::element value, Error& err);
bool response_format(simdjson::dom::element value, Error& err);

// When simdjson reports a number it cannot hold (1e400, 2^64): names the member and says what is wrong;
// nullopt when no such number is found (the body is invalid in another way).
std::optional<RequestError> number_out_of_range(std::string_view body);

// A member's path, "name[index].member[index2].member2", with the parts that are set.
struct Param {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  Param(std::string_view name, std::size_t index = kNone, std::string_view member = {},  // NOLINT: implicit
        std::size_t index2 = kNone, std::string_view member2 = {})
      : name(name), index(index), member(member), index2(index2), member2(member2) {}
  std::string str() const;

  std::string_view name;
  std::size_t index;
  std::string_view member;
  std::size_t index2;
  std::string_view member2;
};

// ---- errors in OpenAI's words: each sets `err` and returns false ----
[[gnu::cold]] bool fail_type(Error& err, const Param& p, std::string_view expected,
                             simdjson::dom::element got);
// For an optional member: null is "not given" (the SDKs send it) and passes; anything else fails as
// fail_type.
[[gnu::cold]] bool type_or_null(Error& err, const Param& p, std::string_view expected,
                                simdjson::dom::element got);
[[gnu::cold]] bool fail_missing(Error& err, const Param& p);
[[gnu::cold]] bool fail_empty_array(Error& err, const Param& p);
[[gnu::cold]] bool fail_too_long(Error& err, const Param& p, std::size_t max, std::size_t got);
// `supported` lists the values, quoted and joined ("'a', 'b', and 'c'").
[[gnu::cold]] bool fail_value(Error& err, const Param& p, std::string_view got, std::string_view supported);
[[gnu::cold]] bool fail_decimal_range(Error& err, const Param& p, double lo, double hi, double got);
[[gnu::cold]] bool fail_integer_range(Error& err, const Param& p, std::int64_t lo, std::int64_t hi,
                                      simdjson::dom::element got);
[[gnu::cold]] bool fail_empty_string(Error& err, const Param& p, std::string_view code,
                                     std::string_view what);

// ---- the checks every request runs: inline ----
namespace detail {
using simdjson::dom::element;
using simdjson::dom::element_type;

// `key` is the literal `lit` (the caller has matched the length already: a constant-size compare).
template <std::size_t N>
inline bool is_key(std::string_view key, const char (&lit)[N]) {
  return std::memcmp(key.data(), lit, N - 1) == 0;
}

inline bool is_integer(simdjson::dom::element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64;
}

// A number within [lo, hi] ("decimal" in OpenAI's words: any JSON number); `d` receives it.
template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool number_in(const P& p, element v, double lo, double hi, double& d, Error& err) {
  if (v.get(d)) [[unlikely]] {
    d = 1;
    return type_or_null(err, p, "a decimal", v);
  }
  return (d >= lo && d <= hi) || fail_decimal_range(err, p, lo, hi, d);
}
template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool number_in(const P& p, element v, double lo, double hi, Error& err) {
  double ignored = 0;
  return number_in(p, v, lo, hi, ignored, err);
}

// An integer within [lo, hi]; `value` receives it.
template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool integer_in(const P& p, element v, std::int64_t lo, std::int64_t hi, std::int64_t& value,
                       Error& err) {
  if (!is_integer(v.type())) [[unlikely]] {
    return type_or_null(err, p, "an integer", v);
  }
  // get() fails for a uint64 above INT64_MAX: above any limit here.
  return (!v.get(value) && value >= lo && value <= hi) || fail_integer_range(err, p, lo, hi, v);
}
template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool integer_in(const P& p, element v, std::int64_t lo, std::int64_t hi, Error& err) {
  std::int64_t ignored = 0;
  return integer_in(p, v, lo, hi, ignored, err);
}

template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool boolean(const P& p, element v, bool& out, Error& err) {
  return !v.get(out) || type_or_null(err, p, "a boolean", v);
}
template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool boolean(const P& p, element v, Error& err) {
  bool ignored = false;
  return boolean(p, v, ignored, err);
}

template <class P>  // std::string_view or Param: a Param is only built for an error
inline bool string(const P& p, element v, Error& err) {
  return v.type() == element_type::STRING || type_or_null(err, p, "a string", v);
}

}  // namespace detail

// The members of chat, completions and embeddings (required: messages, prompt, input): one dispatch on the
// key's length, then a constant-size compare. Sampling parameters belong to chat and completions
// ("generates").
inline bool member(Api api, std::string_view key, simdjson::dom::element v, RequestView& out, Seen& seen,
                   Error& err) {
  using detail::boolean, detail::integer_in, detail::is_key, detail::number_in, detail::string;
  const bool chat = api == Api::kChatCompletions;
  const bool generates = api != Api::kEmbeddings;
  const std::string_view p = key;
  // null is "not given" for every optional member (the SDKs send it): each check lets it pass where its type
  // check fails, so a valid value costs no null test. A required member refuses it.
  switch (key.size()) {
    case 1:
      return !(generates && is_key(key, "n")) || integer_in(p, v, 1, 128, err);
    case 4:
      if (is_key(key, "user")) return string(p, v, err);
      if (generates && is_key(key, "stop")) return stop(v, err);
      if (generates && is_key(key, "seed")) return integer_in(p, v, INT64_MIN, INT64_MAX, err);
      return !(api == Api::kCompletions && is_key(key, "echo")) || boolean(p, v, err);
    case 5:
      if (generates && is_key(key, "top_p")) return number_in(p, v, 0, 1, err);
      if (chat && is_key(key, "tools")) return tools(v, err);
      return !(!generates && is_key(key, "input")) ||
             ((seen.input = true) && text_or_tokens(key, v, true, err));
    case 6:
      if (is_key(key, "stream")) return boolean(p, v, out.stream, err);
      if (api != Api::kCompletions) return true;
      if (is_key(key, "prompt")) return (seen.prompt = true) && text_or_tokens(key, v, false, err);
      return !is_key(key, "suffix") || string(p, v, err);
    case 7:
      return !(api == Api::kCompletions && is_key(key, "best_of")) || integer_in(p, v, 1, 20, err);
    case 8:
      if (chat && is_key(key, "messages")) return (seen.messages = true) && messages(v, err);
      if (!generates || !is_key(key, "logprobs")) return true;
      return chat ? boolean(p, v, err) : integer_in(p, v, 0, 20, err);
    case 10:
      if (generates && is_key(key, "max_tokens")) {
        std::int64_t n = 0;
        const bool ok = integer_in(p, v, 1, INT64_MAX, n, err);
        if (n > 0) {
          out.max_tokens = n;  // not for null
        }
        return ok;
      }
      if (generates && is_key(key, "logit_bias")) return logit_bias(v, err);
      return !(!generates && is_key(key, "dimensions")) || integer_in(p, v, 1, INT64_MAX, err);
    case 11:
      if (generates && is_key(key, "temperature")) {
        double d = 1;
        const bool ok = number_in(p, v, 0, 2, d, err);
        out.zero_temperature = ok && d == 0.0;
        return ok;
      }
      return !(chat && is_key(key, "tool_choice")) || tool_choice(v, err);
    case 12:
      return !(chat && is_key(key, "top_logprobs")) || integer_in(p, v, 0, 20, err);
    case 14:
      return !(generates && is_key(key, "stream_options")) || stream_options(v, out, err);
    case 15:
      if (chat && is_key(key, "response_format")) return response_format(v, err);
      return !(!generates && is_key(key, "encoding_format")) || encoding_format(v, err);
    case 16:
      return !(generates && is_key(key, "presence_penalty")) || number_in(p, v, -2, 2, err);
    case 17:
      return !(generates && is_key(key, "frequency_penalty")) || number_in(p, v, -2, 2, err);
    case 19:
      return !(chat && is_key(key, "parallel_tool_calls")) || boolean(p, v, err);
    case 21:
      return !(chat && is_key(key, "max_completion_tokens")) || integer_in(p, v, 1, INT64_MAX, err);
    default:
      return true;
  }
}

}  // namespace sluice::openai::validate
