#include "lib/int8/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/gemm/gemm_s8s8s32.h"
#include "kernels/quantize/quantize.h"
#include "lib/int8/float_ops.h"
#include "lib/int8/kv_cache.h"

namespace lpu::int8 {
namespace {

using kernels::kPanelColumns;
using kernels::QuantizedRows;

// One task: the query heads of KV head g for one token, over n_kv cached
// positions.
struct HeadGroup {
  const KvCache* cache;
  int il;
  int g;
  std::size_t n_kv;
  const float* q;  // the group's first query head
  float* out;      // the group's first output head
};

struct Shape {
  std::size_t head_dim;
  std::size_t heads;  // query heads per KV head
  float scale;        // 1 / sqrt(head_dim)
};

// GEMV arguments with the activation side set from `x` (its rows, scales,
// sums and group size); the caller fills in the weight side.
kernels::GemvArgs gemv_rows(const QuantizedRows& x) {
  kernels::GemvArgs a{};
  a.x = x.row(0);
  a.x_stride = x.stride();
  a.group_size = x.group_size();
  a.x_scales = x.scales(0);
  a.x_sums = x.sums(0);
  return a;
}

// scores[m][j] = (q_m . k_j) for the mr quantised query rows of `qq`, one
// GEMV per panel of 16 cached tokens: each key row is one group, so
// the kernel's rescale is (key scale) * (query scale) once per score.
void qk_int8(const Exec& e, const HeadGroup& t, const QuantizedRows& qq, float* scores,
             std::size_t pad) {
  const KvLayout& l = t.cache->layout();
  const std::uint8_t* panels = t.cache->k_panels(t.il, t.g);
  kernels::GemvArgs a = gemv_rows(qq);
  a.group_bytes = l.k_panel_bytes;
  a.groups = 1;
  a.group_quads = l.row_group / kernels::kQuadK;
  a.last_quads = l.k_quads;
  a.y_stride = pad;
  const kernels::GemvFn fn = e.int8->gemm->gemv[qq.rows() - 1];
  for (std::size_t p = 0; p * kPanelColumns < t.n_kv; ++p) {
    a.panel = panels + p * l.k_panel_bytes;
    a.y = scores + p * kPanelColumns;
    a.columns = std::min(kPanelColumns, t.n_kv - p * kPanelColumns);
    fn(a);
  }
}

// out[m][d] = sum_j p'[m][j] v[j][d] for the quantised probability rows of
// `pq` (p' = p * value scale, groups of G positions), one GEMV per panel
// of 16 dimensions.
void pv_int8(const Exec& e, const HeadGroup& t, const QuantizedRows& pq, float* out,
             std::size_t head_dim) {
  const KvLayout& l = t.cache->layout();
  const std::uint8_t* panels = t.cache->v_panels(t.il, t.g);
  kernels::GemvArgs a = gemv_rows(pq);
  a.group_bytes = l.v_group_bytes;
  a.groups = pq.groups();
  a.group_quads = l.v_group_size / kernels::kQuadK;
  const std::size_t last = t.n_kv - (pq.groups() - 1) * l.v_group_size;
  a.last_quads = (last + kernels::kQuadK - 1) / kernels::kQuadK;
  a.y_stride = head_dim;
  const kernels::GemvFn fn = e.int8->gemm->gemv[pq.rows() - 1];
  for (std::size_t p = 0; p < l.v_panels; ++p) {
    a.panel = panels + p * l.v_panel_bytes;
    a.y = out + p * kPanelColumns;
    a.columns = std::min(kPanelColumns, head_dim - p * kPanelColumns);
    fn(a);
  }
}

void attend_int8(const Exec& e, const Shape& s, const HeadGroup& t) {
  const std::size_t pad = round_up(t.n_kv, kPanelColumns);
  thread_local std::vector<float> scores;
  scores.resize(s.heads * pad);
  const auto max_rows = static_cast<std::size_t>(kernels::kMaxTileRows);
  for (std::size_t h0 = 0; h0 < s.heads; h0 += max_rows) {
    QuantizedRows qq(std::min(max_rows, s.heads - h0), s.head_dim, t.cache->layout().row_group);
    kernels::quantize_rows(t.q + h0 * s.head_dim, s.head_dim, qq, e.int8);
    qk_int8(e, t, qq, scores.data() + h0 * pad, pad);
  }
  const float* v_scales = t.cache->v_scales(t.il, t.g);
  for (std::size_t h = 0; h < s.heads; ++h) {
    float* row = scores.data() + h * pad;
    for (std::size_t j = 0; j < t.n_kv; ++j) row[j] = row[j] * s.scale;
    e.fp->softmax(row, t.n_kv, row);
    // The values' per-token scales vary along PV's K (the positions), so
    // they cannot leave the int32 sum: they go into the probabilities.
    for (std::size_t j = 0; j < t.n_kv; ++j) row[j] = row[j] * v_scales[j];
  }
  for (std::size_t h0 = 0; h0 < s.heads; h0 += max_rows) {
    QuantizedRows pq(std::min(max_rows, s.heads - h0), t.n_kv, e.group_size);
    kernels::quantize_rows(scores.data() + h0 * pad, pad, pq, e.int8);
    pv_int8(e, t, pq, t.out + h0 * s.head_dim, s.head_dim);
  }
}

// fp16 cache: scores as fixed-order fp32 dots, then each output the sum
// over positions in ascending order.
void attend_f16(const Exec& e, const Shape& s, const HeadGroup& t) {
  const std::size_t hd = s.head_dim;
  const std::size_t width = static_cast<std::size_t>(e.config->n_head_kv) * hd;
  const std::size_t off = static_cast<std::size_t>(t.g) * hd;
  const std::uint16_t* keys = t.cache->k_f16(t.il);
  const std::uint16_t* values = t.cache->v_f16(t.il);
  thread_local std::vector<float> scores;
  thread_local std::vector<float> row;
  scores.resize(s.heads * t.n_kv);
  row.resize(hd);
  for (std::size_t j = 0; j < t.n_kv; ++j) {
    for (std::size_t d = 0; d < hd; ++d) row[d] = f16_to_f32(keys[j * width + off + d]);
    for (std::size_t h = 0; h < s.heads; ++h) {
      scores[h * t.n_kv + j] = dot_f32(t.q + h * hd, row.data(), hd) * s.scale;
    }
  }
  for (std::size_t h = 0; h < s.heads; ++h) {
    float* p = scores.data() + h * t.n_kv;
    e.fp->softmax(p, t.n_kv, p);
    std::fill(t.out + h * hd, t.out + (h + 1) * hd, 0.0f);
  }
  for (std::size_t j = 0; j < t.n_kv; ++j) {
    for (std::size_t d = 0; d < hd; ++d) row[d] = f16_to_f32(values[j * width + off + d]);
    for (std::size_t h = 0; h < s.heads; ++h) {
      axpy_f32(scores[h * t.n_kv + j], row.data(), hd, t.out + h * hd);
    }
  }
}

}  // namespace

void attention(const Exec& e, int il, std::span<const EntryPlan> entries, const float* q,
               std::size_t q_stride, float* out, std::size_t out_stride) {
  const ModelConfig& c = *e.config;
  const Shape s{static_cast<std::size_t>(c.head_dim),
                static_cast<std::size_t>(c.n_head / c.n_head_kv),
                1.0f / std::sqrt(static_cast<float>(c.head_dim))};
  // Row r of the batch belongs to entry owner[r].
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < entries.size(); ++i)
    owner.resize(owner.size() + entries[i].tokens.size(), i);
  const auto n_kv_heads = static_cast<std::size_t>(c.n_head_kv);
  kernels::run_tasks(e.pool, owner.size() * n_kv_heads, [&](std::size_t task) {
    const std::size_t r = task / n_kv_heads;
    const std::size_t g = task % n_kv_heads;
    const EntryPlan& en = entries[owner[r]];
    const std::size_t group_off = g * s.heads * s.head_dim;
    const HeadGroup t{en.cache,
                      il,
                      static_cast<int>(g),
                      static_cast<std::size_t>(en.pos0) + (r - en.row0) + 1,
                      q + r * q_stride + group_off,
                      out + r * out_stride + group_off};
    if (en.cache->precision() == KvPrecision::kInt8) {
      attend_int8(e, s, t);
    } else {
      attend_f16(e, s, t);
    }
  });
}

}  // namespace lpu::int8
