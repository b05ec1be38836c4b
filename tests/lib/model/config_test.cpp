// ModelConfig from real GGUF files and from crafted ones with one defect
// each.
#include <gtest/gtest.h>

#include <string>

#include "include/lpu/model.h"
#include "lib/gguf/file.h"
#include "lib/model/config_internal.h"
#include "tests/lib/model/tiny_gguf.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using testing::ModelGgufBuilder;
using testing::tiny_llama;
using testing::TinyLlama;

Result<ModelConfig> config_of(const ModelGgufBuilder& b) {
  const std::vector<std::uint8_t> bytes = b.bytes();
  LPU_ASSIGN_OR_RETURN(const gguf::File f, gguf::File::from_bytes(bytes, "crafted.gguf"));
  return model::model_config_from_gguf(f);
}

// The error's message must hold every one of `parts`.
void expect_error(const Result<ModelConfig>& r, StatusCode code,
                  std::initializer_list<std::string> parts) {
  ASSERT_FALSE(r.ok()) << "expected an error containing " << *parts.begin();
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  for (const std::string& p : parts) {
    EXPECT_NE(r.status().message().find(p), std::string::npos)
        << "'" << p << "' not in: " << r.status().message();
  }
}

TEST(ModelConfigTest, Stories260K) {
  LPU_REQUIRE_FILE(testing::stories260k_path().string(), "stories260K.gguf");
  auto c = load_model_config(testing::stories260k_path().string());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->architecture, "llama");
  EXPECT_EQ(c->n_vocab, 512);
  EXPECT_EQ(c->n_embd, 64);
  EXPECT_EQ(c->n_layer, 5);
  EXPECT_EQ(c->n_head, 8);
  EXPECT_EQ(c->n_head_kv, 4);
  EXPECT_EQ(c->head_dim, 8);
  EXPECT_EQ(c->rope_dim, 8);
  EXPECT_EQ(c->n_ff, 172);
  EXPECT_EQ(c->n_ctx_train, 2048);
  EXPECT_EQ(c->n_expert, 0);
  EXPECT_FALSE(c->is_moe());
  EXPECT_FLOAT_EQ(c->rms_eps, 1e-5f);
  EXPECT_EQ(c->rope_theta, 10000.0f);  // no freq_base key: llama.cpp's default
  EXPECT_EQ(c->rope_scaling, RopeScalingType::kNone);
  EXPECT_FALSE(c->tied_embeddings);
  EXPECT_EQ(c->n_params(), 292800);  // the published count, embeddings included
}

TEST(ModelConfigTest, SmolLM2) {
  const std::string path = testing::smollm2_q4_1_path().string();
  LPU_REQUIRE_FILE(path, "SmolLM2-135M-Instruct Q4_1");
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const ModelConfig& c = m->config();
  EXPECT_EQ(c.n_embd, 576);
  EXPECT_EQ(c.n_layer, 30);
  EXPECT_EQ(c.n_head, 9);
  EXPECT_EQ(c.n_head_kv, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.n_ff, 1536);
  EXPECT_EQ(c.n_vocab, 49152);
  EXPECT_EQ(c.n_ctx_train, 8192);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope_theta, 100000.0f);
  EXPECT_EQ(c.n_params(), 134515008);
  EXPECT_EQ(m->path(), path);
  EXPECT_NE(m->chat_template().find("<|im_start|>"), std::string::npos);
}

TEST(ModelConfigTest, TinyDenseAndMoe) {
  auto dense = config_of(tiny_llama({}));
  ASSERT_TRUE(dense.ok()) << dense.status().to_string();
  EXPECT_EQ(dense->n_vocab, 32);
  EXPECT_EQ(dense->head_dim, 4);
  EXPECT_FALSE(dense->tied_embeddings);

  TinyLlama spec;
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  spec.tied = true;
  auto moe = config_of(tiny_llama(spec));
  ASSERT_TRUE(moe.ok()) << moe.status().to_string();
  EXPECT_TRUE(moe->is_moe());
  EXPECT_EQ(moe->n_expert, 4);
  EXPECT_EQ(moe->n_expert_used, 2);
  EXPECT_TRUE(moe->tied_embeddings);
}

TEST(ModelConfigTest, MissingFileNamesPath) {
  auto c = load_model_config("/nonexistent/model.gguf");
  expect_error(c, StatusCode::kNotFound, {"/nonexistent/model.gguf"});
}

TEST(ModelConfigTest, MetadataErrors) {
  expect_error(config_of(tiny_llama({}).set_string("general.architecture", "gpt2")),
               StatusCode::kUnimplemented,
               {"crafted.gguf", "general.architecture", "gpt2", "llama"});
  expect_error(config_of(tiny_llama({}).remove("llama.embedding_length")), StatusCode::kNotFound,
               {"crafted.gguf", "llama.embedding_length"});
  expect_error(config_of(tiny_llama({}).remove("llama.attention.layer_norm_rms_epsilon")),
               StatusCode::kNotFound, {"llama.attention.layer_norm_rms_epsilon"});
  expect_error(config_of(tiny_llama({}).set_u32("llama.block_count", 0)), StatusCode::kOutOfRange,
               {"llama.block_count", "is 0"});
  expect_error(config_of(tiny_llama({}).set_string("llama.block_count", "two")),
               StatusCode::kInvalidArgument, {"llama.block_count", "string"});
  // 16 is not a multiple of 3 heads.
  expect_error(config_of(tiny_llama({})
                             .set_u32("llama.attention.head_count", 3)
                             .set_u32("llama.attention.head_count_kv", 3)),
               StatusCode::kInvalidArgument,
               {"llama.attention.head_count", "is 3", "llama.embedding_length = 16"});
  // 4 query heads cannot share 3 key/value heads.
  expect_error(config_of(tiny_llama({}).set_u32("llama.attention.head_count_kv", 3)),
               StatusCode::kInvalidArgument, {"llama.attention.head_count_kv", "is 3", "divisor"});
  expect_error(config_of(tiny_llama({}).set_u32("llama.rope.dimension_count", 2)),
               StatusCode::kInvalidArgument, {"llama.rope.dimension_count", "is 2"});
  expect_error(config_of(tiny_llama({}).set_f32("llama.attention.layer_norm_rms_epsilon", -1.0f)),
               StatusCode::kOutOfRange, {"layer_norm_rms_epsilon"});
}

TEST(ModelConfigTest, ExpertCountErrors) {
  TinyLlama spec;
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  expect_error(config_of(tiny_llama(spec).set_u32("llama.expert_used_count", 5)),
               StatusCode::kInvalidArgument, {"llama.expert_used_count", "is 5", "1..4"});
  expect_error(config_of(tiny_llama(spec).set_u32("llama.expert_used_count", 0)),
               StatusCode::kInvalidArgument, {"llama.expert_used_count", "is 0"});
  // Expert tensors without llama.expert_count are not a dense model.
  expect_error(
      config_of(tiny_llama(spec).remove("llama.expert_count").remove("llama.expert_used_count")),
      StatusCode::kUnimplemented, {"blk.0.", "expert_count"});
}

TEST(ModelConfigTest, RopeScaling) {
  auto linear = config_of(tiny_llama({})
                              .set_string("llama.rope.scaling.type", "linear")
                              .set_f32("llama.rope.scaling.factor", 4.0f));
  ASSERT_TRUE(linear.ok()) << linear.status().to_string();
  EXPECT_EQ(linear->rope_scaling, RopeScalingType::kLinear);
  EXPECT_EQ(linear->rope_scaling_factor, 4.0f);

  auto yarn = config_of(tiny_llama({})
                            .set_string("llama.rope.scaling.type", "yarn")
                            .set_f32("llama.rope.scaling.factor", 8.0f)
                            .set_u32("llama.rope.scaling.original_context_length", 32));
  ASSERT_TRUE(yarn.ok()) << yarn.status().to_string();
  EXPECT_EQ(yarn->rope_scaling, RopeScalingType::kYarn);
  EXPECT_EQ(yarn->rope_orig_ctx, 32);

  auto none = config_of(tiny_llama({})
                            .set_string("llama.rope.scaling.type", "none")
                            .set_f32("llama.rope.scaling.factor", 8.0f));
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_EQ(none->rope_scaling, RopeScalingType::kNone);
  EXPECT_EQ(none->rope_scaling_factor, 1.0f);

  expect_error(config_of(tiny_llama({}).set_string("llama.rope.scaling.type", "longrope")),
               StatusCode::kUnimplemented,
               {"llama.rope.scaling.type", "longrope", "none, linear, yarn"});
}

TEST(ModelConfigTest, VocabErrors) {
  expect_error(config_of(tiny_llama({}).set_u32("llama.vocab_size", 33)),
               StatusCode::kInvalidArgument, {"llama.vocab_size", "33", "token_embd.weight", "32"});
  expect_error(config_of(tiny_llama({}).set_string_array("tokenizer.ggml.tokens", {"a", "b"})),
               StatusCode::kInvalidArgument, {"tokenizer.ggml.tokens", "2 tokens", "32"});
  expect_error(config_of(tiny_llama({}).remove_tensor("token_embd.weight")), StatusCode::kNotFound,
               {"token_embd.weight"});
}

TEST(ModelConfigTest, TensorErrors) {
  expect_error(config_of(tiny_llama({}).remove_tensor("blk.1.attn_v.weight")),
               StatusCode::kNotFound, {"crafted.gguf", "blk.1.attn_v.weight", "[16, 8]"});
  expect_error(config_of(tiny_llama({}).remove_tensor("output_norm.weight")), StatusCode::kNotFound,
               {"output_norm.weight"});
  // attn_k with the width of attn_q: wrong for 2 key/value heads.
  expect_error(config_of(tiny_llama({}).set_tensor("blk.0.attn_k.weight", {16, 16},
                                                   std::vector<float>(256))),
               StatusCode::kInvalidArgument,
               {"blk.0.attn_k.weight", "[16, 16]", "expected [16, 8]", "n_head_kv"});
  expect_error(
      config_of(tiny_llama({}).set_tensor("blk.0.attn_q.bias", {16}, std::vector<float>(16))),
      StatusCode::kUnimplemented, {"blk.0.attn_q.bias", "not used"});
  // Without output.weight the model is tied, not broken.
  auto tied = config_of(tiny_llama({}).remove_tensor("output.weight"));
  ASSERT_TRUE(tied.ok()) << tied.status().to_string();
  EXPECT_TRUE(tied->tied_embeddings);
}

}  // namespace
}  // namespace lpu
