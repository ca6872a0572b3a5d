#include "sim/text_gen.h"

#include <gtest/gtest.h>

#include "sim/prefix_cache.h"

namespace sluice::sim {
namespace {

TEST(SimTextGen, DeterministicFromSeed) {
  EXPECT_EQ(TextGen{5}.generate(50), TextGen{5}.generate(50));
  EXPECT_NE(TextGen{5}.generate(50), TextGen{6}.generate(50));
}

TEST(SimTextGen, OneWordPerToken) {
  TextGen g{9};
  std::string s = g.generate(37);
  EXPECT_EQ(g.emitted(), 37u);
  EXPECT_EQ(std::count(s.begin(), s.end(), ' '), 36);
  EXPECT_TRUE(TextGen{9}.generate(0).empty());
}

TEST(SimTextGen, StreamingMatchesWholeText) {
  TextGen a{11};
  std::string streamed;
  std::string piece;
  for (int i = 0; i < 20; ++i) {
    piece.clear();
    a.append_token(piece);
    streamed += piece;
  }
  EXPECT_EQ(streamed, TextGen{11}.generate(20));
}

TEST(SimTextGen, DeepSeekTokenEstimate) {
  EXPECT_EQ(estimate_tokens(""), 0u);
  EXPECT_EQ(estimate_tokens("hello world"), 4u);      // 11 * 0.3 = 3.3 → 4
  EXPECT_EQ(estimate_tokens("0123456789"), 3u);        // 10 * 0.3
  EXPECT_EQ(estimate_tokens("\xE4\xBD\xA0\xE5\xA5\xBD"), 2u);  // 2 CJK * 0.6 = 1.2 → 2
  EXPECT_EQ(estimate_token_tenths("ab\xE4\xBD\xA0"), 12u);
}

TEST(SimPrefixCache, BlocksEvery64Tokens) {
  PrefixHasher h;
  h.add(std::string(213, 'a'));  // 63.9 tokens: no full unit
  EXPECT_TRUE(h.blocks().empty());
  h.add("a");  // 64.2 tokens
  EXPECT_EQ(h.blocks().size(), 1u);
  h.add(std::string(1000, 'b'));
  EXPECT_EQ(h.blocks().size(), 5u);  // 364.2 tokens
}

TEST(SimPrefixCache, SharedPrefixHitsInUnits) {
  PrefixCache cache{1000};
  PrefixHasher a;
  a.add(std::string(700, 'x'));  // 210 tokens: 3 units
  EXPECT_EQ(cache.lookup_and_insert(a.blocks()), 0u);
  EXPECT_EQ(cache.lookup_and_insert(a.blocks()), 3u);
  PrefixHasher b;
  b.add(std::string(450, 'x'));  // same first 2 units, then differs
  b.add(std::string(400, 'y'));
  EXPECT_EQ(cache.lookup_and_insert(b.blocks()), 2u);
  PrefixHasher c;
  c.add(std::string(700, 'z'));
  EXPECT_EQ(cache.lookup_and_insert(c.blocks()), 0u);
}

TEST(SimPrefixCache, LruEvicts) {
  PrefixCache cache{2};
  PrefixHasher a;
  a.add(std::string(700, 'x'));  // 3 blocks into a cache of 2: the first is evicted
  cache.lookup_and_insert(a.blocks());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.lookup_and_insert(a.blocks()), 0u);  // prefix starts with the evicted block
}

}  // namespace
}  // namespace sluice::sim
