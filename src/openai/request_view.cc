#include "openai/request_view.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdint>
#include <cstring>

#include "common/json.h"
#include "openai/validate.h"

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

// A key's bit in the repeated-key filter: equal keys share it.
unsigned key_slot(std::string_view k) {
  if (k.empty()) {
    return 0;
  }
  const auto first = static_cast<unsigned char>(k.front()), last = static_cast<unsigned char>(k.back());
  return static_cast<unsigned>(k.size() * 7 + first + last) & 63;
}
}  // namespace

std::optional<RequestError> parse_request_view(const std::string& body, Api api, RequestView& out) {
  if (body.empty()) {
    return RequestError{"request body is empty; expected a JSON object", "", "invalid_json"};
  }
  simdjson::dom::element root;
  if (auto err = dom_parser().parse(body.data(), body.size(), !has_padding(body)).get(root)) {
    if (err == simdjson::NUMBER_ERROR) {
      if (auto number = validate::number_out_of_range(body)) {
        return number;
      }
    }
    return RequestError{fmt::format("request body is not valid JSON: {}", simdjson::error_message(err)), "",
                        "invalid_json"};
  }
  simdjson::dom::object obj;
  if (root.get(obj)) {
    return RequestError{"request body must be a JSON object", "", "invalid_json"};
  }
  // One pass over the keys: it rejects a repeated key, finds the model and checks every other member the API
  // defines. A repeated key would let the gateway and the upstream read different values (simdjson takes the
  // first, most upstream parsers the last): a client could pass the model check with one model and be served
  // another. The first invalid member is reported after the model's own errors.
  std::optional<simdjson::dom::element> model_el;
  validate::Error invalid;
  bool valid = true;
  validate::Seen seen;
  {
    // A key is compared with the earlier ones only when a 64-bit filter of (length, first and last byte)
    // says it may repeat one: a handful of instructions per key instead of a scan. The array is trivially
    // constructible, so it costs nothing until used.
    struct Key {
      const char* data;
      std::size_t size;
    };
    Key keys[64];
    std::size_t n = 0;
    std::uint64_t filter = 0;
    for (auto [key, value] : obj) {
      const unsigned slot = key_slot(key);
      if ((filter >> slot) & 1 || n == std::size(keys)) {
        for (std::size_t i = 0; i < n; ++i) {
          if (keys[i].size == key.size() && std::memcmp(keys[i].data, key.data(), key.size()) == 0) {
            return RequestError{fmt::format("duplicate key '{}' in the request body", key), std::string(key),
                                "duplicate_key"};
          }
        }
      }
      filter |= std::uint64_t{1} << slot;
      if (n < std::size(keys)) {
        keys[n++] = {key.data(), key.size()};
      }
      if (key.size() == 5 && key == "model") {
        model_el = value;
      } else if (valid) {
        valid = validate::member(api, key, value, out, seen, invalid);
      }
    }
  }
  if (!model_el) {
    return RequestError{"you must provide a model parameter", "model", "missing_required_parameter"};
  }
  std::string_view model_name;
  if (model_el->get(model_name)) {
    validate::Error err;
    validate::fail_type(err, {"model"}, "a string", *model_el);
    return err;
  }
  if (model_name.empty()) {
    return RequestError{"'model' must not be empty", "model", "invalid_value"};
  }
  out.model.assign(model_name);
  if (!valid || !validate::required(api, seen, invalid)) {
    return invalid;
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
