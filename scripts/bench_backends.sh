#!/usr/bin/env bash
# Builds lpu_backend_bench (release preset, benchmarks on, in build/bench)
# and runs it: the CPU backend on a cpu-host Program (decode and prefill
# tokens/s, and their fractions of the read-bandwidth and VNNI probes
# measured in the same run; llama.cpp on the same GGUF: bench_e2e.sh), the simulator's
# host time running SmolLM2 functionally on hmp-217, and its timing-only
# host time on the Llama-2-70B (576 tsp-v1 chips) and Mixtral-8x7B shapes.
# Models: SmolLM2-135M-Instruct (Q4_1) and the synthetic llama-1b (Q8_0,
# written once into the model cache). Writes build/bench/backends.json; then
# lpu_engine_bench (continuous batching, build/bench/engine.json).
#
# Usage: ./scripts/bench_backends.sh [extra lpu_backend_bench flags...]
#   e.g. --reps 5 --threads 2 (the defaults: 3 repetitions, 2 threads).
source "$(dirname "$0")/common.sh"

ensure_apt_packages
build_dir="$LPU_ROOT/build/bench"
out="$build_dir/backends.json"

cd "$LPU_ROOT"
log "building lpu_backend_bench and lpu in $build_dir"
cmake --preset release -B "$build_dir" -DLPU_BUILD_BENCH=ON -DLPU_BUILD_TESTS=OFF -DLPU_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build_dir" --target lpu_backend_bench lpu_engine_bench lpu_tool --parallel 2 >&2

smollm2="$(fetch_smollm2)"
llama1b="$LPU_MODEL_DIR/synth-llama-1b.q8_0.gguf"
if [ ! -f "$llama1b" ]; then
  log "writing $llama1b (about a minute)"
  "$build_dir/examples/lpu/lpu" synth --preset llama-1b --type q8_0 --out "$llama1b"
fi

log "running lpu_backend_bench (load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$build_dir/bench/lpu_backend_bench" --model "$smollm2" --model "$llama1b" \
  --shape llama-2-70b@tsp-v1:576 --shape mixtral-8x7b@tsp-v1:0 "$@" | tee "$out"
log "results: $out"
log "running lpu_engine_bench: 8 requests on 8 slots against each alone (SmolLM2)"
"$build_dir/bench/lpu_engine_bench" --model "$smollm2" --requests 8 --tokens 64 | tee "$build_dir/engine.json"
log "results: $build_dir/engine.json"
