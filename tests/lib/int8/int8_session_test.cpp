// Int8Session: options and error paths (a failed call changes nothing),
// prefill equal to decode bit for bit, reset, and the greedy continuation
// of a real model.
#include <gtest/gtest.h>

#include <vector>

#include "include/lpu/int8_session.h"
#include "include/lpu/reference.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using testing::int8_options;
using testing::make_int8;
using testing::same_bits;

Status create_status(const Model& m, int ctx, const Int8Options& o) {
  return Int8Session::create(m, ctx, o).status();
}

void expect_invalid(const Status& s, const std::string& needle) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.to_string();
}

TEST(Int8SessionTest, BadOptionsAreRejected) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  expect_invalid(create_status(m, 0, {}), "max_context is 0");
  for (int g : {0, 16, 48, 100, -32, 65568}) {
    expect_invalid(create_status(m, 8, int8_options(g)), "group_size is " + std::to_string(g));
  }
  expect_invalid(create_status(m, 8, int8_options(32, KvPrecision::kInt8, -1)), "threads is -1");
  expect_invalid(create_status(m, 8, int8_options(32, KvPrecision::kInt8, 1, 0)),
                 "batch_slots is 0");
  Int8Options bad_kv;
  bad_kv.kv = static_cast<KvPrecision>(7);
  expect_invalid(create_status(m, 8, bad_kv), "kv precision");
  const Status huge = create_status(m, 1 << 30, int8_options(32, KvPrecision::kF16, 1, 1 << 20));
  EXPECT_EQ(huge.code(), StatusCode::kResourceExhausted) << huge.to_string();
}

TEST(Int8SessionTest, RecordsOptions) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-moe"));
  Int8Session s = make_int8(m, 24, int8_options(64, KvPrecision::kF16, 2, 3));
  EXPECT_EQ(s.options().group_size, 64);
  EXPECT_EQ(s.options().kv, KvPrecision::kF16);
  EXPECT_EQ(s.options().threads, 2);
  EXPECT_EQ(s.options().batch_slots, 3);
  EXPECT_EQ(s.max_context(), 24);
  EXPECT_EQ(s.config().n_expert, 4);
  EXPECT_EQ(s.position(0), 0);
  EXPECT_EQ(s.position(2), 0);
  EXPECT_EQ(s.position(3), -1);
  EXPECT_EQ(s.position(-1), -1);
  EXPECT_STREQ(kv_precision_name(KvPrecision::kInt8), "int8");
  EXPECT_STREQ(kv_precision_name(KvPrecision::kF16), "f16");
}

// Every bad call fails with the expected code and leaves the session as it
// was: the next good call gives the logits a session that never saw the
// bad calls gives.
TEST(Int8SessionTest, ErrorsLeaveTheSessionUnchanged) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const int vocab = m.config().n_vocab;
  Int8Session s = make_int8(m, 10, int8_options(32, KvPrecision::kInt8, 1, 2));
  Int8Session clean = make_int8(m, 10, int8_options(32, KvPrecision::kInt8, 1, 2));
  const std::vector<TokenId> first = {5, 9, 200};
  ASSERT_TRUE(s.forward(first, false).ok());
  ASSERT_TRUE(clean.forward(first, false).ok());

  const std::vector<TokenId> none;
  const std::vector<TokenId> neg = {4, -1};
  const std::vector<TokenId> big = {vocab};
  const std::vector<TokenId> eight(8, 7);
  const std::vector<TokenId> one = {11};
  EXPECT_EQ(s.forward(none, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.forward(neg, false).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.forward(big, false).status().code(), StatusCode::kOutOfRange);
  const Status full = s.forward(eight, false).status();
  EXPECT_EQ(full.code(), StatusCode::kOutOfRange);
  EXPECT_NE(full.message().find("exceeds max_context 10"), std::string::npos) << full.to_string();
  const std::vector<SlotTokens> empty_batch;
  EXPECT_EQ(s.forward_batch(empty_batch).status().code(), StatusCode::kInvalidArgument);
  const std::vector<SlotTokens> bad_slot = {{0, one, false}, {2, one, false}};
  EXPECT_EQ(s.forward_batch(bad_slot).status().code(), StatusCode::kOutOfRange);
  const std::vector<SlotTokens> neg_slot = {{-1, one, false}};
  EXPECT_EQ(s.forward_batch(neg_slot).status().code(), StatusCode::kOutOfRange);
  const std::vector<SlotTokens> twice = {{1, one, false}, {1, one, false}};
  EXPECT_EQ(s.forward_batch(twice).status().code(), StatusCode::kInvalidArgument);
  // A later entry's error must not let an earlier, valid entry through.
  const std::vector<SlotTokens> late = {{1, one, false}, {0, eight, false}};
  EXPECT_EQ(s.forward_batch(late).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.reset(2).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.reset(-1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.position(0), 3);
  EXPECT_EQ(s.position(1), 0);

  const std::vector<TokenId> rest = {1, 2, 3, 4, 5, 6, 7};
  auto a = s.forward(rest, true);
  auto b = clean.forward(rest, true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(same_bits(*a, *b));
  EXPECT_EQ(s.position(0), 10);
  EXPECT_EQ(s.forward(one, false).status().code(), StatusCode::kOutOfRange);
}

// A prompt evaluated at once gives, row for row, the bits of the same
// tokens fed one at a time; after reset the same logits come again.
void expect_prefill_equals_decode(const std::string& path, const Int8Options& o) {
  const Model m = testing::load_model(path);
  const auto vocab = static_cast<std::size_t>(m.config().n_vocab);
  const std::vector<TokenId> tokens = testing::random_tokens(7, 37, m.config().n_vocab);
  Int8Session prefill = make_int8(m, 40, o);
  Int8Session decode = make_int8(m, 40, o);
  auto all = prefill.forward(tokens, true);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), tokens.size() * vocab);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto one = decode.forward(std::span(&tokens[i], 1), false);
    ASSERT_TRUE(one.ok()) << one.status().to_string();
    const std::vector<float> row(all->begin() + static_cast<std::ptrdiff_t>(i * vocab),
                                 all->begin() + static_cast<std::ptrdiff_t>((i + 1) * vocab));
    ASSERT_TRUE(same_bits(row, *one)) << path << " token " << i;
  }
  decode.reset();
  EXPECT_EQ(decode.position(), 0);
  auto again = decode.forward(tokens, true);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(same_bits(*all, *again));
  auto last = prefill.forward(std::span(tokens.data(), 2), false);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->size(), vocab);
}

TEST(Int8SessionTest, PrefillEqualsDecodeDense) {
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    for (int g : {32, 256, 65536}) {
      SCOPED_TRACE(std::string(kv_precision_name(kv)) + " G=" + std::to_string(g));
      expect_prefill_equals_decode(testing::synthetic_model_path("tiny-dense"),
                                   int8_options(g, kv, 2));
    }
  }
}

TEST(Int8SessionTest, PrefillEqualsDecodeMoe) {
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    SCOPED_TRACE(kv_precision_name(kv));
    expect_prefill_equals_decode(testing::synthetic_model_path("tiny-moe"),
                                 int8_options(32, kv, 2));
  }
}

TEST(Int8SessionTest, PrefillEqualsDecodeStories) {
  LPU_REQUIRE_FILE(testing::stories260k_path().string(), "stories260K.gguf");
  expect_prefill_equals_decode(testing::stories260k_path().string(),
                               int8_options(256, KvPrecision::kInt8, 2));
}

// stories260K's greedy continuation of "Once upon a time" in int8 (both
// group sizes, both caches) is the fp32 reference's, token for token.
TEST(Int8SessionTest, StoriesGreedyMatchesReference) {
  LPU_REQUIRE_FILE(testing::stories260k_path().string(), "stories260K.gguf");
  const Model m = testing::load_model(testing::stories260k_path().string());
  const int vocab = m.config().n_vocab;
  const std::vector<TokenId> prompt = {1, 403, 407, 261, 378};
  auto greedy = [&](auto& session) {
    std::vector<TokenId> out;
    auto logits = session.forward(prompt, false);
    for (int i = 0; i < 40 && logits.ok(); ++i) {
      const TokenId t =
          static_cast<TokenId>(std::max_element(logits->begin(), logits->end()) - logits->begin());
      out.push_back(t);
      logits = session.forward(std::span(&t, 1), false);
    }
    EXPECT_TRUE(logits.ok()) << logits.status().to_string();
    EXPECT_EQ(logits->size(), static_cast<std::size_t>(vocab));
    return out;
  };
  auto ref = ReferenceSession::create(m, 64);
  ASSERT_TRUE(ref.ok());
  const std::vector<TokenId> expected = greedy(*ref);
  for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
    for (int g : {32, 256}) {
      Int8Session s = make_int8(m, 64, int8_options(g, kv, 2));
      EXPECT_EQ(greedy(s), expected) << kv_precision_name(kv) << " G=" << g;
    }
  }
}

}  // namespace
}  // namespace lpu
