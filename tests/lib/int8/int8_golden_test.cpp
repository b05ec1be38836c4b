// Goldens of the int8 arithmetic, recorded before the int8 pass became the
// CPU backend's executors so that the move can be shown to change no bit:
// the SHA-256 of every logit of a fixed multi-slot workload per (model, G,
// KV precision), and SmolLM2's greedy chat reply to the demo prompt at
// G = 320 (the tsp-v1 K tile) with the int8 KV cache. These run without
// the weight transforms: the arithmetic they pin did not change when they
// came. Beside them, the same workloads with the transforms (the default),
// and the records calibration gives (the same bytes on every machine).
//
// Regenerate (only when the arithmetic is meant to change):
//   LPU_UPDATE_GOLDEN=1 build/lead/tests/lib/int8/lpu_int8_test --gtest_filter='Int8Golden*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "include/lpu/chat.h"
#include "include/lpu/int8_session.h"
#include "include/lpu/tokenizer.h"
#include "lib/core/sha256.h"
#include "lib/quant/calibration.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using testing::int8_options;
using testing::make_int8;

const std::filesystem::path kGoldenPath =
    testing::source_dir() / "tests" / "data" / "golden" / "int8_goldens.txt";

// "name value" lines.
std::map<std::string, std::string> read_goldens() {
  std::map<std::string, std::string> out;
  std::ifstream in(kGoldenPath);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t sp = line.find(' ');
    if (sp != std::string::npos) out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

bool updating() { return std::getenv("LPU_UPDATE_GOLDEN") != nullptr; }

void update_golden(const std::string& name, const std::string& value) {
  std::map<std::string, std::string> all = read_goldens();
  all[name] = value;
  std::ofstream out(kGoldenPath);
  out << "# int8 goldens: tests/lib/int8/int8_golden_test.cpp (regeneration command there)\n";
  for (const auto& [k, v] : all) out << k << ' ' << v << '\n';
}

void expect_golden(const std::string& name, const std::string& value) {
  if (updating()) {
    update_golden(name, value);
    return;
  }
  const std::map<std::string, std::string> all = read_goldens();
  const auto it = all.find(name);
  ASSERT_NE(it, all.end()) << "no golden " << name << " in " << kGoldenPath;
  EXPECT_EQ(value, it->second) << name;
}

// Three slots with different histories: a prefill with all logits, a
// two-slot batched prefill, then six batched decode steps.
std::string workload_hash(const std::string& path, const Int8Options& base) {
  const Model m = testing::load_model(path);
  const int vocab = m.config().n_vocab;
  Int8Options o = base;
  o.batch_slots = 3;
  Int8Session s = make_int8(m, 64, o);
  std::vector<float> out;
  auto append = [&](Result<std::vector<float>> r) {
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (r.ok()) out.insert(out.end(), r->begin(), r->end());
  };
  const std::vector<TokenId> a = testing::random_tokens(1, 29, vocab);
  const std::vector<TokenId> b = testing::random_tokens(2, 11, vocab);
  const std::vector<TokenId> c = testing::random_tokens(3, 5, vocab);
  append(s.forward(a, true));
  const std::vector<SlotTokens> prefill = {{2, b, true}, {1, c, false}};
  append(s.forward_batch(prefill));
  for (int step = 0; step < 6; ++step) {
    const std::vector<TokenId> t = testing::random_tokens(100 + step, 3, vocab);
    const std::vector<SlotTokens> batch = {
        {0, std::span(&t[0], 1), false}, {1, std::span(&t[1], 1), false}, {2, t, true}};
    append(s.forward_batch(batch));
  }
  return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(out.data()),
                              out.size() * sizeof(float)));
}

TEST(Int8GoldenTest, WorkloadLogitHashes) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    for (KvPrecision kv : {KvPrecision::kInt8, KvPrecision::kF16}) {
      for (int g : {32, 256}) {
        const std::string name = std::string(preset) + ".g" + std::to_string(g) + "." +
                                 kv_precision_name(kv);
        SCOPED_TRACE(name);
        expect_golden(name, workload_hash(testing::synthetic_model_path(preset), int8_options(g, kv)));
      }
    }
  }
}

TEST(Int8GoldenTest, TransformedWorkloadLogitHashes) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    const std::string name = std::string(preset) + ".g256.int8.transformed";
    SCOPED_TRACE(name);
    expect_golden(name, workload_hash(testing::synthetic_model_path(preset),
                                      int8_options(256, KvPrecision::kInt8, 1, 1, true)));
  }
}

// SHA-256 of the records' identity and every smoothing factor's exponent.
std::string record_hash(const quant::CalibratedTransform& t) {
  const program::Smoothing& r = t.smoothing;
  std::ostringstream os;
  os << t.rotation.method << '|' << t.rotation.seed << '|';
  os << r.method << '|' << r.alpha << '|' << r.calibration_hash << '|' << r.calibration_tokens;
  for (const program::SmoothingSite& site : r.sites) {
    os << '|' << site.name;
    for (const auto& layer : site.log2_factors) {
      os << ':';
      for (std::int8_t e : layer) os << static_cast<int>(e) << ',';
    }
  }
  const std::string text = os.str();
  return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// The records calibration gives `path` at G = 256; `twice`: also equal on a
// second run.
void expect_record_golden(const std::string& name, const std::string& path, bool twice = true) {
  const Model m = testing::load_model(path);
  auto r = quant::calibrate_transform(m, quant::calibration_tokens(m), 256, true, true);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  if (twice) {
    auto again = quant::calibrate_transform(m, quant::calibration_tokens(m), 256, true, true);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(record_hash(*r), record_hash(*again)) << name << ": calibration differs between two runs";
  }
  expect_golden(name, record_hash(*r));
}

TEST(Int8GoldenTest, TransformRecords) {
  for (const char* preset : {"tiny-dense", "tiny-moe"}) {
    expect_record_golden(std::string(preset) + ".transforms", testing::synthetic_model_path(preset));
  }
  const auto stories = testing::stories260k_path();
  LPU_REQUIRE_FILE(stories, "stories260K.gguf");
  expect_record_golden("stories260K.transforms", stories.string());
}

TEST(Int8GoldenTest, TransformRecordAndWorkloadSmolLM2) {
  LPU_REQUIRE_FILE(testing::smollm2_q4_1_path(), "SmolLM2-135M-Instruct.Q4_1.gguf");
  expect_record_golden("smollm2.transforms", testing::smollm2_q4_1_path().string(), /*twice=*/false);
  expect_golden("smollm2.g256.int8.transformed",
                workload_hash(testing::smollm2_q4_1_path().string(),
                              int8_options(256, KvPrecision::kInt8, 1, 1, true)));
}

TEST(Int8GoldenTest, WorkloadLogitHashSmolLM2) {
  LPU_REQUIRE_FILE(testing::smollm2_q4_1_path(), "SmolLM2-135M-Instruct.Q4_1.gguf");
  expect_golden("smollm2.g256.int8",
                workload_hash(testing::smollm2_q4_1_path().string(), int8_options(256)));
}

// Keep in step with scripts/demo.sh's default prompt and token count.
TEST(Int8GoldenTest, SmolLM2DemoGreedyAtG320) {
  const auto path = testing::smollm2_q4_1_path();
  LPU_REQUIRE_FILE(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
  const Model m = testing::load_model(path.string());
  Result<ChatTemplateKind> kind = detect_chat_template(m.chat_template());
  ASSERT_TRUE(kind.ok()) << kind.status().to_string();
  const std::vector<ChatMessage> messages = {{"user", "What are the three primary colors?"}};
  const std::string text = render_chat(*kind, messages, true);
  Result<Tokenizer> tok = Tokenizer::from_gguf(path.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EncodeOptions enc;
  enc.add_bos = tok->default_add_bos();
  enc.parse_special = true;
  Result<std::vector<TokenId>> ids = tok->encode(text, enc);
  ASSERT_TRUE(ids.ok()) << ids.status().to_string();

  Int8Session s = make_int8(m, 256, int8_options(320, KvPrecision::kInt8, 2));
  Result<std::vector<float>> logits = s.forward(*ids, false);
  std::ostringstream tokens;
  for (int i = 0; i < 64 && logits.ok(); ++i) {
    const auto best = static_cast<TokenId>(
        std::max_element(logits->begin(), logits->end()) - logits->begin());
    tokens << (i ? "," : "") << best;
    if (tok->is_end_of_generation(best)) break;
    logits = s.forward(std::span(&best, 1), false);
  }
  ASSERT_TRUE(logits.ok()) << logits.status().to_string();
  expect_golden("smollm2.demo.g320.int8.greedy64", tokens.str());
}

}  // namespace
}  // namespace lpu
