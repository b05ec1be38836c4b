// The device conformance suite, run against every backend: a Program
// compiled for a target loads, runs a prompt (prefill chunks, then decode
// steps) and 64 decode steps, and gives the int8 forward pass's logits bit
// for bit; the simulator's cycles equal the static latency of every step;
// bad use gets a clear error.
#include <gtest/gtest.h>

#include <algorithm>

#include "include/lpu/device.h"
#include "include/lpu/int8_session.h"
#include "lib/compiler/compiler.h"
#include "runtime/device/program_access.h"
#include "runtime/device/sequence_runner.h"
#include "tests/lib/int8/int8_test_util.h"

namespace lpu {
namespace {

struct Case {
  const char* backend;
  const char* model;
  const char* target;
  int group;
  KvPrecision kv;
  std::uint32_t context;  // largest bucket
  std::uint32_t chunk;    // prefill rows
  int threads = 2;
  std::uint32_t slot = 0;
  std::uint32_t chips = 0;  // 0: the least that fit
};

std::string name_of(const ::testing::TestParamInfo<Case>& i) {
  std::string s = std::string(i.param.backend) + "_" + i.param.model + "_" + i.param.target + "_g" +
                  std::to_string(i.param.group) + "_" + kv_precision_name(i.param.kv) + "_t" +
                  std::to_string(i.param.threads) + "_slot" + std::to_string(i.param.slot) +
                  (i.param.chips ? "_chips" + std::to_string(i.param.chips) : "");
  for (char& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

// all_logits: prefill chunks write every row's logits (the suite compares
// the prompt's rows); otherwise only the last row's.
Program compile_for(const Model& m, const std::string& target, int group, KvPrecision kv, std::uint32_t ctx,
                    std::uint32_t chunk = 0, std::uint32_t chips = 0, bool all_logits = true) {
  auto t = target::target_preset(target);
  EXPECT_TRUE(t.ok());
  auto input = compiler::model_input_from_file(m.path());
  EXPECT_TRUE(input.ok()) << input.status().to_string();
  compiler::CompileOptions o;
  o.slots = 2;
  o.max_context = ctx;
  o.group = static_cast<std::uint32_t>(group);
  o.kv = kv_precision_name(kv);
  o.prefill_chunk = chunk;
  o.chips = chips;
  o.all_logits = all_logits;
  auto c = compiler::compile(*input, *t, o);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return runtime::make_program(std::move(c->program));
}

class DeviceConformance : public ::testing::TestWithParam<Case> {};

TEST_P(DeviceConformance, PromptAnd64DecodeStepsEqualTheInt8Pass) {
  const Case& c = GetParam();
  const Model m = testing::load_model(testing::synthetic_model_path(c.model));
  const Program program = compile_for(m, c.target, c.group, c.kv, c.context, c.chunk, c.chips);
  if (c.chips != 0) {
    ASSERT_EQ(program.chips(), c.chips);
  }
  DeviceOptions d;
  d.threads = c.threads;
  auto dev = open_device(c.backend, c.target, d);
  ASSERT_TRUE(dev.ok()) << dev.status().to_string();
  ASSERT_TRUE((*dev)->load(program, m).ok());
  auto runner = runtime::SequenceRunner::create(**dev, program, static_cast<std::uint32_t>(m.config().n_vocab), c.slot);
  ASSERT_TRUE(runner.ok()) << runner.status().to_string();
  Int8Session ref = testing::make_int8(m, static_cast<int>(c.context), testing::int8_options(c.group, c.kv, 1, 1));
  const int vocab = m.config().n_vocab;
  // One prefill chunk and a few decode steps; with 64 more, past 128 when
  // the Program has a larger bucket.
  const std::vector<TokenId> prompt = testing::random_tokens(21, c.chunk + 6, vocab);
  auto got = runner->forward(prompt, true);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto want = ref.forward(prompt, true);
  ASSERT_TRUE(want.ok());
  ASSERT_TRUE(testing::same_bits(*got, *want)) << "prompt logits";
  const std::vector<TokenId> next = testing::random_tokens(22, 64, vocab);
  for (std::size_t s = 0; s < next.size(); ++s) {
    auto g = runner->forward(std::span(&next[s], 1), false);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    auto w = ref.forward(std::span(&next[s], 1), false);
    ASSERT_TRUE(testing::same_bits(*g, *w)) << "decode step " << s;
  }
  for (const StepCounters& sc : runner->steps()) {
    if (std::string(c.backend) == "lpu-sim") {
      ASSERT_EQ(sc.cycles, sc.static_latency_cycles) << sc.variant;
    }
    ASSERT_GT(sc.static_latency_cycles, 0u);
  }
  std::uint32_t chunk_rows = 0;
  for (const ProgramVariant& v : program.variants()) {
    if (v.prefill) chunk_rows = v.rows;
  }
  // The first chunk (positions 0..chunk-1) runs at the smallest bucket.
  if (chunk_rows > 1) {
    EXPECT_EQ(runner->steps().front().variant, "prefill.ctx128");
  }
  EXPECT_EQ(runner->steps().back().variant, "decode.ctx" + std::to_string(c.context));
  if (c.context > 128) {
    // The prompt's tail ran through prefill variants of fewer rows at the
    // smallest bucket, and so does the first decode step.
    const std::vector<StepCounters>& steps = runner->steps();
    auto first_decode = std::find_if(steps.begin(), steps.end(),
                                     [](const StepCounters& s) { return s.variant.rfind("decode", 0) == 0; });
    ASSERT_NE(first_decode, steps.end());
    EXPECT_EQ(first_decode->variant, "decode.ctx128");
    for (auto it = steps.begin(); it != first_decode; ++it) EXPECT_EQ(it->variant.rfind("prefill.ctx128", 0), 0u) << it->variant;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Backends, DeviceConformance,
    ::testing::Values(Case{"cpu", "tiny-dense", "cpu-host", 32, KvPrecision::kInt8, 256, 64},
                      Case{"lpu-sim", "tiny-dense", "cpu-host", 32, KvPrecision::kInt8, 256, 64},
                      Case{"cpu", "tiny-dense", "cpu-host", 256, KvPrecision::kInt8, 256, 64},
                      Case{"lpu-sim", "tiny-dense", "cpu-host", 256, KvPrecision::kInt8, 256, 64},
                      Case{"cpu", "tiny-dense", "tiny", 32, KvPrecision::kInt8, 128, 32},
                      Case{"lpu-sim", "tiny-dense", "tiny", 32, KvPrecision::kInt8, 128, 32},
                      Case{"cpu", "tiny-moe", "tiny", 32, KvPrecision::kInt8, 128, 32},
                      Case{"lpu-sim", "tiny-moe", "tiny", 32, KvPrecision::kInt8, 128, 32},
                      Case{"cpu", "tiny-moe", "cpu-host", 32, KvPrecision::kF16, 256, 64},
                      Case{"lpu-sim", "tiny-moe", "cpu-host", 32, KvPrecision::kF16, 256, 64},
                      // G = 64 over the tiny target's K tile of 32: groups split over passes
                      Case{"cpu", "tiny-dense", "tiny", 64, KvPrecision::kInt8, 128, 32},
                      Case{"lpu-sim", "tiny-moe", "tiny", 64, KvPrecision::kInt8, 128, 32},
                      // one thread, the second slot, more chips than the least
                      Case{"cpu", "tiny-dense", "cpu-host", 32, KvPrecision::kInt8, 256, 64, 1, 1},
                      Case{"lpu-sim", "tiny-dense", "tiny", 32, KvPrecision::kInt8, 128, 32, 1, 1},
                      Case{"cpu", "tiny-moe", "tiny", 32, KvPrecision::kInt8, 128, 32, 1, 1},
                      Case{"cpu", "tiny-dense", "tiny", 32, KvPrecision::kInt8, 128, 32, 2, 0, 64},
                      Case{"lpu-sim", "tiny-dense", "tiny", 32, KvPrecision::kInt8, 128, 32, 2, 1, 64},
                      Case{"lpu-sim", "tiny-moe", "tiny", 32, KvPrecision::kInt8, 128, 32, 2, 0, 64},
                      // heads of 64: QK^T and PV as whole matmuls cut to each row's position
                      Case{"cpu", "tiny-hd64", "cpu-host", 32, KvPrecision::kInt8, 256, 64},
                      Case{"lpu-sim", "tiny-hd64", "cpu-host", 32, KvPrecision::kInt8, 256, 64},
                      Case{"cpu", "tiny-hd64", "cpu-host", 64, KvPrecision::kInt8, 256, 64, 1, 1}),
    name_of);

// By default a prefill chunk writes only its last row's logits: the
// prompt's last logits are the int8 pass's, from prefill steps, and are
// cheaper to get; asking for every row's logits of such a Program runs the
// prompt as decode steps, with the same bits.
TEST(Device, PrefillWritesTheLastRowsLogits) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  for (const char* target : {"cpu-host", "tiny"}) {
    const Program last = compile_for(m, target, 32, KvPrecision::kInt8, 128, 32, 0, false);
    const Program all = compile_for(m, target, 32, KvPrecision::kInt8, 128, 32, 0, true);
    std::uint64_t last_cycles = 0, all_cycles = 0;
    for (const ProgramVariant& v : last.variants()) {
      if (v.prefill) {
        EXPECT_EQ(v.logit_rows, 1u) << v.name;
        last_cycles = v.static_latency_cycles;
      }
    }
    for (const ProgramVariant& v : all.variants()) {
      if (v.prefill) {
        EXPECT_EQ(v.logit_rows, v.rows) << v.name;
        all_cycles = v.static_latency_cycles;
      }
    }
    EXPECT_LT(last_cycles, all_cycles) << target;
    const std::vector<TokenId> prompt = testing::random_tokens(31, 40, m.config().n_vocab);
    Int8Session ref = testing::make_int8(m, 128, testing::int8_options(32));
    auto want = ref.forward(prompt, true);
    ASSERT_TRUE(want.ok());
    const std::vector<float> want_last(want->end() - m.config().n_vocab, want->end());
    for (const std::string& b : device_backends()) {
      auto d = open_device(b, target);
      ASSERT_TRUE(d.ok());
      ASSERT_TRUE((*d)->load(last, m).ok());
      auto runner = runtime::SequenceRunner::create(**d, last, static_cast<std::uint32_t>(m.config().n_vocab));
      ASSERT_TRUE(runner.ok());
      auto got = runner->forward(prompt, false);
      ASSERT_TRUE(got.ok()) << got.status().to_string();
      EXPECT_TRUE(testing::same_bits(*got, want_last)) << b << " " << target;
      EXPECT_EQ(runner->steps().front().variant, "prefill.ctx128") << b << " " << target;
      auto rows = runtime::SequenceRunner::create(**d, last, static_cast<std::uint32_t>(m.config().n_vocab));
      ASSERT_TRUE(rows.ok());
      auto every = rows->forward(prompt, true);
      ASSERT_TRUE(every.ok()) << every.status().to_string();
      EXPECT_TRUE(testing::same_bits(*every, *want)) << b << " " << target;
      EXPECT_EQ(rows->steps().size(), prompt.size()) << "decode steps only";
    }
  }
}

TEST(Device, UnknownBackendNamesTheKnownOnes) {
  auto d = open_device("gpu", "tiny");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("cpu, lpu-sim"), std::string::npos) << d.status().to_string();
}

TEST(Device, RefusesAProgramForAnotherTarget) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const Program program = compile_for(m, "tiny", 32, KvPrecision::kInt8, 64);
  for (const std::string& b : device_backends()) {
    auto d = open_device(b, "cpu-host");
    ASSERT_TRUE(d.ok());
    const Status s = (*d)->load(program, m);
    EXPECT_FALSE(s.ok()) << b;
    EXPECT_NE(s.message().find("compiled for target 'tiny'"), std::string::npos) << s.to_string();
  }
}

TEST(Device, RefusesAProgramForAnotherModel) {
  const Model dense = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const Model moe = testing::load_model(testing::synthetic_model_path("tiny-moe"));
  const Program program = compile_for(dense, "tiny", 32, KvPrecision::kInt8, 64);
  for (const std::string& b : device_backends()) {
    auto d = open_device(b, "tiny");
    ASSERT_TRUE(d.ok());
    const Status s = (*d)->load(program, moe);
    EXPECT_FALSE(s.ok()) << b;
    EXPECT_NE(s.message().find("compiled for model"), std::string::npos) << s.to_string();
  }
}

TEST(Device, UseBeforeLoadIsAnError) {
  for (const std::string& b : device_backends()) {
    auto d = open_device(b, "tiny");
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE((*d)->run("decode.ctx64").ok()) << b;
    std::uint8_t byte = 0;
    EXPECT_FALSE((*d)->read({0, 0, 0, 1}, std::span(&byte, 1)).ok()) << b;
  }
}

TEST(Device, UnknownVariantAndRegionsOutsideTheLayout) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const Program program = compile_for(m, "tiny", 32, KvPrecision::kInt8, 64);
  for (const std::string& b : device_backends()) {
    auto d = open_device(b, "tiny");
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE((*d)->load(program, m).ok());
    auto r = (*d)->run("decode.ctx999");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("no variant 'decode.ctx999'"), std::string::npos) << r.status().to_string();
    std::uint8_t byte = 0;
    const Status s = (*d)->read({0, 0, 1ull << 40, 1}, std::span(&byte, 1));
    EXPECT_FALSE(s.ok()) << b;
  }
}

}  // namespace
}  // namespace lpu

namespace lpu {
namespace {

// Both backends read the weights where the Program says: swapping the
// offsets of two same-sized weight tensors in the layout (so each matmul
// reads the other's bytes) changes the logits, identically on both.
TEST(Device, BackendsReadWeightsWhereTheProgramSays) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const Program base = compile_for(m, "tiny", 32, KvPrecision::kInt8, 64);
  program::Program swapped = runtime::program_of(base);
  program::LayoutEntry* a = nullptr;
  program::LayoutEntry* b = nullptr;
  // Two tiled weight entries of one chip with the same size, from different tensors.
  for (program::LayoutEntry& e : swapped.layout) {
    if (e.encoding != program::Encoding::kTiledS8 || b != nullptr) continue;
    for (program::LayoutEntry& f : swapped.layout) {
      if (&f != &e && f.encoding == e.encoding && f.chip == e.chip && f.pool == e.pool &&
          f.bytes == e.bytes && f.name != e.name) {
        a = &e;
        b = &f;
        break;
      }
    }
  }
  ASSERT_NE(b, nullptr);
  std::swap(a->offset, b->offset);
  const Program changed = runtime::make_program(std::move(swapped));
  std::vector<std::vector<float>> out;
  for (const Program* p : {&base, &changed}) {
    for (const std::string& backend : device_backends()) {
      auto d = open_device(backend, "tiny");
      ASSERT_TRUE(d.ok());
      ASSERT_TRUE((*d)->load(*p, m).ok());
      auto r = runtime::SequenceRunner::create(**d, *p, static_cast<std::uint32_t>(m.config().n_vocab));
      ASSERT_TRUE(r.ok());
      const std::vector<TokenId> prompt = testing::random_tokens(5, 6, m.config().n_vocab);
      auto l = r->forward(prompt, true);
      ASSERT_TRUE(l.ok()) << l.status().to_string();
      out.push_back(*l);
    }
  }
  EXPECT_TRUE(testing::same_bits(out[0], out[1]));   // base: cpu == lpu-sim
  EXPECT_TRUE(testing::same_bits(out[2], out[3]));   // swapped: cpu == lpu-sim
  EXPECT_FALSE(testing::same_bits(out[0], out[2]));  // and the swap shows
}

}  // namespace
}  // namespace lpu
