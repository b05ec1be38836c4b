#include "tests/lib/graph/graph_eval.h"

#include <cstring>
#include <map>
#include <string>

#include "lib/int8/attention.h"
#include "lib/int8/float_ops.h"
#include "kernels/quantize/quantized_rows.h"

namespace lpu::testing {
namespace {

using kernels::QuantizedRows;

// "blk.7.attn_norm" -> 7.
int layer_of(const std::string& name) { return std::stoi(name.substr(4)); }
bool ends_with(const std::string& s, const char* tail) {
  const std::size_t n = std::strlen(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

// The step's tensors: fp32 rows or quantised rows, by graph tensor id.
struct Tensors {
  std::map<std::uint32_t, std::vector<float>> f;
  std::map<std::uint32_t, QuantizedRows> q;
  std::vector<float>& fp(const graph::Graph& g, std::uint32_t id) {
    auto& v = f[id];
    v.resize(std::size_t{g.tensor(id).rows} * g.tensor(id).cols);
    return v;
  }
};

}  // namespace

GraphEvaluator::GraphEvaluator(const ModelConfig& config, int max_context, int slots, KvPrecision kv,
                               const int8::Weights& weights, const int8::Exec& exec)
    : config_(config), w_(weights), e_(exec), rope_(config, weights.rope_freqs) {
  for (int s = 0; s < slots; ++s) caches_.emplace_back(config, max_context, kv, exec.group_size);
  positions_.assign(static_cast<std::size_t>(slots), 0);
}

std::vector<float> GraphEvaluator::step(std::span<const StepEntry> entries) {
  const ModelConfig& c = config_;
  std::uint32_t rows = 0;
  for (const StepEntry& en : entries) rows += static_cast<std::uint32_t>(en.tokens.size());
  const graph::Graph g = *graph::build_step_graph(c, {rows, 1, false});
  std::vector<int8::EntryPlan> plans;
  std::vector<int> row_pos;
  std::vector<TokenId> row_token;
  for (const StepEntry& en : entries) {
    const auto slot = static_cast<std::size_t>(en.slot);
    plans.push_back({&caches_[slot], en.tokens, positions_[slot], row_token.size()});
    for (std::size_t i = 0; i < en.tokens.size(); ++i) {
      row_pos.push_back(positions_[slot] + static_cast<int>(i));
      row_token.push_back(en.tokens[i]);
    }
  }
  const auto d = static_cast<std::size_t>(c.n_embd);
  const auto hd = static_cast<std::size_t>(c.head_dim);
  const std::size_t q_dim = static_cast<std::size_t>(c.n_head) * hd;
  const std::size_t kv_dim = static_cast<std::size_t>(c.n_head_kv) * hd;
  const auto k = static_cast<std::size_t>(std::max(1, c.n_expert_used));
  Tensors t;
  std::vector<std::int32_t> chosen(rows * k);
  std::vector<float> route_w(rows * k);
  for (const graph::Op& op : g.ops) {
    const std::uint32_t in = op.inputs.empty() ? 0 : op.inputs[0];
    const std::uint32_t out = op.outputs.empty() ? 0 : op.outputs[0];
    const int8::LayerWeights* l = op.layer >= 0 ? &w_.layers[static_cast<std::size_t>(op.layer)] : nullptr;
    switch (op.kind) {
      case graph::OpKind::kEmbed: {
        std::vector<float>& x = t.fp(g, out);
        for (std::size_t r = 0; r < rows; ++r) w_.embed(row_token[r], d, x.data() + r * d);
        break;
      }
      case graph::OpKind::kRopeAngles: {
        std::vector<float>& a = t.fp(g, out);
        for (std::size_t r = 0; r < rows; ++r) rope_.cos_sin(row_pos[r], a.data() + r * static_cast<std::size_t>(c.rope_dim));
        break;
      }
      case graph::OpKind::kRmsNorm: {
        const std::vector<float>& weight =
            l == nullptr ? w_.output_norm : (ends_with(op.name, "attn_norm") ? l->attn_norm : l->ffn_norm);
        const std::vector<float>& x = t.f[in];
        std::vector<float>& h = t.fp(g, out);
        for (std::size_t r = 0; r < rows; ++r) e_.fp->rmsnorm(x.data() + r * d, weight.data(), d, c.rms_eps, h.data() + r * d);
        break;
      }
      case graph::OpKind::kQuantize: {
        const graph::Tensor& src = g.tensor(in);
        const std::size_t n = std::size_t{src.rows} * (src.cols / op.k);
        QuantizedRows q(n, op.k, e_.group_size);
        int8::quantize(e_, t.f[in].data(), op.k, q);
        t.q[out] = std::move(q);
        break;
      }
      case graph::OpKind::kMatmul: {
        const kernels::PackedWeights& wm =
            l == nullptr ? w_.lm_head
            : ends_with(op.name, "qkv") ? l->qkv
            : ends_with(op.name, "attn_output") ? l->wo
            : ends_with(op.name, "ffn_gate_up") ? l->ffn.gate_up : l->ffn.down;
        int8::matmul(e_, wm, t.q[in], t.fp(g, out).data());
        break;
      }
      case graph::OpKind::kRope: {
        std::vector<float>& qkv = t.f[in];
        const std::vector<float>& a = t.f[op.inputs[1]];
        const std::size_t width = q_dim + 2 * kv_dim;
        for (std::size_t r = 0; r < rows; ++r) {
          float* row = qkv.data() + r * width;
          const float* cs = a.data() + r * static_cast<std::size_t>(c.rope_dim);
          e_.fp->rope_norm(row, static_cast<std::size_t>(c.n_head), hd, static_cast<std::size_t>(c.rope_dim), cs);
          e_.fp->rope_norm(row + q_dim, static_cast<std::size_t>(c.n_head_kv), hd, static_cast<std::size_t>(c.rope_dim), cs);
        }
        break;
      }
      case graph::OpKind::kKvAppend: {
        const std::vector<float>& qkv = t.f[in];
        const std::size_t width = q_dim + 2 * kv_dim;
        for (const int8::EntryPlan& p : plans) {
          for (std::size_t i = 0; i < p.tokens.size(); ++i) {
            const float* row = qkv.data() + (p.row0 + i) * width;
            p.cache->store(op.layer, p.pos0 + static_cast<int>(i), row + q_dim, row + q_dim + kv_dim, *e_.int8);
          }
        }
        break;
      }
      case graph::OpKind::kAttention:
        int8::attention(e_, op.layer, plans, t.f[in].data(), q_dim + 2 * kv_dim, t.fp(g, out).data(), q_dim);
        break;
      case graph::OpKind::kAdd: {
        std::vector<float>& x = t.f[in];
        e_.fp->add(x.data(), t.f[op.inputs[1]].data(), x.size(), x.data());
        break;
      }
      case graph::OpKind::kSiluMul: {
        const std::vector<float>& gu = t.f[in];
        std::vector<float>& s = t.fp(g, out);
        const std::size_t n = s.size() / op.n;
        for (std::size_t r = 0; r < n; ++r) e_.fp->silu_mul(gu.data() + r * 2 * op.n, gu.data() + r * 2 * op.n + op.n, op.n, s.data() + r * op.n);
        break;
      }
      case graph::OpKind::kRouter: {
        const std::vector<float>& h = t.f[in];
        const auto ne = static_cast<std::size_t>(c.n_expert);
        std::vector<float> logits(ne), probs(ne);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t x = 0; x < ne; ++x) logits[x] = int8::dot_f32(h.data() + r * d, l->router.data() + x * d, d);
          e_.fp->router_topk(logits.data(), ne, k, true, probs.data(), chosen.data() + r * k, route_w.data() + r * k);
        }
        break;
      }
      case graph::OpKind::kExpertUp:
      case graph::OpKind::kExpertDown: {
        const bool up = op.kind == graph::OpKind::kExpertUp;
        const QuantizedRows& x = t.q[in];
        std::vector<float>& o = t.fp(g, out);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t j = 0; j < k; ++j) {
            const int8::FfnWeights& ex = l->experts[static_cast<std::size_t>(chosen[r * k + j])];
            const std::size_t xr = up ? r : r * k + j;
            QuantizedRows one(1, x.k(), x.group_size());
            std::memcpy(one.row(0), x.row(xr), x.stride());
            std::memcpy(one.scales(0), x.scales(xr), x.groups() * sizeof(float));
            std::memcpy(one.sums(0), x.sums(xr), x.groups() * sizeof(std::int32_t));
            int8::matmul(e_, up ? ex.gate_up : ex.down, one, o.data() + (r * k + j) * op.n);
          }
        }
        break;
      }
      case graph::OpKind::kCombine: {
        const std::vector<float>& ey = t.f[in];
        std::vector<float>& y = t.fp(g, out);
        for (std::size_t r = 0; r < rows; ++r) {
          float* o = y.data() + r * d;
          std::fill(o, o + d, 0.0f);
          for (std::size_t j = 0; j < k; ++j) int8::axpy_f32(route_w[r * k + j], ey.data() + (r * k + j) * d, d, o);
        }
        break;
      }
    }
  }
  for (const StepEntry& en : entries) positions_[static_cast<std::size_t>(en.slot)] += static_cast<int>(en.tokens.size());
  return std::move(t.f[g.ops.back().outputs[0]]);
}

}  // namespace lpu::testing
