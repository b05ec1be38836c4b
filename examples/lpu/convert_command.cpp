// lpu convert SRC DST --type f32: rewrites a GGUF with every tensor
// dequantised to F32 (metadata kept), e.g. to compare with an fp32 oracle.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "examples/lpu/command.h"
#include "include/lpu/model.h"
#include "include/lpu/tokenizer.h"
#include "lib/gguf/rewrite.h"
#include "lib/quant/layer_error.h"
#include "lib/quant/rotation.h"
#include "lib/quant/smoothing.h"
#include "lib/reference/weights.h"

namespace lpu::cli {
namespace {

struct ConvertOptions {
  std::string src;
  std::string dst;
  std::string type = "f32";
  std::string smooth_text;
  int smooth_tokens = 512;
  double smooth_alpha = 0.5;
  std::int64_t rotate_seed = -1;
  int fake_quant = 0;
};

// How many channels of a site got a factor other than 1, and the range.
void summarise(const char* site, const std::vector<std::vector<float>>& f) {
  std::size_t changed = 0, total = 0;
  int lo = 0, hi = 0;
  for (const auto& layer : f) {
    for (float x : layer) {
      ++total;
      const int e = static_cast<int>(std::lround(std::log2(x)));
      changed += e != 0;
      lo = std::min(lo, e);
      hi = std::max(hi, e);
    }
  }
  std::fprintf(stderr, "smoothing %-17s %zu of %zu channels scaled, factors 2^%d .. 2^%d\n", site, changed, total, lo, hi);
}

// The calibration tokens: the text's, with the model's BOS rule, at most
// --smooth-tokens of them.
Result<std::vector<TokenId>> calibration_tokens(const ConvertOptions& o, const Model& model) {
  std::ifstream in(o.smooth_text, std::ios::binary);
  if (!in) return not_found(o.smooth_text + ": cannot open (--smooth-text)");
  std::stringstream text;
  text << in.rdbuf();
  LPU_ASSIGN_OR_RETURN(Tokenizer tok, model.tokenizer());
  LPU_ASSIGN_OR_RETURN(std::vector<TokenId> ids, tok.encode(text.str(), {.add_bos = tok.default_add_bos()}));
  if (ids.size() > static_cast<std::size_t>(o.smooth_tokens)) ids.resize(static_cast<std::size_t>(o.smooth_tokens));
  return ids;
}

Status run_convert(const ConvertOptions& o) {
  if (o.type != "f32") return invalid_argument("--type '" + o.type + "' is not supported (expected f32)");
  if (o.smooth_text.empty() && o.rotate_seed < 0 && o.fake_quant == 0) return gguf::rewrite_as_f32(o.src, o.dst);
  // The transforms, in order, on the fp32 weights: smoothing, rotation,
  // then the analysis rounding.
  LPU_ASSIGN_OR_RETURN(Model model, Model::load(o.src));
  LPU_ASSIGN_OR_RETURN(reference::Weights w, quant::load_fp32_weights(model));
  if (!o.smooth_text.empty()) {
    LPU_ASSIGN_OR_RETURN(std::vector<TokenId> ids, calibration_tokens(o, model));
    LPU_ASSIGN_OR_RETURN(quant::ChannelValues f, quant::calibrate_smoothing_of(model, w, ids, o.smooth_alpha));
    summarise("attention input", f.attention_input);
    summarise("attention output", f.attention_output);
    summarise("ffn input", f.ffn_input);
    summarise("down input", f.down_input);
    quant::apply_smoothing(model.config(), f, w);
  }
  if (o.rotate_seed >= 0) {
    LPU_ASSIGN_OR_RETURN(quant::HadamardRotation rotation,
                         quant::HadamardRotation::create(static_cast<std::size_t>(model.config().n_embd),
                                                         static_cast<std::uint64_t>(o.rotate_seed)));
    quant::apply_rotation(model.config(), rotation, w);
  }
  if (o.fake_quant > 0) quant::round_weights_to_int8(w, o.fake_quant);
  return quant::write_weights(model, w, o.dst);
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto opts = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand("convert", "Rewrite a GGUF with its tensors dequantised to F32");
  cmd->add_option("src", opts->src, "Input GGUF")->required();
  cmd->add_option("dst", opts->dst, "Output GGUF")->required();
  cmd->add_option("--type", opts->type, "Output tensor type (f32)");
  cmd->add_option("--smooth-text", opts->smooth_text,
                  "Fold activation smoothing (per-channel powers of two, calibrated on this text) into the weights");
  cmd->add_option("--smooth-tokens", opts->smooth_tokens, "Calibration tokens at most (default 512)");
  cmd->add_option("--smooth-alpha", opts->smooth_alpha, "How much of each outlier moves into the weights, 0..1 (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--fake-quant", opts->fake_quant, "Round weight matrices to int8 in groups of G and back (analysis)");
  cmd->add_option("--rotate", opts->rotate_seed,
                  "Rotate the residual stream by a random orthogonal matrix of this seed (after any smoothing)");
  cmd->callback([&action, opts] { action = [opts] { return run_convert(*opts); }; });
}

}  // namespace lpu::cli
