#include "lib/compiler/lowering.h"

#include <algorithm>
#include <map>

// Chip-to-chip transfers: sends of strided rows over link slots, and the
// all-gather of column-split outputs.
namespace lpu::compiler {

// Sends rows x [col0, col0 + cols) floats of buffer `buf` (rows `width`
// floats apart) from chip `from` to the same place on chip `to`.
// `own`: -1 reads the whole buffer, >= 0 the part written whole under
// that id, -2 the 16-column parts of the rows and columns sent.
void Lowering::send(const std::string& buf, std::uint32_t from, std::uint32_t to, std::uint32_t nrows,
          std::uint32_t row0, std::uint32_t col0, std::uint32_t cols, std::uint32_t width,
          std::int64_t sub, std::int64_t own) {
  if (cols == 0 || nrows == 0) return;
  const int src = entry(from, buffer_key(buf));
  const int dst = entry(to, buffer_key(buf));
  const std::uint64_t off = (std::uint64_t{row0} * width + col0) * 4;
  const std::uint64_t span = (std::uint64_t{nrows} - 1) * width * 4 + cols * 4ull;
  Instruction in = instr(Opcode::kSend, Unit::kLink, link_to(from, to));
  in.src[0] = operand(src, off, span);
  in.dst = operand(dst, off, span);
  in.p = {to, nrows, cols * 4, width * 4, width * 4, 0, 0};
  // It reads this chip's own piece: the parts its matrix passes wrote
  // (16 columns each), or the piece written whole (`own`), never the
  // pieces other chips send in.
  std::vector<RegionRef> reads;
  const auto s_id = static_cast<std::uint64_t>(src);
  if (own >= 0) {
    reads.push_back({s_id, own, -1});
  } else if (own == -1) {
    reads.push_back({s_id, -1, -1});
  } else {
    for (std::uint32_t r = row0; r < row0 + nrows; ++r) {
      const std::uint64_t base = std::uint64_t{r} * width;
      reads.push_back({s_id, static_cast<std::int64_t>((base + col0) / 16),
                       static_cast<std::int64_t>((base + col0 + cols + 15) / 16)});
    }
  }
  const RegionRef write{static_cast<std::uint64_t>(dst), sub, -1};
  sched.add(from, in, std::span<const RegionRef>(reads), std::span<const RegionRef>(&write, 1));
}

// The peers of chip `a` of a stage in the order its sends go out: round
// robin over its links, so that every link starts at once (a resource's
// reservations only grow: emission order is priority).
std::vector<std::uint32_t> Lowering::send_order(std::uint32_t stage, std::uint32_t a) const {
  std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t>> keyed;
  std::map<std::uint32_t, std::uint32_t> per_link;
  for (std::uint32_t q = 1; q < p.tp; ++q) {
    const std::uint32_t b = (a + q) % p.tp;
    const std::uint32_t link = link_to(p.first_chip(stage) + a, p.first_chip(stage) + b);
    keyed.push_back({{per_link[link]++, link}, b});
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::uint32_t> out;
  for (const auto& k : keyed) out.push_back(k.second);
  return out;
}

// Every chip of `stage` sends its piece of the buffer to every other.
void Lowering::all_gather(std::uint32_t stage, const std::string& buf, std::uint32_t width,
                        std::uint32_t nrows, const std::vector<Range>& piece, std::uint32_t row0,
                        std::int64_t own) {
  if (p.tp == 1) return;
  for (std::uint32_t a = 0; a < p.tp; ++a) {
    for (std::uint32_t b : send_order(stage, a)) {
      send(buf, p.first_chip(stage) + a, p.first_chip(stage) + b, nrows, row0, piece[a].begin,
           piece[a].size(), width, (1ll << 40) + a, own == -3 ? (1ll << 40) + a : own);
    }
  }
}

}  // namespace lpu::compiler
