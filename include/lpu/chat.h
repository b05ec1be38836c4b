#pragma once
// Chat prompt formatting: recognise a model's chat-template family from its
// Jinja source (tokenizer.chat_template) and render a conversation the way
// llama.cpp's built-in llama_chat_apply_template renders that family. No
// Jinja is evaluated: like llama.cpp, lpu formats each family by hand, so a
// template's extras (e.g. a default system message) are not reproduced.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/model.h"
#include "lpu/status.h"
#include "lpu/token.h"
#include "lpu/tokenizer.h"

namespace lpu {

/// One turn of a conversation. `role` is usually "system", "user" or
/// "assistant".
struct ChatMessage {
  std::string role;
  std::string content;
};

/// The supported template families, named as llama.cpp names them.
enum class ChatTemplateKind {
  kChatML,           ///< "chatml": <|im_start|>role\ncontent<|im_end|>\n
  kLlama2,           ///< "llama2": [INST] ... [/INST], system text folded in
  kLlama2Sys,        ///< "llama2-sys": with a <<SYS>> block
  kLlama2SysBos,     ///< "llama2-sys-bos": also <s> before each later [INST]
  kLlama2SysStrip,   ///< "llama2-sys-strip": also trims every message
  kLlama3,           ///< "llama3": <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  kMistralV1,        ///< "mistral-v1": " [INST] ... [/INST]"
  kMistralV3,        ///< "mistral-v3": "[INST] ...[/INST] answer</s>" (answers trimmed)
  kMistralV3Tekken,  ///< "mistral-v3-tekken": v3 without the space after [INST]
  kMistralV7,        ///< "mistral-v7": [SYSTEM_PROMPT] ... [/SYSTEM_PROMPT] [INST] ...
  kMistralV7Tekken,  ///< "mistral-v7-tekken": v7 without the spaces
};

/// llama.cpp's name of `kind` ("chatml", "llama2-sys", "mistral-v7", ...).
std::string_view chat_template_name(ChatTemplateKind kind);

/// Every supported kind, in declaration order.
std::vector<ChatTemplateKind> chat_template_kinds();

/// The family of a chat template, recognised as llama.cpp's
/// llm_chat_detect_template does: `jinja_source` may also be one of the
/// names above. Errors (not_found / unimplemented) name the family when it
/// is one llama.cpp knows but lpu does not render, and list the markers
/// expected otherwise.
Result<ChatTemplateKind> detect_chat_template(std::string_view jinja_source);

/// The prompt text for `messages`, byte for byte as llama.cpp renders
/// `kind`. `add_assistant_prompt` appends the opening of an assistant turn
/// where the family has one (ChatML, Llama 3); the [INST] families ignore it,
/// as llama.cpp does.
std::string render_chat(ChatTemplateKind kind, std::span<const ChatMessage> messages,
                        bool add_assistant_prompt);

/// The prompt token ids of a conversation (system messages and any number
/// of turns) for `model`: its tokenizer.chat_template's family rendered with
/// an assistant turn opened, special token texts parsed, BOS as the
/// tokenizer adds it. Errors: a model without a chat template, or a family
/// detect_chat_template does not render.
Result<std::vector<TokenId>> chat_prompt(const Model& model, const Tokenizer& tokenizer,
                                         std::span<const ChatMessage> messages);

}  // namespace lpu
