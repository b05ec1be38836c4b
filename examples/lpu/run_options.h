#pragma once
// What `lpu run` takes (run_command.cpp registers the options), and what its
// one-prompt and many-prompt paths share.

#include <cstdint>
#include <string>
#include <vector>

#include "include/lpu/model.h"
#include "include/lpu/sampling.h"
#include "include/lpu/status.h"
#include "include/lpu/tokenizer.h"

namespace lpu::cli {

struct RunOptions {
  std::string model;
  std::string prompt;
  std::string prompt_ids;
  int n_predict = 64;
  int context = 0;
  bool chat = false;
  bool greedy = true;
  bool ignore_eos = false;
  bool special = false;
  bool json = false;
  std::string logits_path;
  bool int8 = false;
  std::string backend;
  std::string target;
  std::string program;
  std::uint32_t chips = 0;
  std::uint32_t group = 0;
  std::string kv;
  int threads = 0;
  SamplingOptions sampling;
  std::vector<std::string> stops;
  std::string prompts_path;
  std::uint32_t slots = 1;
};

/// The token ids of a prompt text: the tokenizer's BOS rule, special
/// tokens parsed with --special, wrapped in the chat template with --chat.
Result<std::vector<TokenId>> encode_prompt(const RunOptions& o, const Model& model, const Tokenizer& tok,
                                           std::string text);

/// The context a compiled Program gets for `tokens` tokens: the power of
/// two from 128 that holds them (the Program cache then serves nearby runs).
std::uint32_t context_bucket(std::uint32_t tokens);

/// --prompts FILE: one prompt per line, decoded concurrently through an
/// Engine over --slots batch slots.
Status run_prompts(const RunOptions& o);

}  // namespace lpu::cli
