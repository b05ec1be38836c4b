// The compiler's pipeline: options -> partition -> place -> per variant
// (graph -> lower + schedule -> lower bound) -> text placement -> emit ->
// validate. Each stage is a function of its inputs alone.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <tuple>
#include <mutex>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "lib/compiler/compiler.h"
#include "lib/compiler/lower.h"
#include "lib/compiler/lower_bound.h"
#include "lib/compiler/partition.h"
#include "lib/compiler/place.h"
#include "lib/compiler/report.h"
#include "lib/core/sha256.h"
#include "lib/quant/hadamard.h"
#include "lib/quant/smoothing_record.h"
#include "lib/gguf/file.h"
#include "lib/gguf/tensor_type.h"
#include "lib/graph/graph.h"
#include "lib/model/config_internal.h"
#include "lib/model/model_hash.h"

namespace lpu::compiler {
namespace {

// Prefill variants go to every bucket only while the largest has at most
// this many instructions (their scheduling time and text grow with it).
constexpr std::uint64_t kMaxPrefillBucketInstructions = 2'000'000;

// Context buckets: powers of two from 128 up to the largest, which is
// always one of them.
std::vector<std::uint32_t> buckets(std::uint32_t max_ctx) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t b = 128; b < max_ctx; b *= 2) out.push_back(b);
  out.push_back(max_ctx);
  return out;
}

// Partition and placement. Packs for the whole pools first; when
// placement then finds no room (alignment, planes' ranges), packs again
// for less of each pool.
// Among the partitions that fit, the one with the least chips (none
// given) or with the smallest lower bound of the headline decode step
// (a chip count given); ties go to fewer chips, then narrower stages.
std::optional<Placement> plan(const ModelInput& m, const target::Target& t, const Shapes& s,
                              std::uint32_t chips, Partition& p) {
  auto g = graph::build_step_graph(m.config, {s.slots, s.context, false});
  if (!g.ok()) return std::nullopt;
  // Candidates of every fill, best first: placement can fail where
  // packing did not (alignment, planes' ranges); then the next is tried.
  struct Candidate {
    std::uint64_t key, chips, order;
    Partition p;
  };
  std::vector<Candidate> all;
  std::uint64_t order = 0;
  for (const double fill : {1.0, 0.97, 0.93, 0.85, 0.7}) {
    for (Partition& c : partition_candidates(m, t, s, chips, fill)) {
      all.push_back({0, c.chips_used, order++, std::move(c)});
    }
  }
  // With no chip count, only the fewest chips compete; among them (and
  // among all with a count given) the smallest estimate wins (the lower
  // bound with every send round on the chain: see partition_estimate).
  std::uint64_t fewest = UINT64_MAX;
  for (const Candidate& c : all) fewest = std::min(fewest, c.chips);
  for (Candidate& c : all) {
    const bool compete = chips != 0 || c.chips == fewest;
    c.key = compete ? partition_estimate(*g, m, t, s, c.p) : UINT64_MAX;
    if (chips == 0) std::swap(c.key, c.chips);  // order by chips first
  }
  // Within 5% of the best estimate, narrower stages win: fewer gathers
  // and wider tiles, so fewer instructions and less memory to compile.
  if (chips != 0 && !all.empty()) {
    std::uint64_t best = UINT64_MAX;
    for (const Candidate& c : all) best = std::min(best, c.key);
    for (Candidate& c : all) {
      if (c.key <= best + best / 20) c.key = best + c.p.tp;  // tp orders the near-best
    }
  }
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.key, a.chips, a.order) < std::tie(b.key, b.chips, b.order);
  });
  for (std::size_t i = 0; i < all.size() && i < 96; ++i) {
    auto pl = place_model(m, t, s, all[i].p);
    if (std::getenv("LPU_DEBUG_PLACE") != nullptr) {
      std::fprintf(stderr, "tp %u stages %u: %s\n", all[i].p.tp, all[i].p.stages,
                   pl.ok() ? "placed" : pl.status().message().c_str());
    }
    if (pl.ok()) {
      p = std::move(all[i].p);
      return std::move(pl).value();
    }
  }
  return std::nullopt;
}

Status capacity_error(const ModelInput& m, const target::Target& t, const Shapes& s,
                      std::uint32_t chips) {
  const auto layers = static_cast<std::uint32_t>(m.config.n_layer);
  std::uint64_t weights = 0;
  for (std::uint32_t i = 0; i < layers + 2; ++i) weights += item_bytes(m, t, s, i, 1).weights;
  const std::uint64_t kv_slot = std::uint64_t{layers} * static_cast<std::uint32_t>(m.config.n_head_kv) *
                                kv_head_bytes(m, t, s, s.context);
  std::ostringstream os;
  os << "model '" << m.config.name << "' does not fit "
     << (chips == 0 ? "any system" : std::to_string(chips) + " chip(s)") << " of target '"
     << t.name << "':\n"
     << "  needs: weights " << byte_size(weights) << " (int8 + scales, G = " << s.group
     << "); KV cache " << byte_size(kv_slot) << " per slot at the " << s.context
     << "-token bucket (x " << s.slots << " slots = " << byte_size(kv_slot * s.slots)
     << "); activations " << byte_size(activation_bytes(m, t, s))
     << " per chip; instructions in their own pool\n"
     << "  target offers per chip:";
  for (const target::Pool& p : t.pools) os << " " << p.name << " " << byte_size(p.capacity_bytes);
  os << "; at most " << t.topology.max_chips() << " chips\n";
  Partition least;
  if (plan(m, t, s, 0, least)) {
    os << "least number of chips that fits: " << least.chips_used;
  } else {
    os << "least number of chips that fits: none (a layer does not fit even split over "
       << "the widest stage; use a larger target)";
  }
  return resource_exhausted(os.str());
}

Status resolve(const ModelInput& m, const target::Target& t, const CompileOptions& o, Shapes& s) {
  s.group = o.group == 0 ? t.default_group() : o.group;
  if (s.group % 32 != 0 || s.group < 32 || s.group > 65536) {
    return invalid_argument("--group " + std::to_string(s.group) +
                            " (expected a multiple of 32 in [32, 65536])");
  }
  const std::string kv = o.kv.empty() ? t.default_kv : o.kv;
  if (kv != "int8" && kv != "f16") return invalid_argument("--kv " + kv + " (expected int8 or f16)");
  s.kv_int8 = kv == "int8";
  s.row_group = static_cast<std::uint32_t>((m.config.head_dim + 31) / 32 * 32);
  s.context = o.max_context == 0 ? static_cast<std::uint32_t>(m.config.n_ctx_train) : o.max_context;
  if (s.context == 0) return invalid_argument("--ctx: the model has no training context; give --ctx");
  if (o.slots == 0 || o.slots > 1024) {
    return invalid_argument("--slots " + std::to_string(o.slots) + " (expected 1..1024)");
  }
  s.slots = o.slots;
  s.prefill_chunk = std::min(o.prefill_chunk == 0 ? t.default_prefill_chunk : o.prefill_chunk, s.context);
  s.all_logits = o.all_logits;
  const auto k = static_cast<std::uint32_t>(std::max(1, m.config.n_expert_used));
  // Activations may take at most half of the pools meant for them, an
  // eighth of those that hold weights too: shrink, in turn, the attention
  // scratch sets, the prefill chunk and the MoE buffers' dense form.
  std::uint64_t act_budget = 0;
  for (const target::Pool& pl : t.pools) {
    if (pl.uses & target::kUseActivations) {
      act_budget += pl.capacity_bytes / ((pl.uses & target::kUseWeights) ? 8 : 2);
    }
  }
  while (true) {
    s.max_rows = std::max(s.slots, s.prefill_chunk);
    s.moe_blocks = s.moe_dense(m.config, s.max_rows) ? std::max(k, static_cast<std::uint32_t>(m.config.n_expert)) : k;
    if (activation_bytes(m, t, s) <= act_budget) break;
    if (s.attention_sets > 1) {
      s.attention_sets /= 2;
    } else if (s.prefill_chunk > 1) {
      s.prefill_chunk /= 2;
    } else if (s.moe_dense_ok && s.moe_blocks > k) {
      s.moe_dense_ok = false;
    } else {
      break;
    }
  }
  if (2ull + std::uint64_t{s.max_rows} * k * (t.matrix.planes + 1) > 65535) {
    return invalid_argument("--slots " + std::to_string(s.slots) + ": too many expert index registers");
  }
  return {};
}

}  // namespace

ModelInput model_input_from_config(const ModelConfig& config) {
  ModelInput m;
  m.config = config;
  m.embd_type = static_cast<std::uint32_t>(gguf::TensorType::kF16);
  m.embd_block = 1;
  m.embd_block_bytes = 2;
  m.embd_row_bytes = 2ull * static_cast<std::uint32_t>(config.n_embd);
  m.hash = model::config_hash(config);
  return m;
}

Result<ModelInput> model_input_from_file(const std::string& path) {
  LPU_ASSIGN_OR_RETURN(gguf::File f, gguf::File::open(path));
  LPU_ASSIGN_OR_RETURN(ModelConfig config, model::model_config_from_gguf(f));
  ModelInput m;
  m.config = config;
  const gguf::TensorInfo* e = f.find_tensor("token_embd.weight");
  if (e == nullptr) return not_found(path + ": missing tensor 'token_embd.weight'");
  const auto traits = gguf::supported_type_traits(static_cast<std::uint32_t>(e->type));
  if (!traits) return unimplemented(path + ": token_embd.weight: unsupported type");
  m.embd_type = static_cast<std::uint32_t>(e->type);
  m.embd_block = traits->block_elems;
  m.embd_block_bytes = traits->block_bytes;
  m.embd_row_bytes = e->n_bytes / static_cast<std::uint64_t>(config.n_vocab);
  m.hash = model::file_hash(f, config);
  return m;
}

}  // namespace lpu::compiler

namespace lpu::compiler {
namespace {

struct VariantSpec {
  std::string name;
  program::VariantKind kind;
  std::uint32_t context;
  std::uint32_t rows;
};

std::vector<program::IndexRegister> registers_for(const ModelInput& m, const target::Target& t,
                                                  const Shapes& s, const Partition& p,
                                                  const Placement& place, const graph::Graph& g) {
  std::vector<program::IndexRegister> regs;
  const auto k = static_cast<std::uint32_t>(std::max(1, m.config.n_expert_used));
  for (std::uint32_t chip = 0; chip < p.chips; ++chip) {
    const std::uint64_t kv_stride = place.value(chip, "kv_slot_stride");
    if (kv_stride != 0) regs.push_back({chip, kPrefillSlotRegister, kv_stride, s.slots, "prefill slot"});
    if (!m.config.is_moe()) continue;
    for (std::uint32_t pl = 0; pl < t.matrix.planes; ++pl) {
      std::uint64_t stride = 0;
      for (const graph::Op& op : g.ops) {
        if (op.kind == graph::OpKind::kExpertUp) stride = std::max(stride, place.value(chip, expert_block_key(op.name, pl)));
      }
      if (stride == 0) continue;
      for (std::uint32_t r = 0; r < s.max_rows; ++r) {
        for (std::uint32_t j = 0; j < k; ++j) {
          regs.push_back({chip, expert_register(r, j, pl, k, t.matrix.planes), stride,
                          static_cast<std::uint32_t>(m.config.n_expert),
                          "row " + std::to_string(r) + " rank " + std::to_string(j) + " plane " + std::to_string(pl) + " expert"});
        }
      }
    }
    if (s.moe_blocks <= k || place.find(chip, buffer_key("ey")) < 0) continue;
    for (std::uint32_t r = 0; r < s.max_rows; ++r) {
      for (std::uint32_t j = 0; j < k; ++j) {
        regs.push_back({chip, combine_register(r, j, k, s.max_rows, t.matrix.planes),
                        std::uint64_t{s.max_rows} * static_cast<std::uint32_t>(m.config.n_embd) * 4,
                        static_cast<std::uint32_t>(m.config.n_expert),
                        "row " + std::to_string(r) + " rank " + std::to_string(j) + " expert output block"});
      }
    }
  }
  return regs;
}

double step_energy(const target::Target& t, const Scheduler& sc, std::uint32_t chips,
                   std::uint64_t cycles) {
  const target::Energy& e = t.energy;
  const double pj = static_cast<double>(sc.macs()) * e.pj_per_int8_mac +
                    static_cast<double>(sc.sram_bytes()) * e.pj_per_sram_byte +
                    static_cast<double>(sc.vector_ops()) * e.pj_per_vector_op +
                    static_cast<double>(sc.link_bytes()) * e.pj_per_c2c_byte;
  return pj * 1e-12 + e.static_watts * chips * static_cast<double>(cycles) / t.clock_hz;
}

VariantReport report_for(const graph::Graph& g, const Scheduler& sc, const Bound& b,
                         const std::vector<OpBound>& per_op) {
  VariantReport r;
  r.bound = b;
  for (std::uint32_t i = 0; i < g.ops.size(); ++i) {
    const auto it = sc.op_spans().find(i);
    if (it == sc.op_spans().end()) continue;
    OpBinding ob;
    ob.op = i;
    ob.start = it->second.first;
    ob.end = it->second.second;
    std::uint64_t best = 0;
    for (int c = 0; c < static_cast<int>(ResourceClass::kCount); ++c) {
      const std::uint64_t busy = sc.op_busy(i, static_cast<ResourceClass>(c));
      if (busy > best) {
        best = busy;
        ob.resource = resource_class_name(static_cast<ResourceClass>(c));
      }
    }
    ob.busy_cycles = best;
    // An op whose busiest resource was busy for under half its span waited
    // on latency (operands in flight, pipelines, links), not on work.
    if (best * 2 < ob.end - ob.start) ob.resource = "latency";
    ob.bound_cycles = per_op[i].cycles;
    ob.bound_resource = per_op[i].resource;
    r.ops.push_back(std::move(ob));
  }
  for (int c = 0; c < static_cast<int>(ResourceClass::kCount); ++c) {
    r.busy.emplace_back(resource_class_name(static_cast<ResourceClass>(c)), sc.total_busy(static_cast<ResourceClass>(c)));
  }
  return r;
}

struct ScheduledVariant {
  program::Variant variant;
  VariantReport report;
};

// One step variant: its graph lowered and scheduled, its lower bound and
// report.
Result<ScheduledVariant> schedule_variant(const VariantSpec& v, const ModelInput& m,
                                          const target::Target& t, const Shapes& s,
                                          const Partition& p, const Placement& place,
                                          const std::vector<program::IndexRegister>& regs) {
  const bool prefill = v.kind == program::VariantKind::kPrefill;
  LPU_ASSIGN_OR_RETURN(graph::Graph g, graph::build_step_graph(
                                           m.config, {v.rows, v.context, prefill, prefill && !s.all_logits && v.rows > 1}));
  Scheduler sched(t, p.chips);
  for (const program::IndexRegister& r : regs) {
    sched.registers[(std::uint64_t{r.chip} << 16) | r.reg] = {r.stride_bytes, r.count};
  }
  LPU_TRY(lower_variant(g, m, t, s, p, place, sched), v.name);
  std::vector<OpBound> per_op;
  const Bound bound = lower_bound(g, m, t, s, p, &per_op);
  ScheduledVariant out;
  program::Variant& pv = out.variant;
  pv.name = v.name;
  pv.kind = v.kind;
  pv.context = v.context;
  pv.rows = v.rows;
  pv.last_row_logits = g.shape.last_row_logits;
  pv.static_latency_cycles = sched.makespan();
  pv.lower_bound_cycles = bound.cycles();
  for (const auto& [first, last] : sched.chip_spans()) {
    pv.initiation_interval_cycles = std::max(pv.initiation_interval_cycles, last - first);
  }
  out.report = report_for(g, sched, bound, per_op);
  out.report.name = v.name;
  out.report.energy_j = step_energy(t, sched, p.chips_used, pv.static_latency_cycles);
  pv.streams = sched.take_streams();
  return out;
}

}  // namespace

Result<Compiled> compile(const ModelInput& m, const target::Target& t, const CompileOptions& o,
                         const Progress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  Shapes s;
  LPU_TRY(resolve(m, t, o, s), "compile");
  if (m.smoothing.enabled()) LPU_TRY(quant::smoothing_factors_of(m.smoothing, m.config, m.config.name).status(), "compile");
  if (m.rotation.enabled()) {
    LPU_TRY(quant::HadamardRotation::create(static_cast<std::size_t>(m.config.n_embd), m.rotation.seed).status(),
            "compile: rotation");
  }
  Partition p;
  std::optional<Placement> placed = plan(m, t, s, o.chips, p);
  if (!placed) return capacity_error(m, t, s, o.chips);
  Placement& place = *placed;

  std::vector<VariantSpec> specs;
  for (std::uint32_t b : buckets(s.context)) {
    specs.push_back({"decode.ctx" + std::to_string(b), program::VariantKind::kDecode, b, s.slots});
  }
  specs.push_back({"prefill.ctx" + std::to_string(s.context), program::VariantKind::kPrefill, s.context,
                   s.prefill_chunk});

  Compiled out;
  program::Program& prog = out.program;
  {
    LPU_ASSIGN_OR_RETURN(graph::Graph g0, graph::build_step_graph(m.config, {s.slots, s.context, false}));
    for (const graph::Op& op : g0.ops) prog.ops.push_back({op.name, graph::op_kind_name(op.kind), op.layer});
    prog.registers = registers_for(m, t, s, p, place, g0);
  }
  // Variants are independent: each is scheduled on its own, on the
  // thread pool, one task per variant, and lands in its own slot, so the
  // Program does not depend on the thread count.
  std::mutex progress_mutex;
  std::size_t finished = 0;
  // A variant's scheduler state is several times its instructions; for
  // large models (weight blocks in the millions) variants go one at a
  // time so that peak memory stays one variant's.
  std::uint64_t weight_bytes = 0;
  for (const program::LayoutEntry& e : place.entries()) {
    if (e.kind == program::DataKind::kWeights) weight_bytes += e.bytes;
  }
  const std::uint64_t blocks =
      weight_bytes / std::max<std::uint64_t>(1, std::uint64_t{t.matrix.tile_n} * std::min(t.matrix.tile_k, s.group));
  auto schedule_all = [&](const std::vector<VariantSpec>& list, std::size_t total,
                          std::vector<std::optional<ScheduledVariant>>& done, std::vector<Status>& failed) {
    const std::size_t n = list.size();
    done.assign(n, std::nullopt);
    failed.assign(n, Status{});
    const std::size_t grain = blocks > 1'000'000 ? std::max<std::size_t>(1, n) : 1;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain), [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t vi = r.begin(); vi < r.end(); ++vi) {
        auto v = schedule_variant(list[vi], m, t, s, p, place, prog.registers);
        if (v.ok()) {
          done[vi].emplace(std::move(v).value());
        } else {
          failed[vi] = v.status();
        }
        std::lock_guard<std::mutex> lock(progress_mutex);
        ++finished;
        if (progress) progress({"compiling", finished, total});
      }
    }, tbb::simple_partitioner());
  };
  if (progress) progress({"compiling", 0, specs.size()});
  std::vector<std::optional<ScheduledVariant>> done;
  std::vector<Status> failed;
  schedule_all(specs, specs.size(), done, failed);
  for (std::size_t vi = 0; vi < specs.size(); ++vi) {
    if (!done[vi]) return failed[vi];
  }
  // A prefill chunk attends over its variant's whole context, so prefill
  // variants at the smaller buckets too make early chunks cheaper. Tail
  // variants of fewer rows (half the chunk, a quarter, ... down to 2) at
  // every bucket read a prompt's last tokens, fewer than a chunk, in a few
  // steps rather than one decode step per token (time to first token).
  // Both are added when the largest prefill variant is small enough
  // (kMaxPrefillBucketInstructions) and as many as fit the instruction
  // text pools: all, or the bucket variants alone, or none.
  std::vector<VariantSpec> extra;
  std::size_t bucket_extras = 0;
  {
    std::uint64_t prefill_instructions = 0;
    for (const auto& st : done.back()->variant.streams) prefill_instructions += st.size();
    if (prefill_instructions <= kMaxPrefillBucketInstructions) {
      for (std::uint32_t b : buckets(s.context)) {
        if (b == s.context || b < s.prefill_chunk) continue;
        extra.push_back({"prefill.ctx" + std::to_string(b), program::VariantKind::kPrefill, b, s.prefill_chunk});
      }
      bucket_extras = extra.size();
      for (std::uint32_t b : buckets(s.context)) {
        for (std::uint32_t r = s.prefill_chunk / 2; r >= 2; r /= 2) {
          if (r > b) continue;
          extra.push_back({"prefill.ctx" + std::to_string(b) + ".rows" + std::to_string(r),
                           program::VariantKind::kPrefill, b, r});
        }
      }
    }
  }
  std::vector<std::optional<ScheduledVariant>> extra_done;
  if (!extra.empty()) {
    schedule_all(extra, specs.size() + extra.size(), extra_done, failed);
    for (std::size_t vi = 0; vi < extra.size(); ++vi) {
      if (!extra_done[vi]) return failed[vi];
    }
    auto fits = [&](std::size_t n_extra) {
      std::vector<std::uint64_t> text(p.chips, 0);
      for (const auto& d : done) {
        for (std::uint32_t c = 0; c < p.chips; ++c) text[c] += d->variant.streams[c].size();
      }
      for (std::size_t i = 0; i < n_extra; ++i) {
        for (std::uint32_t c = 0; c < p.chips; ++c) text[c] += extra_done[i]->variant.streams[c].size();
      }
      Placement trial = place;
      return place_text(trial, t, text).ok();
    };
    std::size_t keep = extra.size();
    if (!fits(keep)) keep = bucket_extras;
    if (keep > 0 && !fits(keep)) keep = 0;
    if (keep > 0) {
      // Keep decode variants first, then the prefill variants by bucket.
      std::optional<ScheduledVariant> largest = std::move(done.back());
      done.pop_back();
      for (std::size_t i = 0; i < keep; ++i) done.push_back(std::move(extra_done[i]));
      done.push_back(std::move(largest));
    }
    extra_done.clear();
  }
  std::vector<std::uint64_t> text(p.chips, 0);
  for (auto& d : done) {
    for (std::uint32_t c = 0; c < p.chips; ++c) text[c] += d->variant.streams[c].size();
    prog.variants.push_back(std::move(d->variant));
    out.reports.push_back(std::move(d->report));
  }
  LPU_TRY(place_text(place, t, text), "place");

  program::Metadata& md = prog.meta;
  md.model_name = m.config.name;
  md.model_hash = m.hash;
  md.target_name = t.name;
  md.target_hash = target::target_hash(t);
  {
    std::ostringstream os;
    os << o.chips << '|' << s.slots << '|' << s.context << '|' << s.group << '|' << s.kv_int8 << '|'
       << s.prefill_chunk << '|' << s.attention_sets << '|' << s.moe_dense_ok << '|' << s.all_logits << '|'
       << transform_key(m);
    md.options_hash = sha256_hex(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(os.str().data()), os.str().size()));
  }
  md.group = s.group;
  md.kv = s.kv_int8 ? "int8" : "f16";
  md.slots = s.slots;
  md.chips = p.chips;
  md.clock_hz = t.clock_hz;
  md.rms_eps = m.config.rms_eps;
  prog.smoothing = m.smoothing;
  prog.rotation = m.rotation;
  for (const target::Pool& pl : t.pools) prog.pool_names.push_back(pl.name);
  prog.layout = place.take_entries();

  std::vector<std::uint64_t> caps;
  for (const target::Pool& pl : t.pools) caps.push_back(pl.capacity_bytes);
  LPU_TRY(program::validate(prog, caps, "compiled program"), "emit");
  out.tp = p.tp;
  out.stages = p.stages;
  out.chips_used = p.chips_used;
  out.compile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace lpu::compiler
