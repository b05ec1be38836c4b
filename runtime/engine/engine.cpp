// lpu::Engine: requests in a first-come queue, batch slots, and a step that
// feeds every running request through one BatchRunner call.
#include "include/lpu/engine.h"

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
#include "kernels/dispatch/thread_pool.h"
#include "lib/chat/chat_prompt.h"
#include "runtime/device/batch_runner.h"

namespace lpu {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kNone: return "";
    case StopReason::kLength: return "length";
    case StopReason::kEndOfGeneration: return "eos";
    case StopReason::kStopString: return "stop";
    case StopReason::kContext: return "context";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kError: return "error";
  }
  return "";
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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

}  // namespace

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

Result<std::size_t> Engine::Impl::step() {
  std::lock_guard<std::mutex> stepping(step_mu);
  const auto t0 = Clock::now();
  StepReport report;
  double device_before = 0.0;
  {
    std::lock_guard<std::mutex> lock(mu);
    device_before = stats.device_seconds;
  }
  // Under the lock: admit waiting requests, then what each slot feeds.
  std::vector<runtime::BatchRunner::Entry> entries;
  std::vector<RequestId> owners;
  std::vector<std::vector<TokenId>> feeds;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (std::uint32_t s = 0; s < slot_owner.size() && !queue.empty(); ++s) {
      if (slot_owner[s]) continue;
      const RequestId id = queue.front();
      queue.pop_front();
      slot_owner[s] = id;
      seqs.at(id).slot = static_cast<int>(s);
      runner->reset(s);
    }
    for (std::uint32_t s = 0; s < slot_owner.size(); ++s) {
      if (!slot_owner[s]) continue;
      const Sequence& q = seqs.at(*slot_owner[s]);
      std::vector<TokenId> feed;
      if (q.fed < q.out.prompt_tokens) {
        // history is the prompt until the first token is chosen.
        const std::size_t left = q.out.prompt_tokens - q.fed;
        std::size_t n = 1;
        for (std::uint32_t c : chunks) {
          if (c <= left) {
            n = c;
            break;
          }
        }
        feed.assign(q.history.begin() + static_cast<std::ptrdiff_t>(q.fed),
                    q.history.begin() + static_cast<std::ptrdiff_t>(q.fed + n));
      } else {
        feed.push_back(*q.next);
      }
      owners.push_back(*slot_owner[s]);
      entries.push_back({s, {}, all_logits && q.request.on_logits && q.fed < q.out.prompt_tokens});
      feeds.push_back(std::move(feed));
    }
    for (std::size_t i = 0; i < entries.size(); ++i) entries[i].tokens = feeds[i];
  }
  Calls calls;
  // Logit rows for on_logits callbacks, called before the next step
  // overwrites the runner's buffer.
  std::vector<std::pair<std::function<void(std::span<const float>)>, std::span<const float>>> logit_calls;
  if (!entries.empty()) {
    // The device runs without the lock: requests may come and go meanwhile.
    auto logits = runner->forward(entries);
    std::unique_lock<std::mutex> lock(mu);
    if (!logits.ok()) {
      fail_all(logits.status(), calls);
      lock.unlock();
      dispatch(calls);
      return logits.status();
    }
    for (StepCounters& c : runner->take_steps()) {
      stats.device_seconds += c.host_seconds;
      if (record_steps) stats.device_steps.push_back(std::move(c));
    }
    std::uint32_t decode_rows = 0;
    for (const std::vector<TokenId>& f : feeds) decode_rows += f.size() == 1 ? 1 : 0;
    if (record_steps) stats.decode_occupancy.push_back(decode_rows);
    report.decode_rows = decode_rows;
    // Entry i's logit rows: all its tokens' when it asked for them, else
    // one (the runner's layout).
    std::vector<std::size_t> first_row(entries.size() + 1, 0);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      first_row[i + 1] = first_row[i] + (entries[i].all_logits ? feeds[i].size() : 1);
    }
    auto rows_of = [&](std::size_t i) {
      return logits->subspan(first_row[i] * n_vocab, (first_row[i + 1] - first_row[i]) * n_vocab);
    };
    // Which rows choose a token: requests still running that have read
    // their whole prompt.
    std::vector<Sequence*> row_seq(owners.size(), nullptr);
    std::vector<std::size_t> to_sample;
    for (std::size_t i = 0; i < owners.size(); ++i) {
      auto it = seqs.find(owners[i]);
      if (it == seqs.end()) continue;
      Sequence& q = it->second;
      const bool reading = q.fed < q.out.prompt_tokens;
      if (reading) {
        q.fed += feeds[i].size();
        report.prompt_tokens += static_cast<std::uint32_t>(feeds[i].size());
      } else {
        q.next.reset();
      }
      if (q.out.done()) continue;  // cancelled meanwhile
      // Prompt rows before the last reach on_logits only with every row kept.
      if (q.request.on_logits && (entries[i].all_logits || q.fed == q.out.prompt_tokens)) {
        logit_calls.emplace_back(q.request.on_logits, rows_of(i));
      }
      if (q.fed < q.out.prompt_tokens) continue;  // more prompt to read
      if (q.request.max_tokens == 0) {
        TokenEvent last;
        last.stop = StopReason::kLength;
        end(owners[i], q, std::move(last), calls);
        continue;
      }
      row_seq[i] = &q;
      to_sample.push_back(i);
    }
    // Rows sample in parallel: each Sampler is immutable and a row's draw
    // depends on its own request only.
    const auto ts = Clock::now();
    std::vector<Result<SampledToken>> picks(owners.size(), internal_error("row not sampled"));
    kernels::run_tasks(pool.get(), to_sample.size(), [&](std::size_t k) {
      const std::size_t i = to_sample[k];
      const Sequence& q = *row_seq[i];
      const std::span<const float> rows = rows_of(i);
      picks[i] = q.sampler.sample(rows.last(n_vocab), q.history, q.out.tokens.size());
    });
    stats.sampling_seconds += seconds_since(ts);
    for (const std::size_t i : to_sample) take_token(owners[i], *row_seq[i], picks[i], calls);
  }
  std::size_t live = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    ++stats.steps;
    report.seconds = seconds_since(t0);
    report.device_seconds = stats.device_seconds - device_before;
    stats.step_seconds += report.seconds;
    live = queue.size();
    for (const auto& owner : slot_owner) live += owner ? 1 : 0;
  }
  for (auto& [cb, rows] : logit_calls) cb(rows);
  dispatch(calls);
  if (on_step && !entries.empty()) on_step(report);
  return live;
}

void Engine::Impl::take_token(RequestId id, Sequence& q, Result<SampledToken>& picked, Calls& calls) {
  if (!picked.ok()) {
    finish(id, q, StopReason::kError, calls, picked.status().to_string());
    return;
  }
  SampledToken& pick = *picked;
  if (!q.request.ignore_eos && tokenizer.is_end_of_generation(pick.token)) {
    // The end carries the text held back (an unfinished character, a
    // possible start of a stop string).
    TokenEvent last;
    last.text = q.stops.push(q.decoder.flush()) + q.stops.flush();
    last.stop = StopReason::kEndOfGeneration;
    q.out.text += last.text;
    end(id, q, std::move(last), calls);
    return;
  }
  q.out.tokens.push_back(pick.token);
  q.history.push_back(pick.token);
  if (q.request.sampling.logprobs || q.request.sampling.top_logprobs > 0) {
    q.out.logprobs.push_back(pick.logprob);
    q.out.top_logprobs.push_back(pick.top);
  }
  TokenEvent ev;
  ev.token = pick.token;
  ev.logprob = pick.logprob;
  ev.top_logprobs = std::move(pick.top);
  ev.text = q.stops.push(q.decoder.push(pick.token));
  if (q.stops.stopped()) {
    ev.stop = StopReason::kStopString;
  } else if (q.out.tokens.size() >= static_cast<std::size_t>(q.request.max_tokens)) {
    ev.stop = StopReason::kLength;
  } else if (static_cast<std::uint32_t>(runner->position(static_cast<std::uint32_t>(q.slot))) >= runner->max_context()) {
    ev.stop = StopReason::kContext;
  } else {
    q.next = pick.token;
  }
  if (ev.stop != StopReason::kNone && ev.stop != StopReason::kStopString) {
    ev.text += q.stops.push(q.decoder.flush()) + q.stops.flush();
  }
  q.out.text += ev.text;
  if (ev.stop != StopReason::kNone) {
    end(id, q, std::move(ev), calls);
  } else {
    deliver(id, q, std::move(ev), calls);
  }
}

void Engine::Impl::background_loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu);
      work_cv.wait(lock, [&] { return stopping || has_work(); });
      if (stopping) return;
    }
    // A failed step has already ended every request with its error.
    (void)step();
  }
}

namespace {

Status check_options(const EngineOptions& o) {
  if (o.backend != "cpu" && o.backend != "lpu-sim") return invalid_argument("backend '" + o.backend + "' (expected cpu or lpu-sim)");
  if (o.slots < 1) return invalid_argument("slots 0 (expected >= 1)");
  if (o.threads < 0) return invalid_argument("threads " + std::to_string(o.threads) + " (expected >= 0: 0 is every hardware thread)");
  if (!o.kv.empty() && o.kv != "int8" && o.kv != "f16") return invalid_argument("kv '" + o.kv + "' (expected int8 or f16)");
  if (!o.program.empty() && (o.group != 0 || !o.kv.empty() || o.chips != 0)) {
    return invalid_argument("a saved Program fixes G, the KV precision and the chips (expected group, kv and chips unset)");
  }
  return {};
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->work_cv.notify_all();
  impl_->event_cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->waiters_cv.wait(lock, [&] { return impl_->waiters == 0; });
  lock.unlock();  // before the mutex is destroyed with impl_
}

Result<std::unique_ptr<Engine>> Engine::create(const Model& model, const EngineOptions& o) {
  LPU_ASSIGN_OR_RETURN(Tokenizer tok, model.tokenizer());
  auto impl = std::make_unique<Impl>(std::move(tok));
  impl->chat_template = model.chat_template();
  impl->model_path = model.path();
  LPU_TRY(check_options(o), "engine");
  std::string target = !o.target.empty() ? o.target : o.backend == "lpu-sim" ? "hmp-217" : "cpu-host";
  if (!o.program.empty()) {
    if (o.progress) o.progress({"loading Program", 0, 1});
    LPU_ASSIGN_OR_RETURN(Program p, Program::load(o.program));
    if (o.progress) o.progress({"loading Program", 1, 1});
    if (o.target.empty()) target = p.target_name();  // a saved Program names its target
    impl->program.emplace(std::move(p));
  } else {
    CompileOptions c;
    c.chips = o.chips;
    c.slots = o.slots;
    c.max_context = o.max_context;
    c.group = o.group;
    c.kv = o.kv;
    c.all_logits = o.all_logits;
    c.progress = o.progress;
    LPU_ASSIGN_OR_RETURN(Program p, compile_program(model, target, c));
    impl->program.emplace(std::move(p));
  }
  DeviceOptions d;
  d.threads = o.threads;
  d.progress = o.progress;
  LPU_ASSIGN_OR_RETURN(impl->device, open_device(o.backend, target, d));
  LPU_TRY(impl->device->load(*impl->program, model), model.path());
  impl->n_vocab = static_cast<std::uint32_t>(model.config().n_vocab);
  LPU_ASSIGN_OR_RETURN(runtime::BatchRunner runner,
                       runtime::BatchRunner::create(*impl->device, *impl->program, impl->n_vocab));
  impl->runner.emplace(std::move(runner));
  for (const ProgramVariant& v : impl->program->variants()) {
    if (v.prefill && v.rows >= 2) impl->chunks.push_back(v.rows);
  }
  std::sort(impl->chunks.begin(), impl->chunks.end(), std::greater<>());
  impl->chunks.erase(std::unique(impl->chunks.begin(), impl->chunks.end()), impl->chunks.end());
  impl->slot_owner.resize(impl->program->slots());
  impl->max_waiting = o.max_waiting;
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (impl->slot_owner.size() > 1 && threads > 1) impl->pool = std::make_unique<kernels::ThreadPool>(threads);
  impl->background = o.background;
  impl->all_logits = o.all_logits;
  impl->record_steps = o.record_steps;
  impl->on_step = o.on_step;
  std::unique_ptr<Engine> engine(new Engine(std::move(impl)));
  if (o.background) {
    Impl* e = engine->impl_.get();
    e->worker = std::thread([e] { e->background_loop(); });
  }
  return engine;
}

Result<RequestId> Engine::enqueue(Request r, TokenCallback on_token, bool streamed) {
  Impl& e = *impl_;
  LPU_ASSIGN_OR_RETURN(std::vector<TokenId> prompt, e.prompt_of(r));
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || static_cast<std::uint32_t>(prompt[i]) >= e.n_vocab) {
      return out_of_range("request: prompt token " + std::to_string(i) + " has id " + std::to_string(prompt[i]) +
                          " (expected 0.." + std::to_string(e.n_vocab - 1) + ")");
    }
  }
  if (prompt.size() > e.runner->max_context()) {
    return out_of_range("request: a prompt of " + std::to_string(prompt.size()) +
                        " tokens does not fit the context of " + std::to_string(e.runner->max_context()));
  }
  if (r.max_tokens < 0) return invalid_argument("request: max_tokens " + std::to_string(r.max_tokens) + " (expected >= 0)");
  LPU_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(r.sampling, static_cast<int>(e.n_vocab)));
  LPU_ASSIGN_OR_RETURN(StopStrings stops, StopStrings::create(r.stop));
  {
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.stopping) return failed_precondition("request: the engine is shutting down");
    if (e.queue.size() >= e.max_waiting) {
      return resource_exhausted("request: " + std::to_string(e.queue.size()) +
                                " requests already wait for a slot (the engine's max_waiting)");
    }
    const RequestId id = e.next_id++;
    Sequence q(std::move(r), std::move(sampler), std::move(stops), TokenStreamDecoder(e.tokenizer), std::move(on_token));
    q.streamed = streamed;
    q.out.prompt_tokens = prompt.size();
    q.history = std::move(prompt);
    e.seqs.emplace(id, std::move(q));
    e.queue.push_back(id);
    e.work_cv.notify_one();
    return id;
  }
}

Result<RequestId> Engine::submit(Request r, TokenCallback on_token) {
  return enqueue(std::move(r), std::move(on_token), false);
}

Result<TokenStream> Engine::stream(Request r) {
  LPU_ASSIGN_OR_RETURN(RequestId id, enqueue(std::move(r), {}, true));
  return TokenStream(this, id);
}

Status Engine::cancel(RequestId id) {
  Impl& e = *impl_;
  Calls calls;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    auto it = e.seqs.find(id);
    if (it == e.seqs.end()) return not_found("request " + std::to_string(id) + " is unknown or released");
    e.finish(id, it->second, StopReason::kCancelled, calls);
    if (e.dispatching) {
      // The stepping thread delivers it after the events it holds.
      for (auto& c : calls) e.deferred.push_back(std::move(c));
      calls.clear();
    }
  }
  e.event_cv.notify_all();
  for (auto& [cb, ev] : calls) cb(ev);
  return {};
}

Result<std::size_t> Engine::step() { return impl_->step(); }

Status Engine::run() {
  while (true) {
    LPU_ASSIGN_OR_RETURN(std::size_t live, step());
    if (live == 0) return {};
  }
}

Result<std::optional<TokenEvent>> Engine::next_event(RequestId id) {
  Impl& e = *impl_;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(e.mu);
      auto ready = [&] {
        auto it = e.seqs.find(id);
        return e.stopping || it == e.seqs.end() || !it->second.pending.empty() || it->second.out.done();
      };
      if (e.background) {
        ++e.waiters;
        e.event_cv.wait(lock, ready);
        if (--e.waiters == 0) e.waiters_cv.notify_all();
      }
      auto it = e.seqs.find(id);
      if (it == e.seqs.end()) return not_found("request " + std::to_string(id) + " is unknown or released");
      Sequence& q = it->second;
      if (!q.pending.empty()) {
        TokenEvent ev = std::move(q.pending.front());
        q.pending.pop_front();
        return std::optional<TokenEvent>(std::move(ev));
      }
      // The last event is queued when the request ends, so none is left.
      if (q.out.done()) return std::optional<TokenEvent>();
      if (e.stopping) return failed_precondition("request " + std::to_string(id) + ": the engine is shutting down");
      if (e.background) continue;
    }
    LPU_TRY(step().status(), "request " + std::to_string(id));
  }
}

Result<RequestOutput> Engine::output(RequestId id) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->seqs.find(id);
  if (it == impl_->seqs.end()) return not_found("request " + std::to_string(id) + " is unknown or released");
  return it->second.out;
}

Status Engine::release(RequestId id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->seqs.find(id);
  if (it == impl_->seqs.end()) return not_found("request " + std::to_string(id) + " is unknown or released");
  if (!it->second.out.done()) return failed_precondition("request " + std::to_string(id) + " is still running (cancel it first)");
  impl_->seqs.erase(it);
  return {};
}

std::uint32_t Engine::slots() const { return static_cast<std::uint32_t>(impl_->slot_owner.size()); }

std::size_t Engine::waiting() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->queue.size();
}

std::size_t Engine::running() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& owner : impl_->slot_owner) n += owner ? 1 : 0;
  return n;
}

std::size_t Engine::max_waiting() const { return impl_->max_waiting; }

std::uint32_t Engine::max_context() const { return impl_->runner->max_context(); }

const Program& Engine::program() const { return *impl_->program; }

const Tokenizer& Engine::tokenizer() const { return impl_->tokenizer; }

Engine::Stats Engine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

// TokenStream

TokenStream::TokenStream(TokenStream&& o) noexcept
    : engine_(std::exchange(o.engine_, nullptr)), id_(o.id_), status_(std::move(o.status_)) {}

TokenStream& TokenStream::operator=(TokenStream&& o) noexcept {
  if (this != &o) {
    reset();
    engine_ = std::exchange(o.engine_, nullptr);
    id_ = o.id_;
    status_ = std::move(o.status_);
  }
  return *this;
}

TokenStream::~TokenStream() { reset(); }

void TokenStream::reset() {
  if (engine_ == nullptr) return;
  (void)engine_->cancel(id_);  // a finished request is left as it is
  (void)engine_->release(id_);
  engine_ = nullptr;
}

Result<std::optional<TokenEvent>> TokenStream::next() {
  if (engine_ == nullptr) return failed_precondition("a moved-from TokenStream");
  return engine_->next_event(id_);
}

Status TokenStream::cancel() {
  if (engine_ == nullptr) return failed_precondition("a moved-from TokenStream");
  return engine_->cancel(id_);
}

Result<RequestOutput> TokenStream::output() const {
  if (engine_ == nullptr) return failed_precondition("a moved-from TokenStream");
  return engine_->output(id_);
}

void TokenStream::Iterator::advance() {
  auto ev = stream_->next();
  if (!ev.ok()) stream_->status_ = ev.status();
  if (!ev.ok() || !ev->has_value()) {
    stream_ = nullptr;
    return;
  }
  event_ = std::move(**ev);
}

}  // namespace lpu
