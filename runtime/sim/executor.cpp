#include "runtime/sim/executor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "kernels/float/dot_axpy.h"
#include "kernels/rope/rope.h"
#include "lib/gguf/dequantize.h"
#include "lib/isa/tiled_layout.h"

namespace lpu::sim {
namespace {

using isa::Opcode;

constexpr std::uint64_t kValueAlign = 64;

std::uint64_t align64(std::uint64_t v) { return (v + kValueAlign - 1) / kValueAlign * kValueAlign; }

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The quantiser of docs/quantization.md for one row of k floats at group
// g, into the quantised-rows layout (values padded to 64, then per group
// an fp32 scale and an int32 sum): scale = max|x| / 127 (NaN ignored),
// q = round-half-away(x * (1 / scale)) clamped to [-127, 127], NaN to 0.
void quantize_row(const float* x, std::uint32_t k, std::uint32_t g, std::uint8_t* out) {
  const std::uint64_t values = align64(k);
  std::memset(out, 0, values);
  for (std::uint32_t g0 = 0, gi = 0; g0 < k; g0 += g, ++gi) {
    const std::uint32_t g1 = std::min(k, g0 + g);
    float amax = 0.0f;
    for (std::uint32_t i = g0; i < g1; ++i) {
      if (!std::isnan(x[i])) amax = std::max(amax, std::fabs(x[i]));
    }
    const float scale = amax / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    std::int32_t sum = 0;
    for (std::uint32_t i = g0; i < g1; ++i) {
      const float v = x[i] * inv;
      const float r = std::isnan(v) ? 0.0f : std::clamp(std::roundf(v), -127.0f, 127.0f);
      const auto q = static_cast<std::int8_t>(r);
      out[i] = static_cast<std::uint8_t>(q);
      sum += q;
    }
    std::memcpy(out + values + 8ull * gi, &scale, 4);
    std::memcpy(out + values + 8ull * gi + 4, &sum, 4);
  }
}

std::uint32_t row_group(const ModelConfig& c) {
  return static_cast<std::uint32_t>((c.head_dim + 31) / 32 * 32);
}

}  // namespace

Executor::Executor(const program::Program& p, const target::Target& t, const StepModel& m,
                   std::vector<runtime::ChipImage>& images, const RegisterTable& regs)
    : p_(p),
      t_(t),
      m_(m),
      img_(images),
      regs_(regs),
      fp_(kernels::float_kernels()),
      rope_(m.config, m.rope_freqs),
      planes_(std::size_t{p.meta.chips} * t.matrix.planes) {
  for (Plane& pl : planes_) pl.slots.resize(t.matrix.weight_buffer_tiles);
}

const isa::TiledAddress& Executor::layout(std::uint32_t n, std::uint32_t k, std::uint32_t group) {
  const std::array<std::uint32_t, 3> key{n, k, group};
  auto it = layouts_.find(key);
  if (it == layouts_.end()) {
    it = layouts_.emplace(key, isa::TiledAddress(n, k, t_.matrix.tile_n, t_.matrix.tile_k, group)).first;
  }
  return it->second;
}

std::uint32_t Executor::register_value(std::uint32_t chip, std::uint16_t reg) const {
  const auto it = reg_values_.find(register_key(chip, reg));
  return it == reg_values_.end() ? 0 : it->second;
}

void Executor::set_register(std::uint32_t chip, std::uint16_t reg, std::uint32_t value) {
  reg_values_[register_key(chip, reg)] = value;
}

std::uint64_t Executor::resolved(std::uint32_t chip, const isa::Operand& o) const {
  if (o.index_reg == 0) return o.offset;
  const program::IndexRegister* r = regs_.find(chip, o.index_reg);
  return o.offset + (r ? std::uint64_t{register_value(chip, o.index_reg)} * r->stride_bytes : 0);
}

std::uint8_t* Executor::bytes(std::uint32_t chip, const isa::Operand& o, std::uint64_t extra,
                              std::uint64_t n, Status& error, const InstrRef& ref,
                              const isa::Instruction& in) {
  if (o.index_reg != 0) {
    const program::IndexRegister* r = regs_.find(chip, o.index_reg);
    const std::uint32_t v = register_value(chip, o.index_reg);
    if (r == nullptr || v >= r->count) {
      error = sim_error(ref, in, "index register r" + std::to_string(o.index_reg) + " holds " +
                                     std::to_string(v) + " (expected < " +
                                     std::to_string(r ? r->count : 0) + ")");
      return nullptr;
    }
  }
  const std::uint64_t at = resolved(chip, o) + extra;
  std::uint8_t* ptr = chip < img_.size() && o.pool < img_[chip].pools.size()
                          ? img_[chip].pools[o.pool].at(at, n) : nullptr;
  if (ptr == nullptr) {
    error = sim_error(ref, in, "bytes [" + std::to_string(at) + ", " + std::to_string(at + n) +
                                   ") of pool " + std::to_string(o.pool) + " on chip " +
                                   std::to_string(chip) + " lie outside what the Program lays out");
    return nullptr;
  }
  return ptr;
}

void Executor::out(Effects& fx, std::uint32_t chip, const isa::Operand& o, std::uint64_t extra,
                   const void* data, std::uint64_t n) {
  Effects::Piece piece;
  piece.chip = chip;
  piece.pool = o.pool;
  piece.offset = resolved(chip, o) + extra;
  piece.bytes.assign(static_cast<const std::uint8_t*>(data), static_cast<const std::uint8_t*>(data) + n);
  fx.pieces.push_back(std::move(piece));
}

void Executor::land(Effects& fx) {
  for (Effects::Piece& piece : fx.pieces) {
    std::memcpy(img_[piece.chip].pools[piece.pool].at(piece.offset, piece.bytes.size()),
                piece.bytes.data(), piece.bytes.size());
  }
  for (const auto& [key, value] : fx.registers) reg_values_[key] = value;
  if (fx.slot) {
    planes_[std::size_t{fx.chip} * t_.matrix.planes + fx.plane].slots[fx.slot_index] =
        std::move(fx.slot_bytes);
  }
}

Status Executor::read(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  switch (in.op) {
    case Opcode::kNop:
    case Opcode::kRecv:
    case Opcode::kBarrier: return {};
    case Opcode::kEmbed: return embed(ref, in, fx);
    case Opcode::kCopy: {
      Status e;
      const std::uint8_t* s = bytes(ref.chip, in.src[0], 0, in.src[0].bytes, e, ref, in);
      if (s == nullptr) return e;
      if (bytes(ref.chip, in.dst, 0, in.src[0].bytes, e, ref, in) == nullptr) return e;
      out(fx, ref.chip, in.dst, 0, s, in.src[0].bytes);
      return {};
    }
    case Opcode::kKvAppend: return kv_append(ref, in, fx);
    case Opcode::kSoftmax: return softmax(ref, in, fx);
    case Opcode::kAttentionF16: return attention_f16(ref, in, fx);
    case Opcode::kRouterTopK: return router(ref, in, fx);
    case Opcode::kSelectExperts: return select_experts(ref, in, fx);
    case Opcode::kCombine: return combine(ref, in, fx);
    case Opcode::kLoadWeights: return load_weights(ref, in, fx);
    case Opcode::kMatmul: return matmul(ref, in, fx);
    case Opcode::kSend: return send(ref, in, fx);
    default: return vector_op(ref, in, fx);
  }
}

Status Executor::embed(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  const std::uint8_t* tok = bytes(ref.chip, in.src[0], 0, 4ull * p[0], e, ref, in);
  if (tok == nullptr) return e;
  std::vector<float> row(p[1]);
  for (std::uint32_t r = 0; r < p[0]; ++r) {
    const auto t = load<std::int32_t>(tok + 4ull * r);
    if (t < 0 || (std::uint64_t{static_cast<std::uint32_t>(t)} + 1) * p[3] > in.src[1].bytes) {
      return sim_error(ref, in, "token id " + std::to_string(t) + " of row " + std::to_string(r) +
                                    " outside the table's " +
                                    std::to_string(p[3] == 0 ? 0 : in.src[1].bytes / p[3]) + " rows");
    }
    const std::uint8_t* src = bytes(ref.chip, in.src[1], std::uint64_t(t) * p[3], p[3], e, ref, in);
    if (src == nullptr) return e;
    gguf::dequantize_row(static_cast<gguf::TensorType>(p[2]), src, row.data(), p[1]);
    const std::uint64_t at = (std::uint64_t{r} * p[5] + p[4]) * 4;
    if (bytes(ref.chip, in.dst, at, 4ull * p[1], e, ref, in) == nullptr) return e;
    out(fx, ref.chip, in.dst, at, row.data(), 4ull * p[1]);
  }
  return {};
}

Status Executor::vector_op(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  switch (in.op) {
    case Opcode::kRmsNorm: {
      const std::uint64_t n = std::uint64_t{p[0]} * p[1];
      const auto* x = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4 * n, e, ref, in));
      const auto* w = reinterpret_cast<const float*>(bytes(ref.chip, in.src[1], 0, 4ull * p[1], e, ref, in));
      if (x == nullptr || w == nullptr || !bytes(ref.chip, in.dst, 0, 4 * n, e, ref, in)) return e;
      std::vector<float> y(n);
      for (std::uint32_t r = 0; r < p[0]; ++r) {
        fp_.rmsnorm(x + std::uint64_t{r} * p[1], w, p[1], p_.meta.rms_eps, y.data() + std::uint64_t{r} * p[1]);
      }
      out(fx, ref.chip, in.dst, 0, y.data(), 4 * n);
      return {};
    }
    case Opcode::kAdd: {
      const auto* a = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4ull * p[0], e, ref, in));
      const auto* b = reinterpret_cast<const float*>(bytes(ref.chip, in.src[1], 0, 4ull * p[0], e, ref, in));
      if (a == nullptr || b == nullptr || !bytes(ref.chip, in.dst, 0, 4ull * p[0], e, ref, in)) return e;
      std::vector<float> y(p[0]);
      fp_.add(b, a, p[0], y.data());
      out(fx, ref.chip, in.dst, 0, y.data(), 4ull * p[0]);
      return {};
    }
    case Opcode::kSiluMul: {
      const std::uint64_t n = std::uint64_t{p[0]} * p[1];
      const auto* x = reinterpret_cast<const float*>(
          bytes(ref.chip, in.src[0], 0, 4ull * ((std::uint64_t{p[0]} - 1) * p[2] + 2ull * p[1]), e, ref, in));
      if (x == nullptr || !bytes(ref.chip, in.dst, 0, 4 * n, e, ref, in)) return e;
      std::vector<float> y(n);
      for (std::uint32_t r = 0; r < p[0]; ++r) {
        const float* g = x + std::uint64_t{r} * p[2];
        fp_.silu_mul(g, g + p[1], p[1], y.data() + std::uint64_t{r} * p[1]);
      }
      out(fx, ref.chip, in.dst, 0, y.data(), 4 * n);
      return {};
    }
    case Opcode::kQuantize: {
      const std::uint64_t row_bytes = isa::quantized_row_bytes(p[1], p[3]);
      const auto* x = reinterpret_cast<const float*>(
          bytes(ref.chip, in.src[0], 0, 4ull * ((std::uint64_t{p[0]} - 1) * p[2] + p[1]), e, ref, in));
      if (x == nullptr || !bytes(ref.chip, in.dst, 0, row_bytes * p[0], e, ref, in)) return e;
      std::vector<std::uint8_t> q(row_bytes * p[0]);
      for (std::uint32_t r = 0; r < p[0]; ++r) {
        quantize_row(x + std::uint64_t{r} * p[2], p[1], p[3], q.data() + r * row_bytes);
      }
      out(fx, ref.chip, in.dst, 0, q.data(), q.size());
      return {};
    }
    case Opcode::kRopeAngles: {
      const std::uint8_t* pos = bytes(ref.chip, in.src[0], 0, 4ull * p[0], e, ref, in);
      if (pos == nullptr || !bytes(ref.chip, in.dst, 0, 4ull * p[0] * p[1], e, ref, in)) return e;
      if (static_cast<int>(p[1]) != rope_.n_dims()) {
        return sim_error(ref, in, "rope_dim " + std::to_string(p[1]) + " (expected the model's " +
                                      std::to_string(rope_.n_dims()) + ")");
      }
      std::vector<float> y(std::uint64_t{p[0]} * p[1]);
      std::vector<float> angles(static_cast<std::size_t>(rope_.n_pairs()));
      for (std::uint32_t r = 0; r < p[0]; ++r) {
        rope_.angles(load<std::int32_t>(pos + 4ull * r), angles);
        kernels::rope_cache_from_angles_f32(angles.data(), angles.size(), rope_.mscale(),
                                            y.data() + std::uint64_t{r} * p[1]);
      }
      out(fx, ref.chip, in.dst, 0, y.data(), 4 * y.size());
      return {};
    }
    case Opcode::kRope: {
      const std::uint64_t span = 4ull * ((std::uint64_t{p[0]} - 1) * p[4] + std::uint64_t{p[1]} * p[2]);
      const auto* ang = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4ull * p[0] * p[3], e, ref, in));
      const auto* x = reinterpret_cast<const float*>(bytes(ref.chip, in.src[1], 0, span, e, ref, in));
      if (ang == nullptr || x == nullptr || !bytes(ref.chip, in.dst, 0, span, e, ref, in)) return e;
      for (std::uint32_t r = 0; r < p[0]; ++r) {
        std::vector<float> row(x + std::uint64_t{r} * p[4], x + std::uint64_t{r} * p[4] + std::uint64_t{p[1]} * p[2]);
        fp_.rope_norm(row.data(), p[1], p[2], p[3], ang + std::uint64_t{r} * p[3]);
        out(fx, ref.chip, in.dst, 4ull * r * p[4], row.data(), 4 * row.size());
      }
      return {};
    }
    default:
      return sim_error(ref, in, "opcode not executable by the vector unit");
  }
}

Status Executor::kv_append(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  const ModelConfig& c = m_.config;
  Status e;
  const std::uint32_t hd = p[2], h = p[1], r = p[4], ctx = p[6];
  const std::uint64_t head = p[3] == 0 ? static_cast<std::uint64_t>(c.n_head) + h
                                       : static_cast<std::uint64_t>(c.n_head + c.n_head_kv) + h;
  const auto* x = reinterpret_cast<const float*>(
      bytes(ref.chip, in.src[0], 4ull * (std::uint64_t{r} * p[5] + head * hd), 4ull * hd, e, ref, in));
  const std::uint8_t* posp = bytes(ref.chip, in.src[1], 4ull * r, 4, e, ref, in);
  if (x == nullptr || posp == nullptr) return e;
  const auto pos = load<std::int32_t>(posp);
  if (pos < 0 || static_cast<std::uint32_t>(pos) >= ctx) {
    return sim_error(ref, in, "position " + std::to_string(pos) + " of row " + std::to_string(r) +
                                  " outside the cache's " + std::to_string(ctx) + " positions");
  }
  const auto up = static_cast<std::uint32_t>(pos);
  if (p_.meta.kv == "f16") {
    std::vector<std::uint16_t> h16(hd);
    for (std::uint32_t d = 0; d < hd; ++d) h16[d] = gguf::f32_to_f16(x[d]);
    if (!bytes(ref.chip, in.dst, 2ull * up * hd, 2ull * hd, e, ref, in)) return e;
    out(fx, ref.chip, in.dst, 2ull * up * hd, h16.data(), 2ull * hd);
    return {};
  }
  const std::uint32_t rg = row_group(c);
  std::vector<std::uint8_t> q(isa::quantized_row_bytes(hd, rg));
  quantize_row(x, hd, rg, q.data());
  const float scale = load<float>(q.data() + align64(hd));
  if (p[3] == 0) {  // keys: [positions][head_dim], position = column
    const isa::TiledAddress& a = layout(ctx, hd, rg);
    if (!bytes(ref.chip, in.dst, 0, a.bytes(), e, ref, in)) return e;
    out(fx, ref.chip, in.dst, a.scale_offset(up, 0), &scale, 4);
    for (std::uint32_t d = 0; d < hd; ++d) {
      const auto b = static_cast<std::uint8_t>(static_cast<std::int8_t>(q[d]) + 128);
      out(fx, ref.chip, in.dst, a.value_offset(up, d), &b, 1);
    }
    return {};
  }
  // values: [head_dim][positions] at G, the position's scale in vs
  const isa::TiledAddress& a = layout(hd, ctx, p_.meta.group);
  const std::uint64_t vs = align64(a.bytes());
  if (!bytes(ref.chip, in.dst, 0, vs + 4ull * ctx, e, ref, in)) return e;
  for (std::uint32_t d = 0; d < hd; ++d) {
    const auto b = static_cast<std::uint8_t>(static_cast<std::int8_t>(q[d]) + 128);
    out(fx, ref.chip, in.dst, a.value_offset(d, up), &b, 1);
  }
  out(fx, ref.chip, in.dst, vs + 4ull * up, &scale, 4);
  return {};
}

Status Executor::softmax(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  const std::uint64_t n_all = std::uint64_t{p[0]} * p[1];
  const auto* s = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4 * n_all, e, ref, in));
  const std::uint8_t* posp = bytes(ref.chip, in.src[2], 4ull * p[2], 4, e, ref, in);
  if (s == nullptr || posp == nullptr || !bytes(ref.chip, in.dst, 0, 4 * n_all, e, ref, in)) return e;
  const auto pos = load<std::int32_t>(posp);
  if (pos < 0 || static_cast<std::uint32_t>(pos) >= p[1]) {
    return sim_error(ref, in, "position " + std::to_string(pos) + " outside the " +
                                  std::to_string(p[1]) + " scores of a row");
  }
  const std::uint32_t n = static_cast<std::uint32_t>(pos) + 1;
  const auto* vs = reinterpret_cast<const float*>(bytes(ref.chip, in.src[1], 0, 4ull * n, e, ref, in));
  if (vs == nullptr) return e;
  const float scale = 1.0f / std::sqrt(static_cast<float>(p[3]));
  std::vector<float> y(n_all, 0.0f);
  for (std::uint32_t r = 0; r < p[0]; ++r) {
    float* row = y.data() + std::uint64_t{r} * p[1];
    const float* src = s + std::uint64_t{r} * p[1];
    for (std::uint32_t j = 0; j < n; ++j) row[j] = src[j] * scale;
    fp_.softmax(row, n, row);
    for (std::uint32_t j = 0; j < n; ++j) row[j] = row[j] * vs[j];
  }
  out(fx, ref.chip, in.dst, 0, y.data(), 4 * n_all);
  return {};
}

Status Executor::attention_f16(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t heads = p[0], hd = p[3];
  const auto* q = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4ull * heads * hd, e, ref, in));
  const std::uint8_t* posp = bytes(ref.chip, in.src[2], 4ull * p[4], 4, e, ref, in);
  if (q == nullptr || posp == nullptr || !bytes(ref.chip, in.dst, 0, 4ull * heads * hd, e, ref, in)) return e;
  const auto pos = load<std::int32_t>(posp);
  if (pos < 0 || static_cast<std::uint32_t>(pos) >= p[2]) {
    return sim_error(ref, in, "position " + std::to_string(pos) + " outside the variant's " +
                                  std::to_string(p[2]) + " positions");
  }
  const std::uint32_t n = static_cast<std::uint32_t>(pos) + 1;
  const std::uint8_t* k = bytes(ref.chip, in.src[1], 0, 2ull * n * hd, e, ref, in);
  const std::uint8_t* v = bytes(ref.chip, in.src[1], p[6], 2ull * n * hd, e, ref, in);
  if (k == nullptr || v == nullptr) return e;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> scores(std::uint64_t{heads} * n), row(hd), o(std::uint64_t{heads} * hd, 0.0f);
  for (std::uint32_t j = 0; j < n; ++j) {
    for (std::uint32_t d = 0; d < hd; ++d) row[d] = gguf::f16_to_f32(load<std::uint16_t>(k + 2ull * (std::uint64_t{j} * hd + d)));
    for (std::uint32_t h = 0; h < heads; ++h) {
      scores[std::uint64_t{h} * n + j] = kernels::dot_f32(q + std::uint64_t{h} * hd, row.data(), hd) * scale;
    }
  }
  for (std::uint32_t h = 0; h < heads; ++h) fp_.softmax(scores.data() + std::uint64_t{h} * n, n, scores.data() + std::uint64_t{h} * n);
  for (std::uint32_t j = 0; j < n; ++j) {
    for (std::uint32_t d = 0; d < hd; ++d) row[d] = gguf::f16_to_f32(load<std::uint16_t>(v + 2ull * (std::uint64_t{j} * hd + d)));
    for (std::uint32_t h = 0; h < heads; ++h) {
      kernels::axpy_f32(scores[std::uint64_t{h} * n + j], row.data(), hd, o.data() + std::uint64_t{h} * hd);
    }
  }
  out(fx, ref.chip, in.dst, 0, o.data(), 4 * o.size());
  return {};
}

Status Executor::router(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t rows = p[0], ne = p[1], k = p[2], d = p[3];
  const auto* h = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4ull * rows * d, e, ref, in));
  const auto* w = reinterpret_cast<const float*>(bytes(ref.chip, in.src[1], 0, 4ull * ne * d, e, ref, in));
  if (h == nullptr || w == nullptr || !bytes(ref.chip, in.dst, 0, 8ull * rows * k, e, ref, in)) return e;
  std::vector<float> logits(ne), probs(ne), weights(k);
  std::vector<std::int32_t> experts(k);
  std::vector<std::uint8_t> route(8ull * rows * k);
  for (std::uint32_t r = 0; r < rows; ++r) {
    for (std::uint32_t x = 0; x < ne; ++x) logits[x] = kernels::dot_f32(h + std::uint64_t{r} * d, w + std::uint64_t{x} * d, d);
    fp_.router_topk(logits.data(), ne, k, true, probs.data(), experts.data(), weights.data());
    std::memcpy(route.data() + 8ull * r * k, experts.data(), 4ull * k);
    std::memcpy(route.data() + 8ull * r * k + 4ull * k, weights.data(), 4ull * k);
  }
  out(fx, ref.chip, in.dst, 0, route.data(), route.size());
  return {};
}

Status Executor::select_experts(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t k = p[2], planes = p[3];
  if (k == 0 || planes == 0) return sim_error(ref, in, "k and planes must be > 0");
  const std::uint32_t rows = p[1] / (k * planes);
  const std::uint32_t dense_pairs = p[5];
  const std::uint32_t need_rows = std::max(rows, (dense_pairs + k - 1) / k);
  const std::uint8_t* route = bytes(ref.chip, in.src[0], 0, 8ull * need_rows * k, e, ref, in);
  if (route == nullptr) return e;
  auto expert = [&](std::uint32_t r, std::uint32_t j) {
    return static_cast<std::uint32_t>(load<std::int32_t>(route + 8ull * r * k + 4ull * j));
  };
  for (std::uint32_t r = 0; r < rows; ++r) {
    for (std::uint32_t j = 0; j < k; ++j) {
      for (std::uint32_t pl = 0; pl < planes; ++pl) {
        fx.registers.emplace_back(register_key(ref.chip, static_cast<std::uint16_t>(p[0] + (r * k + j) * planes + pl)), expert(r, j));
      }
    }
  }
  for (std::uint32_t i = 0; i < dense_pairs; ++i) {
    fx.registers.emplace_back(register_key(ref.chip, static_cast<std::uint16_t>(p[4] + i)), expert(i / k, i % k));
  }
  return {};
}

Status Executor::combine(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  const std::uint32_t width = p[1], j = p[2], k = p[3], r = p[4];
  const auto* x = reinterpret_cast<const float*>(bytes(ref.chip, in.src[0], 0, 4ull * width, e, ref, in));
  const std::uint8_t* route = bytes(ref.chip, in.src[1], 8ull * r * k + 4ull * (k + j), 4, e, ref, in);
  const auto* y = reinterpret_cast<const float*>(bytes(ref.chip, in.dst, 0, 4ull * width, e, ref, in));
  if (x == nullptr || route == nullptr || y == nullptr) return e;
  const float w = load<float>(route);
  std::vector<float> acc(width, 0.0f);
  if (!(in.flags & isa::kAccInit)) std::copy(y, y + width, acc.begin());
  for (std::uint32_t i = 0; i < width; ++i) acc[i] = acc[i] + w * x[i];
  out(fx, ref.chip, in.dst, 0, acc.data(), 4ull * width);
  return {};
}

Status Executor::load_weights(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  Status e;
  const std::uint8_t* s = bytes(ref.chip, in.src[0], 0, in.src[0].bytes, e, ref, in);
  if (s == nullptr) return e;
  if (in.unit_index >= t_.matrix.planes || in.p[0] >= t_.matrix.weight_buffer_tiles) {
    return sim_error(ref, in, "plane " + std::to_string(in.unit_index) + " slot " + std::to_string(in.p[0]) +
                                  " (expected < " + std::to_string(t_.matrix.planes) + " planes, < " +
                                  std::to_string(t_.matrix.weight_buffer_tiles) + " slots)");
  }
  fx.slot = true;
  fx.chip = ref.chip;
  fx.plane = in.unit_index;
  fx.slot_index = in.p[0];
  fx.slot_bytes.assign(s, s + in.src[0].bytes);
  return {};
}

Status Executor::matmul(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  const std::uint32_t rows = p[0], len = p[2], cols = p[3], k0 = p[4], width = p[5];
  if (in.unit_index >= t_.matrix.planes || p[1] >= t_.matrix.weight_buffer_tiles || rows == 0) {
    return sim_error(ref, in, "plane, slot or rows out of range");
  }
  Plane& pl = planes_[std::size_t{ref.chip} * t_.matrix.planes + in.unit_index];
  const std::vector<std::uint8_t>& block = pl.slots[p[1]];
  if (block.size() < isa::tile_block_bytes(cols, len)) {
    return sim_error(ref, in, "slot " + std::to_string(p[1]) + " holds " + std::to_string(block.size()) +
                                  " bytes (expected a block of " + std::to_string(cols) + " columns x " +
                                  std::to_string(len) + " k)");
  }
  Status e;
  const std::uint8_t* x = bytes(ref.chip, in.src[0], 0, in.src[0].bytes, e, ref, in);
  if (x == nullptr) return e;
  const std::uint64_t stride = in.src[0].bytes / rows;
  const std::uint64_t values = align64(width);
  if (stride <= values || (stride - values) % 8 != 0 || k0 + len > width) {
    return sim_error(ref, in, "activation rows of " + std::to_string(stride) + " bytes do not hold " +
                                  std::to_string(width) + " values and their group scales");
  }
  const auto groups = static_cast<std::int32_t>((stride - values) / 8);
  if (in.flags & isa::kAccInit) {
    pl.rows = rows;
    pl.cols = cols;
    pl.groups_begun = 0;
    pl.acc.assign(std::size_t{rows} * cols, 0.0f);
    pl.isum.assign(std::size_t{rows} * cols, 0);
  } else if (pl.rows != rows || pl.cols != cols) {
    return sim_error(ref, in, "continues a tile of " + std::to_string(pl.rows) + " x " +
                                  std::to_string(pl.cols) + " on this plane (expected the same shape or acc_init)");
  }
  if (in.flags & isa::kGroupBegin) {
    std::fill(pl.isum.begin(), pl.isum.end(), 0);
    ++pl.groups_begun;
  }
  const std::int32_t g = pl.groups_begun - 1;
  if (g < 0 || g >= groups) {
    return sim_error(ref, in, "group " + std::to_string(g) + " of rows with " + std::to_string(groups) + " groups");
  }
  const std::uint64_t panel_bytes = isa::tile_block_bytes(16, len);
  for (std::uint32_t r = 0; r < rows; ++r) {
    const auto* xr = reinterpret_cast<const std::int8_t*>(x + r * stride) + k0;
    for (std::uint32_t c = 0; c < cols; ++c) {
      const std::uint8_t* panel = block.data() + (c / 16) * panel_bytes + 64;
      const std::uint32_t lane = c % 16;
      std::int32_t sum = 0;
      for (std::uint32_t i = 0; i < len; ++i) {
        const int w = static_cast<int>(panel[(i / 4) * 64 + lane * 4 + i % 4]) - 128;
        sum += w * xr[i];
      }
      pl.isum[std::size_t{r} * cols + c] += sum;
    }
  }
  if (in.flags & isa::kGroupEnd) {
    for (std::uint32_t r = 0; r < rows; ++r) {
      const float xs = load<float>(x + r * stride + values + 8ull * static_cast<std::uint32_t>(g));
      for (std::uint32_t c = 0; c < cols; ++c) {
        const float ws = load<float>(block.data() + (c / 16) * panel_bytes + (c % 16) * 4);
        float& acc = pl.acc[std::size_t{r} * cols + c];
        acc = std::fma(static_cast<float>(pl.isum[std::size_t{r} * cols + c]), ws * xs, acc);
      }
    }
  }
  if (in.flags & isa::kStore) {
    for (std::uint32_t r = 0; r < rows; ++r) {
      if (!bytes(ref.chip, in.dst, 4ull * r * p[6], 4ull * cols, e, ref, in)) return e;
      out(fx, ref.chip, in.dst, 4ull * r * p[6], pl.acc.data() + std::size_t{r} * cols, 4ull * cols);
    }
  }
  return {};
}

Status Executor::send(const InstrRef& ref, const isa::Instruction& in, Effects& fx) {
  const auto& p = in.p;
  Status e;
  for (std::uint32_t i = 0; i < p[1]; ++i) {
    const std::uint8_t* s = bytes(ref.chip, in.src[0], std::uint64_t{i} * p[3], p[2], e, ref, in);
    if (s == nullptr || !bytes(p[0], in.dst, std::uint64_t{i} * p[4], p[2], e, ref, in)) return e;
    out(fx, p[0], in.dst, std::uint64_t{i} * p[4], s, p[2]);
  }
  return {};
}

}  // namespace lpu::sim
