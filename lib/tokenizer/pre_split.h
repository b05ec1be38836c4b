#pragma once
// BPE pre-tokenization: splitting text into words before merges, as
// llama.cpp's unicode_regex_split does for each pre-tokenizer. The split
// expressions are matched by hand-written code over code point classes
// (no regex engine); each expression splits every piece the previous one
// produced, and both its matches and the text between them become pieces.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/status.h"
#include "lib/tokenizer/vocab.h"

namespace lpu::tokenizer {

/// Code points of the text being split and their flags.
struct CptText {
  std::vector<std::uint32_t> cpts;
  std::vector<std::uint16_t> flags;
};

/// Pieces as code point counts, in order; they add up to the text length.
using Pieces = std::vector<std::size_t>;

/// GPT-2's expression 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
/// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ applied to every piece.
Pieces split_gpt2(const CptText& text, const Pieces& pieces);

/// Llama-3's expression (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
/// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ applied to
/// every piece.
Pieces split_llama3(const CptText& text, const Pieces& pieces);

/// Splits `text` with the expressions of `kind` and returns the words, each
/// re-encoded as UTF-8 and mapped to the byte-level alphabet. Fails on a
/// decoded value past U+10FFFF.
Result<std::vector<std::string>> pre_split(PreSplit kind, std::string_view text);

}  // namespace lpu::tokenizer
