// Chat-template family detection, in the order llama.cpp's
// llm_chat_detect_template tests its markers: a template matching an
// earlier family is that family even if it also holds later markers.
#include <array>
#include <string>

#include "include/lpu/chat.h"

namespace lpu {
namespace {

struct Named {
  std::string_view name;
  ChatTemplateKind kind;
};

constexpr std::array<Named, 11> kNames = {{
    {"chatml", ChatTemplateKind::kChatML},
    {"llama2", ChatTemplateKind::kLlama2},
    {"llama2-sys", ChatTemplateKind::kLlama2Sys},
    {"llama2-sys-bos", ChatTemplateKind::kLlama2SysBos},
    {"llama2-sys-strip", ChatTemplateKind::kLlama2SysStrip},
    {"llama3", ChatTemplateKind::kLlama3},
    {"mistral-v1", ChatTemplateKind::kMistralV1},
    {"mistral-v3", ChatTemplateKind::kMistralV3},
    {"mistral-v3-tekken", ChatTemplateKind::kMistralV3Tekken},
    {"mistral-v7", ChatTemplateKind::kMistralV7},
    {"mistral-v7-tekken", ChatTemplateKind::kMistralV7Tekken},
}};

// Families llama.cpp recognises before Llama 3 but lpu does not render,
// with the markers that identify them (all must be present).
struct Unsupported {
  std::string_view family;
  std::string_view marker_a;
  std::string_view marker_b;
};

constexpr std::array<Unsupported, 12> kBeforeLlama3 = {{
    {"phi3", "<|assistant|>", "<|end|>"},
    {"chatglm4", "[gMASK]<sop>", ""},
    {"falcon3 or glmedge", "<|assistant|>", "<|user|>"},
    {"glmedge", "<|{{ item['role'] }}|>", "<|begin_of_image|>"},
    {"zephyr", "<|user|>", "<|endoftext|>"},
    {"monarch", "bos_token + message['role']", ""},
    {"gemma", "<start_of_turn>", ""},
    {"orion", "'\\n\\nAssistant: ' + eos_token", ""},
    {"openchat", "GPT4 Correct ", ""},
    {"vicuna", "USER: ", "ASSISTANT: "},
    {"deepseek", "### Instruction:", "<|EOT|>"},
    {"command-r", "<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>"},
}};

// llama.cpp's other template names, accepted by its detector but not
// rendered here.
constexpr std::array<std::string_view, 31> kOtherNames = {
    "phi3",      "phi4",      "falcon3",    "zephyr",      "monarch",     "gemma",
    "orion",     "openchat",  "vicuna",     "vicuna-orca", "deepseek",    "deepseek2",
    "deepseek3", "command-r", "chatglm3",   "chatglm4",    "glmedge",     "minicpm",
    "exaone3",   "exaone4",   "rwkv-world", "granite",     "gigachat",    "megrez",
    "yandex",    "bailing",   "llama4",     "smolvlm",     "hunyuan-moe", "hunyuan-dense",
    "kimi-k2"};

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

Status unsupported(std::string_view family) {
  return unimplemented("chat template: recognised the " + std::string(family) +
                       " family, which is not supported (supported: chatml, llama2 variants, "
                       "llama3, mistral-v1/v3/v3-tekken/v7/v7-tekken)");
}

// The [INST] families: Mistral's official templates, then Llama 2 variants.
ChatTemplateKind detect_inst(std::string_view t) {
  if (contains(t, "[SYSTEM_PROMPT]")) return ChatTemplateKind::kMistralV7;
  if (contains(t, "' [INST] ' + system_message") || contains(t, "[AVAILABLE_TOOLS]")) {
    if (contains(t, " [INST]")) return ChatTemplateKind::kMistralV1;
    if (contains(t, "\"[INST]\"")) return ChatTemplateKind::kMistralV3Tekken;
    return ChatTemplateKind::kMistralV3;
  }
  if (contains(t, "content.strip()")) return ChatTemplateKind::kLlama2SysStrip;
  if (contains(t, "bos_token + '[INST]")) return ChatTemplateKind::kLlama2SysBos;
  if (contains(t, "<<SYS>>")) return ChatTemplateKind::kLlama2Sys;
  return ChatTemplateKind::kLlama2;
}

}  // namespace

std::string_view chat_template_name(ChatTemplateKind kind) {
  for (const Named& n : kNames) {
    if (n.kind == kind) return n.name;
  }
  return "unknown";
}

std::vector<ChatTemplateKind> chat_template_kinds() {
  std::vector<ChatTemplateKind> kinds;
  for (const Named& n : kNames) kinds.push_back(n.kind);
  return kinds;
}

Result<ChatTemplateKind> detect_chat_template(std::string_view t) {
  for (const Named& n : kNames) {
    if (t == n.name) return n.kind;
  }
  for (std::string_view name : kOtherNames) {
    if (t == name) return unsupported(name);
  }
  if (contains(t, "<|im_start|>")) {
    if (contains(t, "<|im_sep|>")) return unsupported("phi4");
    if (contains(t, "<end_of_utterance>")) return unsupported("smolvlm");
    return ChatTemplateKind::kChatML;
  }
  if (t.substr(0, 7) == "mistral" || contains(t, "[INST]")) return detect_inst(t);
  for (const Unsupported& u : kBeforeLlama3) {
    if (contains(t, u.marker_a) && (u.marker_b.empty() || contains(t, u.marker_b))) {
      return unsupported(u.family);
    }
  }
  if (contains(t, "<|start_header_id|>") && contains(t, "<|end_header_id|>")) {
    return ChatTemplateKind::kLlama3;
  }
  return not_found(
      "chat template: no supported family recognised (expected a template name such as "
      "'chatml', or Jinja holding '<|im_start|>' (ChatML), '[INST]' (Llama 2 / Mistral) or "
      "'<|start_header_id|>' with '<|end_header_id|>' (Llama 3))");
}

}  // namespace lpu
