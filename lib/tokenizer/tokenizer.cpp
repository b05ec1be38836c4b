// lpu::Tokenizer: loading, encoding and the accessors.
#include "include/lpu/tokenizer.h"

#include <algorithm>

#include "lib/gguf/file.h"
#include "lib/tokenizer/encoders.h"
#include "lib/tokenizer/load.h"
#include "lib/tokenizer/vocab.h"

namespace lpu {
namespace {

using tokenizer::Fragment;
using tokenizer::VocabType;

// SPM text: ' ' becomes '▁', after an optional leading space.
std::string escape_spm(std::string_view text, bool prefix_space) {
  std::string out;
  out.reserve(text.size() * 3 + 3);
  if (prefix_space) out += "\xE2\x96\x81";
  for (char c : text) {
    if (c == ' ') {
      out += "\xE2\x96\x81";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status encode_fragments(const Tokenizer::Impl& v, std::string_view text,
                        const std::vector<Fragment>& fragments, std::vector<TokenId>& out) {
  // SPM prefixes a space to raw text at the start and after a special token.
  bool after_special = true;
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.offset, f.length);
    if (v.type == VocabType::kSpm) {
      LPU_TRY(tokenizer::spm_encode(v, escape_spm(raw, v.add_space_prefix && after_special), out),
              "");
    } else {
      LPU_TRY(tokenizer::bpe_encode(v, raw, out), "");
    }
    after_special = false;
  }
  return {};
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Tokenizer> Tokenizer::from_gguf(const std::string& path) {
  LPU_ASSIGN_OR_RETURN(gguf::File file, gguf::File::open(path));
  return tokenizer::load_tokenizer(file);
}

Result<std::vector<TokenId>> Tokenizer::encode(std::string_view text,
                                               const EncodeOptions& options) const {
  const Impl& v = *impl_;
  std::vector<TokenId> out;
  if (options.add_bos) {
    if (v.bos < 0)
      return failed_precondition(v.path + ": BOS requested but the vocabulary has no BOS token");
    out.push_back(v.bos);
  }
  const std::vector<Fragment> fragments =
      tokenizer::partition_special(v, text, options.parse_special);
  LPU_TRY(encode_fragments(v, text, fragments, out), "");
  if (options.add_eos) {
    if (v.eos < 0)
      return failed_precondition(v.path + ": EOS requested but the vocabulary has no EOS token");
    out.push_back(v.eos);
  }
  return out;
}

std::string Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  const Impl& v = *impl_;
  if (!v.valid(id)) return {};
  if (!render_special && (v.attrs[id] & (tokenizer::kAttrUnknown | tokenizer::kAttrControl)))
    return {};
  return v.pieces[id];
}

std::size_t Tokenizer::vocab_size() const { return impl_->texts.size(); }
TokenId Tokenizer::bos() const { return impl_->bos; }
TokenId Tokenizer::eos() const { return impl_->eos; }
TokenId Tokenizer::eot() const { return impl_->eot; }
TokenId Tokenizer::unk() const { return impl_->unk; }
TokenId Tokenizer::pad() const { return impl_->pad; }

bool Tokenizer::is_end_of_generation(TokenId id) const {
  return std::binary_search(impl_->eog_ids.begin(), impl_->eog_ids.end(), id);
}

bool Tokenizer::default_add_bos() const { return impl_->add_bos; }
bool Tokenizer::default_add_eos() const { return impl_->add_eos; }

std::string_view Tokenizer::token_text(TokenId id) const {
  return impl_->valid(id) ? std::string_view(impl_->texts[id]) : std::string_view();
}

TokenId Tokenizer::find_token(std::string_view text) const { return impl_->find(text); }
std::string_view Tokenizer::model_name() const { return impl_->model_name; }
std::string_view Tokenizer::pre_tokenizer() const { return impl_->pre_name; }

}  // namespace lpu
