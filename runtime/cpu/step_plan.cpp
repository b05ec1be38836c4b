#include "runtime/cpu/step_plan.h"

#include <algorithm>
#include <map>
#include <string>

#include "kernels/gemm/matmul_s8.h"
#include "lib/program/register_table.h"

namespace lpu::cpu {
namespace {

using isa::Instruction;
using isa::Opcode;

// Instructions of an attention op from which its scratch sets run concurrently.
constexpr std::size_t kParallelAttentionItems = 2048;

// Tries to read order[i..) as one weight matmul whose blocks are the
// kernels' packed layout: per 16-column tile, one pass per group in
// ascending k, blocks consecutive in one pool, the same activation rows,
// outputs at consecutive columns. Returns the run's end (i when none).
std::size_t match_fast(const program::Variant& v, const std::vector<Ref>& order, std::size_t i,
                       const target::Target& t, FastMatmul& f) {
  if (t.matrix.tile_n != 16 || t.matrix.planes != 1) return i;
  const Instruction& first = v.streams[order[i].chip][order[i].index];
  if (first.op != Opcode::kLoadWeights) return i;
  const std::uint32_t op = first.op_id;
  std::uint64_t next_block = first.src[0].offset;
  std::size_t j = i;
  std::uint32_t n = 0, tile = 0, k_expect = 0;
  f = FastMatmul{};
  f.chip = order[i].chip;
  f.w_pool = first.src[0].pool;
  f.w_reg = first.src[0].index_reg;
  f.w_offset = first.src[0].offset;
  while (j + 1 < order.size()) {
    const Instruction& lw = v.streams[order[j].chip][order[j].index];
    const Instruction& mm = v.streams[order[j + 1].chip][order[j + 1].index];
    if (lw.op_id != op || mm.op_id != op || lw.op != Opcode::kLoadWeights || mm.op != Opcode::kMatmul ||
        order[j].chip != f.chip || order[j + 1].chip != f.chip || lw.src[0].index_reg != f.w_reg ||
        lw.src[0].pool != f.w_pool || lw.src[0].offset != next_block || mm.p[1] != lw.p[0] ||
        mm.src[0].index_reg != 0) {
      break;
    }
    const std::uint32_t len = mm.p[2], cols = mm.p[3], k0 = mm.p[4], width = mm.p[5];
    if (f.rows == 0) {
      f.x = mm.src[0];
      f.rows = mm.p[0];
      f.k = width;
      f.group = len;
      f.y_stride = mm.p[6];
    }
    const bool same_x = mm.src[0].pool == f.x.pool && mm.src[0].offset == f.x.offset &&
                        mm.src[0].bytes == f.x.bytes && mm.p[0] == f.rows && width == f.k &&
                        mm.p[6] == f.y_stride;
    const bool whole_group = (mm.flags & isa::kGroupBegin) && (mm.flags & isa::kGroupEnd) &&
                             k0 == k_expect && (len == f.group || k0 + len == f.k) &&
                             ((k0 == 0) == bool(mm.flags & isa::kAccInit)) &&
                             ((k0 + len == f.k) == bool(mm.flags & isa::kStore));
    if (!same_x || !whole_group || cols > 16) break;
    if (mm.flags & isa::kStore) {
      const std::uint64_t want = tile == 0 ? mm.dst.offset : f.y_offset + 4ull * 16 * tile;
      if (tile == 0) {
        f.y_pool = mm.dst.pool;
        f.y_offset = mm.dst.offset;
      } else if (mm.dst.offset != want || mm.dst.pool != f.y_pool || n % 16 != 0) {
        break;
      }
      n += cols;
      ++tile;
      k_expect = 0;
    } else {
      k_expect = k0 + len;
    }
    next_block += lw.src[0].bytes;
    j += 2;
  }
  // Only whole tiles count, and the blocks must be exactly the packed layout.
  while (j > i && v.streams[order[j - 1].chip][order[j - 1].index].op == Opcode::kMatmul &&
         !(v.streams[order[j - 1].chip][order[j - 1].index].flags & isa::kStore)) {
    j -= 2;
  }
  if (n == 0 || f.group % 32 != 0) return i;
  f.n = n;
  // Recount next_block up to j (the loop may have run past the last store).
  std::uint64_t bytes = 0;
  for (std::size_t q = i; q < j; q += 2) bytes += v.streams[order[q].chip][order[q].index].src[0].bytes;
  if (kernels::packed_bytes(n, f.k, f.group) != bytes) return i;
  return j;
}



using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// Byte ranges (keyed by chip and pool in the high bits) an instruction
// reads or writes; indexed operands at every value their register takes.
void touch(const program::RegisterTable& regs, const Instruction& in, std::uint32_t chip, Ranges& reads,
           Ranges& writes) {
  auto key = [](std::uint32_t c, std::uint8_t pool, std::uint64_t off) {
    return (std::uint64_t{c} << 48) | (std::uint64_t{pool} << 40) | off;
  };
  auto add = [&](const isa::Operand& o, std::uint32_t c, Ranges& out) {
    if (!o.present()) return;
    out.emplace_back(key(c, o.pool, o.offset), key(c, o.pool, o.end() + regs.reach(c, o.index_reg)));
  };
  for (const isa::Operand& o : in.src) add(o, chip, reads);
  add(in.dst, in.op == Opcode::kSend ? in.p[0] : chip, writes);
}

bool overlaps(Ranges a, Ranges b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].second <= b[j].first) {
      ++i;
    } else if (b[j].second <= a[i].first) {
      ++j;
    } else {
      return true;
    }
  }
  return false;
}

// The attention ops of `order` whose work can run concurrently: each
// item (a whole-matmul run or one instruction) belongs to the scratch set
// (act.att.qq<i>, act.att.sc<i>, act.att.pq<i>) its operands touch; items
// of one set stay in program order, and sets are checked to touch
// disjoint bytes otherwise.
std::vector<ParallelOp> plan_parallel(const program::Program& p, const program::Variant& v,
                                      const std::vector<Ref>& order,
                                      const std::vector<std::uint32_t>& fast_at,
                                      const std::vector<std::pair<std::pair<std::size_t, std::size_t>, FastMatmul>>& fast) {
  const program::RegisterTable regs(p);
  struct Scratch { std::uint32_t chip; std::uint8_t pool; std::uint64_t lo, hi; int set; };
  std::vector<Scratch> scratch;
  for (const program::LayoutEntry& e : p.layout) {
    for (const char* prefix : {"act.att.qq", "act.att.sc", "act.att.pq"}) {
      if (e.name.rfind(prefix, 0) == 0) {
        scratch.push_back({e.chip, e.pool, e.offset, e.offset + e.bytes, std::stoi(e.name.substr(10))});
      }
    }
  }
  auto set_of = [&](const Instruction& in, std::uint32_t chip) {
    for (const isa::Operand* o : {&in.src[0], &in.src[1], &in.src[2], &in.dst}) {
      if (!o->present()) continue;
      for (const Scratch& sc : scratch) {
        if (sc.chip == chip && sc.pool == o->pool && o->offset >= sc.lo && o->offset < sc.hi) {
          return sc.set + 1000 * static_cast<int>(chip);
        }
      }
    }
    return -1;
  };
  std::vector<ParallelOp> out;
  std::size_t i = 0;
  while (i < order.size()) {
    const std::uint32_t op = v.streams[order[i].chip][order[i].index].op_id;
    std::size_t end = i;
    while (end < order.size() && v.streams[order[end].chip][order[end].index].op_id == op) ++end;
    if (op >= p.ops.size() || p.ops[op].kind != "attention" || scratch.empty()) {
      i = end;
      continue;
    }
    ParallelOp par;
    par.begin = i;
    par.end = end;
    std::map<int, std::size_t> group_of;
    std::vector<Ranges> reads, writes;
    bool ok = true;
    for (std::size_t k = i; k < end && ok;) {
      std::size_t next = k + 1;
      int set = -1;
      if (fast_at[k] != kNoRun) {
        next = fast[fast_at[k]].first.second;
        const Ref& mr = order[k + 1];  // the run's first matrix pass
        set = set_of(v.streams[mr.chip][mr.index], mr.chip);
      } else {
        const Instruction& in = v.streams[order[k].chip][order[k].index];
        if (in.op == Opcode::kMatmul || in.op == Opcode::kLoadWeights) ok = false;  // plane state is shared
        set = set_of(in, order[k].chip);
      }
      if (next > end || set < 0) ok = false;
      if (!ok) break;
      auto [it, fresh] = group_of.try_emplace(set, par.groups.size());
      if (fresh) {
        par.groups.emplace_back();
        reads.emplace_back();
        writes.emplace_back();
      }
      auto& g = par.groups[it->second];
      if (!g.empty() && g.back().second == k) {
        g.back().second = next;
      } else {
        g.emplace_back(k, next);
      }
      for (std::size_t q = k; q < next; ++q) {
        touch(regs, v.streams[order[q].chip][order[q].index], order[q].chip, reads[it->second], writes[it->second]);
      }
      k = next;
    }
    // Few items (a decode step's heads) cost less than a parallel region.
    const std::size_t items = end - i;
    if (ok && par.groups.size() > 1 && items >= kParallelAttentionItems) {
      for (std::size_t a = 0; a < par.groups.size() && ok; ++a) {
        for (std::size_t b = a + 1; b < par.groups.size() && ok; ++b) {
          if (overlaps(writes[a], writes[b]) || overlaps(writes[a], reads[b]) || overlaps(reads[a], writes[b])) ok = false;
        }
      }
      if (ok) out.push_back(std::move(par));
    }
    i = end;
  }
  return out;
}

}  // namespace

StepPlan make_step_plan(const program::Program& p, const program::Variant& v,
                        const target::Target& t, bool concurrent) {
  StepPlan plan_value;
  StepPlan* plan = &plan_value;
  std::size_t total = 0;
  for (const auto& st : v.streams) total += st.size();
  plan->order.resize(total);
  for (std::uint32_t c = 0; c < v.streams.size(); ++c) {
    for (std::uint32_t i = 0; i < v.streams[c].size(); ++i) plan->order[v.streams[c][i].seq] = {c, i};
  }
  plan->fast_at.assign(total, kNoRun);
  for (std::size_t i = 0; i < total;) {
    FastMatmul f;
    const std::size_t end = match_fast(v, plan->order, i, t, f);
    if (end > i) {
      plan->fast_at[i] = static_cast<std::uint32_t>(plan->fast.size());
      plan->fast.push_back({{i, end}, f});
      i = end;
    } else {
      ++i;
    }
  }
  if (concurrent) plan->parallel = plan_parallel(p, v, plan->order, plan->fast_at, plan->fast);
  return plan_value;
}

}  // namespace lpu::cpu
