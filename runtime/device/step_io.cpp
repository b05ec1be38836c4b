#include "runtime/device/step_io.h"

#include <algorithm>

namespace lpu::runtime {

Result<StepIo> step_io(const program::Program& p, std::uint32_t n_vocab) {
  StepIo io;
  io.n_vocab = n_vocab;
  for (const program::Variant& v : p.variants) io.max_rows = std::max(io.max_rows, v.rows);
  std::vector<Region> logit_buffers(p.meta.chips);
  std::vector<bool> has_logits(p.meta.chips, false);
  for (const program::LayoutEntry& e : p.layout) {
    const Region r{e.chip, e.pool, e.offset, e.bytes};
    if (e.name == "act.tokens") io.tokens.push_back(r);
    if (e.name == "act.positions") io.positions.push_back(r);
    if (e.name == "act.logits") {
      logit_buffers[e.chip] = r;
      has_logits[e.chip] = true;
    }
  }
  // The lm_head's entries: the matrix whose rows are the vocabulary.
  for (const program::LayoutEntry& e : p.layout) {
    const bool head = e.encoding == program::Encoding::kTiledS8 &&
                      (e.name == "output.weight" || e.name == "token_embd.weight");
    if (!head || !has_logits[e.chip]) continue;
    io.logits.push_back({logit_buffers[e.chip], e.n0, e.n1});
  }
  std::sort(io.logits.begin(), io.logits.end(),
            [](const LogitColumns& a, const LogitColumns& b) { return a.n0 < b.n0; });
  std::uint32_t covered = 0;
  for (const LogitColumns& l : io.logits) {
    if (l.n0 != covered) break;
    covered = l.n1;
  }
  if (io.tokens.empty() || io.positions.empty() || covered != n_vocab) {
    return invalid_argument("program: the layout lacks act.tokens, act.positions or lm_head entries covering " +
                            std::to_string(n_vocab) + " logits (covers " + std::to_string(covered) + ")");
  }
  return io;
}

}  // namespace lpu::runtime
