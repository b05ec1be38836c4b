#pragma once
// A conversation's prompt tokens from a chat template's source, for callers
// that keep the template rather than the Model (the Engine).

#include <span>
#include <string_view>
#include <vector>

#include "include/lpu/chat.h"

namespace lpu::chat {

/// As lpu::chat_prompt, for the template `source` of the model at `origin`
/// (the name errors give).
Result<std::vector<TokenId>> prompt_tokens(std::string_view source, std::string_view origin,
                                           const Tokenizer& tokenizer, std::span<const ChatMessage> messages);

}  // namespace lpu::chat
