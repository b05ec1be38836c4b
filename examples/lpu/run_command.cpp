// lpu run MODEL --prompt TEXT -n N: decode (greedy, or sampled with a
// seed), streaming the text to standard output, with the fp32 reference
// forward pass, or with --backend cpu|lpu-sim on a Program compiled for
// --target (or loaded from --program); --int8 means --backend cpu --target
// cpu-host. Generation ends at -n tokens, an end-of-generation token, a
// stop string, or the context limit (--ctx, else the model's training
// context), and says which.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "examples/lpu/command.h"
#include "examples/lpu/run_options.h"
#include "include/lpu/chat.h"
#include "include/lpu/engine.h"
#include "include/lpu/progress.h"
#include "include/lpu/sampling.h"
#include "include/lpu/program.h"
#include "include/lpu/model.h"
#include "include/lpu/reference.h"
#include "include/lpu/tokenizer.h"
#include "lib/metrics/metrics.h"

namespace lpu::cli {

Result<std::vector<TokenId>> encode_prompt(const RunOptions& o, const Model& model, const Tokenizer& tok,
                                           std::string text) {
  if (o.chat) {
    const std::vector<ChatMessage> messages = {{"user", std::move(text)}};
    return chat_prompt(model, tok, messages);
  }
  EncodeOptions encode;
  encode.add_bos = tok.default_add_bos();
  encode.parse_special = o.special;
  return tok.encode(text, encode);
}

std::uint32_t context_bucket(std::uint32_t tokens) {
  std::uint32_t ctx = 128;
  while (ctx < tokens) ctx *= 2;
  return ctx;
}

namespace {

using Clock = std::chrono::steady_clock;


Result<std::vector<TokenId>> prompt_tokens(const RunOptions& o, const Model& model, const Tokenizer& tok) {
  if (!o.prompt_ids.empty()) {
    auto ids = metrics::parse_token_ids(o.prompt_ids);
    if (!ids.ok()) return Status(ids.status()).with_context("--prompt-ids");
    return ids;
  }
  return encode_prompt(o, model, tok, o.prompt == "-" ? read_stdin() : o.prompt);
}


class LogitsWriter {
 public:
  Status open(const std::string& path) {
    if (path.empty()) return {};
    out_.open(path, std::ios::binary | std::ios::trunc);
    if (!out_) return invalid_argument(path + ": cannot open for writing (--logits)");
    path_ = path;
    return {};
  }
  bool enabled() const { return out_.is_open(); }
  Status write(std::span<const float> rows) {
    if (!enabled()) return {};
    out_.write(reinterpret_cast<const char*>(rows.data()), static_cast<std::streamsize>(rows.size() * 4));
    if (!out_) return data_loss(path_ + ": write failed (--logits)");
    return {};
  }

 private:
  std::ofstream out_;
  std::string path_;
};

Status check_options(RunOptions& o, bool given_group, bool given_kv, bool given_threads) {
  if (o.int8) {
    if (!o.backend.empty() && o.backend != "cpu") return invalid_argument("--int8 means --backend cpu; drop one");
    o.backend = "cpu";
    if (o.target.empty()) o.target = "cpu-host";
  }
  if (o.backend.empty()) {
    for (const auto& [given, name] : {std::pair{given_group, "--group"}, {given_kv, "--kv"}, {given_threads, "--threads"},
                                      {!o.target.empty(), "--target"}, {!o.program.empty(), "--program"},
                                      {o.chips != 0, "--chips"}}) {
      if (given) return invalid_argument(std::string(name) + " applies only with --backend cpu|lpu-sim (or --int8)");
    }
    return {};
  }
  if (!o.program.empty() && (given_group || given_kv || o.chips != 0)) {
    return invalid_argument("--program fixes G, the KV precision and the chips; drop --group, --kv and --chips");
  }
  return {};
}

// What a decode produced, on either path.
struct Decoded {
  std::vector<TokenId> tokens;
  std::string text;
  std::string stop_reason;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  std::uint32_t group = 0;
  std::vector<StepCounters> steps;  // lpu-sim
};

void show(const RunOptions& o, std::string_view piece) {
  if (o.json) return;
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

// The fp32 reference: the prompt in one forward call, then a token at a time.
Result<Decoded> decode_reference(const RunOptions& o, const Model& model, const Tokenizer& tok,
                                 const std::vector<TokenId>& prompt, int n_predict, int context, LogitsWriter& logits_out) {
  const int n_vocab = model.config().n_vocab;
  LPU_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(o.sampling, n_vocab));
  LPU_ASSIGN_OR_RETURN(StopStrings stops, StopStrings::create(o.stops));
  LPU_ASSIGN_OR_RETURN(ReferenceSession session, ReferenceSession::create(model, context));
  Decoded d;
  d.stop_reason = "length";
  const auto t0 = Clock::now();
  LPU_ASSIGN_OR_RETURN(std::vector<float> logits, session.forward(prompt, logits_out.enabled()));
  LPU_TRY(logits_out.write(logits), "");
  const auto t1 = Clock::now();
  TokenStreamDecoder stream(tok);
  std::vector<TokenId> history = prompt;
  auto emit = [&](const std::string& piece) {
    d.text += piece;
    show(o, piece);
  };
  for (int i = 0; i < n_predict; ++i) {
    LPU_ASSIGN_OR_RETURN(SampledToken pick,
                         sampler.sample(std::span(logits.data() + logits.size() - n_vocab, n_vocab), history,
                                        static_cast<std::uint64_t>(i)));
    if (!o.ignore_eos && tok.is_end_of_generation(pick.token)) {
      d.stop_reason = "eos";
      break;
    }
    d.tokens.push_back(pick.token);
    history.push_back(pick.token);
    emit(stops.push(stream.push(pick.token)));
    if (stops.stopped()) break;
    if (i + 1 == n_predict) break;  // the last token needs no forward pass
    const TokenId fed[1] = {pick.token};
    LPU_ASSIGN_OR_RETURN(logits, session.forward(fed, logits_out.enabled()));
    LPU_TRY(logits_out.write(logits), "");
  }
  std::string tail = stops.stopped() ? std::string() : stops.push(stream.flush());
  tail += stops.flush();
  if (stops.stopped()) d.stop_reason = "stop";
  emit(tail);
  d.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  d.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return d;
}

// A compiled Program on a backend, through the Engine (one slot).
Result<Decoded> decode_on_backend(const RunOptions& o, const Model& model, const std::vector<TokenId>& prompt,
                                  int n_predict, int context, LogitsWriter& logits_out) {
  EngineOptions e;
  e.backend = o.backend;
  e.target = o.target;
  e.program = o.program;
  e.slots = 1;
  e.max_context = context_bucket(static_cast<std::uint32_t>(context));
  e.chips = o.chips;
  e.group = static_cast<std::uint32_t>(o.group);
  e.kv = o.kv;
  e.threads = o.threads;
  // --logits wants every prompt row's logits from the prefill chunks.
  e.all_logits = logits_out.enabled();
  e.record_steps = o.backend == "lpu-sim";
  e.progress = terminal_progress_bar("lpu run");
  LPU_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::create(model, e));
  Request r;
  r.prompt = prompt;
  r.max_tokens = n_predict;
  r.sampling = o.sampling;
  r.stop = o.stops;
  r.ignore_eos = o.ignore_eos;
  Status write_status;
  if (logits_out.enabled()) {
    r.on_logits = [&](std::span<const float> rows) {
      if (write_status.ok()) write_status = logits_out.write(rows);
    };
  }
  std::optional<Clock::time_point> first;
  const auto t0 = Clock::now();
  LPU_ASSIGN_OR_RETURN(RequestId id, engine->submit(std::move(r), [&](const TokenEvent& ev) {
    if (!first) first = Clock::now();
    show(o, ev.text);
  }));
  LPU_TRY(engine->run(), "");
  LPU_TRY(write_status, "");
  const auto t2 = Clock::now();
  LPU_ASSIGN_OR_RETURN(RequestOutput out, engine->output(id));
  if (out.stop == StopReason::kError) return internal_error(out.error);
  Decoded d;
  d.tokens = std::move(out.tokens);
  d.text = std::move(out.text);
  d.stop_reason = stop_reason_name(out.stop);
  const auto t1 = first.value_or(t2);
  d.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  d.decode_seconds = std::chrono::duration<double>(t2 - t1).count();
  d.group = engine->program().group_size();
  d.steps = engine->stats().device_steps;
  return d;
}

Status run_decode(const RunOptions& o) {
  if (!o.prompts_path.empty()) {
    if (!o.prompt.empty() || !o.prompt_ids.empty() || !o.logits_path.empty()) {
      return invalid_argument("--prompts reads every prompt from its file; drop --prompt, --prompt-ids and --logits");
    }
    if (o.backend.empty()) return invalid_argument("--prompts runs on a backend: add --int8 or --backend cpu|lpu-sim");
    return run_prompts(o);
  }
  if (o.slots != 1) return invalid_argument("--slots applies only with --prompts");
  if (o.n_predict < 0) return invalid_argument("-n " + std::to_string(o.n_predict) + " (expected >= 0)");
  if (o.prompt.empty() == o.prompt_ids.empty()) {
    return invalid_argument("give exactly one of --prompt TEXT and --prompt-ids IDS");
  }
  LPU_ASSIGN_OR_RETURN(Model model, Model::load(o.model));
  LPU_ASSIGN_OR_RETURN(Tokenizer tok, model.tokenizer());
  LPU_ASSIGN_OR_RETURN(std::vector<TokenId> prompt, prompt_tokens(o, model, tok));
  if (prompt.empty()) return invalid_argument("the prompt has no tokens");
  // The context limit: --ctx, else the model's training context.
  const int limit = o.context > 0 ? o.context : model.config().n_ctx_train > 0 ? model.config().n_ctx_train : INT32_MAX;
  if (static_cast<std::int64_t>(prompt.size()) > limit) {
    return out_of_range("the prompt has " + std::to_string(prompt.size()) + " tokens, more than the context limit of " +
                        std::to_string(limit) + (o.context > 0 ? " (--ctx)" : " (the model's training context; raise it with --ctx)"));
  }
  const int n_predict = std::min<std::int64_t>(o.n_predict, static_cast<std::int64_t>(limit) - static_cast<std::int64_t>(prompt.size()));
  const int context = o.context > 0 ? o.context : static_cast<int>(prompt.size()) + n_predict;
  LogitsWriter logits_out;
  LPU_TRY(logits_out.open(o.logits_path), "");
  LPU_ASSIGN_OR_RETURN(Decoded d, o.backend.empty() ? decode_reference(o, model, tok, prompt, n_predict, context, logits_out)
                                                    : decode_on_backend(o, model, prompt, n_predict, context, logits_out));
  // Generation cut short by the context limit reads as such.
  if (d.stop_reason == "length" && n_predict < o.n_predict) d.stop_reason = "context";
  const double prefill_rate = prompt.size() / std::max(d.prefill_seconds, 1e-9);
  const double decode_rate = d.tokens.size() > 1 ? (d.tokens.size() - 1) / std::max(d.decode_seconds, 1e-9) : 0.0;
  if (o.json) {
    nlohmann::json j = {{"tokens", d.tokens}, {"text", d.text}, {"stop_reason", d.stop_reason},
                        {"prefill_tokens_per_s", prefill_rate}, {"decode_tokens_per_s", decode_rate}};
    if (!o.backend.empty()) j["group_size"] = d.group;
    if (o.backend == "lpu-sim") {
      nlohmann::json steps = nlohmann::json::array();
      for (const StepCounters& c : d.steps) {
        steps.push_back({{"variant", c.variant}, {"simulated_cycles", c.cycles},
                         {"static_latency_cycles", c.static_latency_cycles}});
      }
      j["steps"] = steps;
    }
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);  // the result first, then the timing line on stderr
  if (d.stop_reason == "context") {
    std::fprintf(stderr, "stopped: the context limit of %d tokens (%s)\n", limit,
                 o.context > 0 ? "--ctx" : "the model's training context; raise it with --ctx");
  }
  std::fprintf(stderr, "prompt: %zu tokens, %.1f tokens/s; generated: %zu tokens, %.1f tokens/s\n", prompt.size(),
               prefill_rate, d.tokens.size(), decode_rate);
  return {};
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Decode (greedy, or sampled with a seed), streaming text: the fp32 reference, or a compiled Program on the cpu or lpu-sim backend");
  cmd->add_option("model", o->model, "GGUF model")->required();
  cmd->add_option("--prompt,-p", o->prompt, "Prompt text ('-' reads standard input verbatim)");
  cmd->add_option("--prompt-ids", o->prompt_ids, "Evaluate exactly these token ids, e.g. 1,2,3");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate at most");
  cmd->add_option("--ctx", o->context, "KV-cache capacity in tokens (default: prompt + n)");
  cmd->add_flag("--chat", o->chat, "Wrap the prompt in the model's chat template as a user message");
  cmd->add_flag("--greedy", o->greedy, "Pick the most likely token (the default unless --temperature > 0; ties go to the lowest id)");
  cmd->add_option("--temperature", o->sampling.temperature, "Sample at this temperature (default 0: greedy)");
  cmd->add_option("--seed", o->sampling.seed, "Seed of the draws (with --temperature; the same seed gives the same tokens on every backend)");
  cmd->add_option("--top-k", o->sampling.top_k, "Keep the k most likely tokens (default 0: all)");
  cmd->add_option("--top-p", o->sampling.top_p, "Keep the most likely tokens reaching probability p (default 1: all)");
  cmd->add_option("--min-p", o->sampling.min_p, "Drop tokens below min-p times the most likely (default 0)");
  cmd->add_option("--repeat-penalty", o->sampling.repeat_penalty, "Penalise the last 64 tokens (default 1: off)");
  cmd->add_option("--stop", o->stops, "Stop when the text contains this string (repeatable; not shown)");
  cmd->add_option("--prompts", o->prompts_path, "Decode every line of FILE as a prompt, concurrently (continuous batching)");
  cmd->add_option("--slots", o->slots, "Batch slots the --prompts share (default 1)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--special", o->special, "Parse special token texts in the prompt");
  cmd->add_flag("--json", o->json, "Print {\"tokens\": [...], \"text\": \"...\", ...} instead of streaming");
  cmd->add_option("--logits", o->logits_path, "Write every evaluated token's logits (f32 LE rows) to FILE");
  cmd->add_option("--backend", o->backend, "Run a compiled Program: cpu (the host) or lpu-sim (the LPU simulator)")
      ->check(CLI::IsMember({"cpu", "lpu-sim"}));
  cmd->add_option("--target", o->target, "LPU target preset or JSON file (default: cpu-host for cpu, hmp-217 for lpu-sim)");
  cmd->add_option("--program", o->program, "Run this Program file instead of compiling");
  cmd->add_option("--chips", o->chips, "Chips to compile for (default: the least that fit)");
  cmd->add_flag("--int8", o->int8, "Same as --backend cpu --target cpu-host");
  CLI::Option* group = cmd->add_option("--group", o->group, "Quantisation group size G (default: the target's K tile)");
  CLI::Option* kv = cmd->add_option("--kv", o->kv, "KV cache precision, int8 or f16 (default: the target's)");
  CLI::Option* threads = cmd->add_option("--threads", o->threads, "cpu backend worker threads (default: all)");
  cmd->callback([&action, o, group, kv, threads] {
    const bool given_group = group->count() > 0;
    const bool given_kv = kv->count() > 0;
    const bool given_threads = threads->count() > 0;
    action = [o, given_group, given_kv, given_threads]() -> Status {
      LPU_TRY(check_options(*o, given_group, given_kv, given_threads), "");
      return run_decode(*o);
    };
  });
}

}  // namespace lpu::cli
