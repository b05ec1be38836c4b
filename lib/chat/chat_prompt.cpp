// lpu::chat_prompt: a conversation rendered through the model's own chat
// template and tokenised.
#include "include/lpu/chat.h"

namespace lpu {

Result<std::vector<TokenId>> chat_prompt(const Model& model, const Tokenizer& tokenizer,
                                         std::span<const ChatMessage> messages) {
  const std::string source = model.chat_template();
  if (source.empty()) return failed_precondition(model.path() + ": the model has no tokenizer.chat_template");
  auto kind = detect_chat_template(source);
  if (!kind.ok()) return Status(kind.status()).with_context(model.path());
  EncodeOptions encode;
  encode.add_bos = tokenizer.default_add_bos();
  encode.parse_special = true;  // the template's markers are special tokens
  return tokenizer.encode(render_chat(*kind, messages, /*add_assistant_prompt=*/true), encode);
}

}  // namespace lpu
