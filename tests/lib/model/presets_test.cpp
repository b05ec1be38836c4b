// Config-only presets of published models: their parameter counts must come
// out at the published sizes.
#include <gtest/gtest.h>

#include <cmath>

#include "include/lpu/model.h"
#include "lib/model/config_internal.h"

namespace lpu {
namespace {

struct Expected {
  const char* name;
  double billions;  // published size
};

TEST(ShapePresetTest, ParameterCountsMatchPublishedSizes) {
  const Expected expected[] = {{"llama-2-7b", 6.74},
                               {"llama-2-70b", 68.98},
                               {"llama-3-8b", 8.03},
                               {"llama-3-70b", 70.55},
                               {"mixtral-8x7b", 46.70}};
  for (const Expected& e : expected) {
    auto c = shape_preset(e.name);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    const double b = static_cast<double>(c->n_params()) / 1e9;
    EXPECT_NEAR(b, e.billions, 0.01) << e.name;
    EXPECT_EQ(c->name, e.name);
    EXPECT_EQ(c->n_embd % c->n_head, 0);
    EXPECT_EQ(c->n_head % c->n_head_kv, 0);
  }
}

TEST(ShapePresetTest, Shapes) {
  auto mixtral = shape_preset("mixtral-8x7b");
  ASSERT_TRUE(mixtral.ok());
  EXPECT_TRUE(mixtral->is_moe());
  EXPECT_EQ(mixtral->n_expert, 8);
  EXPECT_EQ(mixtral->n_expert_used, 2);
  EXPECT_EQ(mixtral->rope_theta, 1e6f);
  auto l3 = shape_preset("llama-3-8b");
  ASSERT_TRUE(l3.ok());
  EXPECT_EQ(l3->n_vocab, 128256);
  EXPECT_EQ(l3->n_head_kv, 8);
  EXPECT_EQ(l3->head_dim, 128);
  EXPECT_FALSE(l3->is_moe());
  // Every preset's tensor list is well formed (a weightless model of that shape).
  for (const std::string& name : shape_preset_names()) {
    auto c = shape_preset(name);
    ASSERT_TRUE(c.ok()) << name;
    const auto tensors = model::expected_tensors(*c);
    std::int64_t total = 0;
    for (const auto& t : tensors) {
      if (!t.required) continue;
      std::int64_t n = 1;
      for (std::uint64_t d : t.dims) n *= static_cast<std::int64_t>(d);
      total += n;
    }
    EXPECT_EQ(total, c->n_params()) << name;
  }
}

TEST(ShapePresetTest, NamesAndUnknown) {
  EXPECT_EQ(shape_preset_names(),
            (std::vector<std::string>{"llama-2-7b", "llama-2-70b", "llama-3-8b", "llama-3-70b",
                                      "mixtral-8x7b"}));
  auto bad = shape_preset("llama-4-1t");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_NE(bad.status().message().find("llama-4-1t"), std::string::npos);
  EXPECT_NE(bad.status().message().find("mixtral-8x7b"), std::string::npos);
}

}  // namespace
}  // namespace lpu
