// Special token ids, add-BOS/EOS flags and the token attribute adjustments
// llama.cpp makes after reading a vocabulary.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <span>

#include "lib/tokenizer/load_internal.h"

namespace lpu::tokenizer {
namespace {

struct IdKey {
  std::string_view key;
  TokenId Tokenizer::Impl::*member;
};

// In llama.cpp's order: the deprecated fill-in-the-middle keys come last and
// win when both forms are present.
constexpr IdKey kIdKeys[] = {
    {"tokenizer.ggml.bos_token_id", &Tokenizer::Impl::bos},
    {"tokenizer.ggml.eos_token_id", &Tokenizer::Impl::eos},
    {"tokenizer.ggml.eot_token_id", &Tokenizer::Impl::eot},
    {"tokenizer.ggml.eom_token_id", &Tokenizer::Impl::eom},
    {"tokenizer.ggml.unknown_token_id", &Tokenizer::Impl::unk},
    {"tokenizer.ggml.seperator_token_id", &Tokenizer::Impl::sep},
    {"tokenizer.ggml.padding_token_id", &Tokenizer::Impl::pad},
    {"tokenizer.ggml.mask_token_id", &Tokenizer::Impl::mask},
    {"tokenizer.ggml.fim_pre_token_id", &Tokenizer::Impl::fim_pre},
    {"tokenizer.ggml.fim_suf_token_id", &Tokenizer::Impl::fim_suf},
    {"tokenizer.ggml.fim_mid_token_id", &Tokenizer::Impl::fim_mid},
    {"tokenizer.ggml.fim_pad_token_id", &Tokenizer::Impl::fim_pad},
    {"tokenizer.ggml.fim_rep_token_id", &Tokenizer::Impl::fim_rep},
    {"tokenizer.ggml.fim_sep_token_id", &Tokenizer::Impl::fim_sep},
    {"tokenizer.ggml.prefix_token_id", &Tokenizer::Impl::fim_pre},
    {"tokenizer.ggml.suffix_token_id", &Tokenizer::Impl::fim_suf},
    {"tokenizer.ggml.middle_token_id", &Tokenizer::Impl::fim_mid},
};

using Texts = std::span<const std::string_view>;

// Texts that mark end-of-turn tokens in conversions without the key.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",        "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>",   "<EOT>",      "_<EOT>",  "[EOT]",         "<｜end▁of▁sentence｜>",
    "<end_of_utterance>"};

// Texts that mark end-of-message and fill-in-the-middle tokens.
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>",  "<fim-prefix>", "<fim_prefix>",
                                             "<｜fim▁begin｜>", "<PRE>",        "▁<PRE>",
                                             "<|code_prefix|>", "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>",  "<fim-suffix>", "<fim_suffix>",
                                             "<｜fim▁hole｜>",  "<SUF>",        "▁<SUF>",
                                             "<|code_suffix|>", "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>",  "<fim-middle>", "<fim_middle>",
                                             "<｜fim▁end｜>",   "<MID>",        "▁<MID>",
                                             "<|code_middle|>", "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                             "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};

// Texts of tokens that end generation.
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<｜end▁of▁sentence｜>",
                                          "[e~["};

void add_unique(std::vector<TokenId>& ids, TokenId id) {
  if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

struct TextSlot {
  TokenId Tokenizer::Impl::*member;
  Texts texts;
};

// Ids that conversions without the keys leave unset, found by their texts.
const TextSlot kTextSlots[] = {
    {&Tokenizer::Impl::eot, kEotTexts},        {&Tokenizer::Impl::eom, kEomTexts},
    {&Tokenizer::Impl::fim_pre, kFimPreTexts}, {&Tokenizer::Impl::fim_suf, kFimSufTexts},
    {&Tokenizer::Impl::fim_mid, kFimMidTexts}, {&Tokenizer::Impl::fim_pad, kFimPadTexts},
    {&Tokenizer::Impl::fim_rep, kFimRepTexts}, {&Tokenizer::Impl::fim_sep, kFimSepTexts},
};

// Fills each unset slot with the first token, in the text-to-id map's
// iteration order, whose text is one of the slot's, and makes it a control
// token. When a vocabulary has several candidates (SmolLM2 has both
// "<|endoftext|>" and "<|im_end|>"), llama.cpp takes the first in its own
// map's order; ours is built the same way (std::hash, ids inserted in order,
// no reserve), so with the same standard library the choice is the same.
void detect_by_text(Tokenizer::Impl& v) {
  for (const auto& [text, id] : v.text_to_id) {
    for (const TextSlot& slot : kTextSlots) {
      TokenId& target = v.*slot.member;
      if (target >= 0) continue;
      if (std::find(slot.texts.begin(), slot.texts.end(), text) == slot.texts.end()) continue;
      target = id;
      v.attrs[id] |= kAttrControl;
    }
  }
}

void collect_eog(Tokenizer::Impl& v) {
  std::vector<TokenId>& eog = v.eog_ids;
  add_unique(eog, v.fim_pad);
  add_unique(eog, v.fim_rep);
  add_unique(eog, v.fim_sep);
  for (std::string_view t : kEogTexts) {
    const TokenId id = v.find(t);
    if (id < 0) continue;
    add_unique(eog, id);
    v.attrs[id] |= kAttrControl;
  }
  // gpt-oss's structural tokens are always split out and rendered.
  for (std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    if (const TokenId id = v.find(t); id >= 0) v.attrs[id] = kAttrUserDefined;
  }
  add_unique(eog, v.eos);
  add_unique(eog, v.eot);
  add_unique(eog, v.eom);
  auto in_eog = [&](std::string_view t) {
    const TokenId id = v.find(t);
    return id >= 0 && std::find(eog.begin(), eog.end(), id) != eog.end();
  };
  auto drop = [&](std::string_view t, std::uint16_t attr) {
    const TokenId id = v.find(t);
    eog.erase(std::remove(eog.begin(), eog.end(), id), eog.end());
    v.attrs[id] = attr;
  };
  // Vocabularies with tool-call turn markers use <|end|> (or </s>) inside a
  // turn, so it does not end generation there.
  const bool has_call = in_eog("<|call|>") || in_eog("<|calls|>");
  if (in_eog("<|end|>") &&
      ((in_eog("<|return|>") && has_call) || (has_call && in_eog("<|flush|>")))) {
    drop("<|end|>", kAttrUserDefined);
  }
  if (in_eog("<|tool_response>") && in_eog("</s>")) drop("</s>", kAttrNormal);
  std::sort(eog.begin(), eog.end());
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string optional_string(const gguf::File& file, std::string_view key) {
  const gguf::Value* value = file.find(key);
  return (value != nullptr && value->is_string()) ? std::get<std::string>(value->data) : "";
}

void set_attr(Tokenizer::Impl& v, std::string_view text, std::uint16_t bit, bool on) {
  const TokenId id = v.find(text);
  if (id < 0) return;
  v.attrs[id] = on ? (v.attrs[id] | bit) : (v.attrs[id] & ~bit);
}

// llama.cpp's per-model attributes, chosen by pre-tokenizer, architecture
// and model name because GGUF files do not carry them.
void apply_model_rules(const gguf::File& file, Tokenizer::Impl& v) {
  const std::string name = lower_ascii(optional_string(file, "general.name"));
  const std::string arch = optional_string(file, "general.architecture");
  auto contains = [](const std::string& s, std::initializer_list<std::string_view> parts) {
    return std::any_of(parts.begin(), parts.end(),
                       [&](std::string_view p) { return s.find(p) != std::string::npos; });
  };
  if (contains(v.pre_name, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
      contains(arch, {"nomic-bert-moe", "jina-bert-v3"})) {
    set_attr(v, "<mask>", kAttrLstrip, true);
  } else if (contains(name, {"phi-3", "phi3"})) {
    for (TokenId id : v.special_tokens) v.attrs[id] |= kAttrRstrip;
    set_attr(v, "</s>", kAttrRstrip, true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(v, t, kAttrRstrip, false);
  } else if (contains(name, {"modern-bert"})) {
    set_attr(v, "[MASK]", kAttrLstrip, true);
  }
}

}  // namespace

Status read_special_ids(const gguf::File& file, Tokenizer::Impl& v) {
  const auto n = static_cast<std::int64_t>(v.texts.size());
  for (const IdKey& k : kIdKeys) {
    TokenId& id = v.*k.member;
    if (id >= n) id = -1;  // a type default the vocabulary is too small for
    if (file.find(k.key) == nullptr) continue;
    LPU_ASSIGN_OR_RETURN(std::int64_t value, file.get_int(k.key));
    if (value == 0xFFFFFFFF || value == -1) continue;  // "none"
    if (value < 0 || value >= n) {
      return out_of_range(file.path() + ": key '" + std::string(k.key) + "' is " +
                          std::to_string(value) + ", outside the vocabulary of " +
                          std::to_string(n) + " tokens");
    }
    id = static_cast<TokenId>(value);
  }
  return {};
}

Status read_flags(const gguf::File& file, Tokenizer::Impl& v) {
  LPU_ASSIGN_OR_RETURN(v.add_space_prefix,
                       file.get_bool_or("tokenizer.ggml.add_space_prefix", v.add_space_prefix));
  LPU_ASSIGN_OR_RETURN(v.add_bos, file.get_bool_or("tokenizer.ggml.add_bos_token", v.add_bos));
  LPU_ASSIGN_OR_RETURN(v.add_eos, file.get_bool_or("tokenizer.ggml.add_eos_token", v.add_eos));
  if (v.add_bos && v.bos < 0) {
    return invalid_argument(file.path() +
                            ": BOS is to be added (tokenizer.ggml.add_bos_token or the vocabulary "
                            "type's default) but tokenizer.ggml.bos_token_id names no token");
  }
  if (v.add_eos && v.eos < 0) {
    return invalid_argument(file.path() +
                            ": key 'tokenizer.ggml.add_eos_token' is true but "
                            "tokenizer.ggml.eos_token_id names no token");
  }
  return {};
}

void apply_token_attributes(const gguf::File& file, Tokenizer::Impl& v) {
  detect_by_text(v);
  collect_eog(v);

  for (std::size_t id = 0; id < v.texts.size(); ++id) {
    if (v.attrs[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      v.special_tokens.push_back(static_cast<TokenId>(id));
    }
  }
  // Among texts of equal length the first in this order wins where their
  // occurrences overlap ("ab" and "bc" in "abc"). llama.cpp leaves that order
  // to std::sort, which (libstdc++, past 16 elements) does not keep ties in
  // id order; sorting the same id list with the same comparator and the
  // same standard library reproduces it, where a stable sort would not.
  std::sort(v.special_tokens.begin(), v.special_tokens.end(),
            [&](TokenId a, TokenId b) { return v.texts[a].size() > v.texts[b].size(); });
  apply_model_rules(file, v);
}

void build_caches(Tokenizer::Impl& v) {
  v.pieces.resize(v.texts.size());
  for (std::size_t id = 0; id < v.texts.size(); ++id) {
    v.pieces[id] = render_piece(v, static_cast<TokenId>(id));
  }
  v.byte_tokens.assign(256, -1);
  if (v.type != VocabType::kSpm) return;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    TokenId id = v.find(name);
    if (id < 0) id = v.find(std::string(1, static_cast<char>(b)));
    v.byte_tokens[b] = id;
  }
}

}  // namespace lpu::tokenizer
