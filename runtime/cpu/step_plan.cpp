#include "runtime/cpu/step_plan.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "kernels/gemm/matmul_s8.h"
#include "lib/program/register_table.h"

namespace lpu::cpu {
namespace {

using isa::Instruction;
using isa::Opcode;

// Instructions of an attention op from which its scratch sets run
// concurrently, and of a KV append op from which its entries do.
constexpr std::size_t kParallelAttentionItems = 2048;
constexpr std::size_t kParallelAppendItems = 64;

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

// A byte address of one chip's pool as one number: chip and pool in the
// high bits, so ranges of different pools never meet.
std::uint64_t key(std::uint32_t chip, std::uint8_t pool, std::uint64_t offset) {
  return (std::uint64_t{chip} << 48) | (std::uint64_t{pool} << 40) | offset;
}

// Byte ranges (keyed by chip and pool in the high bits) an instruction
// reads or writes; indexed operands at every value their register takes.
void touch(const program::RegisterTable& regs, const Instruction& in, std::uint32_t chip, Ranges& reads,
           Ranges& writes) {
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
  // An item's group: attention by its scratch set, a KV append by the
  // cache entry it writes (appends to one entry stay in program order).
  auto set_of = [&](const Instruction& in, std::uint32_t chip) -> std::int64_t {
    if (in.op == Opcode::kKvAppend) {
      return static_cast<std::int64_t>(key(chip, in.dst.pool, in.dst.offset));
    }
    for (const isa::Operand* o : {&in.src[0], &in.src[1], &in.src[2], &in.dst}) {
      if (!o->present()) continue;
      for (const Scratch& sc : scratch) {
        if (sc.chip == chip && sc.pool == o->pool && o->offset >= sc.lo && o->offset < sc.hi) {
          return sc.set + 1000 * static_cast<std::int64_t>(chip);
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
    const bool append = op < p.ops.size() && p.ops[op].kind == "kv_append";
    if (op >= p.ops.size() || !(append || (p.ops[op].kind == "attention" && !scratch.empty()))) {
      i = end;
      continue;
    }
    ParallelOp par;
    par.begin = i;
    par.end = end;
    std::map<std::int64_t, std::size_t> group_of;
    std::vector<Ranges> reads, writes;
    bool ok = true;
    for (std::size_t k = i; k < end && ok;) {
      std::size_t next = k + 1;
      std::int64_t set = -1;
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
    if (ok && par.groups.size() > 1 && items >= (append ? kParallelAppendItems : kParallelAttentionItems)) {
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

// Cuts every int8 attention unit to its row's position: per unit (in
// program order) the QK^T run writing the scores, the softmax of those
// scores in place, the quantise of the probabilities and the PV run on
// them. Keys name (chip, pool, offset) of a scratch buffer.
void plan_position_limits(const program::Program& p, const program::Variant& v, StepPlan& plan) {
  // Scores or probabilities whose unit's softmax is known: rows x k at G.
  struct Pending {
    std::uint32_t softmax, rows, k, group;
  };
  std::unordered_map<std::uint64_t, std::uint32_t> scores_by;  // sc -> QK run
  std::unordered_map<std::uint64_t, Pending> pending;           // sc or pq -> its unit
  plan.quantize_limit.assign(plan.order.size(), kNoRun);
  for (std::size_t i = 0; i < plan.order.size();) {
    if (const std::uint32_t f = plan.fast_at[i]; f != kNoRun) {
      FastMatmul& m = plan.fast[f].second;
      const std::uint64_t y = key(m.chip, m.y_pool, m.y_offset);
      const auto s = pending.find(key(m.chip, m.x.pool, m.x.offset));
      if (s != pending.end() && m.x.index_reg == 0 && s->second.rows == m.rows && s->second.k == m.k &&
          s->second.group == m.group) {
        m.limit = PositionLimit::kGroups;
        m.softmax = plan.softmaxes[s->second.softmax];
      }
      pending.erase(y);
      scores_by[y] = f;
      i = plan.fast[f].first.second;
      continue;
    }
    const Ref r = plan.order[i];
    const Instruction& in = v.streams[r.chip][r.index];
    const bool attention = in.op_id < p.ops.size() && p.ops[in.op_id].kind == "attention";
    const std::uint64_t dst = key(in.op == Opcode::kSend ? in.p[0] : r.chip, in.dst.pool, in.dst.offset);
    if (attention && in.op == Opcode::kSoftmax && in.src[0].offset == in.dst.offset &&
        in.src[0].pool == in.dst.pool && in.dst.index_reg == 0 && in.src[0].index_reg == 0) {
      if (const auto q = scores_by.find(dst); q != scores_by.end()) {
        FastMatmul& m = plan.fast[q->second].second;
        if (m.rows == in.p[0] && m.n == in.p[1] && m.y_stride == in.p[1]) {
          m.limit = PositionLimit::kColumns;
          m.softmax = r;
        }
      }
      pending[dst] = {static_cast<std::uint32_t>(plan.softmaxes.size()), in.p[0], in.p[1], 0};
      plan.softmaxes.push_back(r);
    } else if (const auto s = pending.find(key(r.chip, in.src[0].pool, in.src[0].offset));
               attention && in.op == Opcode::kQuantize && s != pending.end() && in.src[0].index_reg == 0 &&
               in.dst.index_reg == 0 && s->second.group == 0 && in.p[0] == s->second.rows &&
               in.p[1] == s->second.k && in.p[2] == s->second.k) {
      plan.quantize_limit[i] = s->second.softmax;
      pending[dst] = {s->second.softmax, in.p[0], in.p[1], in.p[3]};
    } else {
      pending.erase(dst);
    }
    scores_by.erase(dst);
    ++i;
  }
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
  plan_position_limits(p, v, *plan);
  if (concurrent) plan->parallel = plan_parallel(p, v, plan->order, plan->fast_at, plan->fast);
  return plan_value;
}

}  // namespace lpu::cpu
