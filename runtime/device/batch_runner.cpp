#include "runtime/device/batch_runner.h"

#include <algorithm>

#include "runtime/device/program_access.h"

namespace lpu::runtime {
using program::kPrefillSlotRegister;

Result<BatchRunner> BatchRunner::create(Device& device, const Program& program, std::uint32_t n_vocab) {
  LPU_ASSIGN_OR_RETURN(StepIo io, step_io(program_of(program), n_vocab));
  return BatchRunner(device, program, std::move(io));
}

BatchRunner::BatchRunner(Device& d, const Program& p, StepIo io)
    : device_(&d), program_(p), io_(std::move(io)), variants_(p.variants()) {
  for (const program::IndexRegister& r : program_of(p).registers) {
    if (r.reg == kPrefillSlotRegister) slot_register_chips_.push_back(r.chip);
  }
  for (const ProgramVariant& v : variants_) max_context_ = std::max(max_context_, v.context);
  positions_.assign(p.slots(), 0);
}

Status BatchRunner::check(std::span<const Entry> entries) const {
  if (entries.empty()) return invalid_argument("no entries (expected at least one slot with tokens)");
  std::vector<bool> seen(positions_.size(), false);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string entry = "entry " + std::to_string(i) + ": ";
    if (e.slot >= positions_.size()) {
      return out_of_range(entry + "slot " + std::to_string(e.slot) + " (the Program has " +
                          std::to_string(positions_.size()) + " slots)");
    }
    if (seen[e.slot]) return invalid_argument(entry + "slot " + std::to_string(e.slot) + " appears twice");
    seen[e.slot] = true;
    if (e.tokens.empty()) return invalid_argument(entry + "no tokens (expected at least one)");
    for (std::size_t t = 0; t < e.tokens.size(); ++t) {
      if (e.tokens[t] < 0 || static_cast<std::uint32_t>(e.tokens[t]) >= io_.n_vocab) {
        return out_of_range(entry + "token " + std::to_string(t) + " has id " + std::to_string(e.tokens[t]) +
                            " (expected 0.." + std::to_string(io_.n_vocab - 1) + ")");
      }
    }
    const int pos = positions_[e.slot];
    if (static_cast<std::uint64_t>(pos) + e.tokens.size() > max_context_) {
      return out_of_range(entry + "slot " + std::to_string(e.slot) + " position " + std::to_string(pos) + " + " +
                          std::to_string(e.tokens.size()) + " tokens exceeds the Program's context of " +
                          std::to_string(max_context_));
    }
  }
  return {};
}

Status BatchRunner::write_rows(const std::vector<Region>& where, const std::vector<std::int32_t>& values) {
  for (const Region& r : where) {
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(values.data()),
                                              std::min<std::size_t>(r.bytes, 4 * values.size()));
    LPU_TRY(device_->write({r.chip, r.pool, r.offset, r.bytes}, bytes), "step inputs");
  }
  return {};
}

Status BatchRunner::read_logits(std::size_t first_row, std::size_t rows, float* out) {
  const std::uint32_t nv = io_.n_vocab;
  for (const LogitColumns& l : io_.logits) {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint64_t at = l.buffer.offset + ((first_row + r) * nv + l.n0) * 4;
      LPU_TRY(device_->read({l.buffer.chip, l.buffer.pool, at, 4ull * (l.n1 - l.n0)},
                            std::span(reinterpret_cast<std::uint8_t*>(out + r * nv + l.n0), 4ull * (l.n1 - l.n0))),
              "logits");
    }
  }
  return {};
}

Status BatchRunner::run_step(const std::string& variant, const std::vector<std::int32_t>& tokens,
                             const std::vector<std::int32_t>& positions) {
  LPU_TRY(write_rows(io_.tokens, tokens), variant);
  LPU_TRY(write_rows(io_.positions, positions), variant);
  LPU_ASSIGN_OR_RETURN(StepCounters c, device_->run(variant));
  steps_.push_back(std::move(c));
  return {};
}

const ProgramVariant* BatchRunner::prefill_for(int position, std::size_t left, bool all_logits) const {
  const ProgramVariant* best = nullptr;
  for (const ProgramVariant& v : variants_) {
    if (!v.prefill || v.rows < 2 || left < v.rows || static_cast<std::uint64_t>(position) + v.rows > v.context ||
        (all_logits && v.logit_rows != v.rows)) {
      continue;
    }
    // The most rows first (the fewest steps), then the smallest bucket.
    if (best == nullptr || v.rows > best->rows || (v.rows == best->rows && v.context < best->context)) best = &v;
  }
  return best;
}

Result<std::span<const float>> BatchRunner::forward(std::span<const Entry> entries) {
  LPU_TRY(check(entries), "");
  const std::uint32_t nv = io_.n_vocab;
  // Entry e's rows start at row first[e] of the result.
  std::vector<std::size_t> first(entries.size() + 1, 0);
  for (std::size_t e = 0; e < entries.size(); ++e) {
    first[e + 1] = first[e] + (entries[e].all_logits ? entries[e].tokens.size() : 1);
  }
  if (logits_.size() < first.back() * nv) logits_.resize(first.back() * nv);
  auto rows_of = [&](std::size_t e, std::size_t done_before) {
    return logits_.data() + (first[e] + (entries[e].all_logits ? done_before : 0)) * nv;
  };
  std::vector<std::size_t> done(entries.size(), 0);
  // Whole chunks through the prefill variants, one entry at a time.
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const Entry& en = entries[e];
    while (const ProgramVariant* v = prefill_for(positions_[en.slot], en.tokens.size() - done[e], en.all_logits)) {
      std::vector<std::int32_t> tok(v->rows), pos(v->rows);
      for (std::uint32_t r = 0; r < v->rows; ++r) {
        tok[r] = en.tokens[done[e] + r];
        pos[r] = positions_[en.slot] + static_cast<std::int32_t>(r);
      }
      for (std::uint32_t chip : slot_register_chips_) {
        LPU_TRY(device_->set_register(chip, kPrefillSlotRegister, en.slot), "prefill slot");
      }
      LPU_TRY(run_step(v->name, tok, pos), "");
      if (en.all_logits) {
        LPU_TRY(read_logits(0, v->rows, rows_of(e, done[e])), v->name);
      } else if (done[e] + v->rows == en.tokens.size()) {
        // The chunk's last row: row 0 when the step writes only that one.
        LPU_TRY(read_logits(v->logit_rows == v->rows ? v->rows - 1 : 0, 1, rows_of(e, 0)), v->name);
      }
      done[e] += v->rows;
      positions_[en.slot] += static_cast<int>(v->rows);
    }
  }
  // The rest as decode steps: one row per slot, one token of each entry
  // that has one left.
  const std::uint32_t slots = program_.slots();
  while (true) {
    std::vector<std::int32_t> tok(slots, 0), pos(slots, 0);
    std::vector<bool> active(entries.size(), false);
    bool any = false;
    std::uint32_t need = 0;
    for (std::uint32_t s = 0; s < slots; ++s) pos[s] = std::min<std::int32_t>(positions_[s], static_cast<std::int32_t>(max_context_) - 1);
    for (std::size_t e = 0; e < entries.size(); ++e) {
      if (done[e] == entries[e].tokens.size()) continue;
      active[e] = any = true;
      tok[entries[e].slot] = entries[e].tokens[done[e]];
    }
    if (!any) break;
    for (std::uint32_t s = 0; s < slots; ++s) need = std::max(need, static_cast<std::uint32_t>(pos[s]) + 1);
    const ProgramVariant* v = nullptr;
    for (const ProgramVariant& c : variants_) {
      if (c.prefill || c.context < need) continue;
      if (v == nullptr || c.context < v->context) v = &c;
    }
    if (v == nullptr) return out_of_range("no decode variant holds position " + std::to_string(need - 1));
    LPU_TRY(run_step(v->name, tok, pos), "");
    for (std::size_t e = 0; e < entries.size(); ++e) {
      if (!active[e]) continue;
      const Entry& en = entries[e];
      if (en.all_logits || done[e] + 1 == en.tokens.size()) {
        LPU_TRY(read_logits(en.slot, 1, rows_of(e, done[e])), v->name);
      }
      ++done[e];
      ++positions_[en.slot];
    }
  }
  return std::span<const float>(logits_.data(), first.back() * nv);
}

}  // namespace lpu::runtime
