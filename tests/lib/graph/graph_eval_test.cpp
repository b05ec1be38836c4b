// The step graph evaluated op by op gives the int8 pass's logits, bit for
// bit, for a tiny dense and a tiny MoE model, over prefill chunks and
// decode steps of two slots, with the int8 and the fp16 KV cache.
#include <gtest/gtest.h>

#include <cstring>

#include "include/lpu/int8_session.h"
#include "include/lpu/model.h"
#include "include/lpu/synth.h"
#include "kernels/dispatch/isa.h"
#include "kernels/float/float_kernels.h"
#include "lib/model/model_access.h"
#include "tests/lib/graph/graph_eval.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

struct Case {
  const char* preset;
  int group;
  KvPrecision kv;
};

class GraphEval : public ::testing::TestWithParam<Case> {};

TEST_P(GraphEval, GivesTheInt8PassLogitsBitForBit) {
  const Case& k = GetParam();
  const std::string path = (testing::temp_dir() / (std::string(k.preset) + "_eval.gguf")).string();
  ASSERT_TRUE(write_synthetic_model(*synth_preset(k.preset), path).ok());
  auto model = Model::load(path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const ModelConfig& c = model->config();
  constexpr int kContext = 64;
  Int8Options o;
  o.group_size = k.group;
  o.kv = k.kv;
  o.threads = 1;
  o.batch_slots = 2;
  auto session = Int8Session::create(*model, kContext, o);
  ASSERT_TRUE(session.ok()) << session.status().message();

  const kernels::Isa isa = kernels::active_isa();
  int8::Exec exec{&c, kernels::int8_kernels_for(isa), kernels::float_kernels_for(isa), nullptr,
                  static_cast<std::size_t>(k.group)};
  auto weights = int8::load_weights(model::model_file(*model), c, static_cast<std::size_t>(k.group));
  ASSERT_TRUE(weights.ok());
  testing::GraphEvaluator eval(c, kContext, 2, k.kv, *weights, exec);

  // Prefill slot 0 (5 tokens), then slot 1 (3), then decode both.
  const std::vector<std::vector<TokenId>> first = {{1, 17, 42, 7, 99}, {3, 250, 11}};
  std::vector<std::vector<SlotTokens>> steps = {{{0, first[0], true}}, {{1, first[1], true}}};
  std::vector<std::vector<TokenId>> decode(8);
  for (int s = 0; s < 4; ++s) {
    decode[2 * s] = {static_cast<TokenId>((31 * s + 5) % c.n_vocab)};
    decode[2 * s + 1] = {static_cast<TokenId>((57 * s + 9) % c.n_vocab)};
    steps.push_back({{0, decode[2 * s], true}, {1, decode[2 * s + 1], true}});
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto want = session->forward_batch(steps[i]);
    ASSERT_TRUE(want.ok()) << want.status().message();
    std::vector<testing::StepEntry> entries;
    for (const SlotTokens& st : steps[i]) entries.push_back({st.slot, st.tokens});
    const std::vector<float> got = eval.step(entries);
    ASSERT_EQ(got.size(), want->size()) << "step " << i;
    EXPECT_EQ(std::memcmp(got.data(), want->data(), got.size() * sizeof(float)), 0) << "step " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GraphEval,
                         ::testing::Values(Case{"tiny-dense", 64, KvPrecision::kInt8},
                                           Case{"tiny-dense", 32, KvPrecision::kF16},
                                           Case{"tiny-moe", 64, KvPrecision::kInt8},
                                           Case{"tiny-moe", 32, KvPrecision::kF16}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.preset[5] == 'd' ? "dense" : "moe") + "_g" +
                                  std::to_string(i.param.group) +
                                  (i.param.kv == KvPrecision::kInt8 ? "_int8" : "_f16");
                         });

}  // namespace
}  // namespace lpu
