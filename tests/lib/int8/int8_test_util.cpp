#include "tests/lib/int8/int8_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "include/lpu/synth.h"
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

Int8Options int8_options(int group_size, KvPrecision kv, int threads, int batch_slots) {
  Int8Options o;
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
  const auto v = static_cast<std::size_t>(n_vocab);
  EXPECT_EQ(ref.size(), test.size());
  Agreement a;
  a.rows = std::min(ref.size(), test.size()) / v;
  std::size_t agree = 0;
  std::vector<double> p(v), q(v);
  for (std::size_t r = 0; r < a.rows; ++r) {
    const float* x = ref.data() + r * v;
    const float* y = test.data() + r * v;
    auto softmax = [v](const float* z, std::vector<double>& out) {
      const double mx = *std::max_element(z, z + v);
      double sum = 0.0;
      for (std::size_t i = 0; i < v; ++i) sum += out[i] = std::exp(static_cast<double>(z[i]) - mx);
      for (double& o : out) o /= sum;
    };
    softmax(x, p);
    softmax(y, q);
    double kl = 0.0;
    for (std::size_t i = 0; i < v; ++i) {
      if (p[i] > 0.0) kl += p[i] * (std::log(p[i]) - std::log(std::max(q[i], 1e-300)));
    }
    a.mean_kl += kl;
    agree += (std::max_element(x, x + v) - x) == (std::max_element(y, y + v) - y);
  }
  if (a.rows > 0) {
    a.mean_kl /= static_cast<double>(a.rows);
    a.top1 = static_cast<double>(agree) / static_cast<double>(a.rows);
  }
  return a;
}

}  // namespace lpu::testing
