#include "bench/options.h"

#include <gtest/gtest.h>

namespace sluice::bench {

TEST(BenchOptions, TargetPaths) {
  Target t;
  ASSERT_EQ(parse_target("http://127.0.0.1:8080", t), "");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, "8080");
  EXPECT_EQ(t.path, "/v1/chat/completions");
  EXPECT_FALSE(t.tls);
  ASSERT_EQ(parse_target("https://api.deepseek.com/", t), "");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.port, "443");
  EXPECT_EQ(t.path, "/v1/chat/completions");
  ASSERT_EQ(parse_target("http://h:1/v1", t), "");
  EXPECT_EQ(t.path, "/v1/chat/completions");
  ASSERT_EQ(parse_target("http://h:1/chat/completions", t), "");
  EXPECT_EQ(t.path, "/chat/completions");
  ASSERT_EQ(parse_target("http://h:1/beta/completions", t), "");
  EXPECT_EQ(t.path, "/beta/completions");
  ASSERT_EQ(parse_target("http://[::1]:9/", t), "");
  EXPECT_EQ(t.host, "::1");
  EXPECT_NE(parse_target("ftp://h/", t), "");
  EXPECT_NE(parse_target("127.0.0.1:8080", t), "");
  EXPECT_NE(parse_target("http://h:0/", t), "");
  EXPECT_NE(parse_target("http://h:1/?a=b", t), "");
}

TEST(BenchOptions, Headers) {
  Header h;
  ASSERT_EQ(parse_header("x-sim-fault:  status=503 ", h), "");
  EXPECT_EQ(h.name, "x-sim-fault");
  EXPECT_EQ(h.value, "status=503");
  EXPECT_NE(parse_header("no colon", h), "");
  EXPECT_NE(parse_header(": v", h), "");
  EXPECT_NE(parse_header("bad name: v", h), "");
}

TEST(BenchOptions, Validation) {
  BenchOptions o;
  BenchConfig c;
  EXPECT_NE(validate(o, c).find("--url"), std::string::npos);
  o.urls = {"http://127.0.0.1:1"};
  ASSERT_EQ(validate(o, c), "");
  EXPECT_FALSE(c.open_loop);
  EXPECT_EQ(c.concurrency, 8u);
  EXPECT_EQ(c.connections, 8u);
  ASSERT_TRUE(c.duration);  // unbounded runs get a default duration
  o.rate = 100;
  o.concurrency = 4;
  EXPECT_NE(validate(o, c).find("mutually exclusive"), std::string::npos);
  o.concurrency.reset();
  o.requests = 10;
  o.api_key = "k";
  ASSERT_EQ(validate(o, c), "");
  EXPECT_TRUE(c.open_loop);
  EXPECT_EQ(c.connections, 256u);
  EXPECT_FALSE(c.duration);
  ASSERT_EQ(c.headers.size(), 1u);
  EXPECT_EQ(c.headers[0].value, "Bearer k");
  o.rate = -1;
  EXPECT_NE(validate(o, c).find("--rate"), std::string::npos);
  o.rate = 10;
  o.duration = "soon";
  EXPECT_NE(validate(o, c).find("--duration"), std::string::npos);
  o.duration = "2s";
  o.timeout = "0s";
  EXPECT_NE(validate(o, c).find("--timeout"), std::string::npos);
  o.timeout = "5s";
  o.requests = 0;
  EXPECT_NE(validate(o, c).find("--requests"), std::string::npos);
}

}  // namespace sluice::bench

namespace sluice::bench {

TEST(BenchOptions, MixParsesAndSharesFollowWeights) {
  std::string header;
  std::vector<MixClass> mix;
  ASSERT_EQ(parse_mix("X-Priority: high=20, low=80", header, mix), "");
  EXPECT_EQ(header, "X-Priority");
  ASSERT_EQ(mix.size(), 2u);
  EXPECT_EQ(mix[0].value, "high");
  EXPECT_DOUBLE_EQ(mix[0].weight, 0.2);
  EXPECT_EQ(mix[1].value, "low");
  std::size_t high = 0;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    high += mix_class(mix, 7, i) == 0 ? 1 : 0;
  }
  EXPECT_NEAR(double(high), 2000, 150);
  EXPECT_EQ(mix_class(mix, 7, 42), mix_class(mix, 7, 42));
  EXPECT_NE(parse_mix("X-Priority: high", header, mix), "");
  EXPECT_NE(parse_mix("X-Priority: high=0", header, mix), "");
  EXPECT_NE(parse_mix("nocolon", header, mix), "");
}

}  // namespace sluice::bench
