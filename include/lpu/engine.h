#pragma once
// An Engine serves one model on one device (the CPU backend or the LPU
// simulator) through a compiled Program with a fixed number of batch slots,
// shared by the requests it is given (continuous batching):
//  - a request waits in a first-come queue, whose length the Engine bounds,
//    until a slot is free, and joins at the next step;
//  - each step runs one prefill chunk of every request still reading a
//    prompt of at least a chunk, then one decode step with a row per slot:
//    the next token of every other running request (a prompt's last
//    tokens, shorter than a chunk, go one per step);
//  - a request that finishes (max_tokens, end of generation, a stop string,
//    the context) or is cancelled leaves its slot at once.
// Tokens are chosen by each request's Sampler (lpu/sampling.h), keyed by
// its seed and its own step only, and a row's logits do not depend on the
// other rows, so a request gives the same tokens on any backend, thread
// count and slot, whatever else runs beside it.
//
// Thread-safety: every member may be called from any thread. step() and
// run() serialise with each other; submit(), cancel() and output() wait at
// most for the bookkeeping around a step, not for the device. Callbacks run
// on the thread that calls step(), outside the Engine's locks (they may
// call cancel()).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lpu/model.h"
#include "lpu/program.h"
#include "lpu/sampling.h"
#include "lpu/status.h"
#include "lpu/token.h"

namespace lpu {

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
  /// CPU backend worker threads; 0: every hardware thread.
  int threads = 0;
  /// Requests that may wait for a slot; submit() refuses more.
  std::size_t max_waiting = 256;
};

struct Request {
  std::vector<TokenId> prompt;
  /// Tokens to generate at most.
  int max_tokens = 64;
  SamplingOptions sampling;
  /// Text that ends generation (not included in the output).
  std::vector<std::string> stop;
  /// Keep generating past end-of-generation tokens.
  bool ignore_eos = false;
};

using RequestId = std::uint64_t;

enum class StopReason : std::uint8_t {
  kNone,             ///< still waiting or running
  kLength,           ///< max_tokens generated
  kEndOfGeneration,  ///< an end-of-generation token (not in the output)
  kStopString,       ///< a stop string (the text ends before it)
  kContext,          ///< the slot's context is full
  kCancelled,
};

/// "length", "eos", "stop", "context", "cancelled" (or "" for kNone).
const char* stop_reason_name(StopReason r);

struct RequestOutput {
  std::vector<TokenId> tokens;
  std::string text;
  /// log p of each token in the model's distribution (with
  /// SamplingOptions::logprobs or top_logprobs; else empty).
  std::vector<float> logprobs;
  StopReason stop = StopReason::kNone;
  bool done() const { return stop != StopReason::kNone; }
};

/// Called once per generated token with the text it completes (maybe
/// empty: text held back for a stop string or an unfinished character).
using TokenCallback = std::function<void(RequestId id, TokenId token, std::string_view text)>;

class Engine {
 public:
  /// Compiles `model` for the target (through the Program cache) or loads
  /// options.program, opens the device and loads it. Errors name what is
  /// wrong: an unknown backend or target, a Program for another model or
  /// target (both hashes), a model that does not fit.
  static Result<std::unique_ptr<Engine>> create(const Model& model, const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Queues a request. Errors, which queue nothing: an empty prompt, a
  /// token id outside the vocabulary, a prompt that does not fit the
  /// context, max_tokens < 1, bad sampling options or stop strings, or
  /// (resource_exhausted) a full queue.
  Result<RequestId> submit(Request request, TokenCallback on_token = {});
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
  /// The context every slot holds.
  std::uint32_t max_context() const;
  const Program& program() const;
  struct Stats {
    /// Per step so far, the decode rows that carried a request's token
    /// (slot occupancy).
    std::vector<std::uint32_t> decode_occupancy;
    /// Wall seconds inside step(), and inside the device's runs of them.
    double step_seconds = 0.0;
    double device_seconds = 0.0;
  };
  Stats stats() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lpu
