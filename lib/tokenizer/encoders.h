#pragma once
// The per-fragment encoders and the special-token partition that feeds them.

#include <string>
#include <string_view>
#include <vector>

#include "include/lpu/status.h"
#include "lib/tokenizer/vocab.h"

namespace lpu::tokenizer {

/// SentencePiece-style encoding of `text` (spaces already replaced by '▁'):
/// the highest-scoring adjacent pair that forms a token merges first (the
/// leftmost on ties); pieces left that are not tokens fall back to byte
/// tokens. Fails when a byte has no fallback token.
Status spm_encode(const Tokenizer::Impl& vocab, std::string_view text, std::vector<TokenId>& out);

/// Byte-level BPE encoding of `text`: pre-tokenizer split, then per word the
/// lowest-ranked adjacent merge first (the leftmost on ties).
Status bpe_encode(const Tokenizer::Impl& vocab, std::string_view text, std::vector<TokenId>& out);

/// A piece of the input after special tokens were cut out: either a token
/// or a byte range of raw text.
struct Fragment {
  TokenId token = -1;  // -1: raw text
  std::size_t offset = 0;
  std::size_t length = 0;
};

/// Cuts the special tokens out of `text`, longest text first, each at every
/// non-overlapping occurrence from the left, honouring lstrip/rstrip.
/// Control and unknown tokens take part only when `parse_special`;
/// user-defined ones always do.
std::vector<Fragment> partition_special(const Tokenizer::Impl& vocab, std::string_view text,
                                        bool parse_special);

}  // namespace lpu::tokenizer
