#include "tests/lib/int8/int8_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "include/lpu/synth.h"
#include "lib/metrics/metrics.h"
#include "tests/testing/test_paths.h"

namespace lpu::testing {

std::string synthetic_model_path(const std::string& preset, const std::string& weight_type) {
  static std::mutex mu;
  static std::map<std::string, std::string> written;
  const std::lock_guard<std::mutex> lock(mu);
  const std::string key = preset + "_" + weight_type;
  if (auto it = written.find(key); it != written.end()) return it->second;
  // "tiny-hd64": heads of 64 (SmolLM2's), where the tiny presets have 16,
  // so the key rows are whole groups of 32 and QK^T runs as a whole matmul.
  auto options = preset == "tiny-hd64" ? Result<SynthOptions>(SynthOptions{.n_embd = 128, .n_head = 2, .n_head_kv = 1, .n_ff = 256})
                                       : synth_preset(preset);
  EXPECT_TRUE(options.ok()) << options.status().to_string();
  if (!options.ok()) return {};
  options->weight_type = weight_type;
  const std::string path = (temp_dir() / ("int8_" + key + ".gguf")).string();
  const Status s = write_synthetic_model(*options, path);
  EXPECT_TRUE(s.ok()) << s.to_string();
  written[key] = path;
  return path;
}

Model load_model(const std::string& path) {
  auto m = Model::load(path);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return std::move(m).value();
}

Int8Session make_int8(const Model& model, int max_context, const Int8Options& options) {
  auto s = Int8Session::create(model, max_context, options);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

Int8Options int8_options(int group_size, KvPrecision kv, int threads, int batch_slots, bool transforms) {
  Int8Options o;
  o.smoothing = transforms;
  o.rotation = transforms;
  o.group_size = group_size;
  o.kv = kv;
  o.threads = threads;
  o.batch_slots = batch_slots;
  return o;
}

std::vector<TokenId> random_tokens(std::uint64_t seed, std::size_t n, int n_vocab) {
  // splitmix64: fixed arithmetic, no library distribution.
  std::uint64_t state = seed;
  std::vector<TokenId> out(n);
  for (TokenId& t : out) {
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    t = static_cast<TokenId>(3 + z % static_cast<std::uint64_t>(n_vocab - 3));
  }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Agreement agreement(const std::vector<float>& ref, const std::vector<float>& test, int n_vocab) {
  auto m = metrics::agreement(ref, test, n_vocab);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  Agreement a;
  if (!m.ok()) return a;
  a.mean_kl = m->kl_mean;
  a.top1 = m->top1;
  a.rows = m->rows;
  return a;
}

}  // namespace lpu::testing
