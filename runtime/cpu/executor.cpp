#include "runtime/cpu/executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/float/dot_axpy.h"
#include "kernels/gemm/gemm_s8s8s32.h"
#include "kernels/gemm/matmul_s8.h"
#include "kernels/rope/rope.h"
#include "lib/gguf/dequantize.h"

namespace lpu::cpu {
namespace {

using isa::Opcode;

std::uint64_t align64(std::uint64_t v) { return (v + 63) / 64 * 64; }

// Weight bytes from which a matmul is split over the thread pool.
constexpr std::size_t kParallelMatmulBytes = 128 * 1024;

// Values a row-wise vector instruction must touch before its rows are
// split over the thread pool, and the values per task: chosen by shape
// alone, and rows are independent, so the bits do not depend on threads.
constexpr std::uint64_t kParallelRowValues = 16 * 1024;
constexpr std::uint64_t kRowTaskValues = 8 * 1024;

// Calls fn(first_row, end_row) over [0, rows) in tasks of about
// kRowTaskValues values of `width` each; on the pool when the whole is
// large enough.
template <typename Fn>
void for_row_blocks(kernels::ThreadPool* pool, std::uint32_t rows, std::uint64_t width, Fn&& fn) {
  const std::uint64_t per = std::max<std::uint64_t>(1, kRowTaskValues / std::max<std::uint64_t>(1, width));
  const std::uint64_t tasks = (rows + per - 1) / per;
  kernels::ThreadPool* use = std::uint64_t{rows} * width >= kParallelRowValues ? pool : nullptr;
  kernels::run_tasks(use, tasks, [&](std::size_t t) {
    const std::uint64_t r0 = t * per;
    fn(static_cast<std::uint32_t>(r0), static_cast<std::uint32_t>(std::min<std::uint64_t>(rows, r0 + per)));
  });
}

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

void Step::quantize(const float* x, std::size_t x_stride, std::uint32_t rows, std::uint32_t k,
                    std::uint32_t g, std::uint8_t* out, std::uint32_t k_valid) {
  const std::uint64_t row_bytes = isa::quantized_row_bytes(k, g);
  const std::uint32_t groups = (k + g - 1) / g;
  // Zeros past k_valid leave a group's scale (its largest magnitude) and
  // sum as they are, so only the values up to k_valid are quantised.
  const std::uint32_t kq = std::min(k, k_valid);
  const std::uint32_t valid = (kq + g - 1) / g;
  thread_local std::vector<float> scales;
  thread_local std::vector<std::int32_t> sums;
  scales.assign(std::size_t{rows} * groups, 0.0f);
  sums.assign(std::size_t{rows} * groups, 0);
  for (std::uint32_t r = 0; r < rows; ++r) std::memset(out + r * row_bytes, 0, align64(k));
  if (kq > 0) {
    s_.i8.quantize_rows(x, x_stride, rows, kq, g, reinterpret_cast<std::int8_t*>(out), row_bytes,
                        scales.data(), sums.data());
  }
  for (std::uint32_t r = 0; r < rows; ++r) {
    std::uint8_t* tail = out + r * row_bytes + align64(k);
    std::memset(tail, 0, 8ull * groups);
    // quantize_rows wrote `valid` groups per row, rows packed by `valid`.
    for (std::uint32_t q = 0; q < valid; ++q) {
      std::memcpy(tail + 8ull * q, &scales[std::size_t{r} * valid + q], 4);
      std::memcpy(tail + 8ull * q + 4, &sums[std::size_t{r} * valid + q], 4);
    }
  }
}

std::uint32_t Step::positions_of(std::uint32_t chip, const Instruction& sm) {
  Status e;
  const std::uint8_t* posp = at(chip, sm.src[2], 4ull * sm.p[2], 4, sm, e);
  if (posp == nullptr) return 0;
  const auto pos = load<std::int32_t>(posp);
  return pos < 0 || static_cast<std::uint32_t>(pos) >= sm.p[1] ? 0 : static_cast<std::uint32_t>(pos) + 1;
}

Status Step::quantize_op(std::uint32_t chip, const Instruction& in, std::uint32_t k_valid) {
  const auto& p = in.p;
  Status e;
  const float* x = f32(chip, in.src[0], 0, (std::uint64_t{p[0]} - 1) * p[2] + p[1], in, e);
  std::uint8_t* y = at(chip, in.dst, 0, isa::quantized_rows_bytes(p[0], p[1], p[3]), in, e);
  if (!x || !y) return e;
  const std::uint64_t row_bytes = isa::quantized_row_bytes(p[1], p[3]);
  for_row_blocks(pool_, p[0], p[1], [&](std::uint32_t r0, std::uint32_t r1) {
    quantize(x + std::uint64_t{r0} * p[2], p[2], r1 - r0, p[1], p[3], y + r0 * row_bytes, k_valid);
  });
  return {};
}

Status Step::quantize_to_position(const Ref& r, const Instruction& in, const Instruction& sm) {
  const std::uint32_t n = positions_of(r.chip, sm);
  return quantize_op(r.chip, in, n == 0 ? in.p[1] : n);  // 0: out of range, the softmax reports it
}

Status Step::run(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t c = r.chip;
  switch (in.op) {
    case Opcode::kNop:
    case Opcode::kRecv:
    case Opcode::kBarrier: return {};
    case Opcode::kEmbed: return embed(r, in);
    case Opcode::kCopy: {
      const std::uint8_t* s = at(c, in.src[0], 0, in.src[0].bytes, in, e);
      std::uint8_t* d = at(c, in.dst, 0, in.src[0].bytes, in, e);
      if (s == nullptr || d == nullptr) return e;
      std::memmove(d, s, in.src[0].bytes);
      return {};
    }
    case Opcode::kRmsNorm: {
      const std::uint64_t n = std::uint64_t{p[0]} * p[1];
      const float* x = f32(c, in.src[0], 0, n, in, e);
      const float* w = f32(c, in.src[1], 0, p[1], in, e);
      float* y = f32(c, in.dst, 0, n, in, e);
      if (!x || !w || !y) return e;
      // Through scratch: y may alias x.
      std::vector<float>& tmp = tmp_;
      tmp.resize(n);
      for_row_blocks(pool_, p[0], p[1], [&](std::uint32_t r0, std::uint32_t r1) {
        for (std::uint32_t q = r0; q < r1; ++q) {
          s_.fp.rmsnorm(x + std::uint64_t{q} * p[1], w, p[1], p_.meta.rms_eps, tmp.data() + std::uint64_t{q} * p[1]);
        }
      });
      std::memcpy(y, tmp.data(), 4 * n);
      return {};
    }
    case Opcode::kAdd: {
      const float* a = f32(c, in.src[0], 0, p[0], in, e);
      const float* b = f32(c, in.src[1], 0, p[0], in, e);
      float* y = f32(c, in.dst, 0, p[0], in, e);
      if (!a || !b || !y) return e;
      // Element-wise, in blocks of one fixed size.
      const std::uint64_t blocks = (p[0] + kRowTaskValues - 1) / kRowTaskValues;
      for_row_blocks(pool_, static_cast<std::uint32_t>(blocks), kRowTaskValues, [&](std::uint32_t b0, std::uint32_t b1) {
        const std::uint64_t i0 = b0 * kRowTaskValues, i1 = std::min<std::uint64_t>(p[0], b1 * kRowTaskValues);
        s_.fp.add(b + i0, a + i0, i1 - i0, y + i0);
      });
      return {};
    }
    case Opcode::kSiluMul: {
      const float* x = f32(c, in.src[0], 0, (std::uint64_t{p[0]} - 1) * p[2] + 2ull * p[1], in, e);
      float* y = f32(c, in.dst, 0, std::uint64_t{p[0]} * p[1], in, e);
      if (!x || !y) return e;
      std::vector<float>& tmp = tmp_;
      tmp.resize(std::uint64_t{p[0]} * p[1]);
      for_row_blocks(pool_, p[0], 2ull * p[1], [&](std::uint32_t r0, std::uint32_t r1) {
        for (std::uint32_t q = r0; q < r1; ++q) {
          const float* g = x + std::uint64_t{q} * p[2];
          s_.fp.silu_mul(g, g + p[1], p[1], tmp.data() + std::uint64_t{q} * p[1]);
        }
      });
      std::memcpy(y, tmp.data(), 4 * tmp.size());
      return {};
    }
    case Opcode::kQuantize: return quantize_op(c, in, p[1]);
    case Opcode::kRopeAngles: {
      const std::uint8_t* pos = at(c, in.src[0], 0, 4ull * p[0], in, e);
      float* y = f32(c, in.dst, 0, std::uint64_t{p[0]} * p[1], in, e);
      if (!pos || !y) return e;
      std::vector<float> angles(static_cast<std::size_t>(s_.rope.n_pairs()));
      for (std::uint32_t q = 0; q < p[0]; ++q) {
        s_.rope.angles(load<std::int32_t>(pos + 4ull * q), angles);
        kernels::rope_cache_from_angles_f32(angles.data(), angles.size(), s_.rope.mscale(), y + std::uint64_t{q} * p[1]);
      }
      return {};
    }
    case Opcode::kRope: {
      const float* ang = f32(c, in.src[0], 0, std::uint64_t{p[0]} * p[3], in, e);
      float* x = f32(c, in.dst, 0, (std::uint64_t{p[0]} - 1) * p[4] + std::uint64_t{p[1]} * p[2], in, e);
      if (!ang || !x) return e;
      for (std::uint32_t q = 0; q < p[0]; ++q) s_.fp.rope_norm(x + std::uint64_t{q} * p[4], p[1], p[2], p[3], ang + std::uint64_t{q} * p[3]);
      return {};
    }
    case Opcode::kKvAppend: return kv_append(r, in);
    case Opcode::kSoftmax: return softmax(r, in);
    case Opcode::kAttentionF16: return attention_f16(r, in);
    case Opcode::kRouterTopK: return router(r, in);
    case Opcode::kSelectExperts: {
      const std::uint32_t k = p[2], planes = p[3];
      const std::uint32_t rows = p[1] / std::max(1u, k * planes);
      const std::uint32_t need = std::max(rows, (p[5] + k - 1) / std::max(1u, k));
      const std::uint8_t* route = at(c, in.src[0], 0, 8ull * need * k, in, e);
      if (!route) return e;
      auto expert = [&](std::uint32_t row, std::uint32_t j) {
        return static_cast<std::uint32_t>(load<std::int32_t>(route + 8ull * row * k + 4ull * j));
      };
      for (std::uint32_t row = 0; row < rows; ++row)
        for (std::uint32_t j = 0; j < k; ++j)
          for (std::uint32_t pl = 0; pl < planes; ++pl)
            s_.regs[reg_key(c, static_cast<std::uint16_t>(p[0] + (row * k + j) * planes + pl))] = expert(row, j);
      for (std::uint32_t i = 0; i < p[5]; ++i) s_.regs[reg_key(c, static_cast<std::uint16_t>(p[4] + i))] = expert(i / k, i % k);
      return {};
    }
    case Opcode::kCombine: return combine(r, in);
    case Opcode::kLoadWeights: {
      const std::uint8_t* s = at(c, in.src[0], 0, in.src[0].bytes, in, e);
      if (!s) return e;
      s_.planes[std::size_t{c} * t_.matrix.planes + in.unit_index].slots[p[0]] = {s, in.src[0].bytes};
      return {};
    }
    case Opcode::kMatmul: return matmul(r, in);
    case Opcode::kSend:
      for (std::uint32_t i = 0; i < p[1]; ++i) {
        const std::uint8_t* s = at(c, in.src[0], std::uint64_t{i} * p[3], p[2], in, e);
        std::uint8_t* d = at(p[0], in.dst, std::uint64_t{i} * p[4], p[2], in, e);
        if (!s || !d) return e;
        std::memcpy(d, s, p[2]);
      }
      return {};
    default:
      return failed_precondition("opcode " + std::to_string(static_cast<int>(in.op)) + " is not executable");
  }
}

Status Step::embed(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  Status e;
  const std::uint8_t* tok = at(r.chip, in.src[0], 0, 4ull * p[0], in, e);
  if (!tok) return e;
  for (std::uint32_t q = 0; q < p[0]; ++q) {
    const auto t = load<std::int32_t>(tok + 4ull * q);
    if (t < 0 || (std::uint64_t(t) + 1) * p[3] > in.src[1].bytes) {
      return invalid_argument("token id " + std::to_string(t) + " of row " + std::to_string(q) +
                              " outside the vocabulary of " + std::to_string(p[3] ? in.src[1].bytes / p[3] : 0));
    }
    const std::uint8_t* src = at(r.chip, in.src[1], std::uint64_t(t) * p[3], p[3], in, e);
    float* y = f32(r.chip, in.dst, std::uint64_t{q} * p[5] + p[4], p[1], in, e);
    if (!src || !y) return e;
    gguf::dequantize_row(static_cast<gguf::TensorType>(p[2]), src, y, p[1]);
  }
  return {};
}

Status Step::kv_append(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  const ModelConfig& c = m_.config;
  Status e;
  const std::uint32_t hd = p[2], ctx = p[6];
  const std::uint64_t head = (p[3] == 0 ? static_cast<std::uint64_t>(c.n_head) : static_cast<std::uint64_t>(c.n_head + c.n_head_kv)) + p[1];
  const float* x = f32(r.chip, in.src[0], std::uint64_t{p[4]} * p[5] + head * hd, hd, in, e);
  const std::uint8_t* posp = at(r.chip, in.src[1], 4ull * p[4], 4, in, e);
  if (!x || !posp) return e;
  const auto pos = load<std::int32_t>(posp);
  if (pos < 0 || static_cast<std::uint32_t>(pos) >= ctx) {
    return out_of_range("position " + std::to_string(pos) + " outside the cache's " + std::to_string(ctx) + " positions");
  }
  const auto up = static_cast<std::uint32_t>(pos);
  if (p_.meta.kv == "f16") {
    std::uint8_t* d = at(r.chip, in.dst, 2ull * up * hd, 2ull * hd, in, e);
    if (!d) return e;
    for (std::uint32_t i = 0; i < hd; ++i) {
      const std::uint16_t h = gguf::f32_to_f16(x[i]);
      std::memcpy(d + 2ull * i, &h, 2);
    }
    return {};
  }
  const auto rg = static_cast<std::uint32_t>((c.head_dim + 31) / 32 * 32);
  std::vector<std::uint8_t>& q = qrow_;
  q.resize(isa::quantized_row_bytes(hd, rg));
  quantize(x, hd, 1, hd, rg, q.data());
  const float scale = load<float>(q.data() + align64(hd));
  const std::uint32_t tn = t_.matrix.tile_n, tk = t_.matrix.tile_k;
  if (p[3] == 0) {
    const isa::TiledAddress& a = s_.layout(ctx, hd, tn, tk, rg);
    std::uint8_t* d = at(r.chip, in.dst, 0, a.bytes(), in, e);
    if (!d) return e;
    std::memcpy(d + a.scale_offset(up, 0), &scale, 4);
    // Dimension i of a key sits at vector i / 4, byte i % 4 of the
    // position's lane, within the segment holding it.
    for (std::uint32_t i = 0; i < hd;) {
      const isa::Segment& sg = a.segments()[a.segment_of(i)];
      std::uint8_t* base = d + a.value_offset(up, i);
      for (std::uint32_t j = i; j < sg.k1 && j < hd; ++j) {
        const std::uint32_t rel = j - i;
        base[(rel / 4) * 64 + rel % 4] = static_cast<std::uint8_t>(static_cast<std::int8_t>(q[j]) + 128);
      }
      i = std::min(sg.k1, hd);
    }
    return {};
  }
  const isa::TiledAddress& a = s_.layout(hd, ctx, tn, tk, p_.meta.group);
  const std::uint64_t vs = align64(a.bytes());
  std::uint8_t* d = at(r.chip, in.dst, 0, vs + 4ull * ctx, in, e);
  if (!d) return e;
  // Dimension i of a value is column i: consecutive columns of one panel
  // of 16 are 4 bytes apart.
  for (std::uint32_t i = 0; i < hd; i += 16) {
    std::uint8_t* base = d + a.value_offset(i, up);
    for (std::uint32_t j = i; j < i + 16 && j < hd; ++j) {
      base[4 * (j - i)] = static_cast<std::uint8_t>(static_cast<std::int8_t>(q[j]) + 128);
    }
  }
  std::memcpy(d + vs + 4ull * up, &scale, 4);
  return {};
}

Status Step::softmax(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  Status e;
  float* s = f32(r.chip, in.dst, 0, std::uint64_t{p[0]} * p[1], in, e);
  const float* src = f32(r.chip, in.src[0], 0, std::uint64_t{p[0]} * p[1], in, e);
  const std::uint8_t* posp = at(r.chip, in.src[2], 4ull * p[2], 4, in, e);
  if (!s || !src || !posp) return e;
  const auto pos = load<std::int32_t>(posp);
  if (pos < 0 || static_cast<std::uint32_t>(pos) >= p[1]) return out_of_range("position " + std::to_string(pos) + " outside the scores");
  const auto n = static_cast<std::uint32_t>(pos) + 1;
  const float* vs = f32(r.chip, in.src[1], 0, n, in, e);
  if (!vs) return e;
  const float scale = 1.0f / std::sqrt(static_cast<float>(p[3]));
  for (std::uint32_t q = 0; q < p[0]; ++q) {
    float* row = s + std::uint64_t{q} * p[1];
    const float* in_row = src + std::uint64_t{q} * p[1];
    for (std::uint32_t j = 0; j < n; ++j) row[j] = in_row[j] * scale;
    s_.fp.softmax(row, n, row);
    for (std::uint32_t j = 0; j < n; ++j) row[j] = row[j] * vs[j];
    std::fill(row + n, row + p[1], 0.0f);
  }
  return {};
}

Status Step::attention_f16(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t heads = p[0], hd = p[3];
  const float* q = f32(r.chip, in.src[0], 0, std::uint64_t{heads} * hd, in, e);
  const std::uint8_t* posp = at(r.chip, in.src[2], 4ull * p[4], 4, in, e);
  float* out = f32(r.chip, in.dst, 0, std::uint64_t{heads} * hd, in, e);
  if (!q || !posp || !out) return e;
  const auto pos = load<std::int32_t>(posp);
  if (pos < 0 || static_cast<std::uint32_t>(pos) >= p[2]) return out_of_range("position " + std::to_string(pos) + " outside the context");
  const auto n = static_cast<std::uint32_t>(pos) + 1;
  const std::uint8_t* k = at(r.chip, in.src[1], 0, 2ull * n * hd, in, e);
  const std::uint8_t* v = at(r.chip, in.src[1], p[6], 2ull * n * hd, in, e);
  if (!k || !v) return e;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> sc(std::uint64_t{heads} * n), row(hd), o(std::uint64_t{heads} * hd, 0.0f);
  for (std::uint32_t j = 0; j < n; ++j) {
    for (std::uint32_t d = 0; d < hd; ++d) row[d] = gguf::f16_to_f32(load<std::uint16_t>(k + 2ull * (std::uint64_t{j} * hd + d)));
    for (std::uint32_t h = 0; h < heads; ++h) sc[std::uint64_t{h} * n + j] = kernels::dot_f32(q + std::uint64_t{h} * hd, row.data(), hd) * scale;
  }
  for (std::uint32_t h = 0; h < heads; ++h) s_.fp.softmax(sc.data() + std::uint64_t{h} * n, n, sc.data() + std::uint64_t{h} * n);
  for (std::uint32_t j = 0; j < n; ++j) {
    for (std::uint32_t d = 0; d < hd; ++d) row[d] = gguf::f16_to_f32(load<std::uint16_t>(v + 2ull * (std::uint64_t{j} * hd + d)));
    for (std::uint32_t h = 0; h < heads; ++h) kernels::axpy_f32(sc[std::uint64_t{h} * n + j], row.data(), hd, o.data() + std::uint64_t{h} * hd);
  }
  std::memcpy(out, o.data(), 4 * o.size());
  return {};
}

Status Step::router(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t rows = p[0], ne = p[1], k = p[2], d = p[3];
  const float* h = f32(r.chip, in.src[0], 0, std::uint64_t{rows} * d, in, e);
  const float* w = f32(r.chip, in.src[1], 0, std::uint64_t{ne} * d, in, e);
  std::uint8_t* route = at(r.chip, in.dst, 0, 8ull * rows * k, in, e);
  if (!h || !w || !route) return e;
  std::vector<float> logits(ne), probs(ne), weights(k);
  std::vector<std::int32_t> experts(k);
  for (std::uint32_t q = 0; q < rows; ++q) {
    for (std::uint32_t x = 0; x < ne; ++x) logits[x] = kernels::dot_f32(h + std::uint64_t{q} * d, w + std::uint64_t{x} * d, d);
    s_.fp.router_topk(logits.data(), ne, k, true, probs.data(), experts.data(), weights.data());
    std::memcpy(route + 8ull * q * k, experts.data(), 4ull * k);
    std::memcpy(route + 8ull * q * k + 4ull * k, weights.data(), 4ull * k);
  }
  return {};
}

Status Step::combine(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  Status e;
  const float* x = f32(r.chip, in.src[0], 0, p[1], in, e);
  const std::uint8_t* route = at(r.chip, in.src[1], 8ull * p[4] * p[3] + 4ull * (p[3] + p[2]), 4, in, e);
  float* y = f32(r.chip, in.dst, 0, p[1], in, e);
  if (!x || !route || !y) return e;
  const float w = load<float>(route);
  if (in.flags & isa::kAccInit) std::fill(y, y + p[1], 0.0f);
  kernels::axpy_f32(w, x, p[1], y);
  return {};
}

Status Step::matmul(const Ref& r, const Instruction& in) {
  const auto& p = in.p;
  const std::uint32_t rows = p[0], len = p[2], cols = p[3], k0 = p[4], width = p[5];
  auto& pl = s_.planes[std::size_t{r.chip} * t_.matrix.planes + in.unit_index];
  const auto [block, block_bytes] = pl.slots[p[1]];
  Status e;
  const std::uint8_t* x = at(r.chip, in.src[0], 0, in.src[0].bytes, in, e);
  if (!x) return e;
  const std::uint64_t stride = in.src[0].bytes / rows;
  const std::uint64_t values = align64(width);
  if (block == nullptr || block_bytes < isa::tile_block_bytes(cols, len) || stride <= values) {
    return failed_precondition("matmul #" + std::to_string(in.seq) + ": slot or rows do not hold the pass");
  }
  const std::uint32_t panels = (cols + 15) / 16;
  const std::uint32_t padded = panels * 16;  // accumulators per row: whole panels
  if (in.flags & isa::kAccInit) {
    pl.groups_begun = 0;
    pl.acc.assign(std::size_t{rows} * padded, 0.0f);
    pl.isum.assign(std::size_t{rows} * padded, 0);
  }
  if (in.flags & isa::kGroupBegin) ++pl.groups_begun;
  const auto g = static_cast<std::uint32_t>(pl.groups_begun - 1);
  const std::uint64_t panel_bytes = isa::tile_block_bytes(16, len);
  const std::uint32_t quads = (len + 3) / 4;
  if ((in.flags & isa::kGroupBegin) && (in.flags & isa::kGroupEnd)) {
    // A whole group in one pass: the GEMM tile kernels add its epilogue
    // fma(float(isum), w_scale x x_scale, acc) to the accumulators
    // directly, the arithmetic of every other pass.
    const kernels::GemmKernelSet& k = *s_.i8.gemm;
    kernels::GemmTileArgs a{};
    a.w_group_bytes = panel_bytes;
    a.groups = 1;
    a.group_size = len;
    a.group_quads = quads;
    a.last_quads = quads;
    const auto max_panels = static_cast<std::uint32_t>(k.max_panels);
    for (std::uint32_t pt = 0; pt < panels;) {
      const std::uint32_t np = std::min(max_panels, panels - pt);
      for (std::uint32_t j = 0; j < np; ++j) a.w[j] = block + std::uint64_t{pt + j} * panel_bytes;
      for (std::uint32_t mt = 0; mt < rows; mt += kernels::kMaxTileRows) {
        const std::uint32_t mr = std::min<std::uint32_t>(kernels::kMaxTileRows, rows - mt);
        for (std::uint32_t i = 0; i < mr; ++i) {
          const std::uint8_t* row = x + std::uint64_t{mt + i} * stride;
          a.x[i] = reinterpret_cast<const std::int8_t*>(row) + k0;
          a.x_scales[i] = reinterpret_cast<const float*>(row + values + 8ull * g);
          a.x_sums[i] = reinterpret_cast<const std::int32_t*>(row + values + 8ull * g + 4);
          a.acc[i] = pl.acc.data() + std::size_t{mt + i} * padded + std::size_t{pt} * 16;
        }
        k.gemm[mr - 1][np - 1](a);
      }
      pt += np;
    }
  } else {
    // A group split over passes (G larger than the K tile): exact int32
    // partial sums here, the epilogue at the group's end.
    if (in.flags & isa::kGroupBegin) std::fill(pl.isum.begin(), pl.isum.end(), 0);
    for (std::uint32_t q = 0; q < rows; ++q) {
      const auto* xr = reinterpret_cast<const std::int8_t*>(x + q * stride) + k0;
      for (std::uint32_t pn = 0; pn < panels; ++pn) {
        const std::uint8_t* panel = block + pn * panel_bytes + 64;
        std::int32_t acc[16] = {};
        for (std::uint32_t v = 0; v < quads; ++v) {
          const std::uint8_t* vec = panel + 64ull * v;
          // The quad's 4 values (0 past the segment: the padding weights
          // are 0 too, but the row's next values are not).
          std::int32_t xq[4];
          for (std::uint32_t i = 0; i < 4; ++i) xq[i] = 4 * v + i < len ? xr[4 * v + i] : 0;
          for (std::uint32_t j = 0; j < 16; ++j) {
            acc[j] += (static_cast<std::int32_t>(vec[4 * j]) - 128) * xq[0] +
                      (static_cast<std::int32_t>(vec[4 * j + 1]) - 128) * xq[1] +
                      (static_cast<std::int32_t>(vec[4 * j + 2]) - 128) * xq[2] +
                      (static_cast<std::int32_t>(vec[4 * j + 3]) - 128) * xq[3];
          }
        }
        for (std::uint32_t j = 0; j < 16; ++j) pl.isum[std::size_t{q} * padded + pn * 16 + j] += acc[j];
      }
    }
    if (in.flags & isa::kGroupEnd) {
      for (std::uint32_t q = 0; q < rows; ++q) {
        const float xs = load<float>(x + q * stride + values + 8ull * g);
        for (std::uint32_t j = 0; j < cols; ++j) {
          const float ws = load<float>(block + (j / 16) * panel_bytes + (j % 16) * 4);
          float& a = pl.acc[std::size_t{q} * padded + j];
          a = std::fma(static_cast<float>(pl.isum[std::size_t{q} * padded + j]), ws * xs, a);
        }
      }
    }
  }
  if (in.flags & isa::kStore) {
    for (std::uint32_t q = 0; q < rows; ++q) {
      float* y = f32(r.chip, in.dst, std::uint64_t{q} * p[6], cols, in, e);
      if (!y) return e;
      std::memcpy(y, pl.acc.data() + std::size_t{q} * padded, 4ull * cols);
    }
  }
  return {};
}

Status Step::fast_matmul(const FastMatmul& f, const Instruction* sm) {
  Status e;
  Instruction none;
  const std::uint8_t* x = at(f.chip, f.x, 0, f.x.bytes, none, e);
  isa::Operand w;
  w.pool = f.w_pool;
  w.index_reg = f.w_reg;
  w.offset = f.w_offset;
  const std::size_t wbytes = kernels::packed_bytes(f.n, f.k, f.group);
  const std::uint8_t* wp = at(f.chip, w, 0, wbytes, none, e);
  isa::Operand y;
  y.pool = f.y_pool;
  y.offset = f.y_offset;
  float* yp = f32(f.chip, y, 0, (std::uint64_t{f.rows} - 1) * f.y_stride + f.n, none, e);
  if (!x || !wp || !yp) return e;
  const std::uint64_t stride = f.x.bytes / f.rows;
  kernels::PackedView wv = kernels::packed_view(wp, f.n, f.k, f.group);
  std::uint32_t groups = (f.k + f.group - 1) / f.group;
  std::uint32_t k = f.k;
  if (const std::uint32_t n = sm != nullptr ? positions_of(f.softmax.chip, *sm) : 0; n > 0) {
    if (f.limit == PositionLimit::kColumns) {
      // Whole panels of scores up to the position; the panels keep their
      // places, since each panel holds all of k.
      wv.n = std::min<std::size_t>(f.n, (n + 15) / 16 * 16);
      wv.panels = (wv.n + 15) / 16;
    } else if (f.limit == PositionLimit::kGroups && n < f.k) {
      // The quads of K holding the positions: past them the probabilities
      // are zero, so they add nothing to a group's integer sum, and the
      // group's sum of x is the same. Panels keep their stride.
      const std::uint32_t used = (n + f.group - 1) / f.group;
      const std::uint32_t last = (n - (used - 1) * f.group + 3) / 4;
      wv.last_quads = used < groups ? last : std::min<std::size_t>(wv.last_quads, last);
      groups = used;
      k = std::min(f.k, (used - 1) * f.group + 4 * last);
      wv.k = k;
      wv.groups = groups;
    }
  }
  thread_local std::vector<float> scales;
  thread_local std::vector<std::int32_t> sums;
  scales.resize(std::size_t{f.rows} * groups);
  sums.resize(std::size_t{f.rows} * groups);
  for (std::uint32_t r = 0; r < f.rows; ++r) {
    const std::uint8_t* tail = x + r * stride + align64(f.k);
    for (std::uint32_t g = 0; g < groups; ++g) {
      std::memcpy(&scales[std::size_t{r} * groups + g], tail + 8ull * g, 4);
      std::memcpy(&sums[std::size_t{r} * groups + g], tail + 8ull * g + 4, 4);
    }
  }
  kernels::QuantizedView xv;
  xv.q = reinterpret_cast<const std::int8_t*>(x);
  xv.stride = stride;
  xv.rows = f.rows;
  xv.k = k;
  xv.group_size = f.group;
  xv.groups = groups;
  xv.scales = scales.data();
  xv.sums = sums.data();
  kernels::MatmulOptions o;
  // Small matrices (attention over a KV head) run on the calling thread: a
  // parallel region costs more than they do. Chosen by shape alone, and
  // matmul_s8 gives the same bits on any number of threads.
  o.pool = wbytes >= kParallelMatmulBytes ? pool_ : nullptr;
  o.kernels = &s_.i8;
  o.y_stride = f.y_stride;
  kernels::matmul_s8(wv, xv, yp, o);
  return {};
}

}  // namespace lpu::cpu
