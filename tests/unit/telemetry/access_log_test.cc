#include "telemetry/access_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "openai/usage.h"

namespace sluice::telemetry {
namespace {

TEST(AccessLog, FormatsOneValidJsonLine) {
  AccessRecord r;
  r.request_id = "abc";
  r.key = "team \"a\"";
  r.method = "POST";
  r.path = "/chat/completions";
  r.model = "deepseek-chat";
  r.upstream = "deepseek";
  r.status = 200;
  r.stream = true;
  r.failure = "none";
  r.ttft_ms = 12;
  r.duration_ms = 340;
  r.prompt_tokens = 5;
  r.completion_tokens = 9;
  r.keepalives = 3;
  r.attempts = 2;
  r.bytes_out = 1234;
  std::string line = format_access_record(r);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_TRUE(openai::is_valid_json(line));
  EXPECT_NE(line.find(R"("key":"team \"a\"")"), std::string::npos);
  EXPECT_NE(line.find(R"("status":200,"stream":true,"failure":"none","ttft_ms":12,"duration_ms":340,)"
                      R"("prompt_tokens":5,"completion_tokens":9,"attempts":2,"keepalives":3,"bytes_out":1234})"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("detail"), std::string::npos);
}

TEST(AccessLog, UnknownNumbersAreNull) {
  AccessRecord r;
  r.status = 499;
  r.detail = "client went away";
  std::string line = format_access_record(r);
  EXPECT_TRUE(openai::is_valid_json(line));
  EXPECT_NE(line.find(R"("ttft_ms":null)"), std::string::npos);
  EXPECT_NE(line.find(R"("detail":"client went away")"), std::string::npos);
}

TEST(AccessLog, WritesToFileAndOffWritesNothing) {
  std::string path = ::testing::TempDir() + "/access_log_test.log";
  std::remove(path.c_str());
  std::string err;
  {
    auto log = AccessLog::open(path, err);
    ASSERT_TRUE(log) << err;
    AccessRecord r;
    r.request_id = "x1";
    log->write(r);
    log->write(r);
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  auto off = AccessLog::open("off", err);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->enabled());
  EXPECT_FALSE(AccessLog::open("/nonexistent-dir/x.log", err));
  EXPECT_NE(err.find("cannot open access log"), std::string::npos);
}

}  // namespace
}  // namespace sluice::telemetry
