// Activation smoothing: the folded fp32 model computes what the original
// does (the factors are powers of two), calibration gives the same factors
// every time, the factors move outliers into the weights, and a smoothed
// GGUF file loads and gives the original's logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "include/lpu/int8_session.h"
#include "include/lpu/reference.h"
#include "include/lpu/synth.h"
#include "lib/metrics/metrics.h"
#include "lib/model/model_access.h"
#include "lib/quant/rotation.h"
#include "lib/quant/smoothing.h"
#include "lib/reference/forward.h"
#include "lib/reference/weights.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using reference::MatrixRM;

// Final hidden states of `tokens` under `w`.
MatrixRM hidden(const ModelConfig& c, const reference::Weights& w, const std::vector<TokenId>& tokens) {
  reference::Rope rope(c, w.rope_freqs);
  reference::KvCache cache = reference::zero_kv_cache(c, static_cast<Eigen::Index>(tokens.size()));
  return reference::forward_hidden(c, w, rope, cache, tokens, 0);
}

// The logits of `tokens` under `w`, one row per token.
MatrixRM logits(const ModelConfig& c, const reference::Weights& w, const std::vector<TokenId>& tokens) {
  return hidden(c, w, tokens) * w.lm_head().transpose();
}

// The largest |a - b| as a fraction of a's range (a and b the same size).
float gap_of_range(std::span<const float> a, std::span<const float> b) {
  const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst / (*hi - *lo);
}

std::span<const float> values(const MatrixRM& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }

// Folding the factors changes the logits by at most 1e-5 of their range.
void expect_exact(const Model& m, const std::vector<TokenId>& calibration, const std::vector<TokenId>& tokens) {
  const ModelConfig& c = m.config();
  auto factors = quant::calibrate_smoothing(m, calibration);
  ASSERT_TRUE(factors.ok()) << factors.status().to_string();
  auto w = reference::load_weights(model::model_file(m), c);
  ASSERT_TRUE(w.ok());
  reference::Weights smoothed = *w;
  quant::apply_smoothing(c, *factors, smoothed);
  std::size_t scaled = 0;
  for (const auto& layer : factors->ffn_input) scaled += std::count_if(layer.begin(), layer.end(), [](float f) { return f != 1.0f; });
  EXPECT_GT(scaled, 0u) << "no channel was smoothed: the test would prove nothing";
  EXPECT_LE(gap_of_range(values(logits(c, *w, tokens)), values(logits(c, smoothed, tokens))), 1e-5f) << m.path();
}

TEST(Smoothing, FoldingIsExactOnTinyModels) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    const Model m = testing::load_model(testing::synthetic_model_path(preset));
    expect_exact(m, testing::random_tokens(1, 48, m.config().n_vocab), testing::random_tokens(2, 24, m.config().n_vocab));
  }
}

TEST(Smoothing, FoldingIsExactOnSmolLM2) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2");
  const Model m = testing::load_model(path.string());
  expect_exact(m, testing::random_tokens(3, 64, m.config().n_vocab), testing::random_tokens(4, 32, m.config().n_vocab));
}

TEST(Smoothing, CalibrationIsDeterministicAndPowersOfTwo) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const std::vector<TokenId> ids = testing::random_tokens(5, 40, m.config().n_vocab);
  auto a = quant::calibrate_smoothing(m, ids);
  auto b = quant::calibrate_smoothing(m, ids);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->attention_input, b->attention_input);
  EXPECT_EQ(a->attention_output, b->attention_output);
  EXPECT_EQ(a->ffn_input, b->ffn_input);
  EXPECT_EQ(a->down_input, b->down_input);
  for (const auto* site : {&a->attention_input, &a->attention_output, &a->ffn_input, &a->down_input}) {
    for (const auto& layer : *site) {
      for (float f : layer) {
        int e = 0;
        EXPECT_EQ(std::frexp(f, &e), 0.5f) << f;
      }
    }
  }
}

// A hand-made case: one channel whose activation is 64x its weight's scale
// gets 2^3 (sqrt(64) = 8); balanced channels get 1.
TEST(Smoothing, FactorsBalanceActivationAndWeight) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const ModelConfig& c = m.config();
  auto w = reference::load_weights(model::model_file(m), c);
  ASSERT_TRUE(w.ok());
  // Weight columns of max 1 everywhere, activations of 1 but channel 3 at 64.
  for (reference::LayerWeights& l : w->layers) {
    for (MatrixRM* x : {&l.wq, &l.wk, &l.wv, &l.ffn.gate, &l.ffn.up}) x->setConstant(0.5f), x->row(0).setConstant(1.0f);
  }
  quant::ChannelValues x;
  for (int l = 0; l < c.n_layer; ++l) {
    std::vector<float> in(static_cast<std::size_t>(c.n_embd), 1.0f);
    in[3] = 64.0f;
    x.attention_input.push_back(in);
    x.ffn_input.push_back(in);
    x.attention_output.push_back(std::vector<float>(static_cast<std::size_t>(c.n_head * c.head_dim), 0.0f));
    x.down_input.push_back(std::vector<float>(static_cast<std::size_t>(c.n_ff), 0.0f));
  }
  x.output_input.push_back(std::vector<float>(static_cast<std::size_t>(c.n_embd), 0.0f));
  const quant::ChannelValues s = quant::smoothing_factors(c, *w, x);
  EXPECT_EQ(s.attention_input[0][3], 8.0f);
  EXPECT_EQ(s.attention_input[0][0], 1.0f);
  EXPECT_EQ(s.ffn_input[1][3], 8.0f);
  EXPECT_EQ(s.down_input[0][0], 1.0f);  // no activation seen: left alone
  EXPECT_EQ(quant::smoothing_factors(c, *w, x, 1.0).attention_input[0][3], 64.0f);
}

// Smoothing then the rotation, as compiles fold them in, on the real model:
// the fp32 logits stay within 1e-5 of their range (the rotation's sums
// reassociate; smoothing alone is exact).
TEST(Rotation, SmoothingAndRotationKeepSmolLM2sLogits) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2");
  const Model m = testing::load_model(path.string());
  const ModelConfig& c = m.config();
  auto w = reference::load_weights(model::model_file(m), c);
  ASSERT_TRUE(w.ok());
  auto factors = quant::calibrate_smoothing_of(m, *w, testing::random_tokens(3, 64, c.n_vocab));
  ASSERT_TRUE(factors.ok());
  reference::Weights t = *w;
  quant::apply_smoothing(c, *factors, t);
  auto rotation = quant::HadamardRotation::create(static_cast<std::size_t>(c.n_embd), 1);
  ASSERT_TRUE(rotation.ok());
  quant::apply_rotation(c, *rotation, t);
  const std::vector<TokenId> tokens = testing::random_tokens(4, 32, c.n_vocab);
  const float gap = gap_of_range(values(logits(c, *w, tokens)), values(logits(c, t, tokens)));
  EXPECT_LE(gap, 1e-5f);
  std::printf("SmolLM2 logits moved by %.3g of their range\n", static_cast<double>(gap));
}

// The rotation of the residual stream is exact in real arithmetic; in
// float the dense products reassociate, so the logits move by rounding only.
TEST(Rotation, KeepsTheLogitsAndWritesALoadableFile) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    const Model m = testing::load_model(testing::synthetic_model_path(preset));
    const ModelConfig& c = m.config();
    auto w = reference::load_weights(model::model_file(m), c);
    ASSERT_TRUE(w.ok());
    reference::Weights r = *w;
    auto rotation = quant::HadamardRotation::create(static_cast<std::size_t>(c.n_embd), 7);
    ASSERT_TRUE(rotation.ok());
    quant::apply_rotation(c, *rotation, r);
    EXPECT_FALSE(r.token_embd.isApprox(w->token_embd)) << "not rotated";
    const std::vector<TokenId> tokens = testing::random_tokens(8, 20, c.n_vocab);
    const MatrixRM a = logits(c, *w, tokens);
    EXPECT_LE(gap_of_range(values(a), values(logits(c, r, tokens))), 1e-4f) << preset;
    const std::string out = (testing::temp_dir() / (std::string("rotated-") + preset + ".gguf")).string();
    ASSERT_TRUE(quant::write_weights(m, r, out).ok());
    const Model back = testing::load_model(out);
    EXPECT_FALSE(back.config().tied_embeddings);
    auto rb = ReferenceSession::create(back, 32);
    ASSERT_TRUE(rb.ok()) << rb.status().to_string();
    EXPECT_LE(gap_of_range(values(a), *rb->forward(tokens, true)), 1e-4f) << preset;
  }
}

// Mean KL(fp32 reference || int8 at G = 64) of `path` over `tokens`, with
// or without the transforms a compiled Program folds in at import.
double int8_kl(const std::string& path, const std::vector<TokenId>& tokens, bool transforms) {
  const Model m = testing::load_model(path);
  auto ref = ReferenceSession::create(m, 128);
  Int8Options o;
  o.group_size = 64;
  o.kv = KvPrecision::kF16;
  o.smoothing = transforms;
  o.rotation = transforms;
  auto q = Int8Session::create(m, 128, o);
  EXPECT_TRUE(ref.ok() && q.ok());
  if (!ref.ok() || !q.ok()) return 0.0;
  const std::vector<float> a = *ref->forward(tokens, true);
  const std::vector<float> b = *q->forward(tokens, true);
  return metrics::agreement(a, b, m.config().n_vocab)->kl_mean;
}

// Tiny models with outlier channels planted on purpose (four residual
// channels of every layer norm 40x larger, so the inputs of Wq/Wk/Wv and
// the gate/up/router carry outliers that set their groups' scales): the
// smoothing every compile folds in must cut the int8 pass's KL by at least
// half, dense and MoE (calibration keeps the smoothing and declines the
// rotation, which would gather these outliers into the weights).
TEST(Smoothing, HalvesTheKlOfPlantedOutliers) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    auto o = synth_preset(preset);
    ASSERT_TRUE(o.ok());
    o->outlier_channels = 4;
    const std::string planted = (testing::temp_dir() / (std::string(preset) + "-outliers.gguf")).string();
    ASSERT_TRUE(write_synthetic_model(*o, planted).ok());
    const std::vector<TokenId> tokens = testing::random_tokens(12, 96, o->n_vocab);
    const double before = int8_kl(planted, tokens, false);
    const double after = int8_kl(planted, tokens, true);
    EXPECT_GT(before, 0.0) << preset;
    EXPECT_LE(after, 0.5 * before) << preset << ": KL " << before << " -> " << after;
  }
}

TEST(Smoothing, ASmoothedFileGivesTheOriginalsLogits) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto factors = quant::calibrate_smoothing(m, testing::random_tokens(6, 32, m.config().n_vocab));
  ASSERT_TRUE(factors.ok());
  const std::string out = (testing::temp_dir() / "smoothed-tiny-dense.gguf").string();
  ASSERT_TRUE(quant::write_smoothed_model(m, *factors, out).ok());
  const Model s = testing::load_model(out);
  auto ra = ReferenceSession::create(m, 32);
  auto rb = ReferenceSession::create(s, 32);
  ASSERT_TRUE(ra.ok() && rb.ok());
  const std::vector<TokenId> tokens = testing::random_tokens(7, 16, m.config().n_vocab);
  const std::vector<float> a = *ra->forward(tokens, true);
  const std::vector<float> b = *rb->forward(tokens, true);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LE(gap_of_range(a, b), 1e-5f);
}

}  // namespace
}  // namespace lpu
