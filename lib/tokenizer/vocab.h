#pragma once
// The loaded vocabulary behind lpu::Tokenizer (its pimpl): token texts,
// scores and attributes, merge ranks, special ids and the flags that steer
// encoding and decoding, all as llama.cpp derives them from the GGUF keys.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "include/lpu/tokenizer.h"

namespace lpu::tokenizer {

// Token attributes, a bit set (llama.cpp's llama_token_attr values).
inline constexpr std::uint16_t kAttrUndefined = 0;
inline constexpr std::uint16_t kAttrUnknown = 1 << 0;
inline constexpr std::uint16_t kAttrUnused = 1 << 1;
inline constexpr std::uint16_t kAttrNormal = 1 << 2;
inline constexpr std::uint16_t kAttrControl = 1 << 3;
inline constexpr std::uint16_t kAttrUserDefined = 1 << 4;
inline constexpr std::uint16_t kAttrByte = 1 << 5;
inline constexpr std::uint16_t kAttrLstrip = 1 << 7;
inline constexpr std::uint16_t kAttrRstrip = 1 << 8;

/// tokenizer.ggml.model.
enum class VocabType : std::uint8_t { kSpm, kBpe };

/// The sequence of split expressions a BPE pre-tokenizer applies (one per
/// family of tokenizer.ggml.pre names).
enum class PreSplit : std::uint8_t {
  kDefault,        // BPE without a known pre-tokenizer
  kGpt2,           // the GPT-2 expression
  kLlama3,         // the Llama-3 expression
  kDigitsGpt2,     // single digits, then the GPT-2 expression (SmolLM, StarCoder)
  kDeepseekLlm,    // DeepSeek LLM's five expressions
  kDeepseekCoder,  // DeepSeek Coder's five expressions
};

/// Hash for string-keyed maps that are probed with string_views.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringMap = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

}  // namespace lpu::tokenizer

namespace lpu {

struct Tokenizer::Impl {
  std::string path;        // for messages
  std::string model_name;  // tokenizer.ggml.model
  std::string pre_name;    // tokenizer.ggml.pre or "default"
  tokenizer::VocabType type = tokenizer::VocabType::kSpm;
  tokenizer::PreSplit pre_split = tokenizer::PreSplit::kDefault;

  std::vector<std::string> texts;    // stored token texts (empty ones renamed)
  std::vector<float> scores;         // SPM merge priorities
  std::vector<std::uint16_t> attrs;  // kAttr* bits
  tokenizer::StringMap text_to_id;   // text -> id
  tokenizer::StringMap merge_ranks;  // "left right" -> rank (BPE)

  TokenId bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1, mask = -1;
  TokenId fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  std::vector<TokenId> eog_ids;  // sorted

  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: prefix ' ' to text after a special token or at start
  bool clean_spaces = false;      // detokenizer removes spaces before punctuation
  bool ignore_merges = false;     // BPE: a word that is a token is taken whole

  /// Control, user-defined and unknown tokens, longest text first (equal
  /// lengths as llama.cpp's sort leaves them): the order in which they are
  /// cut out of the input.
  std::vector<TokenId> special_tokens;
  /// token_to_piece(id, render_special = true) of every token.
  std::vector<std::string> pieces;
  /// SPM byte fallback: the token of each byte, or -1.
  std::vector<TokenId> byte_tokens;

  /// Id of `text`, or -1.
  TokenId find(std::string_view text) const {
    auto it = text_to_id.find(text);
    return it == text_to_id.end() ? -1 : it->second;
  }
  /// Merge rank of the pair (left, right), or -1; `key` is scratch space.
  std::int32_t merge_rank(std::string_view left, std::string_view right, std::string& key) const {
    key.assign(left);
    key.push_back(' ');
    key.append(right);
    auto it = merge_ranks.find(key);
    return it == merge_ranks.end() ? -1 : it->second;
  }
  bool valid(TokenId id) const { return id >= 0 && static_cast<std::size_t>(id) < texts.size(); }
};

}  // namespace lpu
