#include "bench/prompts.h"

#include <gtest/gtest.h>

#include "openai/usage.h"

namespace sluice::bench {

TEST(BenchPrompts, GeneratorIsSeededAndSized) {
  auto a = generate_prompts(200, 4, 1);
  auto b = generate_prompts(200, 4, 1);
  auto c = generate_prompts(200, 4, 2);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].messages_json, b[0].messages_json);
  EXPECT_NE(a[0].messages_json, c[0].messages_json);
  EXPECT_NE(a[0].messages_json, a[1].messages_json);
  // ~667 characters for 200 tokens at 0.3 token per character.
  EXPECT_NEAR(static_cast<double>(a[0].messages_json.size()), 667 + 30, 10);
  EXPECT_TRUE(openai::is_valid_json(a[0].messages_json));
}

TEST(BenchPrompts, Jsonl) {
  std::vector<Prompt> out;
  ASSERT_EQ(parse_prompts_jsonl("{\"prompt\":\"hi \\\"there\\\"\"}\n\n# comment\n"
                                "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"}],\"max_tokens\":5}\n",
                                "p.jsonl", out),
            "");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].messages_json, R"([{"role":"user","content":"hi \"there\""}])");
  EXPECT_EQ(out[1].max_tokens, 5u);
  out.clear();
  EXPECT_EQ(parse_prompts_jsonl("{\"prompt\":1}\n", "p.jsonl", out),
            "p.jsonl:1: \"prompt\" must be a string");
  EXPECT_EQ(parse_prompts_jsonl("\n{\"x\":1}\n", "p.jsonl", out),
            "p.jsonl:2: expected \"messages\" or \"prompt\"");
  EXPECT_EQ(parse_prompts_jsonl("nope\n", "f", out), "f:1: expected a JSON object per line");
  EXPECT_EQ(parse_prompts_jsonl("\n", "f", out), "f: no prompts");
  EXPECT_NE(load_prompts_file("/nonexistent/x.jsonl", out), "");
}

TEST(BenchPrompts, Body) {
  Prompt p{R"([{"role":"user","content":"x"}])", std::nullopt};
  auto body = build_body({"deepseek-chat", true, true, 16}, p);
  EXPECT_EQ(
      body,
      R"({"model":"deepseek-chat","messages":[{"role":"user","content":"x"}],"max_tokens":16,"stream":true,)"
      R"("stream_options":{"include_usage":true}})");
  p.max_tokens = 3;
  EXPECT_EQ(build_body({"m", false, true, 16}, p),
            R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":3,"stream":false})");
}

}  // namespace sluice::bench
