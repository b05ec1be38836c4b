// lpu::TokenStream: one request's events read one at a time, waiting on
// the background thread's steps or stepping the Engine itself.
#include "runtime/engine/engine_impl.h"

namespace lpu {

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
