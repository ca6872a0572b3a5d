#include "openai/request_view.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>

#include "common/json.h"

namespace sluice::openai {

namespace {
static_assert(simdjson::SIMDJSON_PADDING <= 64, "http::kBodyPadding must cover simdjson's padding");

simdjson::dom::parser& dom_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

simdjson::ondemand::parser& ondemand_parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

bool has_padding(const std::string& s) { return s.capacity() >= s.size() + simdjson::SIMDJSON_PADDING; }

RequestError type_error(std::string_view field, std::string_view expected) {
  return {fmt::format("'{}' must be {}", field, expected), std::string(field), "invalid_type"};
}
}  // namespace

std::optional<RequestError> parse_request_view(const std::string& body, RequestView& out) {
  if (body.empty()) {
    return RequestError{"request body is empty; expected a JSON object", "", "invalid_json"};
  }
  simdjson::dom::element root;
  if (auto err = dom_parser().parse(body.data(), body.size(), !has_padding(body)).get(root)) {
    return RequestError{fmt::format("request body is not valid JSON: {}", simdjson::error_message(err)), "",
                        "invalid_json"};
  }
  simdjson::dom::object obj;
  if (root.get(obj)) {
    return RequestError{"request body must be a JSON object", "", "invalid_json"};
  }
  // One pass over the keys: it finds the fields the gateway reads and rejects a repeated key. A repeated key
  // would let the gateway and the upstream read different values (simdjson takes the first, most upstream
  // parsers the last): a client could pass the model check with one model and be served another.
  std::optional<simdjson::dom::element> model_el, stream_el, opts_el, max_tokens_el, temperature_el;
  {
    std::string_view keys[64];
    std::size_t n = 0;
    for (auto [key, value] : obj) {
      for (std::size_t i = 0; i < n; ++i) {
        if (keys[i].size() == key.size() && std::memcmp(keys[i].data(), key.data(), key.size()) == 0) {
          return RequestError{fmt::format("duplicate key '{}' in the request body", key), std::string(key),
                              "duplicate_key"};
        }
      }
      if (n < std::size(keys)) {
        keys[n++] = key;
      }
      // By length first: each comparison is then one of a known size, which the compiler inlines.
      switch (key.size()) {
        case 5:
          if (key == "model") model_el = value;
          break;
        case 6:
          if (key == "stream") stream_el = value;
          break;
        case 14:
          if (key == "stream_options") opts_el = value;
          break;
        case 10:
          if (key == "max_tokens") max_tokens_el = value;
          break;
        case 11:
          if (key == "temperature") temperature_el = value;
          break;
        default:
          break;
      }
    }
  }
  if (!model_el) {
    return RequestError{"you must provide a model parameter", "model", "missing_required_parameter"};
  }
  std::string_view model_name;
  if (model_el->get(model_name)) {
    return type_error("model", "a string");
  }
  if (model_name.empty()) {
    return RequestError{"'model' must not be empty", "model", "invalid_value"};
  }
  out.model.assign(model_name);

  if (stream_el && !stream_el->is_null()) {
    if (stream_el->get(out.stream)) {
      return type_error("stream", "a boolean");
    }
  }
  if (opts_el && !opts_el->is_null()) {
    simdjson::dom::object o;
    if (opts_el->get(o)) {
      return type_error("stream_options", "an object");
    }
    if (simdjson::dom::element iu; !o["include_usage"].get(iu) && !iu.is_null()) {
      if (iu.get(out.include_usage)) {
        return type_error("stream_options.include_usage", "a boolean");
      }
    }
  }
  if (max_tokens_el && !max_tokens_el->is_null()) {
    std::int64_t v = 0;
    if (max_tokens_el->get(v) || v < 1) {
      return type_error("max_tokens", "a positive integer");
    }
    out.max_tokens = v;
  }
  if (temperature_el) {
    double d = 1;
    out.zero_temperature = temperature_el->is_number() && !temperature_el->get(d) && d == 0.0;
  }
  return std::nullopt;
}

bool rewrite_model(std::string& body, std::string_view model) {
  if (!has_padding(body)) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  simdjson::ondemand::document doc;
  if (ondemand_parser().iterate(body.data(), body.size(), body.capacity()).get(doc)) {
    return false;
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) {
    return false;
  }
  std::string_view token;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      return false;
    }
    if (key == "model") {
      if (field.value().raw_json_token().get(token)) {
        return false;
      }
      break;
    }
  }
  if (token.size() < 2 || token.front() != '"') {
    return false;
  }
  // raw_json_token may include trailing whitespace; replace only the quoted string itself.
  std::size_t end = token.find_last_of('"');
  auto offset = static_cast<std::size_t>(token.data() - body.data());
  body.replace(offset, end + 1, json_string(model));
  return true;
}

}  // namespace sluice::openai
