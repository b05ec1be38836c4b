// Rendering of each supported family, byte for byte as llama.cpp's
// llm_chat_apply_template writes it.
#include <string>

#include "include/lpu/chat.h"

namespace lpu {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Leading and trailing ASCII whitespace removed (what isspace() accepts in
// the C locale).
std::string trim(const std::string& s) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

std::string render_chatml(std::span<const ChatMessage> messages, bool add_assistant) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (add_assistant) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama3(std::span<const ChatMessage> messages, bool add_assistant) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out +=
        "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
  }
  if (add_assistant) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// Llama 2: the first [INST] is written up front (its BOS is the tokenizer's);
// a system message goes into the first turn, in a <<SYS>> block when the
// variant supports one.
std::string render_llama2(ChatTemplateKind kind, std::span<const ChatMessage> messages) {
  const bool system_block = kind != ChatTemplateKind::kLlama2;
  const bool bos_in_history = kind == ChatTemplateKind::kLlama2SysBos;
  const bool strip = kind == ChatTemplateKind::kLlama2SysStrip;
  std::string out = "[INST] ";
  bool inside_turn = true;
  for (const ChatMessage& m : messages) {
    const std::string content = strip ? trim(m.content) : m.content;
    if (!inside_turn) {
      inside_turn = true;
      out += bos_in_history ? "<s>[INST] " : "[INST] ";
    }
    if (m.role == "system") {
      out += system_block ? "<<SYS>>\n" + content + "\n<</SYS>>\n\n" : content + "\n";
    } else if (m.role == "user") {
      out += content + " [/INST]";
    } else {
      out += content + "</s>";
      inside_turn = false;
    }
  }
  return out;
}

// Mistral v1 / v3 / v3-tekken: a system message opens the turn it shares
// with the next user message.
std::string render_mistral_v1_v3(ChatTemplateKind kind, std::span<const ChatMessage> messages) {
  const std::string leading = kind == ChatTemplateKind::kMistralV1 ? " " : "";
  const std::string trailing = kind == ChatTemplateKind::kMistralV3Tekken ? "" : " ";
  const bool trim_answer = kind == ChatTemplateKind::kMistralV3;
  std::string out;
  bool inside_turn = false;
  for (const ChatMessage& m : messages) {
    if (!inside_turn) {
      out += leading + "[INST]" + trailing;
      inside_turn = true;
    }
    if (m.role == "system") {
      out += m.content + "\n\n";
    } else if (m.role == "user") {
      out += m.content + leading + "[/INST]";
    } else {
      out += trailing + (trim_answer ? trim(m.content) : m.content) + "</s>";
      inside_turn = false;
    }
  }
  return out;
}

std::string render_mistral_v7(ChatTemplateKind kind, std::span<const ChatMessage> messages) {
  const std::string space = kind == ChatTemplateKind::kMistralV7 ? " " : "";
  std::string out;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      out += "[SYSTEM_PROMPT]" + space + m.content + "[/SYSTEM_PROMPT]";
    } else if (m.role == "user") {
      out += "[INST]" + space + m.content + "[/INST]";
    } else {
      out += space + m.content + "</s>";
    }
  }
  return out;
}

}  // namespace

std::string render_chat(ChatTemplateKind kind, std::span<const ChatMessage> messages,
                        bool add_assistant_prompt) {
  switch (kind) {
    case ChatTemplateKind::kChatML:
      return render_chatml(messages, add_assistant_prompt);
    case ChatTemplateKind::kLlama3:
      return render_llama3(messages, add_assistant_prompt);
    case ChatTemplateKind::kLlama2:
    case ChatTemplateKind::kLlama2Sys:
    case ChatTemplateKind::kLlama2SysBos:
    case ChatTemplateKind::kLlama2SysStrip:
      return render_llama2(kind, messages);
    case ChatTemplateKind::kMistralV1:
    case ChatTemplateKind::kMistralV3:
    case ChatTemplateKind::kMistralV3Tekken:
      return render_mistral_v1_v3(kind, messages);
    case ChatTemplateKind::kMistralV7:
    case ChatTemplateKind::kMistralV7Tekken:
      return render_mistral_v7(kind, messages);
  }
  return {};
}

}  // namespace lpu
