#pragma once
// Runs the sequences of a loaded Device's batch slots through a Program's
// step variants. Each entry's tokens go through prefill variants
// (register r1 = its slot), the most rows that fit first (a whole chunk,
// then tail variants of fewer rows), at the smallest bucket that holds
// them; the rest runs as decode steps, one row per slot, each step taking one token
// of every entry that has one left, at the smallest bucket that holds
// every row. A slot without a token in a decode step runs its next
// position again (its own next token writes that KV entry anew), or its
// last when full, so no other sequence's cache is touched. Token ids and
// positions are written to every chip that reads them, logits read back
// from the chips that hold their columns. Rows are independent, so a
// sequence's logits do not depend on the other slots or the steps chosen.

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "include/lpu/device.h"
#include "include/lpu/program.h"
#include "include/lpu/status.h"
#include "include/lpu/token.h"
#include "runtime/device/step_io.h"

namespace lpu::runtime {

class BatchRunner {
 public:
  /// `device` has `program` loaded and must outlive the runner.
  static Result<BatchRunner> create(Device& device, const Program& program, std::uint32_t n_vocab);

  struct Entry {
    std::uint32_t slot = 0;
    std::span<const TokenId> tokens;
    /// Logits of every token of the entry, not only the last. Prefill
    /// variants that write only their last row's are then passed over.
    bool all_logits = false;
  };

  /// Appends each entry's tokens to its slot; returns, per entry in order,
  /// n_vocab logits per token when all_logits, else its last token's: a
  /// view of the runner's buffer, valid until the next call.
  /// Errors, checked before any step runs: no entries, a slot outside the
  /// Program's or named twice, an entry without tokens, a token id outside
  /// [0, n_vocab), or a position + tokens past the Program's context.
  Result<std::span<const float>> forward(std::span<const Entry> entries);

  std::uint32_t slots() const { return static_cast<std::uint32_t>(positions_.size()); }
  /// The slot's next position (tokens in its cache).
  int position(std::uint32_t slot) const { return positions_.at(slot); }
  /// Empties slot `slot` (its next token goes to position 0).
  void reset(std::uint32_t slot) { positions_.at(slot) = 0; }
  /// The largest context of the Program's variants.
  std::uint32_t max_context() const { return max_context_; }
  /// Counters of every step run so far (prefill chunks included).
  const std::vector<StepCounters>& steps() const { return steps_; }
  /// The counters of the steps run since the last call, which forgets
  /// them (a long-running caller keeps only what it wants).
  std::vector<StepCounters> take_steps() { return std::exchange(steps_, {}); }

 private:
  BatchRunner(Device& d, const Program& p, StepIo io);
  Status check(std::span<const Entry> entries) const;
  Status write_rows(const std::vector<Region>& where, const std::vector<std::int32_t>& values);
  // Rows [first_row, first_row + rows) of the device's logits buffer, into
  // `out` (rows x n_vocab floats).
  Status read_logits(std::size_t first_row, std::size_t rows, float* out);
  // Runs variant `v` with these rows' tokens and positions.
  Status run_step(const std::string& variant, const std::vector<std::int32_t>& tokens,
                  const std::vector<std::int32_t>& positions);
  // The prefill variant for a chunk of `slot` at `position`, or null.
  const ProgramVariant* prefill_for(int position, std::size_t left, bool all_logits) const;

  Device* device_;
  Program program_;
  StepIo io_;
  std::vector<ProgramVariant> variants_;
  std::vector<std::uint32_t> slot_register_chips_;  // chips with r1, the prefill slot
  std::uint32_t max_context_ = 0;
  std::vector<int> positions_;
  std::vector<StepCounters> steps_;
  std::vector<float> logits_;  // what forward() returns a view of
};

}  // namespace lpu::runtime
