// lpu::Engine: requests in a first-come queue, batch slots, and a step that
// feeds every running request through one BatchRunner call.
#include "include/lpu/engine.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "include/lpu/device.h"
#include "include/lpu/tokenizer.h"
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
  }
  return "";
}

namespace {

// One request from submit() until release().
struct Sequence {
  Request request;
  Sampler sampler;
  StopStrings stops;
  TokenStreamDecoder decoder;
  TokenCallback on_token;
  std::vector<TokenId> history;  // prompt, then generated tokens: what the penalties see
  std::size_t fed = 0;           // prompt tokens in the cache
  std::optional<TokenId> next;   // a generated token not yet in the cache
  int slot = -1;
  RequestOutput out;
};

}  // namespace

struct Engine::Impl {
  Tokenizer tokenizer;
  std::optional<Program> program;
  std::unique_ptr<Device> device;  // outlives the runner, which points at it
  std::optional<runtime::BatchRunner> runner;
  std::uint32_t n_vocab = 0;
  std::uint32_t chunk = 0;  // prefill rows; 0: no prefill variant
  std::size_t max_waiting = 0;

  std::mutex step_mu;  // one step at a time
  mutable std::mutex mu;  // everything below
  std::map<RequestId, Sequence> seqs;
  std::deque<RequestId> queue;
  std::vector<std::optional<RequestId>> slot_owner;
  RequestId next_id = 1;
  Engine::Stats stats;

  Impl(Tokenizer t) : tokenizer(std::move(t)) {}

  void finish(Sequence& s, StopReason why) {
    if (s.out.done()) return;
    s.out.stop = why;
    if (s.slot >= 0) slot_owner[static_cast<std::size_t>(s.slot)].reset();
    s.slot = -1;
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(const Model& model, const EngineOptions& o) {
  LPU_ASSIGN_OR_RETURN(Tokenizer tok, model.tokenizer());
  auto impl = std::make_unique<Impl>(std::move(tok));
  const std::string target = !o.target.empty() ? o.target : o.backend == "lpu-sim" ? "hmp-217" : "cpu-host";
  if (!o.program.empty()) {
    LPU_ASSIGN_OR_RETURN(Program p, Program::load(o.program));
    impl->program.emplace(std::move(p));
  } else {
    CompileOptions c;
    c.chips = o.chips;
    c.slots = o.slots;
    c.max_context = o.max_context;
    c.group = o.group;
    c.kv = o.kv;
    LPU_ASSIGN_OR_RETURN(Program p, compile_program(model, target, c));
    impl->program.emplace(std::move(p));
  }
  DeviceOptions d;
  d.threads = o.threads;
  LPU_ASSIGN_OR_RETURN(impl->device, open_device(o.backend, target, d));
  LPU_TRY(impl->device->load(*impl->program, model), model.path());
  impl->n_vocab = static_cast<std::uint32_t>(model.config().n_vocab);
  LPU_ASSIGN_OR_RETURN(runtime::BatchRunner runner,
                       runtime::BatchRunner::create(*impl->device, *impl->program, impl->n_vocab));
  impl->runner.emplace(std::move(runner));
  for (const ProgramVariant& v : impl->program->variants()) {
    if (v.prefill && v.rows >= 2) impl->chunk = std::max(impl->chunk, v.rows);
  }
  impl->slot_owner.resize(impl->program->slots());
  impl->max_waiting = o.max_waiting;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<RequestId> Engine::submit(Request r, TokenCallback on_token) {
  Impl& e = *impl_;
  if (r.prompt.empty()) return invalid_argument("request: an empty prompt (expected at least one token)");
  for (std::size_t i = 0; i < r.prompt.size(); ++i) {
    if (r.prompt[i] < 0 || static_cast<std::uint32_t>(r.prompt[i]) >= e.n_vocab) {
      return out_of_range("request: prompt token " + std::to_string(i) + " has id " + std::to_string(r.prompt[i]) +
                          " (expected 0.." + std::to_string(e.n_vocab - 1) + ")");
    }
  }
  if (r.prompt.size() > e.runner->max_context()) {
    return out_of_range("request: a prompt of " + std::to_string(r.prompt.size()) +
                        " tokens does not fit the context of " + std::to_string(e.runner->max_context()));
  }
  if (r.max_tokens < 1) return invalid_argument("request: max_tokens " + std::to_string(r.max_tokens) + " (expected >= 1)");
  LPU_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(r.sampling, static_cast<int>(e.n_vocab)));
  LPU_ASSIGN_OR_RETURN(StopStrings stops, StopStrings::create(r.stop));
  std::lock_guard<std::mutex> lock(e.mu);
  if (e.queue.size() >= e.max_waiting) {
    return resource_exhausted("request: " + std::to_string(e.queue.size()) + " requests already wait for a slot (the engine's max_waiting)");
  }
  const RequestId id = e.next_id++;
  std::vector<TokenId> history = r.prompt;
  e.seqs.emplace(id, Sequence{std::move(r), std::move(sampler), std::move(stops), TokenStreamDecoder(e.tokenizer),
                              std::move(on_token), std::move(history), 0, std::nullopt, -1, {}});
  e.queue.push_back(id);
  return id;
}

Status Engine::cancel(RequestId id) {
  Impl& e = *impl_;
  std::lock_guard<std::mutex> lock(e.mu);
  auto it = e.seqs.find(id);
  if (it == e.seqs.end()) return not_found("request " + std::to_string(id) + " is unknown or released");
  e.finish(it->second, StopReason::kCancelled);
  e.queue.erase(std::remove(e.queue.begin(), e.queue.end(), id), e.queue.end());
  return {};
}

Result<std::size_t> Engine::step() {
  Impl& e = *impl_;
  std::lock_guard<std::mutex> stepping(e.step_mu);
  const auto t0 = std::chrono::steady_clock::now();
  // Under the lock: admit waiting requests, then what each slot feeds.
  std::vector<runtime::BatchRunner::Entry> entries;
  std::vector<RequestId> owners;
  std::vector<std::vector<TokenId>> feeds;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    for (std::uint32_t s = 0; s < e.slot_owner.size() && !e.queue.empty(); ++s) {
      if (e.slot_owner[s]) continue;
      const RequestId id = e.queue.front();
      e.queue.pop_front();
      e.slot_owner[s] = id;
      e.seqs.at(id).slot = static_cast<int>(s);
      e.runner->reset(s);
    }
    for (std::uint32_t s = 0; s < e.slot_owner.size(); ++s) {
      if (!e.slot_owner[s]) continue;
      Sequence& q = e.seqs.at(*e.slot_owner[s]);
      std::vector<TokenId> feed;
      if (q.fed < q.request.prompt.size()) {
        const std::size_t left = q.request.prompt.size() - q.fed;
        const std::size_t n = e.chunk >= 2 && left >= e.chunk ? e.chunk : 1;
        feed.assign(q.request.prompt.begin() + static_cast<std::ptrdiff_t>(q.fed),
                    q.request.prompt.begin() + static_cast<std::ptrdiff_t>(q.fed + n));
      } else {
        feed.push_back(*q.next);
      }
      owners.push_back(*e.slot_owner[s]);
      feeds.push_back(std::move(feed));
    }
    for (std::size_t i = 0; i < owners.size(); ++i) {
      entries.push_back({static_cast<std::uint32_t>(e.seqs.at(owners[i]).slot), feeds[i], false});
    }
  }
  std::vector<std::tuple<TokenCallback, RequestId, TokenId, std::string>> events;
  if (!entries.empty()) {
    // The device runs without the lock: requests may come and go meanwhile.
    const std::size_t steps_before = e.runner->steps().size();
    LPU_ASSIGN_OR_RETURN(std::span<const float> logits, e.runner->forward(entries));
    std::lock_guard<std::mutex> lock(e.mu);
    std::uint32_t decode_rows = 0;
    for (const std::vector<TokenId>& f : feeds) decode_rows += f.size() == 1 ? 1 : 0;
    e.stats.decode_occupancy.push_back(decode_rows);
    for (std::size_t k = steps_before; k < e.runner->steps().size(); ++k) e.stats.device_seconds += e.runner->steps()[k].host_seconds;
    for (std::size_t i = 0; i < owners.size(); ++i) {
      auto it = e.seqs.find(owners[i]);
      if (it == e.seqs.end()) continue;
      Sequence& q = it->second;
      if (q.fed < q.request.prompt.size()) {
        q.fed += feeds[i].size();
      } else {
        q.next.reset();
      }
      if (q.out.done() || q.fed < q.request.prompt.size()) continue;  // cancelled, or more prompt to read
      const std::span<const float> row(logits.data() + i * e.n_vocab, e.n_vocab);
      LPU_ASSIGN_OR_RETURN(SampledToken pick, q.sampler.sample(row, q.history, q.out.tokens.size()));
      if (!q.request.ignore_eos && e.tokenizer.is_end_of_generation(pick.token)) {
        e.finish(q, StopReason::kEndOfGeneration);
        std::string tail = q.stops.push(q.decoder.flush()) + q.stops.flush();
        q.out.text += tail;
        continue;
      }
      q.out.tokens.push_back(pick.token);
      if (q.request.sampling.logprobs || q.request.sampling.top_logprobs > 0) q.out.logprobs.push_back(pick.logprob);
      q.history.push_back(pick.token);
      std::string text = q.stops.push(q.decoder.push(pick.token));
      if (q.stops.stopped()) {
        e.finish(q, StopReason::kStopString);
      } else if (q.out.tokens.size() >= static_cast<std::size_t>(q.request.max_tokens)) {
        e.finish(q, StopReason::kLength);
      } else if (static_cast<std::uint32_t>(e.runner->position(static_cast<std::uint32_t>(q.slot))) >= e.runner->max_context()) {
        e.finish(q, StopReason::kContext);
      } else {
        q.next = pick.token;
      }
      if (q.out.done() && q.out.stop != StopReason::kStopString) text += q.stops.push(q.decoder.flush()) + q.stops.flush();
      q.out.text += text;
      if (q.on_token) events.emplace_back(q.on_token, owners[i], pick.token, std::move(text));
    }
  }
  for (auto& [cb, id, token, text] : events) cb(id, token, text);
  std::lock_guard<std::mutex> lock(e.mu);
  e.stats.step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t live = e.queue.size();
  for (const auto& owner : e.slot_owner) live += owner ? 1 : 0;
  return live;
}

Status Engine::run() {
  while (true) {
    LPU_ASSIGN_OR_RETURN(std::size_t live, step());
    if (live == 0) return {};
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

std::uint32_t Engine::max_context() const { return impl_->runner->max_context(); }

const Program& Engine::program() const { return *impl_->program; }

Engine::Stats Engine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace lpu
