#include "batch/output_line.h"

#include <boost/json.hpp>

#include "common/json.h"

namespace sluice::batch {

std::string request_line_id(std::string_view batch_id, std::int64_t idx) {
  std::string_view tail = batch_id;
  if (tail.starts_with("batch_")) {
    tail.remove_prefix(6);
  }
  return "batch_req_" + std::string(tail) + "_" + std::to_string(idx);
}

namespace {
void line_head(std::string& out, std::string_view batch_id, std::int64_t idx, std::string_view custom_id) {
  out += R"({"id":)";
  append_json_string(out, request_line_id(batch_id, idx));
  out += R"(,"custom_id":)";
  append_json_string(out, custom_id);
}
}  // namespace

std::string response_line(std::string_view batch_id, std::int64_t idx, std::string_view custom_id,
                          int status_code, std::string_view request_id, std::string_view body_json) {
  std::string out;
  line_head(out, batch_id, idx, custom_id);
  out += R"(,"response":{"status_code":)" + std::to_string(status_code) + R"(,"request_id":)";
  append_json_string(out, request_id);
  out += R"(,"body":)";
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(body_json, ec);
  if (ec) {
    append_json_string(out, body_json);  // never write a line that is not JSON
  } else {
    out += boost::json::serialize(v);  // compact: one line, whatever the upstream's formatting
  }
  out += R"(},"error":null})";
  return out;
}

std::string error_line(std::string_view batch_id, std::int64_t idx, std::string_view custom_id,
                       std::string_view code, std::string_view message) {
  std::string out;
  line_head(out, batch_id, idx, custom_id);
  out += R"(,"response":null,"error":{"code":)";
  append_json_string(out, code);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += "}}";
  return out;
}

}  // namespace sluice::batch
