#include "lib/int8/ffn.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "lib/int8/float_ops.h"

namespace lpu::int8 {
namespace {

using kernels::QuantizedRows;

// The SwiGLU network on quantised rows: one matmul for gate and up
// together, silu(gate) * up in fp32, requantised for down.
void swiglu(const Exec& e, const FfnWeights& w, const QuantizedRows& x, float* out) {
  const std::size_t ff = w.down.k();
  const std::size_t rows = x.rows();
  std::vector<float> gate_up(rows * 2 * ff);
  matmul(e, w.gate_up, x, gate_up.data());
  std::vector<float> act(rows * ff);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* g = gate_up.data() + r * 2 * ff;
    e.fp->silu_mul(g, g + ff, ff, act.data() + r * ff);
  }
  QuantizedRows aq(rows, ff, e.group_size);
  quantize(e, act.data(), ff, aq);
  matmul(e, w.down, aq, out);
}

// Copies the listed rows of `x` (quantised values, scales and sums).
QuantizedRows gather_rows(const QuantizedRows& x, const std::vector<std::size_t>& rows) {
  QuantizedRows out(rows.size(), x.k(), x.group_size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(out.row(i), x.row(rows[i]), x.stride());
    std::memcpy(out.scales(i), x.scales(rows[i]), x.groups() * sizeof(float));
    std::memcpy(out.sums(i), x.sums(rows[i]), x.groups() * sizeof(std::int32_t));
  }
  return out;
}

}  // namespace

void dense_ffn(const Exec& e, const FfnWeights& w, const QuantizedRows& hq, float* out) {
  swiglu(e, w, hq, out);
}

void moe_ffn(const Exec& e, const LayerWeights& l, const float* h, const QuantizedRows& hq,
             float* out) {
  const ModelConfig& c = *e.config;
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto n_expert = static_cast<std::size_t>(c.n_expert);
  const auto k = static_cast<std::size_t>(c.n_expert_used);
  const std::size_t rows = hq.rows();
  // Router: fp32 logits, softmax, top-k with weights renormalised to one.
  std::vector<std::int32_t> chosen(rows * k);
  std::vector<float> weights(rows * k);
  std::vector<float> logits(n_expert);
  std::vector<float> probs(n_expert);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t x = 0; x < n_expert; ++x) {
      logits[x] = dot_f32(h + r * d, l.router.data() + x * d, d);
    }
    e.fp->router_topk(logits.data(), n_expert, k, /*normalize=*/true, probs.data(),
                      chosen.data() + r * k, weights.data() + r * k);
  }
  // Each expert over the rows that chose it; y[r][rank] is its output for
  // row r. A row's result does not depend on which other rows share the
  // matmul, so batching by expert changes no bit.
  std::vector<float> y(rows * k * d);
  std::vector<std::size_t> members;
  std::vector<std::size_t> ranks;
  for (std::size_t x = 0; x < n_expert; ++x) {
    members.clear();
    ranks.clear();
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < k; ++j) {
        if (chosen[r * k + j] == static_cast<std::int32_t>(x)) {
          members.push_back(r);
          ranks.push_back(j);
        }
      }
    }
    if (members.empty()) continue;
    std::vector<float> ye(members.size() * d);
    swiglu(e, l.experts[x], gather_rows(hq, members), ye.data());
    for (std::size_t i = 0; i < members.size(); ++i) {
      std::memcpy(y.data() + (members[i] * k + ranks[i]) * d, ye.data() + i * d, d * sizeof(float));
    }
  }
  // Weighted sum in rank order (the reference's order): out = 0, then
  // out += y_j * w_j for j = 0 .. k-1.
  for (std::size_t r = 0; r < rows; ++r) {
    float* o = out + r * d;
    std::fill(o, o + d, 0.0f);
    for (std::size_t j = 0; j < k; ++j) {
      axpy_f32(weights[r * k + j], y.data() + (r * k + j) * d, d, o);
    }
  }
}

}  // namespace lpu::int8
