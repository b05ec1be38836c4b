// lpu eval MODEL: teacher-forced fidelity of the int8 forward pass against
// the fp32 reference on one token sequence: per int8 configuration (group
// size G x KV precision x weight transforms on or off) the mean and max
// KL(ref || int8), top-1 agreement, and the perplexity of each pass; with
// --per-layer, each layer's share. docs/accuracy.md reports the figures.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "examples/lpu/command.h"
#include "include/lpu/int8_session.h"
#include "lib/metrics/metrics.h"
#include "include/lpu/model.h"
#include "include/lpu/reference.h"
#include "include/lpu/tokenizer.h"
#include "lib/quant/calibration.h"
#include "lib/quant/layer_error.h"
#include "lib/quant/smoothing.h"
#include "lib/reference/weights.h"
#include "lib/target/target.h"

namespace lpu::cli {
namespace {

struct EvalOptions {
  std::string model;
  std::string ref_model;
  std::string text_path;
  std::string ids;
  int steps = 512;
  std::string target;
  std::vector<int> groups;        // empty: the target's default G
  std::vector<std::string> kvs;   // empty: the target's default KV precision
  std::vector<std::string> transform = {"on"};  // smoothing and rotation, as compiles have them
  bool per_layer = false;
  int chunk = 64;
  int threads = 0;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Result<std::vector<TokenId>> parse_id_list(const std::string& list) {
  std::vector<TokenId> ids;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX) {
      return invalid_argument("--ids: '" + item + "' is not a token id (expected e.g. 1,2,3)");
    }
    ids.push_back(static_cast<TokenId>(v));
  }
  return ids;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot open (--text)");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The evaluated tokens: --ids as given, or --text tokenised with the
// model's own BOS default (as llama.cpp tokenises), capped at --steps.
Result<std::vector<TokenId>> eval_tokens(const EvalOptions& o, int n_vocab) {
  std::vector<TokenId> ids;
  if (!o.ids.empty()) {
    LPU_ASSIGN_OR_RETURN(ids, parse_id_list(o.ids));
  } else {
    LPU_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::from_gguf(o.model));
    LPU_ASSIGN_OR_RETURN(std::string text, read_file(o.text_path));
    EncodeOptions encode;
    encode.add_bos = tok.default_add_bos();
    LPU_ASSIGN_OR_RETURN(ids, tok.encode(text, encode));
  }
  if (o.steps > 0 && static_cast<int>(ids.size()) > o.steps) ids.resize(o.steps);
  if (ids.size() < 2)
    return invalid_argument("lpu eval needs at least 2 tokens, got " + std::to_string(ids.size()));
  for (TokenId id : ids) {
    if (id >= n_vocab) {
      return invalid_argument("token id " + std::to_string(id) + " is outside " + o.model +
                              "'s vocabulary of " + std::to_string(n_vocab) + " tokens");
    }
  }
  return ids;
}

using ForwardFn = std::function<Result<std::vector<float>>(std::span<const TokenId>, bool)>;

// Teacher forcing in chunks of `chunk` tokens with every row's logits: the
// same rows as one decode step per token, at prefill speed.
Result<std::vector<float>> all_logits(const ForwardFn& forward, const std::vector<TokenId>& ids,
                                      int chunk) {
  std::vector<float> out;
  for (std::size_t at = 0; at < ids.size(); at += static_cast<std::size_t>(chunk)) {
    const std::size_t n = std::min(ids.size() - at, static_cast<std::size_t>(chunk));
    LPU_ASSIGN_OR_RETURN(std::vector<float> rows,
                         forward(std::span<const TokenId>(ids.data() + at, n), true));
    out.insert(out.end(), rows.begin(), rows.end());
  }
  return out;
}

struct ConfigStats {
  int group = 0;
  std::string kv;
  std::string transform;  // Program::weight_transforms() of the pass
  metrics::Agreement agreement;  // against the reference, over all n rows
  metrics::NextTokenLoss pass;   // over the n - 1 rows that have a next token
  double seconds = 0.0;
};

Result<KvPrecision> parse_kv(const std::string& kv) {
  if (kv == "int8") return KvPrecision::kInt8;
  if (kv == "f16") return KvPrecision::kF16;
  return invalid_argument("--kv " + kv + " (expected int8 or f16)");
}

Result<ConfigStats> eval_int8(const EvalOptions& o, const Model& model,
                              const std::vector<TokenId>& ids, const std::vector<float>& ref,
                              int group, const std::string& kv, bool transform) {
  Int8Options opt;
  opt.group_size = group;
  opt.threads = o.threads;
  opt.smoothing = transform;
  opt.rotation = transform;
  LPU_ASSIGN_OR_RETURN(opt.kv, parse_kv(kv));
  const auto t0 = Clock::now();
  LPU_ASSIGN_OR_RETURN(Int8Session session,
                       Int8Session::create(model, static_cast<int>(ids.size()), opt));
  const ForwardFn forward = [&session](std::span<const TokenId> t, bool all) {
    return session.forward(t, all);
  };
  LPU_ASSIGN_OR_RETURN(std::vector<float> logits, all_logits(forward, ids, o.chunk));
  ConfigStats s;
  s.group = group;
  s.kv = kv;
  s.transform = session.program().weight_transforms();
  s.seconds = seconds_since(t0);
  const int n_vocab = model.config().n_vocab;
  LPU_ASSIGN_OR_RETURN(s.agreement, metrics::agreement(ref, logits, n_vocab));
  LPU_ASSIGN_OR_RETURN(s.pass, metrics::next_token_loss(logits, ids, n_vocab));
  return s;
}

struct EvalReport {
  std::string model;
  std::string ref_model;
  std::vector<TokenId> ids;
  metrics::NextTokenLoss ref;
  double ref_seconds = 0.0;
  std::vector<ConfigStats> configs;
  struct PerLayer {
    int group = 0;
    std::string transform;
    std::vector<quant::LayerError> layers;
  };
  std::vector<PerLayer> per_layer;
};

void print_json(const EvalReport& r) {
  nlohmann::json configs = nlohmann::json::array();
  for (const ConfigStats& c : r.configs) {
    configs.push_back({{"group", c.group},
                       {"kv", c.kv},
                       {"transform", c.transform},
                       {"kl_mean", c.agreement.kl_mean},
                       {"kl_max", c.agreement.kl_max},
                       {"top1_agreement", c.agreement.top1},
                       {"nll_mean", c.pass.nll_mean},
                       {"ppl", c.pass.perplexity},
                       {"seconds", c.seconds},
                       {"kl_rows", c.agreement.kl_rows}});
  }
  nlohmann::json per_layer = nlohmann::json::array();
  for (const EvalReport::PerLayer& p : r.per_layer) {
    for (const quant::LayerError& l : p.layers) {
      per_layer.push_back({{"group", p.group},
                           {"transform", p.transform},
                           {"layer", l.layer == quant::kOutputHead ? nlohmann::json("head") : nlohmann::json(l.layer)},
                           {"kl_mean", l.kl_mean},
                           {"kl_max", l.kl_max},
                           {"top1_agreement", l.top1}});
    }
  }
  const nlohmann::json j = {
      {"model", r.model},
      {"per_layer", per_layer},
      {"reference_model", r.ref_model},
      {"n_tokens", r.ids.size()},
      {"reference", {{"nll_mean", r.ref.nll_mean}, {"ppl", r.ref.perplexity}, {"seconds", r.ref_seconds}}},
      {"configs", configs},
      {"tokens", r.ids},
  };
  std::printf("%s\n", j.dump(1).c_str());
}

void print_table(const EvalReport& r) {
  std::printf("int8 passes: %s\nreference (fp32): %s\n", r.model.c_str(), r.ref_model.c_str());
  std::printf(
      "%zu tokens: KL(ref || int8) and top-1 over %zu rows, perplexity over %zu next tokens\n\n",
      r.ids.size(), r.ids.size(), r.ids.size() - 1);
  std::printf("%-18s %12s %12s %8s %10s %8s  %s\n", "pass", "KL mean", "KL max", "top-1", "ppl",
              "seconds", "transform");
  std::printf("%-18s %12s %12s %8s %10.4f %8.1f\n", "fp32 reference", "-", "-", "-", r.ref.perplexity,
              r.ref_seconds);
  for (const ConfigStats& c : r.configs) {
    const std::string name = "int8 G=" + std::to_string(c.group) + " kv=" + c.kv;
    std::printf("%-18s %12.6f %12.6f %8.4f %10.4f %8.1f  %s\n", name.c_str(), c.agreement.kl_mean,
                c.agreement.kl_max, c.agreement.top1, c.pass.perplexity, c.seconds,
                c.transform.c_str());
  }
  if (r.per_layer.empty()) return;
  std::printf("\nper layer: KL mean (KL max) with only that layer's matrices and inputs rounded to int8\n%-6s", "layer");
  for (const EvalReport::PerLayer& p : r.per_layer) {
    const std::string head = "G=" + std::to_string(p.group) + " " + p.transform;
    std::printf(" %24s", head.c_str());
  }
  std::printf("\n");
  for (std::size_t l = 0; l < r.per_layer.front().layers.size(); ++l) {
    const int layer = r.per_layer.front().layers[l].layer;
    std::printf("%-6s", layer == quant::kOutputHead ? "head" : std::to_string(layer).c_str());
    for (const EvalReport::PerLayer& p : r.per_layer) {
      std::printf("      %9.6f (%7.4f)", p.layers[l].kl_mean, p.layers[l].kl_max);
    }
    std::printf("\n");
  }
}

Status check_options(const EvalOptions& o) {
  if (o.text_path.empty() == o.ids.empty())
    return invalid_argument("give exactly one of --text FILE and --ids IDS");
  if (o.chunk < 1)
    return invalid_argument("--chunk " + std::to_string(o.chunk) + " (expected >= 1)");
  if (o.steps < 0)
    return invalid_argument("--steps " + std::to_string(o.steps) +
                            " (expected >= 0; 0: all tokens)");
  if (o.threads < 0)
    return invalid_argument("--threads " + std::to_string(o.threads) + " (expected >= 0)");
  for (const std::string& kv : o.kvs) LPU_TRY(parse_kv(kv).status(), "");
  for (const std::string& m : o.transform) {
    if (m != "on" && m != "off") return invalid_argument("--transform " + m + " (expected on, off or on,off)");
  }
  if (!o.target.empty()) LPU_TRY(target::resolve_target(o.target).status(), "--target");
  // Checked here too (Int8Session::create has the same rule) so that a bad
  // G fails before the reference pass, not minutes into the run.
  for (int g : o.groups) {
    if (g < 32 || g > 65536 || g % 32 != 0) {
      return invalid_argument("--group " + std::to_string(g) +
                              " (expected a multiple of 32 in [32, 65536])");
    }
  }
  return {};
}

// Each layer's share of the int8 error, per G and transform setting,
// through the fp32 reference (lib/quant/layer_error.h).
Result<std::vector<EvalReport::PerLayer>> per_layer_report(const EvalOptions& o, const Model& model,
                                                           const std::vector<TokenId>& ids,
                                                           const std::vector<int>& groups) {
  std::vector<EvalReport::PerLayer> out;
  const std::vector<TokenId> calibration = quant::calibration_tokens(model);
  for (const std::string& m : o.transform) {
    for (int group : groups) {
      // The transforms a compile at this G chooses, folded into fp32 weights.
      LPU_ASSIGN_OR_RETURN(quant::CalibratedTransform t,
                           quant::calibrate_transform(model, calibration, group, m == "on", m == "on"));
      LPU_ASSIGN_OR_RETURN(reference::Weights w, quant::load_fp32_weights(model));
      LPU_TRY(quant::apply_transforms(model.config(), t.smoothing, t.rotation, w), model.path());
      std::string name = t.smoothing.enabled() ? t.smoothing.method : "";
      if (t.rotation.enabled()) name += (name.empty() ? "" : "+") + t.rotation.method;
      const auto t0 = Clock::now();
      LPU_ASSIGN_OR_RETURN(std::vector<quant::LayerError> layers,
                           quant::per_layer_error(model.config(), w, ids, group, terminal_progress_bar("per-layer error")));
      std::fprintf(stderr, "per layer, G=%d transform %s: %.1f s\n", group, m.c_str(), seconds_since(t0));
      out.push_back({group, name.empty() ? "none" : name, std::move(layers)});
    }
  }
  return out;
}

Status run_eval(const EvalOptions& o) {
  LPU_TRY(check_options(o), "");
  LPU_ASSIGN_OR_RETURN(Model model, Model::load(o.model));
  const std::string ref_path = o.ref_model.empty() ? o.model : o.ref_model;
  LPU_ASSIGN_OR_RETURN(Model ref_model, Model::load(ref_path));
  const int n_vocab = model.config().n_vocab;
  if (ref_model.config().n_vocab != n_vocab) {
    return invalid_argument(ref_path + ": --ref has " + std::to_string(ref_model.config().n_vocab) +
                            " tokens in its vocabulary, " + o.model + " has " +
                            std::to_string(n_vocab));
  }
  EvalReport report{o.model, ref_path, {}, {}, 0.0, {}, {}};
  LPU_ASSIGN_OR_RETURN(report.ids, eval_tokens(o, n_vocab));
  const auto t0 = Clock::now();
  LPU_ASSIGN_OR_RETURN(ReferenceSession ref,
                       ReferenceSession::create(ref_model, static_cast<int>(report.ids.size())));
  const ForwardFn forward = [&ref](std::span<const TokenId> t, bool all) {
    return ref.forward(t, all);
  };
  LPU_ASSIGN_OR_RETURN(std::vector<float> ref_logits, all_logits(forward, report.ids, o.chunk));
  LPU_ASSIGN_OR_RETURN(report.ref, metrics::next_token_loss(ref_logits, report.ids, n_vocab));
  report.ref_seconds = seconds_since(t0);
  std::fprintf(stderr, "fp32 reference: %zu tokens in %.1f s\n", report.ids.size(),
               report.ref_seconds);
  LPU_ASSIGN_OR_RETURN(target::Target t, target::resolve_target(o.target.empty() ? "cpu-host" : o.target));
  const std::vector<int> groups = o.groups.empty() ? std::vector<int>{static_cast<int>(t.default_group())} : o.groups;
  const std::vector<std::string> kvs = o.kvs.empty() ? std::vector<std::string>{t.default_kv} : o.kvs;
  for (int group : groups) {
    for (const std::string& kv : kvs) {
      for (const std::string& m : o.transform) {
        LPU_ASSIGN_OR_RETURN(ConfigStats s, eval_int8(o, model, report.ids, ref_logits, group, kv, m == "on"));
        std::fprintf(stderr, "int8 G=%d kv=%s transform %s: %.1f s\n", group, kv.c_str(), m.c_str(), s.seconds);
        report.configs.push_back(std::move(s));
      }
    }
  }
  if (o.per_layer) {
    LPU_ASSIGN_OR_RETURN(report.per_layer, per_layer_report(o, model, report.ids, groups));
  }
  if (o.json) {
    print_json(report);
  } else {
    print_table(report);
  }
  return {};
}

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval",
                                     "Teacher-forced KL, top-1 agreement and perplexity of the "
                                     "int8 pass against the fp32 reference");
  cmd->add_option("model", o->model,
                  "GGUF model for the int8 passes (and the reference unless --ref)")
      ->required();
  cmd->add_option("--ref", o->ref_model,
                  "GGUF model for the fp32 reference (same vocabulary; default: MODEL)");
  cmd->add_option("--text", o->text_path,
                  "Text file, tokenised with MODEL's tokenizer and its BOS default");
  cmd->add_option("--ids", o->ids, "Evaluate exactly these token ids, e.g. 1,2,3");
  cmd->add_option("--steps", o->steps, "Evaluate at most the first N tokens (0: all; default 512)");
  cmd->add_option("--target", o->target,
                  "Evaluate this target's default G and KV precision (default: cpu-host's)");
  cmd->add_option("--group", o->groups,
                  "Group sizes G of the int8 passes, e.g. 32,256 (default: the target's)")
      ->delimiter(',');
  cmd->add_option("--kv", o->kvs,
                  "KV cache precisions of the int8 passes: f16, int8 or f16,int8 (default: the target's)")
      ->delimiter(',');
  cmd->add_option("--transform", o->transform,
                  "Weight transforms (smoothing and rotation) of the int8 passes: on (the default, as compiled Programs "
                  "have them), off, or on,off")
      ->delimiter(',');
  cmd->add_flag("--per-layer", o->per_layer,
                "Also each layer's share of the error (one fp32 reference pass per layer; slow)");
  cmd->add_option("--chunk", o->chunk,
                  "Tokens per forward call (default 64; 1 gives one decode step per token)");
  cmd->add_option("--threads", o->threads, "Worker threads of the int8 passes (default: all)");
  cmd->add_flag("--json", o->json,
                "Print JSON (with the token ids and per-row KL) instead of a table");
  cmd->callback([&action, o] { action = [o] { return run_eval(*o); }; });
}

}  // namespace lpu::cli
