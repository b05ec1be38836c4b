// lpu::chat_prompt: a conversation rendered through the model's own chat
// template and tokenised.
#include "lib/chat/chat_prompt.h"

#include <string>

namespace lpu {
namespace chat {

Result<std::vector<TokenId>> prompt_tokens(std::string_view source, std::string_view origin,
                                           const Tokenizer& tokenizer, std::span<const ChatMessage> messages) {
  if (source.empty()) return failed_precondition(std::string(origin) + ": the model has no tokenizer.chat_template");
  auto kind = detect_chat_template(source);
  if (!kind.ok()) return Status(kind.status()).with_context(std::string(origin));
  EncodeOptions encode;
  encode.add_bos = tokenizer.default_add_bos();
  encode.parse_special = true;  // the template's markers are special tokens
  return tokenizer.encode(render_chat(*kind, messages, /*add_assistant_prompt=*/true), encode);
}

}  // namespace chat

Result<std::vector<TokenId>> chat_prompt(const Model& model, const Tokenizer& tokenizer,
                                         std::span<const ChatMessage> messages) {
  return chat::prompt_tokens(model.chat_template(), model.path(), tokenizer, messages);
}

}  // namespace lpu
