#pragma once
// Building a Tokenizer from the `tokenizer.ggml.*` keys of an open GGUF file.

#include "include/lpu/status.h"
#include "include/lpu/tokenizer.h"
#include "lib/gguf/file.h"

namespace lpu::tokenizer {

/// Loads the vocabulary of `file` (only tokenizer.ggml.* keys, plus
/// general.name for llama.cpp's per-model token attributes). Errors name the
/// file and key: a missing tokenizer.ggml.model or tokens list, an unknown
/// model or pre-tokenizer, arrays whose lengths differ from the token list,
/// malformed merges, duplicate token texts, or a special token id outside
/// the vocabulary.
Result<Tokenizer> load_tokenizer(const gguf::File& file);

}  // namespace lpu::tokenizer
