// One Engine step: admit waiting requests, run every slot's tokens through
// one BatchRunner call, sample the rows, and deliver the events.
#include "runtime/engine/engine_impl.h"

namespace lpu {

using engine_internal::Clock;
using engine_internal::seconds_since;

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

}  // namespace lpu
