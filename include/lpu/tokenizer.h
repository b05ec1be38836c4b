#pragma once
// lpu::Tokenizer: text <-> token ids for the vocabularies stored in GGUF files
// (the `tokenizer.ggml.*` keys), producing exactly the ids llama.cpp produces.
//
// Two vocabulary types are supported: SentencePiece-style "llama" (score-
// ordered bigram merges, byte fallback to <0xNN> tokens, a leading '▁') and
// byte-level BPE "gpt2" (ranked merges after a pre-tokenizer split chosen by
// `tokenizer.ggml.pre`).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/status.h"

namespace lpu {

/// Index of a token in the vocabulary.
using TokenId = std::int32_t;

/// How Tokenizer::encode treats its input.
struct EncodeOptions {
  /// Prepend BOS. Pass tokenizer.default_add_bos() for llama.cpp's behaviour.
  bool add_bos = false;
  /// Recognise control/special token texts in the input as single tokens.
  /// User-defined tokens are always split out, as llama.cpp does.
  bool parse_special = false;
  /// Append EOS. Pass tokenizer.default_add_eos() for llama.cpp's behaviour.
  bool add_eos = false;
};

/// A loaded vocabulary. Immutable and cheap to copy (copies share the data);
/// safe to use from several threads at once.
class Tokenizer {
 public:
  /// Internal state; defined in lib/tokenizer.
  struct Impl;

  /// Opens a GGUF file and loads only its tokenizer keys (vocab-only files
  /// are fine). Errors name the file and the offending key.
  static Result<Tokenizer> from_gguf(const std::string& path);

  /// Token ids of `text` (any bytes; invalid UTF-8 is handled as llama.cpp
  /// handles it). Fails when BOS/EOS is requested but the vocabulary has none,
  /// when a byte has no fallback token, or when the input holds a sequence
  /// that decodes past U+10FFFF (which llama.cpp's BPE cannot encode).
  Result<std::vector<TokenId>> encode(std::string_view text, const EncodeOptions& options) const;

  /// Bytes of one token as it appears in text: SPM '▁' becomes ' ' and
  /// <0xNN> the byte NN; BPE pieces are mapped back from the byte-level
  /// alphabet. Control and unknown tokens render as "" unless
  /// `render_special`; an id outside the vocabulary renders as "".
  std::string token_to_piece(TokenId id, bool render_special = false) const;

  /// Text of `ids` as llama.cpp's detokenizer gives it (remove_special =
  /// false): pieces concatenated, the SPM leading space of the first piece
  /// removed, and the vocabulary's clean-up of spaces before punctuation
  /// applied where it asks for it. Bytes are returned as they are, so ids
  /// that cut a character yield invalid UTF-8; use TokenStreamDecoder to
  /// display text incrementally.
  std::string decode(std::span<const TokenId> ids, bool render_special = false) const;

  /// Number of tokens in the vocabulary.
  std::size_t vocab_size() const;
  /// Beginning-of-sequence token, or -1 when none.
  TokenId bos() const;
  /// End-of-sequence token, or -1 when none.
  TokenId eos() const;
  /// End-of-turn token (`tokenizer.ggml.eot_token_id` or found by its text,
  /// e.g. "<|im_end|>"), or -1 when none.
  TokenId eot() const;
  /// Unknown token, or -1 when none.
  TokenId unk() const;
  /// Padding token, or -1 when none.
  TokenId pad() const;
  /// True for eos, eot, eom and the other tokens llama.cpp treats as the end
  /// of generation.
  bool is_end_of_generation(TokenId id) const;
  /// tokenizer.ggml.add_bos_token, else llama.cpp's default for the
  /// vocabulary type and pre-tokenizer.
  bool default_add_bos() const;
  /// tokenizer.ggml.add_eos_token, else llama.cpp's default (false).
  bool default_add_eos() const;
  /// The stored text of a token (SPM keeps '▁', BPE its byte-level
  /// alphabet); "" for an id outside the vocabulary.
  std::string_view token_text(TokenId id) const;
  /// The id whose stored text is exactly `text`, or -1.
  TokenId find_token(std::string_view text) const;
  /// "llama" or "gpt2" (tokenizer.ggml.model).
  std::string_view model_name() const;
  /// tokenizer.ggml.pre, or "default" when absent.
  std::string_view pre_tokenizer() const;

 private:
  friend struct internal::Access;
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

/// Incremental detokeniser: push ids, get back text as soon as UTF-8
/// characters are complete. Output is always valid UTF-8: a character is
/// never split across calls, and bytes that cannot become a valid character
/// are replaced by U+FFFD (one per maximal ill-formed subsequence) as soon as
/// that is certain. The concatenated output equals the pieces of the pushed
/// ids (token_to_piece), with no leading-space removal, as streaming
/// generation output prints them.
class TokenStreamDecoder {
 public:
  /// Decodes with `tokenizer` (which is copied; the decoder owns its state).
  explicit TokenStreamDecoder(const Tokenizer& tokenizer, bool render_special = false);

  /// Adds one token; returns the text that became complete.
  std::string push(TokenId id);
  /// Returns what is left: an incomplete trailing sequence becomes U+FFFD.
  /// The decoder is then empty and can be reused.
  std::string flush();

 private:
  Tokenizer tokenizer_;
  bool render_special_;
  std::string pending_;
};

}  // namespace lpu
