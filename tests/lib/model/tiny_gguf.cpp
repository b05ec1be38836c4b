#include "tests/lib/model/tiny_gguf.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace lpu::testing {
namespace {

constexpr std::uint32_t kAlignment = 32;

void put_bytes(std::vector<std::uint8_t>& out, const void* p, std::size_t n) {
  if (n == 0) return;
  const std::size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, p, n);
}
template <typename T>
void put(std::vector<std::uint8_t>& out, T v) {
  put_bytes(out, &v, sizeof(T));
}
void put_string(std::vector<std::uint8_t>& out, const std::string& s) {
  put<std::uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}
void pad(std::vector<std::uint8_t>& out) {
  while (out.size() % kAlignment != 0) out.push_back(0);
}

}  // namespace

GgufBuilder& GgufBuilder::set(const std::string& key, Scalar v) {
  for (Kv& kv : kvs_) {
    if (kv.key == key) {
      kv.value = std::move(v);
      return *this;
    }
  }
  kvs_.push_back({key, std::move(v)});
  return *this;
}

GgufBuilder& GgufBuilder::set_u32(const std::string& k, std::uint32_t v) { return set(k, v); }
GgufBuilder& GgufBuilder::set_f32(const std::string& k, float v) { return set(k, v); }
GgufBuilder& GgufBuilder::set_string(const std::string& k, const std::string& v) {
  return set(k, v);
}
GgufBuilder& GgufBuilder::set_string_array(const std::string& k,
                                           const std::vector<std::string>& v) {
  return set(k, v);
}

GgufBuilder& GgufBuilder::remove(const std::string& key) {
  std::erase_if(kvs_, [&](const Kv& kv) { return kv.key == key; });
  return *this;
}

GgufBuilder& GgufBuilder::set_tensor(const std::string& name, std::vector<std::uint64_t> dims,
                                     std::vector<float> values) {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  if (n != values.size())
    throw std::invalid_argument("GgufBuilder: tensor " + name + " size mismatch");
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

GgufBuilder& GgufBuilder::remove_tensor(const std::string& name) {
  std::erase_if(tensors_, [&](const Tensor& t) { return t.name == name; });
  return *this;
}

const std::vector<float>& GgufBuilder::tensor_values(const std::string& name) const {
  for (const Tensor& t : tensors_) {
    if (t.name == name) return t.values;
  }
  throw std::invalid_argument("GgufBuilder: no tensor " + name);
}

std::vector<std::uint8_t> GgufBuilder::bytes() const {
  std::vector<std::uint8_t> out;
  put<std::uint32_t>(out, 0x46554747);  // "GGUF"
  put<std::uint32_t>(out, 3);
  put<std::uint64_t>(out, tensors_.size());
  put<std::uint64_t>(out, kvs_.size());
  for (const Kv& kv : kvs_) {
    put_string(out, kv.key);
    if (const auto* u = std::get_if<std::uint32_t>(&kv.value)) {
      put<std::uint32_t>(out, 4);
      put(out, *u);
    } else if (const auto* f = std::get_if<float>(&kv.value)) {
      put<std::uint32_t>(out, 6);
      put(out, *f);
    } else if (const auto* s = std::get_if<std::string>(&kv.value)) {
      put<std::uint32_t>(out, 8);
      put_string(out, *s);
    } else {
      const auto& arr = std::get<std::vector<std::string>>(kv.value);
      put<std::uint32_t>(out, 9);
      put<std::uint32_t>(out, 8);
      put<std::uint64_t>(out, arr.size());
      for (const std::string& item : arr) put_string(out, item);
    }
  }
  std::uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(out, t.name);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.dims.size()));
    for (std::uint64_t d : t.dims) put(out, d);
    put<std::uint32_t>(out, 0);  // F32
    put(out, offset);
    offset += (t.values.size() * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
  }
  pad(out);
  for (const Tensor& t : tensors_) {
    put_bytes(out, t.values.data(), t.values.size() * sizeof(float));
    pad(out);
  }
  return out;
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

GgufBuilder tiny_llama(const TinyLlama& s) {
  GgufBuilder b;
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
