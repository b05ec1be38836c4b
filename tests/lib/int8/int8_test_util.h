#pragma once
// Shared helpers of the int8 forward-pass tests: model files (synthetic
// ones written once per process), sessions, bit comparison of logits and
// the KL / top-1 agreement of two sets of logits.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/int8_session.h"
#include "include/lpu/model.h"
#include "include/lpu/token.h"

namespace lpu::testing {

/// A synthetic model written into temp_dir() on first use: preset
/// "tiny-dense", "tiny-moe" or "tiny-hd64" (tiny-dense with one KV head of
/// 64 dimensions), weight_type "f32", "f16" or "q8_0".
std::string synthetic_model_path(const std::string& preset, const std::string& weight_type = "f32");

/// Loads `path`, failing the current test on error.
Model load_model(const std::string& path);

/// Int8Session::create, failing the current test on error.
Int8Session make_int8(const Model& model, int max_context, const Int8Options& options);

/// Options in one call: G, KV precision, threads, slots, the weight
/// transforms (smoothing and rotation; off by default: these tests pin the
/// int8 arithmetic itself).
Int8Options int8_options(int group_size, KvPrecision kv = KvPrecision::kInt8, int threads = 1,
                         int batch_slots = 1, bool transforms = false);

/// `n` token ids in [3, n_vocab) from a fixed 64-bit generator (seeded);
/// the same on every host.
std::vector<TokenId> random_tokens(std::uint64_t seed, std::size_t n, int n_vocab);

/// True when both hold the same floats bit for bit.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b);

/// Agreement of `test` with `ref` (both rows of n_vocab logits): mean over
/// rows of KL(softmax(ref) || softmax(test)) and the fraction of rows whose
/// argmax agree.
struct Agreement {
  double mean_kl = 0.0;
  double top1 = 0.0;
  std::size_t rows = 0;
};
Agreement agreement(const std::vector<float>& ref, const std::vector<float>& test, int n_vocab);

}  // namespace lpu::testing
