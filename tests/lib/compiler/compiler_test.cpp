// The compiler on tiny synthetic models (dense and MoE) for every preset
// target, single- and multi-chip: each Program validates, holds every
// resource once at a time, respects every data dependency, never beats
// its lower bound, and compiles to the same bytes every time.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <tbb/global_control.h>

#include <set>
#include <string>

#include "include/lpu/synth.h"
#include "lib/compiler/cache.h"
#include "lib/compiler/compiler.h"
#include "lib/compiler/report.h"
#include "lib/graph/graph.h"
#include "lib/model/config_internal.h"
#include "lib/program/program.h"
#include "lib/target/target.h"
#include "tests/lib/compiler/program_checks.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

// Q8_0 weights: small enough for the tiny target's 64 KiB chips.
compiler::ModelInput synthetic(const std::string& preset) {
  const std::string path = (testing::temp_dir() / (preset + ".gguf")).string();
  auto opts = synth_preset(preset);
  EXPECT_TRUE(opts.ok());
  opts->weight_type = "q8_0";
  EXPECT_TRUE(write_synthetic_model(*opts, path).ok());
  auto m = compiler::model_input_from_file(path);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return *m;
}

std::vector<std::uint64_t> capacities(const target::Target& t) {
  std::vector<std::uint64_t> c;
  for (const target::Pool& p : t.pools) c.push_back(p.capacity_bytes);
  return c;
}

compiler::Compiled compile_ok(const compiler::ModelInput& m, const std::string& target,
                              compiler::CompileOptions o) {
  auto t = target::target_preset(target);
  EXPECT_TRUE(t.ok());
  auto c = compiler::compile(m, *t, o);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return std::move(c).value();
}

struct Case {
  std::string model, target;
  std::uint32_t chips, slots, ctx;
  std::string kv = "";
};

class CompileCase : public ::testing::TestWithParam<Case> {};

TEST_P(CompileCase, ValidLegalAndAboveItsBound) {
  const Case& k = GetParam();
  const compiler::ModelInput m = synthetic(k.model);
  const target::Target t = *target::target_preset(k.target);
  compiler::CompileOptions o;
  o.chips = k.chips;
  o.slots = k.slots;
  o.max_context = k.ctx;
  o.kv = k.kv;
  const compiler::Compiled c = compile_ok(m, k.target, o);
  const program::Program& p = c.program;
  const std::vector<std::uint64_t> caps = capacities(t);
  ASSERT_TRUE(program::validate(p, caps, "compiled").ok());
  if (k.chips != 0) {
    EXPECT_EQ(p.meta.chips, k.chips);
  }
  EXPECT_EQ(p.meta.group, t.default_group());
  for (std::size_t v = 0; v < p.variants.size(); ++v) {
    const program::Variant& var = p.variants[v];
    EXPECT_GE(var.static_latency_cycles, var.lower_bound_cycles) << var.name;
    EXPECT_GT(var.lower_bound_cycles, 0u) << var.name;
    EXPECT_EQ(testing::check_resources(p, t, v), "");
    EXPECT_EQ(testing::check_hazards(p, t, v), "");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Presets, CompileCase,
    ::testing::Values(Case{"tiny-dense", "tiny", 0, 1, 128}, Case{"tiny-dense", "tiny", 0, 2, 128},
                      Case{"tiny-moe", "tiny", 0, 2, 128}, Case{"tiny-dense", "cpu-host", 0, 2, 256},
                      Case{"tiny-moe", "cpu-host", 0, 1, 256}, Case{"tiny-dense", "tsp-v1", 0, 4, 256},
                      Case{"tiny-moe", "hmp-217", 0, 2, 128},
                      Case{"tiny-dense", "tiny", 0, 1, 128, "f16"},
                      Case{"tiny-moe", "tiny", 0, 1, 128, "f16"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      std::string n = i.param.model + "_" + i.param.target + "_s" + std::to_string(i.param.slots) +
                      (i.param.kv.empty() ? "" : "_" + i.param.kv) +
                      (i.param.chips == 0 ? "" : "_c" + std::to_string(i.param.chips));
      for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return n;
    });

TEST(Compiler, TinyTargetSpreadsTinyModelsOverManyChips) {
  const compiler::ModelInput m = synthetic("tiny-dense");
  compiler::CompileOptions o;
  o.max_context = 128;
  const compiler::Compiled least = compile_ok(m, "tiny", o);
  EXPECT_GE(least.chips_used, 4u);
  // More chips than needed: wider stages, still legal.
  o.chips = least.chips_used * 2;
  const compiler::Compiled wide = compile_ok(m, "tiny", o);
  EXPECT_EQ(wide.program.meta.chips, o.chips);
  EXPECT_GE(wide.tp, least.tp);
  const target::Target t = *target::target_preset("tiny");
  for (std::size_t v = 0; v < wide.program.variants.size(); ++v) {
    EXPECT_EQ(testing::check_resources(wide.program, t, v), "");
    EXPECT_EQ(testing::check_hazards(wide.program, t, v), "");
  }
}

TEST(Compiler, ByteIdenticalAcrossRunsAndThreadCounts) {
  const compiler::ModelInput m = synthetic("tiny-moe");
  compiler::CompileOptions o;
  o.max_context = 128;
  o.slots = 2;
  std::vector<std::uint8_t> first;
  for (int threads : {1, 2, 1}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    const auto bytes = program::serialize(compile_ok(m, "tiny", o).program);
    if (first.empty()) {
      first = bytes;
    } else {
      EXPECT_EQ(bytes, first) << threads << " threads";
    }
  }
}

TEST(Compiler, ProgramRoundTripsThroughItsFile) {
  const compiler::ModelInput m = synthetic("tiny-dense");
  compiler::CompileOptions o;
  o.max_context = 128;
  const program::Program p = compile_ok(m, "hmp-217", o).program;
  const std::string path = (testing::temp_dir() / "tiny.lpuprog").string();
  ASSERT_TRUE(program::write_program(p, path).ok());
  auto back = program::read_program(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(program::serialize(*back), program::serialize(p));
  EXPECT_EQ(program::program_hash(*back), program::program_hash(p));
}

TEST(Compiler, VariantsCoverEveryBucketAndAPrefillChunk) {
  const compiler::ModelInput m = synthetic("tiny-dense");
  compiler::CompileOptions o;
  o.max_context = 512;
  const program::Program p = compile_ok(m, "cpu-host", o).program;
  std::vector<std::string> names;
  for (const program::Variant& v : p.variants) names.push_back(v.name);
  // A small model gets a prefill chunk at every bucket, then tail variants
  // of half a chunk, a quarter, ... 2 rows at every bucket, the largest
  // chunk last.
  std::vector<std::string> want = {"decode.ctx128", "decode.ctx256", "decode.ctx512", "prefill.ctx128", "prefill.ctx256"};
  for (const char* b : {"128", "256", "512"}) {
    for (const char* r : {"64", "32", "16", "8", "4", "2"}) want.push_back(std::string("prefill.ctx") + b + ".rows" + r);
  }
  want.push_back("prefill.ctx512");
  EXPECT_EQ(names, want);
  auto latency = [&](const std::string& name) {
    for (const program::Variant& v : p.variants) {
      if (v.name == name) return v.static_latency_cycles;
    }
    ADD_FAILURE() << "no variant " << name;
    return std::uint64_t{0};
  };
  // Attention over a larger bucket can only take longer, and so can more rows.
  EXPECT_LE(latency("decode.ctx128"), latency("decode.ctx512"));
  EXPECT_LE(latency("prefill.ctx128"), latency("prefill.ctx512"));
  EXPECT_LE(latency("prefill.ctx128.rows2"), latency("prefill.ctx128.rows64"));
  EXPECT_LE(latency("prefill.ctx128.rows64"), latency("prefill.ctx128"));
  for (const program::Variant& v : p.variants) {
    if (v.name.find(".rows") != std::string::npos) {
      EXPECT_EQ(v.kind, program::VariantKind::kPrefill) << v.name;
      EXPECT_EQ(v.name, "prefill.ctx" + std::to_string(v.context) + ".rows" + std::to_string(v.rows));
    }
  }
}

TEST(Compiler, CapacityErrorSaysWhatIsNeededAndTheLeastChips) {
  const compiler::ModelInput m = synthetic("tiny-dense");
  const target::Target t = *target::target_preset("tiny");
  compiler::CompileOptions o;
  o.max_context = 128;
  const std::uint32_t least = compile_ok(m, "tiny", o).chips_used;
  o.chips = 1;
  auto c = compiler::compile(m, t, o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  const std::string msg = c.status().message();
  EXPECT_NE(msg.find("does not fit 1 chip(s) of target 'tiny'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("weights"), std::string::npos);
  EXPECT_NE(msg.find("KV cache"), std::string::npos);
  EXPECT_NE(msg.find("activations"), std::string::npos);
  EXPECT_NE(msg.find("instructions"), std::string::npos);
  EXPECT_NE(msg.find("state 28.0 KiB"), std::string::npos) << msg;
  const std::string last = msg.substr(msg.rfind('\n') + 1);
  EXPECT_EQ(last, "least number of chips that fits: " + std::to_string(least));
}

TEST(Compiler, RejectsBadOptions) {
  const compiler::ModelInput m = synthetic("tiny-dense");
  const target::Target t = *target::target_preset("cpu-host");
  compiler::CompileOptions o;
  o.group = 33;
  EXPECT_NE(compiler::compile(m, t, o).status().message().find("--group 33"), std::string::npos);
  o.group = 0;
  o.kv = "fp8";
  EXPECT_NE(compiler::compile(m, t, o).status().message().find("--kv fp8"), std::string::npos);
  o.kv = "";
  o.slots = 0;
  EXPECT_NE(compiler::compile(m, t, o).status().message().find("--slots 0"), std::string::npos);
}

TEST(Compiler, GroupAndKvAreRecorded) {
  const compiler::ModelInput m = synthetic("tiny-dense");
  compiler::CompileOptions o;
  o.max_context = 128;
  o.group = 64;
  o.kv = "f16";
  const compiler::Compiled c = compile_ok(m, "cpu-host", o);
  EXPECT_EQ(c.program.meta.group, 64u);
  EXPECT_EQ(c.program.meta.kv, "f16");
  const target::Target t = *target::target_preset("cpu-host");
  for (std::size_t v = 0; v < c.program.variants.size(); ++v) {
    EXPECT_EQ(testing::check_hazards(c.program, t, v), "");
  }
}

}  // namespace
}  // namespace lpu

namespace lpu {
namespace {

// The step graph names exactly the model's tensor list (lib/model).
TEST(StepGraph, UsesEveryTensorOfTheModelListAndNoOther) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    const compiler::ModelInput m = synthetic(preset);
    auto g = graph::build_step_graph(m.config, {2, 64, false});
    ASSERT_TRUE(g.ok());
    std::set<std::string> used;
    for (const graph::Op& op : g->ops) used.insert(op.weights.begin(), op.weights.end());
    std::set<std::string> listed;
    for (const auto& e : model::expected_tensors(m.config)) {
      if (e.required) listed.insert(e.name);
    }
    EXPECT_EQ(used, listed) << preset;
  }
}

TEST(StepGraph, RejectsInconsistentShapes) {
  ModelConfig c = *shape_preset("llama-2-7b");
  c.n_head_kv = 5;
  EXPECT_FALSE(graph::build_step_graph(c, {1, 128, false}).ok());
  c = *shape_preset("mixtral-8x7b");
  c.n_expert_used = 9;
  EXPECT_FALSE(graph::build_step_graph(c, {1, 128, false}).ok());
  EXPECT_FALSE(graph::build_step_graph(*shape_preset("llama-2-7b"), {0, 128, false}).ok());
}

}  // namespace
}  // namespace lpu

namespace lpu {
namespace {

TEST(ProgramCache, StoresLoadsAndRefusesOtherInputs) {
  ::setenv("LPU_CACHE_DIR", (testing::temp_dir() / "cache").c_str(), 1);
  const compiler::ModelInput m = synthetic("tiny-dense");
  const target::Target t = *target::target_preset("cpu-host");
  compiler::CompileOptions o;
  o.max_context = 128;
  EXPECT_EQ(compiler::load_cached(m, t, o).status().code(), StatusCode::kNotFound);
  const program::Program p = compile_ok(m, "cpu-host", o).program;
  ASSERT_TRUE(compiler::store_cached(m, t, o, p).ok());
  auto back = compiler::load_cached(m, t, o);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(program::serialize(*back), program::serialize(p));
  compiler::CompileOptions other = o;
  other.slots = 2;
  EXPECT_FALSE(compiler::load_cached(m, t, other).ok());
  EXPECT_FALSE(compiler::load_cached(m, *target::target_preset("tiny"), o).ok());
  EXPECT_NE(std::string(compiler::compiler_build_id()), "unknown");
  ::unsetenv("LPU_CACHE_DIR");
}

// Over its budget, a store deletes the least recently used Programs; a
// load counts as a use.
TEST(ProgramCache, EvictsTheLeastRecentlyUsedOverItsBudget) {
  const auto dir = testing::temp_dir() / "cache-evict";
  std::filesystem::remove_all(dir);
  ::setenv("LPU_CACHE_DIR", dir.c_str(), 1);
  const compiler::ModelInput m = synthetic("tiny-dense");
  const target::Target t = *target::target_preset("cpu-host");
  std::vector<compiler::CompileOptions> opts(3);
  for (std::size_t i = 0; i < opts.size(); ++i) {
    opts[i].max_context = 128;
    opts[i].slots = static_cast<std::uint32_t>(i + 1);
  }
  std::uintmax_t one = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(compiler::store_cached(m, t, opts[i], compile_ok(m, "cpu-host", opts[i]).program).ok());
    one = std::max(one, std::filesystem::file_size(compiler::cache_path(m, t, opts[i])));
  }
  // Entry 0, stored first, is used last; then a third store must evict one
  // of the first two to stay within room for two: entry 1.
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
  std::filesystem::last_write_time(compiler::cache_path(m, t, opts[1]), old);
  std::filesystem::last_write_time(compiler::cache_path(m, t, opts[0]), old - std::chrono::hours(1));
  ASSERT_TRUE(compiler::load_cached(m, t, opts[0]).ok());
  ::setenv("LPU_CACHE_MAX_BYTES", std::to_string(2 * one + one / 2).c_str(), 1);
  ASSERT_TRUE(compiler::store_cached(m, t, opts[2], compile_ok(m, "cpu-host", opts[2]).program).ok());
  EXPECT_TRUE(compiler::load_cached(m, t, opts[0]).ok());
  EXPECT_FALSE(std::filesystem::exists(compiler::cache_path(m, t, opts[1])));
  EXPECT_TRUE(compiler::load_cached(m, t, opts[2]).ok());
  ::unsetenv("LPU_CACHE_MAX_BYTES");
  ::unsetenv("LPU_CACHE_DIR");
}

}  // namespace
}  // namespace lpu
