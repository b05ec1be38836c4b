// lpu::Engine: requests in a first-come queue, batch slots, and a step that
// feeds every running request through one BatchRunner call.
#include "runtime/engine/engine_impl.h"

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
    c.smoothing = o.smoothing;
    c.rotation = o.rotation;
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

}  // namespace lpu
