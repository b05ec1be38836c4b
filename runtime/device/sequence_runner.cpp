#include "runtime/device/sequence_runner.h"

#include <cstring>

#include "runtime/device/program_access.h"

namespace lpu::runtime {

Result<SequenceRunner> SequenceRunner::create(Device& device, const Program& program, std::uint32_t n_vocab,
                                              std::uint32_t slot) {
  if (slot >= program.slots()) {
    return invalid_argument("slot " + std::to_string(slot) + " (the Program has " + std::to_string(program.slots()) +
                            " slots)");
  }
  LPU_ASSIGN_OR_RETURN(StepIo io, step_io(program_of(program), n_vocab));
  return SequenceRunner(device, program, std::move(io), slot);
}

Status SequenceRunner::write_rows(const std::vector<Region>& where, const std::vector<std::int32_t>& values) {
  for (const Region& r : where) {
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(values.data()),
                                              std::min<std::size_t>(r.bytes, 4 * values.size()));
    LPU_TRY(device_->write({r.chip, r.pool, r.offset, r.bytes}, bytes), "step inputs");
  }
  return {};
}

Result<std::vector<float>> SequenceRunner::logits(std::size_t first_row, std::size_t rows) {
  const std::uint32_t nv = io_.n_vocab;
  std::vector<float> out(rows * nv);
  for (const LogitColumns& l : io_.logits) {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint64_t at = l.buffer.offset + ((first_row + r) * nv + l.n0) * 4;
      LPU_TRY(device_->read({l.buffer.chip, l.buffer.pool, at, 4ull * (l.n1 - l.n0)},
                            std::span(reinterpret_cast<std::uint8_t*>(out.data() + r * nv + l.n0),
                                      4ull * (l.n1 - l.n0))),
              "logits");
    }
  }
  return out;
}

Result<std::vector<float>> SequenceRunner::forward(std::span<const TokenId> tokens, bool all_logits) {
  const program::Program& p = program_of(program_);
  std::uint32_t max_context = 0;
  for (const program::Variant& v : p.variants) max_context = std::max(max_context, v.context);
  if (tokens.empty()) return invalid_argument("no tokens to append");
  if (static_cast<std::uint64_t>(position_) + tokens.size() > max_context) {
    return out_of_range("position " + std::to_string(position_) + " + " + std::to_string(tokens.size()) +
                        " tokens exceeds the Program's context of " + std::to_string(max_context));
  }
  const std::uint32_t nv = io_.n_vocab;
  std::vector<float> out;
  std::size_t i = 0;
  while (i < tokens.size()) {
    const std::size_t left = tokens.size() - i;
    // The prefill variant at the smallest bucket that holds the chunk.
    const program::Variant* prefill = nullptr;
    // A chunk whose rows' logits are wanted needs a variant that writes
    // them; without one, the rows run as decode steps.
    for (const program::Variant& c : p.variants) {
      if (c.kind != program::VariantKind::kPrefill || c.rows < 2 || left < c.rows ||
          static_cast<std::uint64_t>(position_) + c.rows > c.context || (all_logits && c.last_row_logits)) {
        continue;
      }
      if (prefill == nullptr || c.context < prefill->context) prefill = &c;
    }
    const program::Variant* v = nullptr;
    std::size_t n = 1;
    if (prefill != nullptr) {
      v = prefill;
      n = prefill->rows;
      for (const program::IndexRegister& r : p.registers) {
        if (r.reg == 1) LPU_TRY(device_->set_register(r.chip, 1, slot_), "prefill slot");
      }
    } else {
      for (const program::Variant& c : p.variants) {
        if (c.kind != program::VariantKind::kDecode || c.context < static_cast<std::uint32_t>(position_) + 1) continue;
        if (v == nullptr || c.context < v->context) v = &c;
      }
    }
    if (v == nullptr) return out_of_range("no step variant holds position " + std::to_string(position_));
    // Prefill rows are the chunk's tokens; decode row r is slot r.
    const std::size_t row0 = v == prefill ? 0 : slot_;
    std::vector<std::int32_t> tok(v->rows, 0), pos(v->rows, 0);
    for (std::size_t r = 0; r < n; ++r) {
      tok[row0 + r] = tokens[i + r];
      pos[row0 + r] = position_ + static_cast<std::int32_t>(r);
    }
    LPU_TRY(write_rows(io_.tokens, tok), v->name);
    LPU_TRY(write_rows(io_.positions, pos), v->name);
    LPU_ASSIGN_OR_RETURN(StepCounters c, device_->run(v->name));
    steps_.push_back(std::move(c));
    const bool want = all_logits || i + n == tokens.size();
    if (want && v->last_row_logits) {
      LPU_ASSIGN_OR_RETURN(out, logits(0, 1));
    } else if (want) {
      LPU_ASSIGN_OR_RETURN(std::vector<float> l, logits(row0, n));
      if (all_logits) {
        out.insert(out.end(), l.begin(), l.end());
      } else {
        out.assign(l.end() - nv, l.end());
      }
    }
    position_ += static_cast<int>(n);
    i += n;
  }
  return out;
}

}  // namespace lpu::runtime
