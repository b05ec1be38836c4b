#include "include/lpu/synth.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "lib/core/sha256.h"
#include "lib/gguf/dequantize.h"
#include "lib/gguf/file.h"
#include "lib/gguf/quantize.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

std::string temp_path(const std::string& name) { return (testing::temp_dir() / name).string(); }

SynthOptions preset(const std::string& name, const std::string& type = "f32") {
  auto o = synth_preset(name);
  EXPECT_TRUE(o.ok()) << o.status().to_string();
  o->weight_type = type;
  return *o;
}

gguf::File write_and_open(const SynthOptions& o, const std::string& name) {
  const std::string path = temp_path(name);
  const Status s = write_synthetic_model(o, path);
  EXPECT_TRUE(s.ok()) << s.to_string();
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return std::move(f).value();
}

TEST(SynthPreset, NamedShapes) {
  EXPECT_EQ(synth_preset_names(),
            (std::vector<std::string>{"tiny-dense", "tiny-moe", "llama-1b", "mixtral-1b"}));
  const SynthOptions d = preset("tiny-dense");
  EXPECT_EQ(d.n_vocab, 512);
  EXPECT_EQ(d.n_embd, 64);
  EXPECT_EQ(d.n_layer, 2);
  EXPECT_EQ(d.n_head, 4);
  EXPECT_EQ(d.n_head_kv, 2);
  EXPECT_EQ(d.n_ff, 128);
  EXPECT_EQ(d.n_expert, 0);
  const SynthOptions m = preset("tiny-moe");
  EXPECT_EQ(m.n_expert, 4);
  EXPECT_EQ(m.n_expert_used, 2);
  auto big = synth_preset("llama-1b");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->weight_type, "q8_0");
  // TinyLlama-1.1B's 1,100,048,384 weights.
  EXPECT_EQ(synth_parameter_count(*big), 1100048384u);
  auto moe = synth_preset("mixtral-1b");
  ASSERT_TRUE(moe.ok());
  EXPECT_EQ(moe->n_expert, 8);
  EXPECT_EQ(synth_parameter_count(*moe), 927589376u);
  for (const std::string& name : synth_preset_names())
    EXPECT_TRUE(validate_synth_options(preset(name)).ok()) << name;
}

TEST(SynthPreset, UnknownNameListsTheKnownOnes) {
  auto o = synth_preset("llama-70b");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kNotFound);
  EXPECT_NE(o.status().message().find(
                "'llama-70b' (expected one of: tiny-dense, tiny-moe, llama-1b, mixtral-1b)"),
            std::string::npos)
      << o.status().message();
}

TEST(SynthOptionsCheck, EachBadFieldIsNamed) {
  const auto bad = [](void (*edit)(SynthOptions&), const std::string& fragment) {
    SynthOptions o;
    edit(o);
    const Status s = validate_synth_options(o);
    EXPECT_FALSE(s.ok()) << fragment;
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  };
  bad([](SynthOptions& o) { o.arch = "gpt2"; }, "arch 'gpt2' (expected llama)");
  bad([](SynthOptions& o) { o.n_embd = 0; }, "n_embd is 0 (expected > 0)");
  bad([](SynthOptions& o) { o.n_layer = -1; }, "n_layer is -1");
  bad([](SynthOptions& o) { o.n_vocab = 100; }, "n_vocab is 100 (expected 259..");
  bad([](SynthOptions& o) { o.n_head = 3; },
      "n_embd 64 / n_head 3 (expected an even head size dividing n_embd)");
  bad([](SynthOptions& o) { o.n_head_kv = 3; }, "n_head_kv 3 (expected a divisor of n_head 4)");
  bad([](SynthOptions& o) { o.n_expert_used = 1; }, "n_expert 0, n_expert_used 1");
  bad([](SynthOptions& o) { o.n_expert = 4, o.n_expert_used = 5; }, "n_expert 4, n_expert_used 5");
  bad([](SynthOptions& o) { o.rope_theta = NAN; }, "rope_theta");
  bad([](SynthOptions& o) { o.weight_type = "q4_0"; },
      "weight_type 'q4_0' (expected f32, f16 or q8_0)");
  bad([](SynthOptions& o) { o.weight_type = "q8_0", o.n_ff = 100; },
      "multiples of 32 (got 64 and 100)");
}

TEST(SynthModel, WriteErrorsNameThePath) {
  SynthOptions o;
  o.n_head = 3;
  Status s = write_synthetic_model(o, temp_path("bad.gguf"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bad.gguf: synthetic model options: n_embd 64 / n_head 3"),
            std::string::npos)
      << s.message();
  s = write_synthetic_model(SynthOptions{}, "/nonexistent-dir/m.gguf");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/m.gguf"), std::string::npos) << s.message();
}

TEST(SynthModel, LlamaTensorNamesShapesAndTypes) {
  const gguf::File f = write_and_open(preset("tiny-dense", "q8_0"), "dense.gguf");
  ASSERT_EQ(f.tensors().size(), 3u + 2 * 9);
  const auto expect = [&f](const std::string& name, std::vector<std::uint64_t> dims,
                           gguf::TensorType type) {
    const gguf::TensorInfo* t = f.find_tensor(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dims, dims) << name;
    EXPECT_EQ(t->type, type) << name;
  };
  using gguf::TensorType;
  expect("token_embd.weight", {64, 512}, TensorType::kQ8_0);
  expect("output_norm.weight", {64}, TensorType::kF32);
  expect("output.weight", {64, 512}, TensorType::kQ8_0);
  for (const std::string p : {"blk.0.", "blk.1."}) {
    expect(p + "attn_norm.weight", {64}, TensorType::kF32);
    expect(p + "attn_q.weight", {64, 64}, TensorType::kQ8_0);
    expect(p + "attn_k.weight", {64, 32}, TensorType::kQ8_0);
    expect(p + "attn_v.weight", {64, 32}, TensorType::kQ8_0);
    expect(p + "attn_output.weight", {64, 64}, TensorType::kQ8_0);
    expect(p + "ffn_norm.weight", {64}, TensorType::kF32);
    expect(p + "ffn_gate.weight", {64, 128}, TensorType::kQ8_0);
    expect(p + "ffn_up.weight", {64, 128}, TensorType::kQ8_0);
    expect(p + "ffn_down.weight", {128, 64}, TensorType::kQ8_0);
  }
  EXPECT_EQ(*f.get_string("general.architecture"), "llama");
  EXPECT_EQ(*f.get_int("general.file_type"), 7);
  EXPECT_EQ(*f.get_int("llama.context_length"), 256);
  EXPECT_EQ(*f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(*f.get_int("llama.block_count"), 2);
  EXPECT_EQ(*f.get_int("llama.feed_forward_length"), 128);
  EXPECT_EQ(*f.get_int("llama.attention.head_count"), 4);
  EXPECT_EQ(*f.get_int("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(*f.get_int("llama.rope.dimension_count"), 16);
  EXPECT_EQ(*f.get_int("llama.vocab_size"), 512);
  EXPECT_EQ(*f.get_int("llama.expert_count"), 0);
  EXPECT_EQ(static_cast<float>(*f.get_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(*f.get_float("llama.rope.freq_base"), 10000.0);
}

TEST(SynthModel, MoeTensorsAndTiedEmbeddings) {
  SynthOptions o = preset("tiny-moe", "f16");
  o.tied_embeddings = true;
  const gguf::File f = write_and_open(o, "moe.gguf");
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f.find_tensor("blk.0.ffn_gate.weight"), nullptr);
  const gguf::TensorInfo* router = f.find_tensor("blk.1.ffn_gate_inp.weight");
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->dims, (std::vector<std::uint64_t>{64, 4}));
  EXPECT_EQ(router->type, gguf::TensorType::kF32);
  EXPECT_EQ(f.find_tensor("blk.1.ffn_gate_exps.weight")->dims,
            (std::vector<std::uint64_t>{64, 128, 4}));
  EXPECT_EQ(f.find_tensor("blk.1.ffn_up_exps.weight")->dims,
            (std::vector<std::uint64_t>{64, 128, 4}));
  EXPECT_EQ(f.find_tensor("blk.1.ffn_down_exps.weight")->dims,
            (std::vector<std::uint64_t>{128, 64, 4}));
  EXPECT_EQ(f.find_tensor("blk.1.ffn_down_exps.weight")->type, gguf::TensorType::kF16);
  EXPECT_EQ(*f.get_int("llama.expert_count"), 4);
  EXPECT_EQ(*f.get_int("llama.expert_used_count"), 2);
  EXPECT_EQ(*f.get_int("general.file_type"), 1);
}

TEST(SynthModel, TokenizerVocabulary) {
  const gguf::File f = write_and_open(preset("tiny-dense"), "vocab.gguf");
  EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "llama");
  const auto tokens = *f.get_string_array("tokenizer.ggml.tokens");
  const auto types = *f.get_int_array("tokenizer.ggml.token_type");
  const auto scores = *f.get_float_array("tokenizer.ggml.scores");
  ASSERT_EQ(tokens.size(), 512u);
  ASSERT_EQ(types.size(), 512u);
  ASSERT_EQ(scores.size(), 512u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(tokens[3], "<0x00>");
  EXPECT_EQ(tokens[3 + 0x0A], "<0x0A>");
  EXPECT_EQ(tokens[258], "<0xFF>");
  EXPECT_EQ(tokens[259], "\xE2\x96\x81");
  EXPECT_EQ(tokens[260], "!");
  EXPECT_EQ(tokens[261], "\xE2\x96\x81!");
  EXPECT_EQ((std::vector<std::int64_t>{types[0], types[1], types[3], types[300]}),
            (std::vector<std::int64_t>{2, 3, 6, 1}));
  EXPECT_EQ(scores[259], 0.0f);
  EXPECT_EQ(scores[300], -41.0f);
  std::set<std::string> unique(tokens.begin(), tokens.end());
  EXPECT_EQ(unique.size(), tokens.size());
  EXPECT_EQ(*f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.unknown_token_id"), 0);
  // The 32000-token vocabulary is all distinct too.
  SynthOptions big = preset("tiny-dense");
  big.n_vocab = 32000;
  const gguf::File g = write_and_open(big, "vocab32k.gguf");
  const auto t32 = *g.get_string_array("tokenizer.ggml.tokens");
  EXPECT_EQ(std::set<std::string>(t32.begin(), t32.end()).size(), 32000u);
}

// Matrices are N(0, 1/fan_in), norms 1 + N(0, 0.05^2).
TEST(SynthModel, WeightStatistics) {
  const gguf::File f = write_and_open(preset("tiny-dense"), "stats.gguf");
  for (const gguf::TensorInfo& t : f.tensors()) {
    const auto v = *gguf::dequantize_tensor(f, t);
    double sum = 0, sum2 = 0;
    for (float x : v) {
      ASSERT_TRUE(std::isfinite(x)) << t.name;
      sum += x;
      sum2 += static_cast<double>(x) * x;
    }
    const double n = static_cast<double>(v.size());
    const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    const bool norm = t.dims.size() == 1;
    const double want_mean = norm ? 1.0 : 0.0;
    const double want_sd = norm ? 0.05 : 1.0 / std::sqrt(static_cast<double>(t.dims[0]));
    EXPECT_NEAR(mean, want_mean, 5 * want_sd / std::sqrt(n)) << t.name;
    EXPECT_NEAR(sd, want_sd, want_sd * 6 / std::sqrt(2 * n)) << t.name;
  }
}

// The F16 and Q8_0 files hold the encodings of the F32 file's weights.
TEST(SynthModel, StorageTypesEncodeTheSameWeights) {
  const gguf::File f32 = write_and_open(preset("tiny-moe", "f32"), "enc-f32.gguf");
  for (const char* type : {"f16", "q8_0"}) {
    const gguf::File q =
        write_and_open(preset("tiny-moe", type), std::string("enc-") + type + ".gguf");
    for (const gguf::TensorInfo& t : q.tensors()) {
      const gguf::TensorInfo* src = f32.find_tensor(t.name);
      ASSERT_NE(src, nullptr);
      std::vector<std::uint8_t> want(t.n_bytes);
      gguf::quantize_row(t.type, reinterpret_cast<const float*>(src->data), want.data(),
                         src->n_elements);
      EXPECT_TRUE(std::equal(want.begin(), want.end(), t.data)) << type << " " << t.name;
    }
  }
}

TEST(SynthModel, SeedChangesEveryTensorAndNothingElse) {
  SynthOptions a = preset("tiny-dense"), b = a;
  b.seed = 2;
  const gguf::File fa = write_and_open(a, "seed1.gguf");
  const gguf::File fb = write_and_open(b, "seed2.gguf");
  for (const gguf::TensorInfo& t : fa.tensors()) {
    const gguf::TensorInfo* u = fb.find_tensor(t.name);
    EXPECT_EQ(t.n_bytes, u->n_bytes);
    EXPECT_FALSE(std::equal(t.data, t.data + t.n_bytes, u->data)) << t.name;
  }
}

// Bit-exact on any machine: these hashes were computed once and must never
// change (a change means every golden value built on these files moves).
TEST(SynthModel, FilesAreBitExact) {
  const struct {
    const char* preset;
    const char* type;
    const char* sha256;
  } kCases[] = {
      {"tiny-dense", "f32", "0910b721908849f5a95b370f004328500ff86b871450e78f276a93bd1491170b"},
      {"tiny-dense", "f16", "9375a1d9e238cc7d16df1e76cd3aa1d4f07d94a648fb3945831e13ec5dc475e7"},
      {"tiny-dense", "q8_0", "408e0af96d7494b26995f701fc84223814e39b41528bbff5ed2ee3c26c5319c4"},
      {"tiny-moe", "f32", "7502b51dec0aff4e4af4717326b6b8222a6a3c20a57908c348e43218b3db1655"},
      {"tiny-moe", "q8_0", "d8042bc75af60b0f717811a6dc3cb182a2c65ab33b48d2d10e25c759b80ea617"},
  };
  for (const auto& c : kCases) {
    const std::string path = temp_path(std::string("hash-") + c.preset + "-" + c.type + ".gguf");
    ASSERT_TRUE(write_synthetic_model(preset(c.preset, c.type), path).ok());
    auto h = sha256_file(path);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, c.sha256) << c.preset << " " << c.type;
  }
}

TEST(SynthModel, OutputDoesNotDependOnTheThreadCount) {
  const SynthOptions o = preset("tiny-moe", "q8_0");
  const std::string many = temp_path("threads-many.gguf"), one = temp_path("threads-one.gguf");
  ASSERT_TRUE(write_synthetic_model(o, many).ok());
  {
    tbb::global_control single(tbb::global_control::max_allowed_parallelism, 1);
    ASSERT_TRUE(write_synthetic_model(o, one).ok());
  }
  EXPECT_EQ(*sha256_file(many), *sha256_file(one));
}

// Writes the ~1.1B-parameter preset and reports the time. Disabled by
// default (1.2 GB); run with --gtest_also_run_disabled_tests.
TEST(SynthModel, DISABLED_Llama1bGenerationTime) {
  const std::string path = temp_path("llama-1b.gguf");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(write_synthetic_model(preset("llama-1b", "q8_0"), path).ok());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("llama-1b (q8_0): %.1f s, %llu bytes\n", s,
              static_cast<unsigned long long>(std::filesystem::file_size(path)));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace lpu
