#include "lib/int8/forward.h"

#include <vector>

#include "lib/int8/attention.h"
#include "lib/int8/ffn.h"
#include "lib/int8/kv_cache.h"

namespace lpu::int8 {
namespace {

using kernels::QuantizedRows;

// The step's buffers, one row per token.
struct Step {
  std::size_t rows;
  std::vector<float> x;        // residual stream, n_embd
  std::vector<float> h;        // normalised rows, n_embd
  std::vector<float> qkv;      // (n_head + 2 n_head_kv) * head_dim
  std::vector<float> attn;     // n_head * head_dim
  std::vector<float> y;        // a block's output, n_embd
  std::vector<float> cos_sin;  // rope_dim per row
};

void rms_norm_rows(const Exec& e, const float* x, const std::vector<float>& weight,
                   std::size_t rows, float* out) {
  const std::size_t d = weight.size();
  for (std::size_t r = 0; r < rows; ++r) {
    e.fp->rmsnorm(x + r * d, weight.data(), d, e.config->rms_eps, out + r * d);
  }
}

void add_rows(const Exec& e, const float* y, std::size_t n, float* x) { e.fp->add(x, y, n, x); }

void attention_block(const Exec& e, const LayerWeights& l, int il,
                     std::span<const EntryPlan> entries, Step& s) {
  const ModelConfig& c = *e.config;
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto hd = static_cast<std::size_t>(c.head_dim);
  const std::size_t q_dim = static_cast<std::size_t>(c.n_head) * hd;
  const std::size_t kv_dim = static_cast<std::size_t>(c.n_head_kv) * hd;
  const std::size_t width = q_dim + 2 * kv_dim;
  const auto rope_dim = static_cast<std::size_t>(c.rope_dim);
  rms_norm_rows(e, s.x.data(), l.attn_norm, s.rows, s.h.data());
  QuantizedRows hq(s.rows, d, e.group_size);
  quantize(e, s.h.data(), d, hq);
  matmul(e, l.qkv, hq, s.qkv.data());
  for (std::size_t r = 0; r < s.rows; ++r) {
    float* row = s.qkv.data() + r * width;
    const float* cs = s.cos_sin.data() + r * rope_dim;
    e.fp->rope_norm(row, static_cast<std::size_t>(c.n_head), hd, rope_dim, cs);
    e.fp->rope_norm(row + q_dim, static_cast<std::size_t>(c.n_head_kv), hd, rope_dim, cs);
  }
  for (const EntryPlan& en : entries) {
    for (std::size_t i = 0; i < en.tokens.size(); ++i) {
      const float* row = s.qkv.data() + (en.row0 + i) * width;
      en.cache->store(il, en.pos0 + static_cast<int>(i), row + q_dim, row + q_dim + kv_dim,
                      *e.int8);
    }
  }
  attention(e, il, entries, s.qkv.data(), width, s.attn.data(), q_dim);
  QuantizedRows aq(s.rows, q_dim, e.group_size);
  quantize(e, s.attn.data(), q_dim, aq);
  matmul(e, l.wo, aq, s.y.data());
  add_rows(e, s.y.data(), s.rows * d, s.x.data());
}

void ffn_block(const Exec& e, const LayerWeights& l, Step& s) {
  const auto d = static_cast<std::size_t>(e.config->n_embd);
  rms_norm_rows(e, s.x.data(), l.ffn_norm, s.rows, s.h.data());
  QuantizedRows hq(s.rows, d, e.group_size);
  quantize(e, s.h.data(), d, hq);
  if (e.config->is_moe()) {
    moe_ffn(e, l, s.h.data(), hq, s.y.data());
  } else {
    dense_ffn(e, l.ffn, hq, s.y.data());
  }
  add_rows(e, s.y.data(), s.rows * d, s.x.data());
}

}  // namespace

std::vector<float> forward_hidden(const Exec& e, const Weights& w, const RopeAngles& rope,
                                  std::span<const EntryPlan> entries) {
  const ModelConfig& c = *e.config;
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto hd = static_cast<std::size_t>(c.head_dim);
  const auto rope_dim = static_cast<std::size_t>(c.rope_dim);
  Step s;
  s.rows = 0;
  for (const EntryPlan& en : entries) s.rows += en.tokens.size();
  s.x.resize(s.rows * d);
  s.h.resize(s.rows * d);
  s.qkv.resize(s.rows * (static_cast<std::size_t>(c.n_head + 2 * c.n_head_kv) * hd));
  s.attn.resize(s.rows * static_cast<std::size_t>(c.n_head) * hd);
  s.y.resize(s.rows * d);
  s.cos_sin.resize(s.rows * rope_dim);
  for (const EntryPlan& en : entries) {
    for (std::size_t i = 0; i < en.tokens.size(); ++i) {
      const std::size_t r = en.row0 + i;
      w.embed(en.tokens[i], d, s.x.data() + r * d);
      rope.cos_sin(en.pos0 + static_cast<int>(i), s.cos_sin.data() + r * rope_dim);
    }
  }
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<std::size_t>(il)];
    attention_block(e, l, il, entries, s);
    ffn_block(e, l, s);
  }
  rms_norm_rows(e, s.x.data(), w.output_norm, s.rows, s.x.data());
  return std::move(s.x);
}

}  // namespace lpu::int8
