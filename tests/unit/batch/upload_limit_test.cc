// The HTTP server's separate body limit for uploads (ServerOptions.upload_paths / max_upload_bytes).
#include <gtest/gtest.h>

#include "http/server.h"

namespace sluice::http {
namespace {

std::size_t limit_for(const ServerOptions& opts, std::string_view head) {
  Request req;
  std::size_t used = 0, scan_from = 0;
  EXPECT_EQ(h1::parse_request(head, req, used, scan_from, h1::Limits{}), h1::Error::kNone);
  return body_limit(opts, req);
}

TEST(UploadLimit, OnlyPostsToUploadPathsGetTheUploadLimit) {
  ServerOptions opts;
  opts.max_body_bytes = 1000;
  EXPECT_EQ(limit_for(opts, "POST /v1/files HTTP/1.1\r\nHost: a\r\n\r\n"), 1000u);  // no upload paths
  opts.upload_paths = {"/v1/files", "/files"};
  opts.max_upload_bytes = 50;  // smaller than max_body_bytes: still the uploads' limit
  EXPECT_EQ(limit_for(opts, "POST /v1/files HTTP/1.1\r\nHost: a\r\n\r\n"), 50u);
  EXPECT_EQ(limit_for(opts, "POST /files?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"), 50u);
  EXPECT_EQ(limit_for(opts, "POST /v1/files/abc HTTP/1.1\r\nHost: a\r\n\r\n"), 1000u);
  EXPECT_EQ(limit_for(opts, "GET /v1/files HTTP/1.1\r\nHost: a\r\n\r\n"), 1000u);
  EXPECT_EQ(limit_for(opts, "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\n\r\n"), 1000u);
  opts.max_upload_bytes = 0;
  EXPECT_EQ(limit_for(opts, "POST /v1/files HTTP/1.1\r\nHost: a\r\n\r\n"), 1000u);
}

}  // namespace
}  // namespace sluice::http
