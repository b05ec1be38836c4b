#pragma once
// The Engine's state (runtime/engine): the requests, the batch slots, the
// locks, and the bookkeeping every part of the Engine shares. engine.cpp
// holds the public members, engine_step.cpp a step, token_stream.cpp the
// streams.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "include/lpu/device.h"
#include "include/lpu/engine.h"
#include "kernels/dispatch/thread_pool.h"
#include "lib/chat/chat_prompt.h"
#include "runtime/device/batch_runner.h"

namespace lpu {

namespace engine_internal {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One request from submit() until release().
struct Sequence {
  Sequence(Request r, Sampler s, StopStrings st, TokenStreamDecoder d, TokenCallback cb)
      : request(std::move(r)), sampler(std::move(s)), stops(std::move(st)), decoder(std::move(d)), on_token(std::move(cb)) {}
  Request request;
  Sampler sampler;
  StopStrings stops;
  TokenStreamDecoder decoder;
  TokenCallback on_token;
  bool streamed = false;
  std::deque<TokenEvent> pending;  // events a stream has not read yet
  std::vector<TokenId> history;    // prompt, then generated tokens: what the penalties see
  std::size_t fed = 0;             // prompt tokens in the cache
  std::optional<TokenId> next;     // a generated token not yet in the cache
  int slot = -1;
  RequestOutput out;
};

// Callbacks gathered under the lock and called after it is released.
using Calls = std::vector<std::pair<TokenCallback, TokenEvent>>;

}  // namespace engine_internal

using engine_internal::Calls;
using engine_internal::Sequence;

struct Engine::Impl {
  Tokenizer tokenizer;
  std::string chat_template;
  std::string model_path;
  std::optional<Program> program;
  std::unique_ptr<Device> device;  // outlives the runner, which points at it
  std::optional<runtime::BatchRunner> runner;
  std::unique_ptr<kernels::ThreadPool> pool;  // samples a step's rows in parallel
  std::uint32_t n_vocab = 0;
  std::vector<std::uint32_t> chunks;  // rows of the prefill variants, most first
  std::size_t max_waiting = 0;
  bool background = false;
  bool all_logits = false;
  bool record_steps = false;
  std::function<void(const StepReport&)> on_step;

  std::mutex step_mu;  // one step at a time
  mutable std::mutex mu;  // everything below
  std::condition_variable work_cv;   // a request arrived, or the Engine stops
  std::condition_variable event_cv;  // a stream's event arrived, or the Engine stops
  std::map<RequestId, Sequence> seqs;
  std::deque<RequestId> queue;
  std::vector<std::optional<RequestId>> slot_owner;
  RequestId next_id = 1;
  Engine::Stats stats;
  bool stopping = false;
  std::thread worker;
  // While the stepping thread runs a step's callbacks, cancel() queues its
  // final event here for that thread to deliver after the step's own, so a
  // request's events stay in order and on one thread.
  bool dispatching = false;
  Calls deferred;
  // Threads waiting in a stream's next(): the destructor waits for them to
  // leave before the state they wait on goes away.
  int waiters = 0;
  std::condition_variable waiters_cv;

  explicit Impl(Tokenizer t) : tokenizer(std::move(t)) {}

  bool has_work() const {
    if (!queue.empty()) return true;
    return std::any_of(slot_owner.begin(), slot_owner.end(), [](const auto& o) { return o.has_value(); });
  }

  // Under mu: hands an event to its stream, or to `calls` for the callback.
  void deliver(RequestId id, Sequence& q, TokenEvent ev, Calls& calls) {
    ev.id = id;
    if (q.streamed) {
      q.pending.push_back(std::move(ev));
    } else if (q.on_token) {
      calls.emplace_back(q.on_token, std::move(ev));
    }
  }

  // Under mu: ends a request with its last event and frees its slot.
  void end(RequestId id, Sequence& q, TokenEvent last, Calls& calls) {
    q.out.stop = last.stop;
    if (q.slot >= 0) slot_owner[static_cast<std::size_t>(q.slot)].reset();
    q.slot = -1;
    queue.erase(std::remove(queue.begin(), queue.end(), id), queue.end());
    deliver(id, q, std::move(last), calls);
  }

  // Under mu: ends a request that has not ended, with no token.
  void finish(RequestId id, Sequence& q, StopReason why, Calls& calls, const std::string& error = {}) {
    if (q.out.done()) return;
    q.out.error = error;
    TokenEvent last;
    last.stop = why;
    end(id, q, std::move(last), calls);
  }

  void fail_all(const Status& s, Calls& calls) {
    for (auto& [id, q] : seqs) finish(id, q, StopReason::kError, calls, s.to_string());
  }

  // Outside mu, on the stepping thread: wakes streams and runs the step's
  // callbacks, then any final events cancel() deferred meanwhile.
  void dispatch(Calls& calls) {
    {
      std::lock_guard<std::mutex> lock(mu);
      dispatching = true;
    }
    event_cv.notify_all();
    while (true) {
      for (auto& [cb, ev] : calls) cb(ev);
      calls.clear();
      std::lock_guard<std::mutex> lock(mu);
      if (deferred.empty()) {
        dispatching = false;
        return;
      }
      calls.swap(deferred);
    }
  }

  Result<std::vector<TokenId>> prompt_of(const Request& r) const {
    const int kinds = !r.prompt.empty() + !r.text.empty() + !r.messages.empty();
    if (kinds == 0) return invalid_argument("request: no prompt (expected token ids, text or chat messages)");
    if (kinds > 1) return invalid_argument("request: the prompt is given more than one way (expected one of token ids, text, chat messages)");
    if (!r.messages.empty()) return chat::prompt_tokens(chat_template, model_path, tokenizer, r.messages);
    if (!r.text.empty()) {
      EncodeOptions o;
      o.add_bos = tokenizer.default_add_bos();
      o.parse_special = r.parse_special;
      LPU_ASSIGN_OR_RETURN(std::vector<TokenId> ids, tokenizer.encode(r.text, o));
      if (ids.empty()) return invalid_argument("request: the prompt text has no tokens");
      return ids;
    }
    return r.prompt;
  }

  Result<std::size_t> step();
  // Under mu: a sampled token joins its request's output, or ends it.
  void take_token(RequestId id, Sequence& q, Result<SampledToken>& picked, Calls& calls);
  void background_loop();
};

}  // namespace lpu
