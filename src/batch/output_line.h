#pragma once
// The lines of a batch's output and error files, in OpenAI's shape:
//   {"id":"batch_req_...","custom_id":"...","response":{"status_code":200,"request_id":"...","body":{...}},
//    "error":null}
// and, for a request that got no response, "response":null with "error":{"code","message"}.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::batch {

// "batch_req_<batch id without its prefix>_<line index>": stable, so a retried finalization writes the same.
std::string request_line_id(std::string_view batch_id, std::int64_t idx);

// `body_json` must be a JSON value (the upstream's answer); anything else is embedded as a JSON string.
std::string response_line(std::string_view batch_id, std::int64_t idx, std::string_view custom_id,
                          int status_code, std::string_view request_id, std::string_view body_json);

std::string error_line(std::string_view batch_id, std::int64_t idx, std::string_view custom_id,
                       std::string_view code, std::string_view message);

}  // namespace sluice::batch
