#pragma once
// Reader for the golden logit files written by tests/peer/oracle.py golden
// (tests/data/golden/*.lpugold): llama.cpp's greedy continuation of a prompt
// and, for every position of prompt + continuation, its top-k logits, the
// logit range and, for a few positions, the full logit row.
//
// Layout (little-endian): "LPUGOLD1", u32 header length H, H bytes of JSON
// header, then the arrays the header's "arrays" table places by offset.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "include/lpu/status.h"
#include "include/lpu/token.h"

namespace lpu::testing {

/// How a test obtains the model a golden was computed from.
struct GoldenModel {
  /// "shared" (../shared/models/FILE), "cache" (the model cache: FILE, or an
  /// F32 rewrite of `source_file`) or "synth" (a synthetic preset).
  std::string origin_kind;
  /// The file name, or the preset name for "synth".
  std::string origin_name;
  /// Basename and SHA-256 of the exact file llama.cpp evaluated.
  std::string file;
  std::string sha256;
  /// For F32 rewrites: the quantised file it was made from (may be empty).
  std::string source_file;
  std::string source_sha256;
};

/// One golden file, fully loaded.
struct GoldenFile {
  std::string name;
  std::string command;            ///< the oracle command that wrote it
  std::string llama_cpp_version;  ///< llama-cpp-python version
  GoldenModel model;

  int n_prompt = 0;
  int n_generated = 0;
  int n_vocab = 0;
  int top_k = 0;
  /// Prompt followed by llama.cpp's greedy continuation (n_positions ids).
  std::vector<TokenId> tokens;
  /// Per greedy step, llama.cpp's top-1 minus top-2 logit (diagnostics).
  std::vector<float> top1_margins;

  /// [n_positions x top_k]: ids by descending logit, and their logits.
  std::vector<std::int32_t> top_ids;
  std::vector<float> top_logits;
  /// [n_positions]: the largest and smallest logit of each row.
  std::vector<float> row_max;
  std::vector<float> row_min;
  /// Positions with a full row, and those rows ([size x n_vocab]).
  std::vector<int> full_row_positions;
  std::vector<float> full_rows;

  int n_positions() const { return static_cast<int>(tokens.size()); }
  /// The greedy token llama.cpp chose after position n_prompt - 1 + step.
  TokenId generated(int step) const { return tokens[static_cast<std::size_t>(n_prompt + step)]; }
};

/// Reads and validates `path`: magic, header fields, array dtypes, shapes
/// and bounds, token ids inside the vocabulary.
Result<GoldenFile> read_golden_file(const std::filesystem::path& path);

/// The *.lpugold files in `dir`, sorted by name.
std::vector<std::filesystem::path> list_golden_files(const std::filesystem::path& dir);

}  // namespace lpu::testing
