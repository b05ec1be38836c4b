#include "runtime/device/sram_image.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "lib/gguf/dequantize.h"
#include "lib/isa/tiled_layout.h"
#include "lib/model/model_access.h"
#include "lib/program/register_table.h"
#include "lib/quant/gguf_import.h"
#include "lib/gguf/quantize.h"
#include "lib/quant/weight_transform.h"

namespace lpu::runtime {
namespace {

using program::Encoding;
using program::LayoutEntry;

std::string where(const LayoutEntry& e) {
  return "layout entry '" + e.name + "' (chip " + std::to_string(e.chip) + ")";
}

std::uint8_t* at(std::vector<ChipImage>& img, const LayoutEntry& e) {
  return img[e.chip].pools[e.pool].at(e.offset, e.bytes);
}

// Rows [n0, n1) of expert `expert` of a quantised tensor (experts stacked,
// `per_expert` rows each), packed into the tiled 16c4 layout: per (column
// tile, segment) block, per panel the 16 columns' scales of the segment's
// group, then the bytes w + 128. Padding stays 0.
void pack_tiled(const kernels::QuantizedRows& q, std::size_t per_expert, const LayoutEntry& e,
                std::uint8_t* out) {
  const std::uint32_t n = e.n1 - e.n0;
  const isa::TiledAddress a(n, e.k, e.tile_n, e.seg, e.group);
  for (std::uint32_t c = 0; c < n; ++c) {
    const std::size_t r = std::size_t{e.expert} * per_expert + e.n0 + c;
    const std::int8_t* w = q.row(r);
    for (const isa::Segment& sg : a.segments()) {
      const float scale = q.scales(r)[sg.k0 / q.group_size()];
      std::memcpy(out + a.scale_offset(c, sg.k0), &scale, sizeof scale);
      // Byte 4 j + i of vector v of the column's panel holds k = k0 + 4 v + i.
      std::uint8_t* first = out + a.value_offset(c, sg.k0);
      for (std::uint32_t kk = sg.k0; kk < sg.k1; ++kk) {
        const std::uint32_t rel = kk - sg.k0;
        first[(rel / 4) * 64 + rel % 4] = static_cast<std::uint8_t>(w[kk] + 128);
      }
    }
  }
}

// A value cache: zero bytes, and scale 1.0 in every real column's header
// (the per-position scales live apart and multiply the probabilities).
void unit_scales(const LayoutEntry& e, std::uint8_t* out) {
  const std::uint32_t n = e.n1 - e.n0;
  const isa::TiledAddress a(n, e.k, e.tile_n, e.seg, e.group);
  const float one = 1.0f;
  for (std::uint32_t c = 0; c < n; ++c) {
    for (const isa::Segment& sg : a.segments()) {
      std::memcpy(out + a.scale_offset(c, sg.k0), &one, sizeof one);
    }
  }
}

const gguf::TensorInfo* tensor(const gguf::File& f, const LayoutEntry& e, Status& error) {
  const gguf::TensorInfo* t = f.find_tensor(e.name);
  if (t == nullptr) error = not_found(f.path() + ": " + where(e) + ": no tensor of that name in the model");
  return t;
}

Status fill_tiled(const gguf::File& f, const quant::ModelTransform& mt, const std::vector<const LayoutEntry*>& entries,
                  std::vector<ChipImage>& img) {
  const LayoutEntry& first = *entries.front();
  Status error;
  const gguf::TensorInfo* t = tensor(f, first, error);
  if (t == nullptr) return error;
  LPU_ASSIGN_OR_RETURN(quant::TensorTransform transform, quant::tensor_transform(f, mt, first.name));
  LPU_ASSIGN_OR_RETURN(kernels::QuantizedRows q,
                       quant::import_tensor(f, *t, quant::QuantConfig{first.group}, transform));
  const std::size_t per_expert = t->dims.size() >= 2 ? t->dims[1] : 1;
  for (const LayoutEntry* e : entries) {
    if (e->group != first.group || e->k != q.k() || e->n1 > per_expert ||
        (std::size_t{e->expert} + 1) * per_expert > q.rows() ||
        isa::tiled_matrix_bytes(e->n1 - e->n0, e->k, e->tile_n, e->seg, e->group) != e->bytes) {
      return invalid_argument(f.path() + ": " + where(*e) + ": rows [" + std::to_string(e->n0) +
                              ", " + std::to_string(e->n1) + ") of expert " +
                              std::to_string(e->expert) + " x k " + std::to_string(e->k) +
                              " at G " + std::to_string(e->group) + " do not fit tensor " +
                              t->shape_string());
    }
    pack_tiled(q, per_expert, *e, at(img, *e));
  }
  return {};
}

Status fill_f32(const gguf::File& f, const quant::ModelTransform& mt, const LayoutEntry& e, std::vector<ChipImage>& img) {
  Status error;
  const gguf::TensorInfo* t = tensor(f, e, error);
  if (t == nullptr) return error;
  LPU_ASSIGN_OR_RETURN(std::vector<float> v, gguf::dequantize_tensor(f, *t));
  if (v.size() * 4 != e.bytes) {
    return invalid_argument(f.path() + ": " + where(e) + ": " + std::to_string(e.bytes) +
                            " bytes (expected " + std::to_string(v.size() * 4) +
                            ", the fp32 tensor " + t->shape_string() + ")");
  }
  LPU_ASSIGN_OR_RETURN(quant::TensorTransform transform, quant::tensor_transform(f, mt, e.name));
  if (!transform.empty()) {
    // Norms and the MoE router: one matrix of n_rows x k.
    const std::size_t k = t->row_length();
    const std::size_t rows = v.size() / k;
    LPU_TRY(quant::fits(transform, rows, k), f.path() + ": " + where(e));
    transform.apply(v, rows, k);
  }
  std::memcpy(at(img, e), v.data(), e.bytes);
  return {};
}

// This chip's columns [n0, n1) of every row of a rotated embedding table,
// each row rotated and encoded as rotated_embedding_type.
Status fill_rotated_rows(const gguf::File& f, const quant::ModelTransform& mt, const gguf::TensorInfo& t,
                         const LayoutEntry& e, std::vector<ChipImage>& img) {
  const std::uint64_t rows = t.n_rows();
  const std::size_t k = t.row_length();
  const gguf::TensorType type = quant::rotated_embedding_type(k);
  const auto out_row = gguf::row_bytes(type, k);
  const auto in_row = gguf::row_bytes(t.type, k);
  const quant::TensorTransform transform = quant::embedding_transform(mt);
  if (!out_row || !in_row || *in_row * rows != t.n_bytes || rows != e.k) {
    return invalid_argument(f.path() + ": " + where(e) + ": a rotated embedding of " + std::to_string(e.k) +
                            " rows does not fit tensor " + t.shape_string());
  }
  LPU_TRY(quant::fits(transform, 1, k), f.path() + ": " + where(e));
  const std::uint64_t b0 = e.n0 * *out_row / k, b1 = e.n1 * *out_row / k;
  if ((b1 - b0) * rows != e.bytes || b0 * k != e.n0 * *out_row) {
    return invalid_argument(f.path() + ": " + where(e) + ": columns [" + std::to_string(e.n0) + ", " +
                            std::to_string(e.n1) + ") in " + std::to_string(e.bytes) +
                            " bytes do not fit the rotated embedding's whole blocks");
  }
  std::vector<float> row(k);
  std::vector<std::uint8_t> encoded(*out_row);
  std::uint8_t* out = at(img, e);
  for (std::uint64_t r = 0; r < rows; ++r) {
    gguf::dequantize_row(t.type, t.data + r * *in_row, row.data(), k);
    transform.apply(row, 1, k);
    gguf::quantize_row(type, row.data(), encoded.data(), k);
    std::memcpy(out + r * (b1 - b0), encoded.data() + b0, b1 - b0);
  }
  return {};
}

// This chip's columns [n0, n1) of every row, as the file stores them (or
// rotated, when the Program rotates the residual stream).
Status fill_gguf_rows(const gguf::File& f, const quant::ModelTransform& mt, const LayoutEntry& e,
                      std::vector<ChipImage>& img) {
  Status error;
  const gguf::TensorInfo* t = tensor(f, e, error);
  if (t == nullptr) return error;
  if (mt.rotation && e.name == "token_embd.weight") return fill_rotated_rows(f, mt, *t, e, img);
  const std::uint64_t rows = t->n_rows();
  const std::uint64_t row_bytes = rows == 0 ? 0 : t->n_bytes / rows;
  const std::uint64_t per_elem_num = row_bytes, per_elem_den = t->row_length();
  const std::uint64_t b0 = e.n0 * per_elem_num / per_elem_den;
  const std::uint64_t b1 = e.n1 * per_elem_num / per_elem_den;
  if (rows != e.k || (b1 - b0) * rows != e.bytes || b0 * per_elem_den != e.n0 * per_elem_num) {
    return invalid_argument(f.path() + ": " + where(e) + ": columns [" + std::to_string(e.n0) +
                            ", " + std::to_string(e.n1) + ") of " + std::to_string(e.k) +
                            " rows in " + std::to_string(e.bytes) + " bytes do not fit tensor " +
                            t->shape_string() + " at whole blocks");
  }
  std::uint8_t* out = at(img, e);
  for (std::uint64_t r = 0; r < rows; ++r) {
    std::memcpy(out + r * (b1 - b0), t->data + r * row_bytes + b0, b1 - b0);
  }
  return {};
}

}  // namespace

PoolImage::PoolImage(std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges) {
  // Ranges closer than this share a window: fewer, larger allocations.
  constexpr std::uint64_t kJoin = 4096;
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
  for (const auto& r : ranges) {
    if (r.first >= r.second) continue;
    if (!merged.empty() && r.first / 64 * 64 <= merged.back().second + kJoin) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  for (const auto& [lo, hi] : merged) {
    const std::uint64_t base = lo / 64 * 64;
    windows_.push_back({base, kernels::AlignedBuffer(hi - base)});
  }
}

PoolImage::PoolImage(const PoolImage& other) { *this = other; }

PoolImage& PoolImage::operator=(const PoolImage& other) {
  if (this == &other) return *this;
  windows_.clear();
  for (const Window& w : other.windows_) {
    Window copy{w.base, kernels::AlignedBuffer(w.bytes.size())};
    if (w.bytes.size() != 0) std::memcpy(copy.bytes.data(), w.bytes.data(), w.bytes.size());
    windows_.push_back(std::move(copy));
  }
  return *this;
}

std::uint8_t* PoolImage::at(std::uint64_t offset, std::uint64_t n) {
  auto it = std::upper_bound(windows_.begin(), windows_.end(), offset,
                             [](std::uint64_t v, const Window& w) { return v < w.base; });
  if (it == windows_.begin()) return nullptr;
  Window& w = *std::prev(it);
  const std::uint64_t rel = offset - w.base;
  if (rel > w.bytes.size() || n > w.bytes.size() - rel) return nullptr;
  return w.bytes.data() + rel;
}

std::uint64_t PoolImage::size_bytes() const {
  std::uint64_t n = 0;
  for (const Window& w : windows_) n += w.bytes.size();
  return n;
}

std::vector<std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>>> image_ranges(
    const program::Program& p) {
  const std::size_t pools = p.pool_names.size();
  using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  std::vector<std::vector<Ranges>> ext(p.meta.chips, std::vector<Ranges>(pools));
  for (const LayoutEntry& e : p.layout) {
    if (e.chip < ext.size() && e.pool < pools) ext[e.chip][e.pool].emplace_back(e.offset, e.offset + e.bytes);
  }
  const program::RegisterTable regs(p);
  // Operands: deduplicated per (chip, pool) so a long stream adds few ranges.
  std::vector<std::vector<std::set<std::pair<std::uint64_t, std::uint64_t>>>> seen(
      p.meta.chips, std::vector<std::set<std::pair<std::uint64_t, std::uint64_t>>>(pools));
  for (const program::Variant& v : p.variants) {
    for (std::uint32_t c = 0; c < v.streams.size() && c < ext.size(); ++c) {
      for (const isa::Instruction& in : v.streams[c]) {
        for (int i = 0; i < 4; ++i) {
          const isa::Operand& o = i < 3 ? in.src[static_cast<std::size_t>(i)] : in.dst;
          if (!o.present() || o.pool >= pools) continue;
          const std::uint32_t chip = (i == 3 && in.op == isa::Opcode::kSend) ? in.p[0] : c;
          if (chip >= ext.size()) continue;
          seen[chip][o.pool].emplace(o.offset, o.end() + regs.reach(chip, o.index_reg));
        }
      }
    }
  }
  for (std::size_t c = 0; c < ext.size(); ++c) {
    for (std::size_t q = 0; q < pools; ++q) ext[c][q].insert(ext[c][q].end(), seen[c][q].begin(), seen[c][q].end());
  }
  return ext;
}

Result<std::vector<ChipImage>> build_sram_images(const program::Program& p, const Model& model,
                                                 const ProgressCallback& progress) {
  const gguf::File& f = model::model_file(model);
  quant::ModelTransform mt;
  mt.config = &model.config();
  if (p.smoothing.enabled()) {
    LPU_ASSIGN_OR_RETURN(mt.smoothing,
                         quant::smoothing_factors_of(p.smoothing, model.config(), "Program of " + p.meta.model_name));
  }
  if (p.rotation.enabled()) {
    auto rotation = quant::HadamardRotation::create(static_cast<std::size_t>(model.config().n_embd), p.rotation.seed);
    LPU_TRY(rotation.status(), model.path() + ": the Program's rotation");
    mt.rotation = std::move(*rotation);
  }
  auto ranges = image_ranges(p);
  std::vector<ChipImage> img(p.meta.chips);
  for (std::uint32_t c = 0; c < p.meta.chips; ++c) {
    for (std::size_t q = 0; q < p.pool_names.size(); ++q) {
      img[c].pools.emplace_back(std::move(ranges[c][q]));
    }
  }
  // Tiled entries grouped by source tensor: each tensor is imported once.
  std::map<std::string, std::vector<const LayoutEntry*>> tiled;
  std::vector<const LayoutEntry*> others;
  for (const LayoutEntry& e : p.layout) {
    if (e.encoding == Encoding::kTiledS8) {
      tiled[e.name].push_back(&e);
    } else {
      others.push_back(&e);
    }
  }
  std::vector<const std::vector<const LayoutEntry*>*> groups;
  for (const auto& [name, list] : tiled) groups.push_back(&list);
  const std::size_t total = groups.size() + others.size();
  std::vector<Status> errors(total);
  std::mutex progress_mu;
  std::size_t finished = 0;
  auto report = [&] {
    if (!progress) return;
    std::lock_guard<std::mutex> lock(progress_mu);
    progress({"loading weights", ++finished, total});
  };
  if (progress) progress({"loading weights", 0, total});
  tbb::parallel_for(std::size_t{0}, total, [&](std::size_t i) {
    if (i < groups.size()) {
      errors[i] = fill_tiled(f, mt, *groups[i], img);
      report();
      return;
    }
    const LayoutEntry& e = *others[i - groups.size()];
    switch (e.encoding) {
      case Encoding::kF32: errors[i] = fill_f32(f, mt, e, img); break;
      case Encoding::kGgufRows: errors[i] = fill_gguf_rows(f, mt, e, img); break;
      case Encoding::kZeroUnitScales: unit_scales(e, at(img, e)); break;
      default: break;  // zero state and text: already zero
    }
    report();
  });
  for (const Status& s : errors) LPU_TRY(s, "building the SRAM images of " + p.meta.model_name);
  return img;
}

}  // namespace lpu::runtime
