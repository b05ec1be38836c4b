#pragma once
// An Engine serves one model on one device (the CPU backend or the LPU
// simulator) through a compiled Program with a fixed number of batch slots,
// shared by the requests it is given (continuous batching):
//  - a request waits in a first-come queue, whose length the Engine bounds,
//    until a slot is free, and joins at the next step;
//  - each step runs one prefill chunk of every request still reading its
//    prompt (the Program's largest chunk that the rest fills: a whole
//    chunk, then tail chunks of half, a quarter, ... 2 rows), then one
//    decode step with a row per slot: the next token of every other
//    running request (and a prompt's single last token);
//  - a request that finishes (max_tokens, end of generation, a stop string,
//    the context) or is cancelled leaves its slot at once.
// Tokens are chosen by each request's Sampler (lpu/sampling.h), keyed by
// its seed and its own step only, and a row's logits do not depend on the
// other rows, so a request gives the same tokens on any backend, thread
// count and slot, whatever else runs beside it.
//
// Two ways to drive it: call step() or run() yourself (one thread, e.g. a
// command-line decode), or set EngineOptions::background and let the
// Engine's own thread step whenever a request waits or runs (a server,
// whose handler threads each submit() or stream() a request).
//
// Thread-safety: every member may be called from any thread. step() and
// run() serialise with each other and with the background thread;
// submit(), stream(), cancel() and output() wait at most for the
// bookkeeping around a step, not for the device. Callbacks run outside the
// Engine's locks on the thread that calls step() (or the background
// thread), and for a request cancelled between steps on the thread that
// calls cancel(); a request's events arrive in order, its stop event last.
// They may call cancel() and submit(). Streams must be finished or
// destroyed before their Engine; one waiting in next() when the Engine is
// destroyed gets an error.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/chat.h"
#include "lpu/device.h"
#include "lpu/model.h"
#include "lpu/program.h"
#include "lpu/progress.h"
#include "lpu/sampling.h"
#include "lpu/status.h"
#include "lpu/token.h"
#include "lpu/tokenizer.h"

namespace lpu {

/// What one step did, for a server's metrics (EngineOptions::on_step).
struct StepReport {
  /// Wall seconds of the step, and of the device's runs within it.
  double seconds = 0.0;
  double device_seconds = 0.0;
  /// Decode rows that carried a request's token, and prompt tokens read.
  std::uint32_t decode_rows = 0;
  std::uint32_t prompt_tokens = 0;
};

struct EngineOptions {
  /// "cpu" or "lpu-sim".
  std::string backend = "cpu";
  /// A target preset or JSON file; empty: cpu-host for "cpu", hmp-217 for
  /// "lpu-sim".
  std::string target;
  /// A saved Program to run instead of compiling; it must have been
  /// compiled for this model and target.
  std::string program;
  /// Batch slots (when compiling).
  std::uint32_t slots = 1;
  /// Context of every slot (when compiling); 0: the model's training context.
  std::uint32_t max_context = 0;
  std::uint32_t chips = 0;
  std::uint32_t group = 0;
  std::string kv;
  /// Weight transforms folded in at import (CompileOptions::smoothing, ::rotation).
  bool smoothing = true;
  bool rotation = true;
  /// CPU backend worker threads; 0: every hardware thread.
  int threads = 0;
  /// Requests that may wait for a slot; submit() refuses more.
  std::size_t max_waiting = 256;
  /// Step on a thread of the Engine's own whenever a request waits or runs.
  bool background = false;
  /// Compile prefill chunks that keep every row's logits, so that requests
  /// with on_logits see each prompt token's (when compiling).
  bool all_logits = false;
  /// Keep every step's slot occupancy and device counters
  /// (Stats::decode_occupancy, Stats::device_steps: simulated and static
  /// cycles on lpu-sim). Off by default: the lists grow per step.
  bool record_steps = false;
  /// Called after every step on the stepping thread, outside the locks.
  std::function<void(const StepReport&)> on_step;
  /// Told what is being done while the Program is compiled or loaded and
  /// the device is filled (see lpu/progress.h).
  ProgressCallback progress;
};

/// What a request generates from. The prompt is given one way: token ids,
/// text (with the tokenizer's BOS rule), or chat messages (rendered through
/// the model's chat template, with an assistant turn opened).
struct Request {
  std::vector<TokenId> prompt;
  std::string text;
  std::vector<ChatMessage> messages;
  /// In `text`, special token texts (e.g. "<|im_end|>") become their tokens.
  bool parse_special = false;
  /// Tokens to generate at most (0: read the prompt only, e.g. for its
  /// logits).
  int max_tokens = 64;
  SamplingOptions sampling;
  /// Text that ends generation (not included in the output).
  std::vector<std::string> stop;
  /// Keep generating past end-of-generation tokens.
  bool ignore_eos = false;
  /// Called with this request's logits, n_vocab floats per row in memory
  /// of the Engine's that is valid only during the call: the prompt's rows
  /// (every row with EngineOptions::all_logits, else the last), then the
  /// row each generated token is chosen from. It runs on the stepping
  /// thread, outside the Engine's locks.
  std::function<void(std::span<const float> rows)> on_logits;
};

using RequestId = std::uint64_t;

enum class StopReason : std::uint8_t {
  kNone,             ///< still waiting or running
  kLength,           ///< max_tokens generated
  kEndOfGeneration,  ///< an end-of-generation token (not in the output)
  kStopString,       ///< a stop string (the text ends before it)
  kContext,          ///< the slot's context is full
  kCancelled,
  kError,            ///< the device failed (RequestOutput::error says how)
};

/// "length", "eos", "stop", "context", "cancelled", "error" (or "" for kNone).
const char* stop_reason_name(StopReason r);

/// No token: the event only ends a request (or carries held-back text).
inline constexpr TokenId kNoToken = -1;

/// One step of one request's output, as streamed. Every request gets
/// exactly one event whose `stop` is set, its last.
struct TokenEvent {
  RequestId id = 0;
  /// The generated token, or kNoToken when the event ends the request
  /// without one (end of generation, cancel, error).
  TokenId token = kNoToken;
  /// The text this event completes (maybe empty: text held back for a
  /// stop string or an unfinished character).
  std::string text;
  /// With SamplingOptions::logprobs or top_logprobs.
  float logprob = 0.0f;
  std::vector<TokenLogprob> top_logprobs;
  StopReason stop = StopReason::kNone;
};

using TokenCallback = std::function<void(const TokenEvent& event)>;

struct RequestOutput {
  /// Tokens of the prompt as fed to the model.
  std::size_t prompt_tokens = 0;
  std::vector<TokenId> tokens;
  std::string text;
  /// log p of each token in the model's distribution, and its
  /// alternatives (with SamplingOptions::logprobs or top_logprobs; else
  /// empty).
  std::vector<float> logprobs;
  std::vector<std::vector<TokenLogprob>> top_logprobs;
  StopReason stop = StopReason::kNone;
  /// With kError: what failed.
  std::string error;
  bool done() const { return stop != StopReason::kNone; }
};

class Engine;

/// One request's events, read one at a time. Obtained from
/// Engine::stream(); destroying it cancels the request if it still runs
/// and forgets it. It must not outlive its Engine. One thread at a time
/// may use a TokenStream.
class TokenStream {
 public:
  TokenStream(TokenStream&& other) noexcept;
  TokenStream& operator=(TokenStream&& other) noexcept;
  TokenStream(const TokenStream&) = delete;
  TokenStream& operator=(const TokenStream&) = delete;
  ~TokenStream();

  RequestId id() const { return id_; }
  /// The next event, waiting for it: on the background thread's steps, or
  /// else by stepping the Engine. std::nullopt after the last event.
  Result<std::optional<TokenEvent>> next();
  /// Ends the request now (its last event reports kCancelled).
  Status cancel();
  /// The request's output so far (final once it is done()).
  Result<RequestOutput> output() const;

  /// for (const TokenEvent& e : stream): stops after the last event or at
  /// an error, which status() then reports.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = TokenEvent;
    using difference_type = std::ptrdiff_t;
    using pointer = const TokenEvent*;
    using reference = const TokenEvent&;
    Iterator() = default;
    explicit Iterator(TokenStream* s) : stream_(s) { advance(); }
    const TokenEvent& operator*() const { return event_; }
    const TokenEvent* operator->() const { return &event_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    bool operator==(const Iterator& o) const { return stream_ == o.stream_; }

   private:
    void advance();
    TokenStream* stream_ = nullptr;
    TokenEvent event_;
  };
  Iterator begin() { return Iterator(this); }
  Iterator end() { return Iterator(); }
  /// The error that ended an iteration early, if any.
  const Status& status() const { return status_; }

 private:
  friend class Engine;
  TokenStream(Engine* engine, RequestId id) : engine_(engine), id_(id) {}
  // Cancels and forgets the request, if any.
  void reset();
  Engine* engine_ = nullptr;
  RequestId id_ = 0;
  Status status_;
};

class Engine {
 public:
  /// Compiles `model` for the target (through the Program cache) or loads
  /// options.program, opens the device and loads it. Errors name what is
  /// wrong: an unknown backend or target, a Program for another model or
  /// target (both hashes), a model that does not fit.
  static Result<std::unique_ptr<Engine>> create(const Model& model, const EngineOptions& options);
  /// Stops the background thread; requests still running are dropped.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Queues a request; `on_token` receives its events. Errors, which queue
  /// nothing: no prompt or more than one kind of prompt, text the
  /// tokenizer refuses, messages for a model without a chat template, a
  /// token id outside the vocabulary, a prompt that does not fit the
  /// context, max_tokens < 0, bad sampling options or stop strings, or
  /// (resource_exhausted) a full queue.
  Result<RequestId> submit(Request request, TokenCallback on_token = {});
  /// Queues a request whose events are read from the stream returned.
  /// Errors as submit().
  Result<TokenStream> stream(Request request);
  /// Ends a waiting or running request now; its slot is free for the next
  /// step. not_found for an unknown or released id; a finished request is
  /// left as it is.
  Status cancel(RequestId id);
  /// Runs one step; returns the requests still waiting or running.
  Result<std::size_t> step();
  /// Steps until no request waits or runs.
  Status run();
  /// A request's output so far (final once done()).
  Result<RequestOutput> output(RequestId id) const;
  /// Forgets a finished request.
  Status release(RequestId id);

  std::uint32_t slots() const;
  std::size_t waiting() const;
  std::size_t running() const;
  /// The most requests that may wait (EngineOptions::max_waiting).
  std::size_t max_waiting() const;
  /// The context every slot holds.
  std::uint32_t max_context() const;
  const Program& program() const;
  const Tokenizer& tokenizer() const;
  struct Stats {
    /// Steps run so far.
    std::uint64_t steps = 0;
    /// With EngineOptions::record_steps: per step so far, the decode rows
    /// that carried a request's token (slot occupancy).
    std::vector<std::uint32_t> decode_occupancy;
    /// Wall seconds inside step(), inside the device's runs of them, and
    /// choosing tokens from their logits.
    double step_seconds = 0.0;
    double device_seconds = 0.0;
    double sampling_seconds = 0.0;
    /// With EngineOptions::record_steps: every device step's counters.
    std::vector<StepCounters> device_steps;
  };
  Stats stats() const;

 private:
  friend class TokenStream;
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  Result<RequestId> enqueue(Request request, TokenCallback on_token, bool streamed);
  Result<std::optional<TokenEvent>> next_event(RequestId id);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpu
