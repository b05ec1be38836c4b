// The fp32 reference forward pass against llama.cpp's logits (goldens
// written by tests/peer/oracle.py; see tests/peer/README.md).
//
// For every golden: teacher-forced on llama.cpp's prompt + greedy
// continuation, our argmax must equal llama.cpp's greedy token at every
// step, and every stored logit (the top-k of every position, full rows at a
// few) must lie within kRelTol x (that row's logit range) of llama.cpp's.
// A second test decodes greedily through the KV cache, one token at a time,
// and must reproduce the continuation token for token.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/reference.h"
#include "tests/golden/golden_file.h"
#include "tests/golden/golden_model.h"
#include "tests/testing/test_paths.h"

namespace lpu::testing {
namespace {

namespace fs = std::filesystem;

// Allowed |ours - llama.cpp| as a fraction of the row's logit range.
constexpr double kRelTol = 1e-3;

fs::path golden_dir() { return source_dir() / "tests" / "data" / "golden"; }

// The largest |ours - theirs| / range seen, and where.
struct Deviation {
  double worst = 0.0;
  int position = -1;
  TokenId id = -1;
  float ours = 0.0f;
  float theirs = 0.0f;

  void add(int p, TokenId t, float o, float l, double range) {
    const double d = std::fabs(static_cast<double>(o) - static_cast<double>(l)) / range;
    if (position < 0 || d > worst) *this = {d, p, t, o, l};
  }
  std::string describe() const {
    std::ostringstream s;
    s << worst << " (position " << position << ", token " << id << ": ours " << ours
      << ", llama.cpp " << theirs << ")";
    return s.str();
  }
};

// Compares `logits` ([n_positions x n_vocab]) with every value the golden
// stores: the top-k of each position, each row's max and min, full rows.
Deviation compare_logits(const GoldenFile& g, std::span<const float> logits) {
  Deviation dev;
  const auto v = static_cast<std::size_t>(g.n_vocab);
  const auto k = static_cast<std::size_t>(g.top_k);
  for (int p = 0; p < g.n_positions(); ++p) {
    const auto pu = static_cast<std::size_t>(p);
    const std::span<const float> row = logits.subspan(pu * v, v);
    const double range = static_cast<double>(g.row_max[pu]) - g.row_min[pu];
    for (std::size_t i = 0; i < k; ++i) {
      const TokenId id = g.top_ids[pu * k + i];
      dev.add(p, id, row[static_cast<std::size_t>(id)], g.top_logits[pu * k + i], range);
    }
    const auto [lo, hi] = std::minmax_element(row.begin(), row.end());
    dev.add(p, static_cast<TokenId>(lo - row.begin()), *lo, g.row_min[pu], range);
    dev.add(p, static_cast<TokenId>(hi - row.begin()), *hi, g.row_max[pu], range);
  }
  for (std::size_t r = 0; r < g.full_row_positions.size(); ++r) {
    const int p = g.full_row_positions[r];
    const auto pu = static_cast<std::size_t>(p);
    const double range = static_cast<double>(g.row_max[pu]) - g.row_min[pu];
    for (std::size_t t = 0; t < v; ++t) {
      dev.add(p, static_cast<TokenId>(t), logits[pu * v + t], g.full_rows[r * v + t], range);
    }
  }
  return dev;
}

TokenId argmax(std::span<const float> row) {
  // The first maximum: ties go to the lowest id, as in the oracle.
  return static_cast<TokenId>(std::max_element(row.begin(), row.end()) - row.begin());
}

void report(const GoldenFile& g, const std::string& what, const std::string& line) {
  std::printf("[golden] %s %s: %s\n", g.name.c_str(), what.c_str(), line.c_str());
  std::fflush(stdout);
}

class GoldenTest : public ::testing::TestWithParam<fs::path> {
 protected:
  void SetUp() override {
    Result<GoldenFile> golden = read_golden_file(GetParam());
    ASSERT_TRUE(golden.ok()) << golden.status().to_string();
    golden_ = std::move(golden.value());
    Result<GoldenModelPath> where = locate_golden_model(golden_);
    ASSERT_TRUE(where.ok()) << where.status().to_string();
    if (where->path.empty())
      LPU_REQUIRE_FILE(where->missing, "the model of golden " + golden_.name);
    report(golden_, "model", where->path.string() + ": " + where->provenance);
    Result<Model> model = Model::load(where->path.string());
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    ASSERT_EQ(model->config().n_vocab, golden_.n_vocab) << where->path;
    Result<ReferenceSession> session = ReferenceSession::create(*model, golden_.n_positions());
    ASSERT_TRUE(session.ok()) << session.status().to_string();
    session_.emplace(std::move(session.value()));
    // The session holds its own copy of the weights; a regenerated synthetic
    // file is not needed past this point.
    if (golden_.model.origin_kind == "synth") {
      std::error_code ec;
      fs::remove(where->path, ec);
    }
  }

  GoldenFile golden_;
  std::optional<ReferenceSession> session_;
};

TEST_P(GoldenTest, TeacherForcedLogitsMatchLlamaCpp) {
  const GoldenFile& g = golden_;
  Result<std::vector<float>> logits = session_->forward(g.tokens, /*all_logits=*/true);
  ASSERT_TRUE(logits.ok()) << logits.status().to_string();
  const auto v = static_cast<std::size_t>(g.n_vocab);
  ASSERT_EQ(logits->size(), static_cast<std::size_t>(g.n_positions()) * v);

  int matched = 0;
  for (int s = 0; s < g.n_generated; ++s) {
    const auto p = static_cast<std::size_t>(g.n_prompt - 1 + s);
    const TokenId ours = argmax(std::span<const float>(*logits).subspan(p * v, v));
    if (ours == g.generated(s)) {
      ++matched;
    } else {
      ADD_FAILURE() << g.name << ": greedy step " << s << " (position " << p << "): ours " << ours
                    << ", llama.cpp " << g.generated(s) << " (llama.cpp's top-1 margin "
                    << g.top1_margins[static_cast<std::size_t>(s)] << ")";
    }
  }
  const Deviation dev = compare_logits(g, *logits);
  report(g, "teacher-forced",
         "greedy " + std::to_string(matched) + "/" + std::to_string(g.n_generated) +
             " steps match; max |diff|/range = " + dev.describe());
  RecordProperty("max_diff_over_range", std::to_string(dev.worst));
  RecordProperty("greedy_steps_matched", matched);
  EXPECT_LE(dev.worst, kRelTol) << g.name << ": " << dev.describe();
}

TEST_P(GoldenTest, IncrementalGreedyDecodeMatchesLlamaCpp) {
  const GoldenFile& g = golden_;
  const std::span<const TokenId> prompt(g.tokens.data(), static_cast<std::size_t>(g.n_prompt));
  Result<std::vector<float>> first = session_->forward(prompt, /*all_logits=*/true);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  std::vector<float> all = std::move(first.value());
  const auto v = static_cast<std::size_t>(g.n_vocab);
  for (int s = 0; s < g.n_generated; ++s) {
    const TokenId next = argmax(std::span<const float>(all).last(v));
    ASSERT_EQ(next, g.generated(s))
        << g.name << ": greedy decode diverges at step " << s << " (llama.cpp's top-1 margin "
        << g.top1_margins[static_cast<std::size_t>(s)] << ")";
    const TokenId fed[1] = {next};
    Result<std::vector<float>> row = session_->forward(fed, /*all_logits=*/true);
    ASSERT_TRUE(row.ok()) << row.status().to_string();
    all.insert(all.end(), row->begin(), row->end());
  }
  const Deviation dev = compare_logits(g, all);
  report(g, "incremental",
         "greedy " + std::to_string(g.n_generated) + "/" + std::to_string(g.n_generated) +
             " steps match; max |diff|/range = " + dev.describe());
  RecordProperty("max_diff_over_range", std::to_string(dev.worst));
  EXPECT_LE(dev.worst, kRelTol) << g.name << ": " << dev.describe();
}

std::string golden_test_name(const ::testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Goldens, GoldenTest, ::testing::ValuesIn(list_golden_files(golden_dir())),
                         golden_test_name);

// Guards against a golden silently disappearing (the suite above would just
// shrink).
TEST(GoldenFiles, EveryExpectedGoldenIsPresent) {
  for (const char* name : {"stories260K", "smollm2_f32_chat", "smollm2_f32_demo", "smollm2_f32_plain",
                           "synth_tiny_dense", "synth_tiny_moe"}) {
    EXPECT_TRUE(fs::exists(golden_dir() / (std::string(name) + ".lpugold"))) << name;
  }
}

}  // namespace
}  // namespace lpu::testing
