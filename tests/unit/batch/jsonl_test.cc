#include "batch/jsonl.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::batch {
namespace {

std::string req(std::string_view id, std::string_view url = "/v1/chat/completions",
                std::string_view model = "deepseek-chat", std::string_view extra = "") {
  return std::string(R"({"custom_id":")") + std::string(id) + R"(","method":"POST","url":")" +
         std::string(url) + R"(","body":{"model":")" + std::string(model) +
         R"(","messages":[{"role":"user","content":"hi"}])" + std::string(extra) + "}}";
}

JsonlValidator check(const std::string& file, std::size_t max_lines = 100) {
  JsonlValidator v(max_lines);
  v.feed(file);
  v.finish();
  return v;
}

TEST(Jsonl, AcceptsAValidFile) {
  auto v = check(req("a") + "\n" + req("b") + "\n");
  EXPECT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v.requests(), 2u);
  EXPECT_EQ(v.url(), "/v1/chat/completions");
  EXPECT_EQ(v.model(), "deepseek-chat");
}

TEST(Jsonl, LastLineWithoutNewlineCrlfAndTrailingBlankLines) {
  EXPECT_TRUE(check(req("a") + "\r\n" + req("b")).ok());
  EXPECT_TRUE(check(req("a") + "\n\n\n").ok());
}

TEST(Jsonl, ErrorsNameTheLine) {
  const std::string file =
      req("a") + "\n" + "{not json\n" + req("c", "/v1/embeddings") + "\n" + req("a") + "\n" +
      R"({"custom_id":"e","method":"GET","url":"/v1/chat/completions","body":{"model":"m"}})" + "\n" +
      req("f", "/v1/chat/completions", "other") + "\n" +
      req("g", "/v1/chat/completions", "deepseek-chat", R"(,"stream":true)") + "\n" + "[1,2]\n" +
      R"({"custom_id":"","method":"POST","url":"/v1/chat/completions","body":{"model":"m"}})" + "\n" +
      R"({"custom_id":"j","method":"POST","url":"/v1/chat/completions","body":[]})" + "\n" +
      R"({"custom-id":"k"})" + "\n";
  JsonlValidator v(100, 20);
  v.feed(file);
  v.finish();
  ASSERT_FALSE(v.ok());
  const auto& e = v.errors();
  ASSERT_EQ(e.size(), 10u) << v.message();
  EXPECT_TRUE(e[0].starts_with("line 2: invalid JSON")) << e[0];
  EXPECT_EQ(
      e[1],
      R"(line 3: url "/v1/embeddings" differs from line 1's "/v1/chat/completions" (one endpoint per file))");
  EXPECT_EQ(e[2], R"(line 4: duplicate custom_id "a" (first on line 1))");
  EXPECT_EQ(e[3], R"(line 5: method must be "POST")");
  EXPECT_EQ(e[4], R"(line 6: model "other" differs from line 1's "deepseek-chat" (one model per file))");
  EXPECT_EQ(e[5], "line 7: body.stream must not be true in a batch");
  EXPECT_EQ(e[6], "line 8: expected a JSON object");
  EXPECT_EQ(e[7], "line 9: custom_id must be a non-empty string");
  EXPECT_EQ(e[8], "line 10: body must be a JSON object (the request)");
  EXPECT_EQ(e[9], R"(line 11: unknown field "custom-id" (expected custom_id, method, url, body))");
}

TEST(Jsonl, UnsupportedUrlAndMissingModel) {
  auto v = check(req("a", "/v1/completions"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.errors()[0], R"(line 1: url must be "/v1/chat/completions" or "/v1/embeddings")");
  auto m = check(R"({"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{"input":"x"}})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.errors()[0], "line 1: body.model must be a non-empty string");
}

TEST(Jsonl, BlankLineInTheMiddleIsAnError) {
  auto v = check(req("a") + "\n\n" + req("b") + "\n");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.errors()[0], "line 2: empty line");
}

TEST(Jsonl, EmptyFileAndTooManyLines) {
  auto empty = check("\n\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.message().find("no requests"), std::string::npos);
  auto many = check(req("a") + "\n" + req("b") + "\n" + req("c") + "\n", 2);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.errors()[0], "line 3: too many requests (at most 2 per file)");
}

TEST(Jsonl, CapsStoredErrorsButCountsAll) {
  std::string file;
  for (int i = 0; i < 30; ++i) {
    file += "{bad\n";
  }
  JsonlValidator v(100, 10);
  v.feed(file);
  v.finish();
  EXPECT_EQ(v.errors().size(), 10u);
  EXPECT_EQ(v.error_count(), 30u);
  EXPECT_NE(v.message().find("(and 20 more error(s))"), std::string::npos);
}

TEST(Jsonl, SplitFeedingGivesTheSameResult) {
  const std::string file = req("a") + "\n{bad\n" + req("c") + "\n" + req("a");
  const auto whole = check(file);
  for (std::size_t piece : {1, 2, 7, 33}) {
    JsonlValidator v(100);
    for (std::size_t at = 0; at < file.size(); at += piece) {
      v.feed(std::string_view(file).substr(at, piece));
    }
    v.finish();
    EXPECT_EQ(v.errors(), whole.errors()) << "piece " << piece;
    EXPECT_EQ(v.requests(), whole.requests());
  }
}

TEST(Jsonl, ParseInputLinesKeepsIdsBodiesAndLineNumbers) {
  std::vector<InputLine> lines;
  std::string error;
  ASSERT_TRUE(parse_input_lines(
      req("a") + "\n" + req("b", "/v1/chat/completions", "deepseek-chat", R"(,"max_tokens":5)") + "\n\n",
      lines, error))
      << error;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].custom_id, "a");
  EXPECT_EQ(lines[1].line, 2u);
  EXPECT_EQ(lines[1].body,
            R"({"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}],"max_tokens":5})");
  std::vector<InputLine> bad;
  EXPECT_FALSE(parse_input_lines("{}\n", bad, error));
  EXPECT_EQ(error, "line 1: not a valid request line");
}

}  // namespace
}  // namespace sluice::batch
