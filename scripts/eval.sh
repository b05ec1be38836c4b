#!/usr/bin/env bash
# Accuracy of the int8 forward pass: every figure of docs/accuracy.md in one
# command. Teacher-forced on tests/data/eval/prose.txt (at most 1024
# tokens), per model: llama.cpp's Q8_0 against its own F32 (F16 KV cache, as
# llama.cpp defaults) beside lpu's int8 pass against lpu's fp32 reference,
# at G = 32 and 256 with f16 and int8 KV caches, with lpu's int8 passes run
# on the F32 file and on the Q8_0 file (tests/peer/peer_eval.py). Then
# lpu's group-size sweep on SmolLM2.
#
# Models (written into the model cache $LPU_MODEL_DIR, never the clone):
#   SmolLM2-135M-Instruct: its Q4_1 file rewritten to F32 by llama.cpp, and
#     that F32 file quantised to Q8_0 by llama.cpp;
#   synth-tiny-moe: `lpu synth --preset tiny-moe` (4 experts, top-2);
#   synth-moe-e256: tiny-moe widened (embd 256, 4 layers, FFN 512, 8
#     experts, top-2); both F32 with a 1024-token context, and Q8_0 by
#     llama.cpp.
#
# Usage: ./scripts/eval.sh [OUT_DIR]   (JSON per model; default
# $build_dir/eval). Builds lpu in ${LPU_BUILD_DIR:-build/release}. About
# 5 minutes on two cores.
source "$(dirname "$0")/common.sh"

ensure_apt_packages
ensure_oracle_env
py="$LPU_VENV/bin/python"
build_dir="${LPU_BUILD_DIR:-$LPU_ROOT/build/release}"
out_dir="${1:-$build_dir/eval}"
steps=1024

cd "$LPU_ROOT"
if [ -z "${LPU_BUILD_DIR:-}" ]; then
  build_preset release lpu_tool >&2
else
  cmake -S "$LPU_ROOT" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" --target lpu_tool >&2
fi
lpu="$build_dir/examples/lpu/lpu"
text="$LPU_ROOT/tests/data/eval/prose.txt"
models="$LPU_MODEL_DIR"
mkdir -p "$out_dir" "$models"

# llama.cpp's quantiser logs every tensor: kept in a file, shown on failure.
quantize() {  # SRC DST
  "$py" tests/peer/peer_eval.py quantize "$1" "$2" >"$out_dir/quantize.log" 2>&1 ||
    { cat "$out_dir/quantize.log" >&2; return 1; }
}

smollm2_q4="$(fetch_smollm2)"
smollm2="$models/SmolLM2-135M-Instruct"
if [ ! -f "$smollm2.F32.gguf" ]; then
  "$py" tests/peer/oracle.py f32 "$smollm2_q4" "$smollm2.F32.gguf" >&2
fi
if [ ! -f "$smollm2.Q8_0.gguf" ]; then
  quantize "$smollm2.F32.gguf" "$smollm2.Q8_0.gguf"
fi
# The synthetic models take a second: rewritten every time, so they always
# match the generator and llama.cpp's quantiser of this checkout.
"$lpu" synth --preset tiny-moe --ctx 1024 --out "$models/synth-tiny-moe.f32.gguf"
"$lpu" synth --preset tiny-moe --embd 256 --layers 4 --ff 512 --experts 8 --experts-used 2 \
  --vocab 512 --ctx 1024 --out "$models/synth-moe-e256.f32.gguf"
for m in synth-tiny-moe synth-moe-e256; do
  quantize "$models/$m.f32.gguf" "$models/$m.q8_0.gguf"
done

compare() {  # NAME F32 Q8_0
  "$py" tests/peer/peer_eval.py compare --name "$1" --f32 "$2" --q8 "$3" --text "$text" \
    --steps "$steps" --lpu "$lpu" --out "$out_dir/$1.json" 2> >(grep -v '^llama_context' >&2)
}
compare SmolLM2-135M "$smollm2.F32.gguf" "$smollm2.Q8_0.gguf"
compare synth-tiny-moe "$models/synth-tiny-moe.f32.gguf" "$models/synth-tiny-moe.q8_0.gguf"
compare synth-moe-e256 "$models/synth-moe-e256.f32.gguf" "$models/synth-moe-e256.q8_0.gguf"

echo
echo "lpu group-size sweep, SmolLM2-135M (F32 file), f16 KV cache:"
"$lpu" eval "$smollm2.F32.gguf" --text "$text" --steps "$steps" --group 32,64,128,256,320 --kv f16 --transform on,off --threads 2 \
  | tee "$out_dir/SmolLM2-135M.group_sweep.txt"
log "results: $out_dir"
