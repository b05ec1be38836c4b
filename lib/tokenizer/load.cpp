// Reading the tokenizer.ggml.* keys into a Tokenizer::Impl: vocabulary type
// and pre-tokenizer, token arrays, merges and special token ids, with the
// defaults llama.cpp applies when a key is absent.
#include "lib/tokenizer/load.h"

#include <memory>

#include "lib/core/access.h"
#include "lib/core/log.h"
#include "lib/tokenizer/load_internal.h"

namespace lpu::tokenizer {
namespace {

// What a tokenizer.ggml.pre name selects, and how it changes llama.cpp's BPE
// defaults (clean_spaces on, ignore_merges off, add_bos off).
struct PreInfo {
  std::string_view name;
  PreSplit split;
  bool keep_spaces;  // clean_spaces off
  bool ignore_merges;
  bool add_bos;
};

constexpr PreInfo kPreTokenizers[] = {
    {"default", PreSplit::kDefault, false, false, false},
    {"llama3", PreSplit::kLlama3, false, true, true},
    {"llama-v3", PreSplit::kLlama3, false, true, true},
    {"llama-bpe", PreSplit::kLlama3, false, true, true},
    {"falcon3", PreSplit::kLlama3, false, true, true},
    {"falcon-h1", PreSplit::kLlama3, false, true, true},
    {"pixtral", PreSplit::kLlama3, false, true, true},
    {"midm-2.0", PreSplit::kLlama3, false, true, true},
    {"lfm2", PreSplit::kLlama3, false, true, true},
    {"jina-v5-nano", PreSplit::kLlama3, false, true, true},
    {"dbrx", PreSplit::kLlama3, false, false, false},
    {"smaug-bpe", PreSplit::kLlama3, false, false, false},
    {"deepseek-llm", PreSplit::kDeepseekLlm, true, false, false},
    {"deepseek-coder", PreSplit::kDeepseekCoder, true, false, false},
    {"gpt-2", PreSplit::kGpt2, false, false, false},
    {"phi-2", PreSplit::kGpt2, false, false, false},
    {"jina-es", PreSplit::kGpt2, false, false, false},
    {"jina-de", PreSplit::kGpt2, false, false, false},
    {"gigachat", PreSplit::kGpt2, false, false, false},
    {"jina-v2-es", PreSplit::kGpt2, false, false, false},
    {"jina-v2-de", PreSplit::kGpt2, false, false, false},
    {"a.x-4.0", PreSplit::kGpt2, false, false, false},
    {"mellum", PreSplit::kGpt2, false, false, false},
    {"modern-bert", PreSplit::kGpt2, false, false, false},
    {"mpt", PreSplit::kGpt2, false, false, false},
    {"olmo", PreSplit::kGpt2, false, false, false},
    {"jais", PreSplit::kGpt2, false, false, false},
    {"exaone4", PreSplit::kGpt2, false, false, false},
    {"trillion", PreSplit::kGpt2, true, false, false},
    {"granite-docling", PreSplit::kGpt2, true, false, false},
    {"starcoder", PreSplit::kDigitsGpt2, false, false, false},
    {"refact", PreSplit::kDigitsGpt2, false, false, false},
    {"codeshell", PreSplit::kDigitsGpt2, false, false, false},
    {"exaone", PreSplit::kDigitsGpt2, false, false, false},
    {"minerva-7b", PreSplit::kDigitsGpt2, false, false, false},
    {"mellum2", PreSplit::kDigitsGpt2, false, false, false},
    {"command-r", PreSplit::kDigitsGpt2, true, false, false},
    {"smollm", PreSplit::kDigitsGpt2, true, false, false},
};

std::string key_ref(const gguf::File& file, std::string_view key) {
  return file.path() + ": key '" + std::string(key) + "'";
}

Result<std::string> optional_string(const gguf::File& file, std::string_view key) {
  if (file.find(key) == nullptr) return std::string();
  return file.get_string(key);
}

Status set_type(const gguf::File& file, Tokenizer::Impl& v) {
  LPU_ASSIGN_OR_RETURN(v.model_name, file.get_string(kKeyModel));
  LPU_ASSIGN_OR_RETURN(std::string pre, optional_string(file, kKeyPre));
  v.pre_name = pre.empty() ? "default" : pre;
  if (v.model_name == "llama") {
    v.type = VocabType::kSpm;
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_space_prefix = true;
    v.add_bos = true;
    return {};
  }
  if (v.model_name != "gpt2") {
    return unimplemented(key_ref(file, kKeyModel) + " is '" + v.model_name +
                         "' (supported: llama, gpt2)");
  }
  v.type = VocabType::kBpe;
  // llama.cpp's placeholder defaults for BPE vocabularies.
  v.bos = 11, v.eos = 11;
  v.clean_spaces = true;
  if (pre.empty()) {
    LPU_LOG_WARN("{}: no tokenizer.ggml.pre; using the 'default' pre-tokenizer", file.path());
  }
  for (const PreInfo& p : kPreTokenizers) {
    if (p.name != v.pre_name) continue;
    v.pre_split = p.split;
    v.clean_spaces = !p.keep_spaces;
    v.ignore_merges = p.ignore_merges;
    v.add_bos = p.add_bos;
    return {};
  }
  return unimplemented(key_ref(file, kKeyPre) + " is '" + v.pre_name +
                       "', a pre-tokenizer lpu does not implement");
}

// tokenizer.ggml.scores: float32 or int32, one per token.
Status read_scores(const gguf::File& file, std::size_t n, Tokenizer::Impl& v) {
  v.scores.assign(n, 0.0f);
  const gguf::Value* value = file.find(kKeyScores);
  if (value == nullptr) return {};
  std::vector<float> scores;
  if (value->is_array() &&
      std::get<gguf::Array>(value->data).elem_type == gguf::ValueType::kInt32) {
    LPU_ASSIGN_OR_RETURN(auto ints, file.get_int_array(kKeyScores));
    for (std::int64_t s : ints) scores.push_back(static_cast<float>(s));
  } else {
    LPU_ASSIGN_OR_RETURN(scores, file.get_float_array(kKeyScores));
  }
  if (scores.size() != n) {
    return invalid_argument(key_ref(file, kKeyScores) + " has " + std::to_string(scores.size()) +
                            " entries but tokenizer.ggml.tokens has " + std::to_string(n));
  }
  v.scores = std::move(scores);
  return {};
}

std::uint16_t attr_of_type(std::int64_t type) {
  switch (type) {
    case 1:
      return kAttrNormal;
    case 2:
      return kAttrUnknown;
    case 3:
      return kAttrControl;
    case 4:
      return kAttrUserDefined;
    case 5:
      return kAttrUnused;
    case 6:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

// tokenizer.ggml.token_type: integers, one per token; all normal if absent.
Status read_types(const gguf::File& file, std::size_t n, Tokenizer::Impl& v) {
  v.attrs.assign(n, kAttrNormal);
  if (file.find(kKeyTokenType) == nullptr) return {};
  LPU_ASSIGN_OR_RETURN(auto types, file.get_int_array(kKeyTokenType));
  if (types.size() != n) {
    return invalid_argument(key_ref(file, kKeyTokenType) + " has " + std::to_string(types.size()) +
                            " entries but tokenizer.ggml.tokens has " + std::to_string(n));
  }
  for (std::size_t i = 0; i < n; ++i) v.attrs[i] = attr_of_type(types[i]);
  return {};
}

Status read_tokens(const gguf::File& file, Tokenizer::Impl& v) {
  LPU_ASSIGN_OR_RETURN(v.texts, file.get_string_array(kKeyTokens));
  const std::size_t n = v.texts.size();
  if (n == 0) return invalid_argument(key_ref(file, kKeyTokens) + " is empty");
  if (n > static_cast<std::size_t>(INT32_MAX)) {
    return invalid_argument(key_ref(file, kKeyTokens) + " has more tokens than int32 ids can name");
  }
  // No reserve(): the map's iteration order then matches llama.cpp's (see
  // detect_by_text in load_specials.cpp).
  for (std::size_t i = 0; i < n; ++i) {
    // An empty text cannot be matched; llama.cpp names it like this.
    if (v.texts[i].empty()) v.texts[i] = "[EMPTY_" + std::to_string(i) + "]";
    auto [it, inserted] = v.text_to_id.emplace(v.texts[i], static_cast<TokenId>(i));
    if (!inserted) {
      return invalid_argument(key_ref(file, kKeyTokens) + ": token '" + v.texts[i] +
                              "' appears twice (ids " + std::to_string(it->second) + " and " +
                              std::to_string(i) + ")");
    }
  }
  LPU_TRY(read_scores(file, n, v), "");
  return read_types(file, n, v);
}

Status read_merges(const gguf::File& file, Tokenizer::Impl& v) {
  if (v.type != VocabType::kBpe) return {};
  LPU_ASSIGN_OR_RETURN(std::vector<std::string> merges, file.get_string_array(kKeyMerges));
  v.merge_ranks.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const std::string& m = merges[i];
    const std::size_t space = m.find(' ', 1);
    if (space == std::string::npos || space + 1 == m.size()) {
      return invalid_argument(key_ref(file, kKeyMerges) + ": entry " + std::to_string(i) + " '" +
                              m + "' is not two tokens separated by a space");
    }
    // The first listing of a pair keeps its rank.
    v.merge_ranks.emplace(m, static_cast<std::int32_t>(i));
  }
  return {};
}

}  // namespace

Result<Tokenizer> load_tokenizer(const gguf::File& file) {
  auto v = std::make_shared<Tokenizer::Impl>();
  v->path = file.path();
  LPU_TRY(set_type(file, *v), "");
  LPU_TRY(read_tokens(file, *v), "");
  LPU_TRY(read_merges(file, *v), "");
  LPU_TRY(read_special_ids(file, *v), "");
  LPU_TRY(read_flags(file, *v), "");
  apply_token_attributes(file, *v);
  build_caches(*v);
  return internal::Access::wrap<Tokenizer>(std::shared_ptr<const Tokenizer::Impl>(std::move(v)));
}

}  // namespace lpu::tokenizer
