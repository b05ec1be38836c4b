// The fp32 reference forward pass: greedy continuation of a real model
// against llama.cpp's, prefill/decode agreement, KV reset, MoE routing and
// error paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "include/lpu/reference.h"
#include "tests/lib/model/tiny_gguf.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using testing::ModelGgufBuilder;
using testing::tiny_llama;
using testing::TinyLlama;

// "Once upon a time" as llama.cpp tokenises it for stories260K (BOS first).
const std::vector<TokenId> kOnceUponATime = {1, 403, 407, 261, 378};

// llama.cpp's greedy continuation (llama-cpp-python 0.3.35, F16 KV cache):
// ", there was a little girl named Lily. She loved to play outside in the
// park. One day, she saw a big, red ball."
const std::vector<TokenId> kStoriesGreedy = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317,
                                             426, 338, 401, 396, 267, 337, 410, 408, 419, 292,
                                             411, 322, 265, 282, 295, 433, 426, 385, 328, 432,
                                             358, 394, 261, 370, 432, 352, 266, 268, 388, 426};

TokenId argmax(std::span<const float> v) {
  return static_cast<TokenId>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Writes `b` to a file in the test's scratch directory and loads it.
Model load_built(const ModelGgufBuilder& b, const std::string& name) {
  const std::filesystem::path path = testing::temp_dir() / name;
  const std::vector<std::uint8_t> bytes = b.bytes();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  auto m = Model::load(path.string());
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return std::move(m).value();
}

// Every row of `all` (n x vocab) against logits obtained one token at a
// time, within 1e-4 of each row's logit range.
void expect_prefill_matches_decode(const Model& model, const std::vector<TokenId>& tokens) {
  const int vocab = model.config().n_vocab;
  auto prefill = ReferenceSession::create(model, 64);
  auto decode = ReferenceSession::create(model, 64);
  ASSERT_TRUE(prefill.ok() && decode.ok());
  auto all = prefill->forward(tokens, /*all_logits=*/true);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), tokens.size() * static_cast<std::size_t>(vocab));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto one = decode->forward(std::span(&tokens[i], 1), /*all_logits=*/false);
    ASSERT_TRUE(one.ok()) << one.status().to_string();
    const float* row = all->data() + i * static_cast<std::size_t>(vocab);
    const auto [lo, hi] = std::minmax_element(row, row + vocab);
    const float tol = 1e-4f * (*hi - *lo);
    for (int j = 0; j < vocab; ++j)
      ASSERT_NEAR(row[j], (*one)[static_cast<std::size_t>(j)], tol) << i;
  }
  EXPECT_EQ(prefill->position(), static_cast<int>(tokens.size()));
  EXPECT_EQ(decode->position(), static_cast<int>(tokens.size()));
}

TEST(ReferenceSessionTest, Stories260KGreedyMatchesLlamaCpp) {
  LPU_REQUIRE_FILE(testing::stories260k_path().string(), "stories260K.gguf");
  auto model = Model::load(testing::stories260k_path().string());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto s = ReferenceSession::create(*model, 128);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto logits = s->forward(kOnceUponATime, false);
  ASSERT_TRUE(logits.ok()) << logits.status().to_string();
  std::vector<TokenId> got;
  for (std::size_t i = 0; i < kStoriesGreedy.size(); ++i) {
    const TokenId next = argmax(*logits);
    got.push_back(next);
    logits = s->forward(std::span(&next, 1), false);
    ASSERT_TRUE(logits.ok()) << logits.status().to_string();
  }
  EXPECT_EQ(got, kStoriesGreedy);
  EXPECT_EQ(s->position(), static_cast<int>(kOnceUponATime.size() + kStoriesGreedy.size()));
}

// SmolLM2-135M-Instruct Q4_1 (tied embeddings, GQA 9/3, 30 layers), greedy
// from "The capital of France is" (no BOS, as llama.cpp tokenises it). The
// expected ids are llama.cpp's greedy output on the same weights dequantised
// to an F32 GGUF (" Paris.\n\nThe answer is: 2018-01-22 12:1"): the
// model the reference evaluates. On the Q4_1 file itself llama.cpp rounds
// activations to 8 bits and drifts from token 6 on (" Paris.\n\nThe United
// States has ...").
TEST(ReferenceSessionTest, SmolLM2GreedyMatchesLlamaCpp) {
  const std::string path = testing::smollm2_q4_1_path().string();
  LPU_REQUIRE_FILE(path, "SmolLM2-135M-Instruct Q4_1");
  const std::vector<TokenId> prompt = {504, 3575, 282, 4649, 314};
  const std::vector<TokenId> expected = {7042, 30, 198, 198, 504, 2988, 314, 42,  216, 34, 32, 33,
                                         40,   29, 32,  33,  29,  34,   34,  216, 33,  34, 42, 33};
  auto model = Model::load(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto s = ReferenceSession::create(*model, 64);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto logits = s->forward(prompt, false);
  ASSERT_TRUE(logits.ok());
  ASSERT_EQ(logits->size(), 49152u);
  std::vector<TokenId> got;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TokenId next = argmax(*logits);
    got.push_back(next);
    logits = s->forward(std::span(&next, 1), false);
    ASSERT_TRUE(logits.ok());
  }
  EXPECT_EQ(got, expected);
}

TEST(ReferenceSessionTest, PrefillMatchesDecodeStories) {
  LPU_REQUIRE_FILE(testing::stories260k_path().string(), "stories260K.gguf");
  auto model = Model::load(testing::stories260k_path().string());
  ASSERT_TRUE(model.ok());
  std::vector<TokenId> tokens = kOnceUponATime;
  tokens.insert(tokens.end(), kStoriesGreedy.begin(), kStoriesGreedy.begin() + 12);
  expect_prefill_matches_decode(*model, tokens);
}

TEST(ReferenceSessionTest, PrefillMatchesDecodeTinyMoe) {
  TinyLlama spec;
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  spec.tied = true;
  const Model model = load_built(tiny_llama(spec), "tiny_moe.gguf");
  expect_prefill_matches_decode(model, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7});
}

TEST(ReferenceSessionTest, ResetReproducesAndLastRowMatches) {
  const Model model = load_built(tiny_llama({}), "tiny_dense.gguf");
  auto s = ReferenceSession::create(model, 16);
  ASSERT_TRUE(s.ok());
  const std::vector<TokenId> tokens = {7, 0, 31, 12, 12};
  auto all = s->forward(tokens, true);
  ASSERT_TRUE(all.ok());
  s->reset();
  EXPECT_EQ(s->position(), 0);
  // Fill the cache with something else, longer, then start over.
  ASSERT_TRUE(s->forward(std::vector<TokenId>{5, 6, 7, 8, 9, 10, 11}, false).ok());
  s->reset();
  auto last = s->forward(tokens, false);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 32u);
  // The same computation after a reset, stale cache entries unread: equal to
  // the bit.
  EXPECT_TRUE(std::equal(last->begin(), last->end(), all->end() - 32));
  EXPECT_EQ(s->position(), 5);
}

// With every expert a copy of one dense FFN, renormalised top-k weights sum
// to one, so the MoE model must equal the dense one. With a zero router all
// experts tie; the two lowest-indexed ones are chosen with weight 1/2 each,
// so scaling expert e's down-projection by (e + 1) gives 1.5x the dense FFN.
TEST(ReferenceSessionTest, MoeRoutingAgainstDenseEquivalent) {
  TinyLlama spec;
  spec.n_layer = 1;
  const ModelGgufBuilder dense = tiny_llama(spec);
  const int ne = 4;
  const auto d = static_cast<std::uint64_t>(spec.n_embd);
  const auto ff = static_cast<std::uint64_t>(spec.n_ff);
  auto stacked = [&](const char* what, float step) {
    const std::vector<float>& w = dense.tensor_values(std::string("blk.0.") + what + ".weight");
    std::vector<float> out;
    for (int e = 0; e < ne; ++e) {
      for (float x : w) out.push_back(x * (1.0f + step * static_cast<float>(e)));
    }
    return out;
  };
  auto moe_variant = [&](float down_step, std::vector<float> router) {
    ModelGgufBuilder b = dense;
    b.set_u32("llama.expert_count", ne).set_u32("llama.expert_used_count", 2);
    for (const char* w : {"ffn_gate", "ffn_up", "ffn_down"})
      b.remove_tensor(std::string("blk.0.") + w + ".weight");
    b.set_tensor("blk.0.ffn_gate_inp.weight", {d, ne}, std::move(router));
    b.set_tensor("blk.0.ffn_gate_exps.weight", {d, ff, ne}, stacked("ffn_gate", 0.0f));
    b.set_tensor("blk.0.ffn_up_exps.weight", {d, ff, ne}, stacked("ffn_up", 0.0f));
    b.set_tensor("blk.0.ffn_down_exps.weight", {ff, d, ne}, stacked("ffn_down", down_step));
    return b;
  };
  auto logits_of = [](const Model& m) {
    auto s = ReferenceSession::create(m, 8);
    EXPECT_TRUE(s.ok());
    auto l = s->forward(std::vector<TokenId>{2, 30, 17}, true);
    EXPECT_TRUE(l.ok());
    return *l;
  };
  const std::vector<float> base = logits_of(load_built(dense, "dense.gguf"));
  const std::vector<float> same = logits_of(
      load_built(moe_variant(0.0f, testing::seeded_values(d * ne, 99, 1.0f)), "moe_same.gguf"));
  for (std::size_t i = 0; i < base.size(); ++i) ASSERT_NEAR(same[i], base[i], 1e-4f) << i;

  ModelGgufBuilder scaled = dense;
  std::vector<float> down = dense.tensor_values("blk.0.ffn_down.weight");
  for (float& x : down) x *= 1.5f;
  scaled.set_tensor("blk.0.ffn_down.weight", {ff, d}, down);
  const std::vector<float> want = logits_of(load_built(scaled, "dense_x1_5.gguf"));
  const std::vector<float> tied =
      logits_of(load_built(moe_variant(1.0f, std::vector<float>(d * ne, 0.0f)), "moe_tied.gguf"));
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(tied[i], want[i], 1e-4f) << i;
}

TEST(ReferenceSessionTest, ErrorsLeaveSessionUnchanged) {
  const Model model = load_built(tiny_llama({}), "tiny_errors.gguf");
  auto bad_ctx = ReferenceSession::create(model, 0);
  ASSERT_FALSE(bad_ctx.ok());
  EXPECT_EQ(bad_ctx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_ctx.status().message().find("max_context"), std::string::npos);

  auto s = ReferenceSession::create(model, 4);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->max_context(), 4);
  EXPECT_EQ(s->config().n_vocab, 32);
  ASSERT_TRUE(s->forward(std::vector<TokenId>{1, 2}, false).ok());

  auto empty = s->forward({}, false);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  auto too_big = s->forward(std::vector<TokenId>{3, 32}, false);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(too_big.status().message().find("id 32"), std::string::npos)
      << too_big.status().message();
  EXPECT_NE(too_big.status().message().find("vocabulary size 32"), std::string::npos);
  auto negative = s->forward(std::vector<TokenId>{-1}, false);
  EXPECT_EQ(negative.status().code(), StatusCode::kOutOfRange);
  auto overflow = s->forward(std::vector<TokenId>{1, 2, 3}, false);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().code(), StatusCode::kOutOfRange);
  for (const char* part : {"position 2", "3 tokens", "max_context 4"}) {
    EXPECT_NE(overflow.status().message().find(part), std::string::npos)
        << overflow.status().message();
  }
  EXPECT_EQ(s->position(), 2);

  // The failed calls changed nothing: continuing equals a clean run.
  auto cont = s->forward(std::vector<TokenId>{3, 4}, false);
  ASSERT_TRUE(cont.ok());
  auto clean = ReferenceSession::create(model, 4);
  auto ref = clean->forward(std::vector<TokenId>{1, 2, 3, 4}, false);
  ASSERT_TRUE(ref.ok());
  for (std::size_t i = 0; i < ref->size(); ++i) ASSERT_NEAR((*cont)[i], (*ref)[i], 1e-5f);
  EXPECT_EQ(s->position(), 4);
  EXPECT_EQ(s->forward(std::vector<TokenId>{1}, false).status().code(), StatusCode::kOutOfRange);
}

TEST(ReferenceSessionTest, ContextBeyondTrainingAndOversizedCache) {
  const Model model = load_built(tiny_llama({}), "tiny_ctx.gguf");  // n_ctx_train 64
  auto s = ReferenceSession::create(model, 100);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  std::vector<TokenId> tokens(80, 5);
  EXPECT_TRUE(s->forward(tokens, false).ok());
  // 2 * 2 layers * 8 floats per position: ~2^31 positions need 256 GiB+.
  auto huge = ReferenceSession::create(model, 2147483647);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(huge.status().message().find("KV cache"), std::string::npos);
}

}  // namespace
}  // namespace lpu
