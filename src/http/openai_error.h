#pragma once
// The OpenAI error envelope every client library understands, as a JSON body and as a stream's last event.
#include <string>
#include <string_view>

namespace sluice::http {

// {"error":{"message":...,"type":...,"param":null|"param","code":...}}
std::string openai_error_body(std::string_view message, std::string_view type, std::string_view code,
                              std::string_view param = {});

// The end of a stream that cannot be completed: the error as an SSE event in the SDKs' shape, then
// `data: [DONE]`. Never a silent cut.
std::string openai_error_stream_tail(std::string_view message, std::string_view type, std::string_view code);

}  // namespace sluice::http
