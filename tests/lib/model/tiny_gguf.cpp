#include "tests/lib/model/tiny_gguf.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace lpu::testing {
namespace {

// Removes the file at `path` when it goes out of scope.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit() { std::remove(path_.c_str()); }

 private:
  std::string path_;
};

}  // namespace

Result<std::vector<std::uint8_t>> gguf_bytes(const gguf::Writer& writer) {
  std::string path = (std::filesystem::temp_directory_path() / "lpu-gguf-bytes-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return not_found(path + ": cannot create a temporary file: " + std::strerror(errno));
  ::close(fd);
  const RemoveOnExit remove(path);
  LPU_TRY(writer.write(path), "");
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot read back what the writer wrote");
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>());
}

ModelGgufBuilder& ModelGgufBuilder::set_u32(const std::string& k, std::uint32_t v) {
  metadata_.set_u32(k, v);
  return *this;
}
ModelGgufBuilder& ModelGgufBuilder::set_f32(const std::string& k, float v) {
  metadata_.set_f32(k, v);
  return *this;
}
ModelGgufBuilder& ModelGgufBuilder::set_string(const std::string& k, const std::string& v) {
  metadata_.set_string(k, v);
  return *this;
}
ModelGgufBuilder& ModelGgufBuilder::set_string_array(const std::string& k,
                                                     const std::vector<std::string>& v) {
  metadata_.set_string_array(k, v);
  return *this;
}

ModelGgufBuilder& ModelGgufBuilder::remove(const std::string& key) {
  metadata_.remove(key);
  return *this;
}

ModelGgufBuilder& ModelGgufBuilder::set_tensor(const std::string& name,
                                               std::vector<std::uint64_t> dims,
                                               std::vector<float> values) {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  if (n != values.size())
    throw std::invalid_argument("ModelGgufBuilder: tensor " + name + " size mismatch");
  for (Tensor& t : tensors_) {
    if (t.name == name) {
      t.dims = std::move(dims);
      t.values = std::move(values);
      return *this;
    }
  }
  tensors_.push_back({name, std::move(dims), std::move(values)});
  return *this;
}

ModelGgufBuilder& ModelGgufBuilder::remove_tensor(const std::string& name) {
  std::erase_if(tensors_, [&](const Tensor& t) { return t.name == name; });
  return *this;
}

const std::vector<float>& ModelGgufBuilder::tensor_values(const std::string& name) const {
  for (const Tensor& t : tensors_) {
    if (t.name == name) return t.values;
  }
  throw std::invalid_argument("ModelGgufBuilder: no tensor " + name);
}

std::vector<std::uint8_t> ModelGgufBuilder::bytes() const {
  gguf::Writer writer = metadata_;
  for (const Tensor& t : tensors_) {
    const Status added = writer.add_tensor_f32(t.name, t.dims, gguf::TensorType::kF32, t.values);
    if (!added.ok()) throw std::invalid_argument("ModelGgufBuilder: " + added.to_string());
  }
  auto bytes = gguf_bytes(writer);
  if (!bytes.ok()) throw std::invalid_argument("ModelGgufBuilder: " + bytes.status().to_string());
  return std::move(bytes).value();
}

std::vector<float> seeded_values(std::size_t n, std::uint32_t seed, float scale) {
  std::vector<float> v(n);
  std::uint64_t state = 0x9E3779B97F4A7C15ULL * (seed + 1);
  for (float& x : v) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53);
    x = static_cast<float>((2.0 * u - 1.0) * scale);
  }
  return v;
}

ModelGgufBuilder tiny_llama(const TinyLlama& s) {
  ModelGgufBuilder b;
  b.set_string("general.architecture", "llama").set_string("general.name", "tiny");
  b.set_u32("llama.context_length", s.n_ctx_train)
      .set_u32("llama.embedding_length", s.n_embd)
      .set_u32("llama.block_count", s.n_layer)
      .set_u32("llama.feed_forward_length", s.n_ff)
      .set_u32("llama.attention.head_count", s.n_head)
      .set_u32("llama.attention.head_count_kv", s.n_head_kv)
      .set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
      .set_f32("llama.rope.freq_base", 10000.0f);
  if (s.n_expert > 0) {
    b.set_u32("llama.expert_count", s.n_expert).set_u32("llama.expert_used_count", s.n_expert_used);
  }
  std::vector<std::string> tokens;
  for (int i = 0; i < s.n_vocab; ++i) tokens.push_back(std::to_string(i).insert(0, 1, 't'));
  b.set_string_array("tokenizer.ggml.tokens", tokens);

  const auto d = static_cast<std::uint64_t>(s.n_embd);
  const auto hd = static_cast<std::uint64_t>(s.n_embd / s.n_head);
  const std::uint64_t q = hd * s.n_head;
  const std::uint64_t kv = hd * s.n_head_kv;
  const auto ff = static_cast<std::uint64_t>(s.n_ff);
  const auto ne = static_cast<std::uint64_t>(s.n_expert);
  std::uint32_t seed = s.seed * 1000;
  auto weight = [&](const std::string& name, std::vector<std::uint64_t> dims) {
    std::uint64_t n = 1;
    for (std::uint64_t x : dims) n *= x;
    b.set_tensor(name, dims,
                 seeded_values(n, ++seed, 1.0f / std::sqrt(static_cast<float>(dims[0]))));
  };
  auto norm = [&](const std::string& name) {
    std::vector<float> v = seeded_values(d, ++seed, 0.2f);
    for (float& x : v) x += 1.0f;
    b.set_tensor(name, {d}, v);
  };
  b.set_tensor("token_embd.weight", {d, static_cast<std::uint64_t>(s.n_vocab)},
               seeded_values(d * s.n_vocab, ++seed, 1.0f));
  norm("output_norm.weight");
  if (!s.tied) weight("output.weight", {d, static_cast<std::uint64_t>(s.n_vocab)});
  for (int il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    norm(p + "attn_norm.weight");
    weight(p + "attn_q.weight", {d, q});
    weight(p + "attn_k.weight", {d, kv});
    weight(p + "attn_v.weight", {d, kv});
    weight(p + "attn_output.weight", {q, d});
    norm(p + "ffn_norm.weight");
    if (s.n_expert > 0) {
      weight(p + "ffn_gate_inp.weight", {d, ne});
      weight(p + "ffn_gate_exps.weight", {d, ff, ne});
      weight(p + "ffn_up_exps.weight", {d, ff, ne});
      weight(p + "ffn_down_exps.weight", {ff, d, ne});
    } else {
      weight(p + "ffn_gate.weight", {d, ff});
      weight(p + "ffn_up.weight", {d, ff});
      weight(p + "ffn_down.weight", {ff, d});
    }
  }
  return b;
}

}  // namespace lpu::testing
