#pragma once
// The OpenAI error envelope every client library understands.
#include <string>
#include <string_view>

namespace sluice::http {

// {"error":{"message":...,"type":...,"param":null,"code":...}}
std::string openai_error_body(std::string_view message, std::string_view type, std::string_view code);

}  // namespace sluice::http
