#pragma once
// Per-chip SRAM images of a Program: every layout entry's bytes built from
// the model, at the (chip, pool, offset) the Program gives, in the entry's
// encoding (docs/program-format.md, docs/isa.md "Data layouts"). Both
// backends load these; neither reads the GGUF again.

#include <cstdint>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/progress.h"
#include "include/lpu/status.h"
#include "kernels/pack/aligned_buffer.h"
#include "lib/program/program.h"

namespace lpu::runtime {

/// The bytes of one pool the Program uses: disjoint windows covering every
/// layout entry and every address an operand can reach (placement spreads
/// data over a pool's planes and fills from the top, so a pool's used
/// bytes are far apart; the unused ones are not held).
class PoolImage {
 public:
  /// Windows from [lo, hi) ranges (merged where they overlap or nearly touch).
  explicit PoolImage(std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges = {});
  PoolImage(const PoolImage& other);
  PoolImage& operator=(const PoolImage& other);
  PoolImage(PoolImage&&) noexcept = default;
  PoolImage& operator=(PoolImage&&) noexcept = default;

  /// [offset, offset + n) inside one window, or null.
  std::uint8_t* at(std::uint64_t offset, std::uint64_t n);
  const std::uint8_t* at(std::uint64_t offset, std::uint64_t n) const {
    return const_cast<PoolImage*>(this)->at(offset, n);
  }
  /// Bytes held.
  std::uint64_t size_bytes() const;

 private:
  // A window starts at a multiple of 64 and its memory is 64-byte
  // aligned, so a pool offset and its address agree modulo 64 (the SIMD
  // kernels load 64-byte-aligned vectors of the weight blocks).
  struct Window {
    std::uint64_t base = 0;
    kernels::AlignedBuffer bytes;
  };
  std::vector<Window> windows_;  // ascending base
};

struct ChipImage {
  std::vector<PoolImage> pools;
};

/// Per (chip, pool), the [lo, hi) ranges the Program uses: layout entries
/// and every operand's reach (indexed operands up to their largest
/// register value).
std::vector<std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>>> image_ranges(
    const program::Program& p);

/// Builds every chip's image from `model`. Errors name the layout entry and
/// what it expected of the model (a missing tensor, a shape that differs).
Result<std::vector<ChipImage>> build_sram_images(const program::Program& p, const Model& model,
                                                 const ProgressCallback& progress = {});

}  // namespace lpu::runtime
