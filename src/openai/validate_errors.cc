// Validation errors in OpenAI's words, built only when a check fails.
#include <fmt/format.h>

#include "openai/validate.h"

namespace sluice::openai::validate {

namespace {

using simdjson::dom::element_type;

// "a string", "an integer", ... for the JSON type of `v`.
std::string_view kind_of(simdjson::dom::element v) {
  switch (v.type()) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a decimal";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// `message` is a format string with the parameter's path as its first argument.
template <class... Args>
bool set(Error& err, const Param& p, std::string_view code, fmt::format_string<std::string&, Args...> message,
         Args&&... args) {
  std::string param = p.str();
  std::string text = fmt::format(message, param, std::forward<Args>(args)...);
  err.emplace(RequestError{std::move(text), std::move(param), std::string(code)});
  return false;
}

}  // namespace

std::string Param::str() const {
  std::string s(name);
  if (index != kNone) s += fmt::format("[{}]", index);
  if (!member.empty()) s.append(".").append(member);
  if (index2 != kNone) s += fmt::format("[{}]", index2);
  if (!member2.empty()) s.append(".").append(member2);
  return s;
}

bool fail_type(Error& err, const Param& p, std::string_view expected, simdjson::dom::element got) {
  return set(err, p, "invalid_type", "Invalid type for '{}': expected {}, but got {} instead.", expected,
             kind_of(got));
}

bool type_or_null(Error& err, const Param& p, std::string_view expected, simdjson::dom::element got) {
  return got.is_null() || fail_type(err, p, expected, got);
}

bool fail_missing(Error& err, const Param& p) {
  return set(err, p, "missing_required_parameter", "Missing required parameter: '{}'.");
}

bool fail_empty_array(Error& err, const Param& p) {
  return set(
      err, p, "empty_array",
      "Invalid '{}': empty array. Expected an array with minimum length 1, but got an empty array instead.");
}

bool fail_too_long(Error& err, const Param& p, std::size_t max, std::size_t got) {
  return set(
      err, p, "array_above_max_length",
      "Invalid '{}': array too long. Expected an array with maximum length {}, but got an array with length "
      "{} instead.",
      max, got);
}

bool fail_value(Error& err, const Param& p, std::string_view got, std::string_view supported) {
  return set(err, p, "invalid_value", "Invalid value for '{}': '{}'. Supported values are: {}.",
             got.substr(0, 64), supported);
}

bool fail_decimal_range(Error& err, const Param& p, double lo, double hi, double got) {
  const bool low = got < lo;
  return set(err, p, low ? "decimal_below_min_value" : "decimal_above_max_value",
             "Invalid '{}': decimal {} value. Expected a value {} {}, but got {} instead.",
             low ? "below minimum" : "above maximum", low ? ">=" : "<=", low ? lo : hi, got);
}

bool fail_integer_range(Error& err, const Param& p, std::int64_t lo, std::int64_t hi,
                        simdjson::dom::element got) {
  std::int64_t v = 0;
  const bool low = !got.get(v) && v < lo;  // a uint64 past INT64_MAX is above
  return set(err, p, low ? "integer_below_min_value" : "integer_above_max_value",
             "Invalid '{}': integer {} value. Expected a value {} {}, but got {} instead.",
             low ? "below minimum" : "above maximum", low ? ">=" : "<=", low ? lo : hi,
             simdjson::to_string(got));
}

bool fail_empty_string(Error& err, const Param& p, std::string_view code, std::string_view what) {
  return set(err, p, code, "Invalid '{}': {}", what);
}

}  // namespace sluice::openai::validate
