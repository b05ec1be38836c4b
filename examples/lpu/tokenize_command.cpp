// lpu tokenize MODEL TEXT: the token ids of TEXT ('-' reads standard input
// verbatim), one per line or as a JSON array.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "examples/lpu/command.h"
#include "include/lpu/tokenizer.h"

namespace lpu::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool json = false;
  bool bos = false;
  bool special = false;
};

Status run_tokenize(const TokenizeOptions& o) {
  LPU_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::from_gguf(o.model));
  const std::string text = o.text == "-" ? read_stdin() : o.text;
  EncodeOptions encode;
  encode.add_bos = o.bos;
  encode.parse_special = o.special;
  LPU_ASSIGN_OR_RETURN(std::vector<TokenId> ids, tokenizer.encode(text, encode));
  if (o.json) {
    std::printf("%s\n", nlohmann::json(ids).dump().c_str());
  } else {
    for (TokenId id : ids) std::printf("%d\n", id);
  }
  return {};
}

}  // namespace

void add_tokenize_command(CLI::App& app, Action& action) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text, one per line");
  cmd->add_option("model", opts->model, "GGUF file holding the tokenizer")->required();
  cmd->add_option("text", opts->text, "Text to tokenize; '-' reads standard input verbatim")->required();
  cmd->add_flag("--json", opts->json, "Print a JSON array instead");
  cmd->add_flag("--bos", opts->bos, "Prepend the BOS token");
  cmd->add_flag("--special", opts->special, "Parse control/special token texts as tokens");
  cmd->callback([&action, opts] { action = [opts] { return run_tokenize(*opts); }; });
}

}  // namespace lpu::cli
