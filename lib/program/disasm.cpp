// The text form of a Program (`lpu disasm`): header, pools, layout,
// registers, ops, then each variant's figures and per-chip instructions in
// isa::to_text form. Prints whatever it is given, valid or not, so it can
// show a Program that validate() refuses.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "lib/program/program.h"

namespace lpu::program {
namespace {

// printf into a std::string.
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof(buf)) {
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  va_start(args, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, args);
  va_end(args);
  big.resize(static_cast<std::size_t>(n));
  out += big;
}

template <typename E>
std::string enum_text(E v, unsigned count, std::string_view (*name)(E)) {
  const auto raw = static_cast<unsigned>(v);
  if (raw < count) return std::string(name(v));
  std::string s = "#";  // appended: GCC 12 warns falsely on "#" + std::string
  s += std::to_string(raw);
  return s;
}

std::string pool_text(const Program& p, std::uint8_t pool) {
  return pool < p.pool_names.size() ? p.pool_names[pool] : "pool#" + std::to_string(pool);
}

void header(std::string& out, const Program& p) {
  const Metadata& m = p.meta;
  appendf(out, "lpu program (format %u.%u)\n", unsigned{kFormatMajor}, unsigned{kFormatMinor});
  appendf(out, "model    %s  hash %s\n", m.model_name.c_str(), m.model_hash.c_str());
  appendf(out, "target   %s  hash %s\n", m.target_name.c_str(), m.target_hash.c_str());
  appendf(out, "options  hash %s\n", m.options_hash.c_str());
  appendf(out, "G %u  kv %s  slots %u  chips %u  clock %.0f Hz  rms_eps %g\n", m.group,
          m.kv.c_str(), m.slots, m.chips, m.clock_hz, static_cast<double>(m.rms_eps));
  if (p.rotation.enabled()) {
    appendf(out, "rotation %s  seed %llu\n", p.rotation.method.c_str(),
            static_cast<unsigned long long>(p.rotation.seed));
  } else {
    appendf(out, "rotation none\n");
  }
  const Smoothing& s = p.smoothing;
  if (!s.enabled()) {
    appendf(out, "smoothing none\n");
    return;
  }
  std::size_t channels = 0;
  for (const SmoothingSite& site : s.sites) {
    for (const auto& layer : site.log2_factors) channels += layer.size();
  }
  appendf(out, "smoothing %s  alpha %g  calibration %u tokens, hash %s  (%zu sites, %zu factors)\n",
          s.method.c_str(), static_cast<double>(s.alpha), s.calibration_tokens,
          s.calibration_hash.c_str(), s.sites.size(), channels);
}

void pools(std::string& out, const Program& p) {
  appendf(out, "\npools (%zu)\n", p.pool_names.size());
  for (std::size_t i = 0; i < p.pool_names.size(); ++i) {
    appendf(out, "  %zu %s\n", i, p.pool_names[i].c_str());
  }
}

void registers_and_ops(std::string& out, const Program& p) {
  appendf(out, "\nregisters (%zu)\n", p.registers.size());
  for (const IndexRegister& r : p.registers) {
    appendf(out, "  chip %u r%u  stride %llu  count %u  %s\n", r.chip, unsigned{r.reg},
            static_cast<unsigned long long>(r.stride_bytes), r.count, r.meaning.c_str());
  }
  appendf(out, "\nops (%zu)\n", p.ops.size());
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const OpRecord& op = p.ops[i];
    appendf(out, "  %zu %s  %s  layer %d\n", i, op.name.c_str(), op.kind.c_str(), op.layer);
  }
}

void layout(std::string& out, const Program& p) {
  int pool_w = 4;
  int name_w = 4;
  for (const LayoutEntry& e : p.layout) {
    pool_w = std::max(pool_w, static_cast<int>(pool_text(p, e.pool).size()));
    name_w = std::max(name_w, static_cast<int>(std::min<std::size_t>(e.name.size(), 64)));
  }
  appendf(out, "\nlayout (%zu entries)\n", p.layout.size());
  appendf(out, "  %-4s %-*s %12s %12s %-9s %-12s %-*s slice\n", "chip", pool_w, "pool", "offset",
          "bytes", "encoding", "kind", name_w, "name");
  for (const LayoutEntry& e : p.layout) {
    char offset[32];
    std::snprintf(offset, sizeof(offset), "0x%llx", static_cast<unsigned long long>(e.offset));
    const bool sliced = e.encoding == Encoding::kTiledS8 || e.encoding == Encoding::kGgufRows;
    appendf(
        out, "  %-4u %-*s %12s %12llu %-9s %-12s %-*s", e.chip, pool_w,
        pool_text(p, e.pool).c_str(), offset, static_cast<unsigned long long>(e.bytes),
        enum_text(e.encoding, static_cast<unsigned>(Encoding::kEncodingCount), encoding_name)
            .c_str(),
        enum_text(e.kind, static_cast<unsigned>(DataKind::kDataKindCount), data_kind_name).c_str(),
        sliced ? name_w : 0, e.name.c_str());
    if (e.encoding == Encoding::kTiledS8) {
      appendf(out, " n [%u, %u) k %u expert %u tile_n %u seg %u G %u", e.n0, e.n1, e.k, e.expert,
              e.tile_n, e.seg, e.group);
    } else if (e.encoding == Encoding::kGgufRows) {
      appendf(out, " n [%u, %u) expert %u", e.n0, e.n1, e.expert);
    }
    out += '\n';
  }
}

void variant(std::string& out, const Program& p, const Variant& v) {
  appendf(out, "\nvariant %s (%s): context %u, rows %u, static latency %llu cycles", v.name.c_str(),
          v.kind == VariantKind::kDecode    ? "decode"
          : v.kind == VariantKind::kPrefill ? "prefill"
                                            : "kind?",
          v.context, v.rows, static_cast<unsigned long long>(v.static_latency_cycles));
  if (p.meta.clock_hz > 0) {
    appendf(out, " (%.3f us)",
            static_cast<double>(v.static_latency_cycles) / p.meta.clock_hz * 1e6);
  }
  if (v.last_row_logits) out += ", last row's logits only";
  appendf(out, ", lower bound %llu, initiation interval %llu\n",
          static_cast<unsigned long long>(v.lower_bound_cycles),
          static_cast<unsigned long long>(v.initiation_interval_cycles));
  for (std::size_t c = 0; c < v.streams.size(); ++c) {
    appendf(out, "  chip %zu (%zu instructions)\n", c, v.streams[c].size());
    for (const isa::Instruction& in : v.streams[c]) {
      out += "    ";
      out += isa::to_text(in, p.pool_names.data(), p.pool_names.size());
      out += '\n';
    }
  }
}

}  // namespace

std::string disassemble(const Program& p) {
  std::string out;
  header(out, p);
  pools(out, p);
  layout(out, p);
  registers_and_ops(out, p);
  for (const Variant& v : p.variants) variant(out, p, v);
  return out;
}

}  // namespace lpu::program
