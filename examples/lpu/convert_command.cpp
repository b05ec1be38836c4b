// lpu convert SRC DST --type f32: rewrites a GGUF with every tensor
// dequantised to F32 (metadata kept), e.g. to compare with an fp32 oracle.
#include <string>

#include "examples/lpu/command.h"
#include "lib/gguf/rewrite.h"

namespace lpu::cli {
namespace {

struct ConvertOptions {
  std::string src;
  std::string dst;
  std::string type = "f32";
};

Status run_convert(const ConvertOptions& o) {
  if (o.type != "f32") return invalid_argument("--type '" + o.type + "' is not supported (expected f32)");
  return gguf::rewrite_as_f32(o.src, o.dst);
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto opts = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand("convert", "Rewrite a GGUF with its tensors dequantised to F32");
  cmd->add_option("src", opts->src, "Input GGUF")->required();
  cmd->add_option("dst", opts->dst, "Output GGUF")->required();
  cmd->add_option("--type", opts->type, "Output tensor type (f32)");
  cmd->callback([&action, opts] { action = [opts] { return run_convert(*opts); }; });
}

}  // namespace lpu::cli
