// Weight transforms folded in at import (lib/quant/smoothing_record.h,
// weight_transform.h): per tensor, the importer gives exactly the int8 rows
// of the fp32 weights transformed by apply_smoothing and apply_rotation
// (the rules stated once per model); records round-trip and bad ones are
// refused by name.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "kernels/quantize/quantize.h"
#include "lib/model/model_access.h"
#include "lib/quant/calibration.h"
#include "lib/quant/gguf_import.h"
#include "lib/quant/rotation.h"
#include "lib/quant/smoothing.h"
#include "lib/quant/smoothing_record.h"
#include "lib/quant/weight_transform.h"
#include "lib/gguf/quantize.h"
#include "lib/reference/weights.h"
#include "tests/lib/int8/int8_test_util.h"
#include "tests/testing/test_paths.h"

namespace lpu {
namespace {

using reference::MatrixRM;

// The int8 rows of `m` (experts stacked) at G.
kernels::QuantizedRows quantize(const std::vector<const MatrixRM*>& experts, std::size_t g) {
  const std::size_t rows = static_cast<std::size_t>(experts.front()->rows());
  const std::size_t k = static_cast<std::size_t>(experts.front()->cols());
  kernels::QuantizedRows q(rows * experts.size(), k, g);
  for (std::size_t e = 0; e < experts.size(); ++e) {
    kernels::quantize_rows(experts[e]->data(), k, q, e * rows, rows);
  }
  return q;
}

void expect_same_rows(const kernels::QuantizedRows& a, const kernels::QuantizedRows& b, const std::string& name) {
  ASSERT_EQ(a.rows(), b.rows()) << name;
  ASSERT_EQ(a.k(), b.k()) << name;
  const std::size_t groups = kernels::group_count(a.k(), a.group_size());
  for (std::size_t r = 0; r < a.rows(); ++r) {
    ASSERT_EQ(std::memcmp(a.row(r), b.row(r), a.k()), 0) << name << " row " << r;
    ASSERT_EQ(std::memcmp(a.scales(r), b.scales(r), groups * sizeof(float)), 0) << name << " row " << r;
  }
}

// The matrices of layer `il` as GGUF names and fp32 experts.
std::vector<std::pair<std::string, std::vector<const MatrixRM*>>> layer_matrices(const ModelConfig& c,
                                                                                 const reference::LayerWeights& l,
                                                                                 int il) {
  const std::string p = "blk." + std::to_string(il) + ".";
  std::vector<std::pair<std::string, std::vector<const MatrixRM*>>> out = {
      {p + "attn_q.weight", {&l.wq}}, {p + "attn_k.weight", {&l.wk}}, {p + "attn_v.weight", {&l.wv}},
      {p + "attn_output.weight", {&l.wo}}};
  if (c.is_moe()) {
    std::vector<const MatrixRM*> gate, up, down;
    for (const reference::FfnWeights& e : l.experts) {
      gate.push_back(&e.gate);
      up.push_back(&e.up);
      down.push_back(&e.down);
    }
    out.push_back({p + "ffn_gate_exps.weight", gate});
    out.push_back({p + "ffn_up_exps.weight", up});
    out.push_back({p + "ffn_down_exps.weight", down});
  } else {
    out.push_back({p + "ffn_gate.weight", {&l.ffn.gate}});
    out.push_back({p + "ffn_up.weight", {&l.ffn.up}});
    out.push_back({p + "ffn_down.weight", {&l.ffn.down}});
  }
  return out;
}

// Each tensor of `preset` imported with its scaling equals the smoothed
// fp32 weights quantised, at G = 32 (several groups per row).
void expect_import_matches(const char* preset) {
  const Model m = testing::load_model(testing::synthetic_model_path(preset));
  const ModelConfig& c = m.config();
  auto factors = quant::calibrate_smoothing(m, quant::calibration_tokens(m));
  ASSERT_TRUE(factors.ok()) << factors.status().to_string();
  auto w = quant::load_fp32_weights(m);
  ASSERT_TRUE(w.ok());
  quant::apply_smoothing(c, *factors, *w);
  const gguf::File& file = model::model_file(m);
  std::size_t changed = 0;
  for (int il = 0; il < c.n_layer; ++il) {
    const reference::LayerWeights& l = w->layers[static_cast<std::size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    for (const auto& [name, experts] : layer_matrices(c, l, il)) {
      const gguf::TensorInfo* t = file.find_tensor(name);
      ASSERT_NE(t, nullptr) << name;
      quant::TensorTransform transform;
      transform.scaling = quant::tensor_scaling(c, *factors, name);
      changed += !transform.empty();
      auto imported = quant::import_tensor(file, *t, quant::QuantConfig{32}, transform);
      ASSERT_TRUE(imported.ok()) << imported.status().to_string();
      expect_same_rows(*imported, quantize(experts, 32), name);
    }
    // Norms: the importer's multipliers give the smoothed fp32 norm.
    for (const auto& [short_name, smoothed] : {std::pair{"attn_norm", &l.attn_norm}, std::pair{"ffn_norm", &l.ffn_norm}}) {
      const std::string name = p + short_name + ".weight";
      const gguf::TensorInfo* t = file.find_tensor(name);
      ASSERT_NE(t, nullptr);
      std::vector<float> v(static_cast<std::size_t>(smoothed->size()));
      std::memcpy(v.data(), t->data, v.size() * sizeof(float));  // synthetic norms are F32
      quant::tensor_scaling(c, *factors, name).apply(0, v.data(), v.size());
      for (std::size_t j = 0; j < v.size(); ++j) ASSERT_EQ(v[j], (*smoothed)(static_cast<Eigen::Index>(j))) << name << " " << j;
    }
  }
  // The head (untied by apply_smoothing when it was tied) and its norm.
  const char* head = file.find_tensor("output.weight") != nullptr ? "output.weight" : "token_embd.weight";
  quant::TensorTransform head_transform;
  head_transform.scaling = quant::tensor_scaling(c, *factors, head);
  auto imported = quant::import_tensor(file, *file.find_tensor(head), quant::QuantConfig{32}, head_transform);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  expect_same_rows(*imported, quantize({&w->output}, 32), head);
  std::vector<float> norm(static_cast<std::size_t>(c.n_embd));
  std::memcpy(norm.data(), file.find_tensor("output_norm.weight")->data, norm.size() * sizeof(float));
  quant::tensor_scaling(c, *factors, "output_norm.weight").apply(0, norm.data(), norm.size());
  for (std::size_t j = 0; j < norm.size(); ++j) ASSERT_EQ(norm[j], w->output_norm(static_cast<Eigen::Index>(j))) << j;
  EXPECT_GT(changed, 0u);
  EXPECT_TRUE(quant::tensor_scaling(c, *factors, "blk.999.attn_q.weight").empty());
  EXPECT_TRUE(quant::tensor_scaling(c, *factors, "rope_freqs.weight").empty());
}

TEST(SmoothingRecord, ImportEqualsTheSmoothedWeightsQuantised) {
  expect_import_matches("tiny-dense");
  expect_import_matches("tiny-moe");
}

// The f32 values of `name` transformed as the fp32 import does.
std::vector<float> f32_import(const gguf::File& file, const quant::ModelTransform& mt, const std::string& name) {
  const gguf::TensorInfo* t = file.find_tensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  std::vector<float> v(t->n_elements);
  std::memcpy(v.data(), t->data, v.size() * sizeof(float));  // synthetic norms and routers are F32
  auto transform = quant::tensor_transform(file, mt, name);
  EXPECT_TRUE(transform.ok()) << transform.status().to_string();
  transform->apply(v, v.size() / t->row_length(), t->row_length());
  return v;
}

// With smoothing and the rotation, every tensor's import (int8 matrices,
// the head, fp32 norms and router, the embedding's rotated Q8_0 rows)
// equals the whole fp32 model transformed, then quantised or encoded.
void expect_transformed_import_matches(const char* preset) {
  const Model m = testing::load_model(testing::synthetic_model_path(preset));
  const ModelConfig& c = m.config();
  auto factors = quant::calibrate_smoothing(m, quant::calibration_tokens(m));
  ASSERT_TRUE(factors.ok());
  auto rotation = quant::HadamardRotation::create(static_cast<std::size_t>(c.n_embd), 1);
  ASSERT_TRUE(rotation.ok());
  auto w = quant::load_fp32_weights(m);
  ASSERT_TRUE(w.ok());
  const reference::Weights original = *w;
  quant::apply_smoothing(c, *factors, *w);
  quant::apply_rotation(c, *rotation, *w);
  quant::ModelTransform mt;
  mt.config = &c;
  mt.smoothing = *factors;
  mt.rotation = *rotation;
  const gguf::File& file = model::model_file(m);
  for (int il = 0; il < c.n_layer; ++il) {
    const reference::LayerWeights& l = w->layers[static_cast<std::size_t>(il)];
    for (const auto& [name, experts] : layer_matrices(c, l, il)) {
      auto transform = quant::tensor_transform(file, mt, name);
      ASSERT_TRUE(transform.ok()) << transform.status().to_string();
      auto imported = quant::import_tensor(file, *file.find_tensor(name), quant::QuantConfig{32}, *transform);
      ASSERT_TRUE(imported.ok()) << imported.status().to_string();
      expect_same_rows(*imported, quantize(experts, 32), name);
    }
    const std::string p = "blk." + std::to_string(il) + ".";
    for (const char* norm : {"attn_norm.weight", "ffn_norm.weight"}) {
      for (float v : f32_import(file, mt, p + norm)) ASSERT_EQ(v, 1.0f) << p + norm;
    }
    if (c.is_moe()) {
      const std::vector<float> router = f32_import(file, mt, p + "ffn_gate_inp.weight");
      ASSERT_EQ(router.size(), static_cast<std::size_t>(l.router.size()));
      EXPECT_EQ(std::memcmp(router.data(), l.router.data(), router.size() * 4), 0) << p + "ffn_gate_inp.weight";
    }
  }
  for (float v : f32_import(file, mt, "output_norm.weight")) ASSERT_EQ(v, 1.0f);
  const char* head = file.find_tensor("output.weight") != nullptr ? "output.weight" : "token_embd.weight";
  auto transform = quant::tensor_transform(file, mt, head);
  ASSERT_TRUE(transform.ok());
  auto imported = quant::import_tensor(file, *file.find_tensor(head), quant::QuantConfig{32}, *transform);
  ASSERT_TRUE(imported.ok());
  expect_same_rows(*imported, quantize({&w->output}, 32), head);
  // The lookup's rows: rotated alone (not smoothed), then encoded.
  const quant::TensorTransform lookup = quant::embedding_transform(mt);
  const std::size_t k = static_cast<std::size_t>(c.n_embd);
  const gguf::TensorType type = quant::rotated_embedding_type(k);
  std::vector<std::uint8_t> a(*gguf::row_bytes(type, k)), b(a.size());
  for (Eigen::Index r = 0; r < 5; ++r) {
    std::vector<float> row(original.token_embd.row(r).data(), original.token_embd.row(r).data() + k);
    lookup.apply(row, 1, k);
    gguf::quantize_row(type, row.data(), a.data(), k);
    gguf::quantize_row(type, w->token_embd.row(r).data(), b.data(), k);
    EXPECT_EQ(a, b) << "embedding row " << r;
  }
}

TEST(SmoothingRecord, RotatedImportEqualsTheTransformedWeightsQuantised) {
  expect_transformed_import_matches("tiny-dense");
  expect_transformed_import_matches("tiny-moe");
}

TEST(SmoothingRecord, RoundTripsTheFactors) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  const std::vector<TokenId> tokens = quant::calibration_tokens(m);
  auto factors = quant::calibrate_smoothing(m, tokens);
  ASSERT_TRUE(factors.ok());
  const program::Smoothing spec = quant::smoothing_spec(tokens);
  const program::Smoothing r = quant::smoothing_record(*factors, 0.5f, spec.calibration_hash, spec.calibration_tokens);
  EXPECT_EQ(r.sites.size(), 5u);
  auto back = quant::smoothing_factors_of(r, m.config(), "p.lpuprog");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->attention_input, factors->attention_input);
  EXPECT_EQ(back->attention_output, factors->attention_output);
  EXPECT_EQ(back->ffn_input, factors->ffn_input);
  EXPECT_EQ(back->down_input, factors->down_input);
  EXPECT_EQ(back->output_input, factors->output_input);
  auto whole = quant::calibrate_transform(m, tokens, 256, true, false);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->smoothing.calibration_hash, spec.calibration_hash);
  EXPECT_EQ(whole->smoothing.sites.size(), r.sites.size());
  EXPECT_FALSE(whole->rotation.enabled());
}

TEST(SmoothingRecord, CalibrationTokensComeFromTheBuiltInText) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto tok = m.tokenizer();
  ASSERT_TRUE(tok.ok());
  auto ids = tok->encode(quant::calibration_text(), {.add_bos = tok->default_add_bos()});
  ASSERT_TRUE(ids.ok());
  const std::vector<TokenId> got = quant::calibration_tokens(m);
  ASSERT_FALSE(got.empty());
  EXPECT_LE(got.size(), quant::kMaxCalibrationTokens);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), ids->begin()));
  EXPECT_NE(quant::smoothing_spec(got).calibration_hash,
            quant::smoothing_spec(std::span(got).first(got.size() - 1)).calibration_hash);
}

// Every way a record can disagree with the model is refused, naming it.
TEST(SmoothingRecord, RefusesRecordsThatDoNotFitTheModel) {
  const Model m = testing::load_model(testing::synthetic_model_path("tiny-dense"));
  auto calibrated = quant::calibrate_transform(m, quant::calibration_tokens(m), 256, true, false);
  ASSERT_TRUE(calibrated.ok());
  const program::Smoothing* good = &calibrated->smoothing;
  const auto expect_refused = [&](program::Smoothing r, const std::string& part) {
    auto f = quant::smoothing_factors_of(r, m.config(), "p.lpuprog");
    ASSERT_FALSE(f.ok()) << part;
    EXPECT_NE(f.status().message().find("p.lpuprog: smoothing: "), std::string::npos) << f.status().message();
    EXPECT_NE(f.status().message().find(part), std::string::npos) << f.status().message();
  };
  program::Smoothing r = *good;
  r.sites[0].name = "kv_cache";
  expect_refused(r, "site 'kv_cache' (expected attention_input");
  r = *good;
  r.sites[1].log2_factors.pop_back();
  expect_refused(r, "layers (expected 2 for this model)");
  r = *good;
  r.sites[2].log2_factors[0].push_back(0);
  expect_refused(r, "channels (expected 64)");
  r = *good;
  r.sites[3].log2_factors[1][5] = 17;
  expect_refused(r, "log2 factor 17 (expected -16 to 16)");
  r = *good;
  r.sites.pop_back();
  expect_refused(r, "no site 'output_input'");
  r = *good;
  r.sites[4].log2_factors.push_back(r.sites[4].log2_factors[0]);
  expect_refused(r, "site 'output_input' has 2 layers (expected 1 for this model)");
  r = *good;
  r.sites.push_back(r.sites[0]);
  expect_refused(r, "appears twice");
}

}  // namespace
}  // namespace lpu
