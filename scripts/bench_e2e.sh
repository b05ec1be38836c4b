#!/usr/bin/env bash
# End-to-end speed of `lpu run --int8` beside llama.cpp on the same GGUF, in
# one run: prefill tokens/s (a 256-token prompt), decode tokens/s (128
# greedy tokens after an 8-token prompt) and decode as a fraction of the
# read bandwidth measured by lpu_bench_kernels' probe/read_bw in the same
# run (medians of 5 repetitions). Models: SmolLM2-135M-Instruct (its Q4_1
# file) and the synthetic llama-1b preset (Q8_0, ~1.2 GB, written once
# into the model cache).
# tests/peer/peer_speed.py does the measuring; docs/accuracy.md ("Speed")
# explains the figures.
#
# Usage: ./scripts/bench_e2e.sh [OUT.json] [extra peer_speed.py flags...]
#   OUT.json defaults to $build_dir/bench_e2e.json. Defaults: --reps 5
#   --group 256,32 (lpu at G = 256 and 32); later flags override them.
# Builds lpu and lpu_bench_kernels (release, benchmarks on) in
# ${LPU_BUILD_DIR:-build/e2e}. Measure on an otherwise idle machine: the
# script waits (up to 20 minutes) for the load average to drop below 1 and
# for no other lpu_bench_kernels to run, and records the load average.
source "$(dirname "$0")/common.sh"

ensure_apt_packages libdnnl-dev
ensure_oracle_env
build_dir="${LPU_BUILD_DIR:-$LPU_ROOT/build/e2e}"
out="${1:-$build_dir/bench_e2e.json}"
if [ "$#" -gt 0 ]; then shift; fi

cd "$LPU_ROOT"
log "building lpu and lpu_bench_kernels in $build_dir"
cmake --preset release -B "$build_dir" -DLPU_BUILD_BENCH=ON -DLPU_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target lpu_tool lpu_bench_kernels >&2
lpu="$build_dir/examples/lpu/lpu"

smollm2="$(fetch_smollm2)"
llama1b="$LPU_MODEL_DIR/synth-llama-1b.q8_0.gguf"
if [ ! -f "$llama1b" ]; then
  log "writing $llama1b (about a minute)"
  "$lpu" synth --preset llama-1b --out "$llama1b"
fi

# Wait for an idle machine: a busy core halves a two-thread figure.
for _ in $(seq 1 20); do
  load="$(cut -d' ' -f1 /proc/loadavg)"
  if ! pgrep -f lpu_bench_kernels >/dev/null && awk -v l="$load" 'BEGIN { exit !(l < 1.0) }'; then
    break
  fi
  log "waiting for an idle machine (load average $load)"
  sleep 60
done
log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$(dirname "$out")"
"$LPU_VENV/bin/python" tests/peer/peer_speed.py --lpu "$lpu" \
  --bench "$build_dir/bench/lpu_bench_kernels" \
  --model "smollm2=$smollm2" --model "llama-1b=$llama1b" --reps 5 --group 256,32 --out "$out" "$@"
log "results: $out"
