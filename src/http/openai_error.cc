#include "http/openai_error.h"

#include "common/json.h"

namespace sluice::http {

std::string openai_error_body(std::string_view message, std::string_view type, std::string_view code,
                              std::string_view param) {
  std::string out;
  out.reserve(64 + message.size() + type.size() + code.size() + param.size());
  out += R"({"error":{"message":)";
  append_json_string(out, message);
  out += R"(,"type":)";
  append_json_string(out, type);
  out += R"(,"param":)";
  if (param.empty()) {
    out += "null";
  } else {
    append_json_string(out, param);
  }
  out += R"(,"code":)";
  if (code.empty()) {
    out += "null";
  } else {
    append_json_string(out, code);
  }
  out += "}}";
  return out;
}

std::string openai_error_stream_tail(std::string_view message, std::string_view type, std::string_view code) {
  std::string out = "data: ";
  out += openai_error_body(message, type, code);
  out += "\n\ndata: [DONE]\n\n";
  return out;
}

}  // namespace sluice::http
