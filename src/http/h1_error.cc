#include "http/h1_error.h"

#include <string>

namespace sluice::http::h1 {

std::string_view describe(Error e) {
  switch (e) {
    case Error::kNone:
      return "no error";
    case Error::kNeedMore:
      return "incomplete message";
    case Error::kHeadTooLarge:
      return "header section too large";
    case Error::kBadStartLine:
      return "malformed request or status line";
    case Error::kBadVersion:
      return "unsupported HTTP version";
    case Error::kBadField:
      return "malformed header field";
    case Error::kBadContentLength:
      return "invalid Content-Length";
    case Error::kBadTransferEncoding:
      return "Transfer-Encoding must end in chunked and cannot come with Content-Length";
    case Error::kBodyTooLarge:
      return "body too large";
    case Error::kBadChunk:
      return "malformed chunked encoding";
    case Error::kTruncated:
      return "message truncated";
    case Error::kMissingHost:
      return "an HTTP/1.1 request needs a Host header";
    case Error::kBadHost:
      return "invalid Host header";
    case Error::kRepeatedField:
      return "a header that may appear only once is repeated";
  }
  return "unknown error";
}

namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sluice.http1"; }
  std::string message(int ev) const override { return std::string(describe(static_cast<Error>(ev))); }
};
}  // namespace

const boost::system::error_category& error_category() {
  static const Category category;
  return category;
}

}  // namespace sluice::http::h1
