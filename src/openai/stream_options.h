#pragma once
// Asking the upstream for stream usage on the client's behalf (the ledger needs it on every stream).
#include <string>

namespace sluice::openai {

// Makes a stream request ask for `stream_options.include_usage: true`. Returns true when the body changed
// (the client had not asked, so the relay strips the extra usage chunk again). Bytes outside the
// stream_options member stay identical. `body` must be a valid JSON object.
bool request_stream_usage(std::string& body);

}  // namespace sluice::openai
