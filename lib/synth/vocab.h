#pragma once
// The synthetic models' tokenizer vocabulary: SentencePiece-style ("llama")
// pieces that llama.cpp's SPM tokenizer loads and uses.

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/status.h"

namespace lpu::synth {

inline constexpr int kUnkId = 0;
inline constexpr int kBosId = 1;
inline constexpr int kEosId = 2;
/// <unk>, <s>, </s> and the 256 byte tokens.
inline constexpr int kMinVocab = 3 + 256;
inline constexpr int kMaxVocab = 1000000;

/// GGUF token types (tokenizer.ggml.token_type values).
enum TokenType : std::int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6 };

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
};

/// Ids 0..2 are <unk> <s> </s>, 3..258 the byte tokens <0x00>..<0xFF>, then
/// pieces by length: the printable ASCII characters, "▁" alone and before
/// each of them, then lower-case strings of length 2, 3, ... each bare and
/// after "▁", so every piece's prefixes are pieces too and SPM merges reach
/// it. A piece's score falls with its index (earlier pieces merge first).
Result<Vocab> build_vocab(int n_vocab);

}  // namespace lpu::synth
