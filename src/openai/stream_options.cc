#include "openai/stream_options.h"

#include <simdjson.h>

#include <boost/json.hpp>

namespace sluice::openai {

namespace {
constexpr std::string_view kMember = R"("stream_options":{"include_usage":true})";
}

bool request_stream_usage(std::string& body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(body.data(), body.size(), body.capacity()).get(doc) || doc.get_object().get(obj)) {
    return false;
  }
  std::string_view value;  // the stream_options value as written, when present
  bool is_object = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      return false;
    }
    if (key != "stream_options") {
      continue;
    }
    simdjson::ondemand::value v;
    if (field.value().get(v)) {
      return false;
    }
    simdjson::ondemand::object so;
    if (v.type() == simdjson::ondemand::json_type::object && !v.get_object().get(so)) {
      if (so.raw_json().get(value)) {
        return false;
      }
      is_object = true;
    } else {
      value = v.raw_json_token();
    }
    break;
  }
  if (value.empty()) {
    auto brace = body.find('{');
    std::string insert(kMember);
    insert += ',';
    body.insert(brace + 1, insert);
    return true;
  }
  // Trim trailing whitespace that raw tokens may carry.
  while (!value.empty() &&
         (value.back() == ' ' || value.back() == '\n' || value.back() == '\r' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  auto offset = static_cast<std::size_t>(value.data() - body.data());
  std::string replacement = R"({"include_usage":true})";
  if (is_object) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(value, ec);
    if (ec || !parsed.is_object()) {
      return false;
    }
    auto& o = parsed.get_object();
    if (const auto* inc = o.if_contains("include_usage"); inc && inc->is_bool() && inc->get_bool()) {
      return false;  // the client asked for it already
    }
    o["include_usage"] = true;
    replacement = boost::json::serialize(parsed);
  }
  body.replace(offset, value.size(), replacement);
  return true;
}

}  // namespace sluice::openai
