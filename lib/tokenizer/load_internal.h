#pragma once
// Steps of load_tokenizer shared between its source files.

#include <string_view>

#include "include/lpu/status.h"
#include "lib/gguf/file.h"
#include "lib/tokenizer/vocab.h"

namespace lpu::tokenizer {

inline constexpr std::string_view kKeyModel = "tokenizer.ggml.model";
inline constexpr std::string_view kKeyPre = "tokenizer.ggml.pre";
inline constexpr std::string_view kKeyTokens = "tokenizer.ggml.tokens";
inline constexpr std::string_view kKeyScores = "tokenizer.ggml.scores";
inline constexpr std::string_view kKeyTokenType = "tokenizer.ggml.token_type";
inline constexpr std::string_view kKeyMerges = "tokenizer.ggml.merges";

/// Special token ids from their keys over the type's defaults. A key holding
/// 0xFFFFFFFF (or -1) means "none" and leaves the default; any other id
/// outside the vocabulary is an error naming the key.
Status read_special_ids(const gguf::File& file, Tokenizer::Impl& v);

/// add_bos / add_eos / add_space_prefix keys over the type's defaults;
/// fails when BOS or EOS is to be added but the vocabulary has none.
Status read_flags(const gguf::File& file, Tokenizer::Impl& v);

/// llama.cpp's adjustments of token attributes: end-of-turn and fill-in-the-
/// middle tokens found by their text become control tokens, the set of
/// end-of-generation tokens, and per-model lstrip/rstrip rules.
void apply_token_attributes(const gguf::File& file, Tokenizer::Impl& v);

/// The special-token cut order, the rendered pieces and the byte tokens.
void build_caches(Tokenizer::Impl& v);

/// token_to_piece(id, render_special = true), computed from the vocabulary.
std::string render_piece(const Tokenizer::Impl& v, TokenId id);

}  // namespace lpu::tokenizer
