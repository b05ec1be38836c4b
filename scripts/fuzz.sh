#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (the `fuzz` preset: AddressSanitizer
# + UBSan) and runs each in turn:
#   lpu_gguf_reader_fuzz  the GGUF container, every metadata getter, every
#                         tensor's dequantisation;
#   lpu_model_vocab_fuzz  the model configuration and tensor check and the
#                         tokenizer loader on accepted files, then encoding
#                         and decoding with any vocabulary that loads;
#   lpu_target_json_fuzz  the target JSON reader, and the canonical round trip
#                         of every target that loads;
#   lpu_program_fuzz      the Program parser (checksum comparison skipped), the
#                         byte-identical round trip of every Program that
#                         loads, validate and the disassembler;
#   lpu_openai_request_fuzz  lpu-serve's request bodies, both endpoints.
#
#   scripts/fuzz.sh [SECONDS]        # per target; default 60
#
# Seeds: tests/data/gguf/*.gguf, ../shared/models/stories260K.gguf and, for
# the vocabulary target, the deepseek-coder vocabulary of
# ../shared/tokenizer-vectors (when present); for the target reader, the
# presets' JSON in tests/data/target; for the Program parser,
# tests/data/program/*.lpuprog. New corpus entries go to
# $BUILD/fuzz-corpus/<target>, crashes to $BUILD/fuzz-artifacts/<target>-*.
# Environment: LPU_FUZZ_BUILD_DIR (default build/fuzz), LPU_FUZZ_JOBS (build
# parallelism, default 2), LPU_SHARED_DIR.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_apt_packages clang libclang-rt-14-dev

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${LPU_FUZZ_BUILD_DIR:-$root/build/fuzz}
shared=${LPU_SHARED_DIR:-$root/../shared}

cd "$root"
mkdir -p "$(dirname "$build")"
cmake --preset fuzz -B "$build" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" --target lpu_gguf_reader_fuzz lpu_model_vocab_fuzz lpu_target_json_fuzz \
  lpu_program_fuzz lpu_openai_request_fuzz -j "${LPU_FUZZ_JOBS:-2}"

# The preset's UBSan recovers by default; stop at the first report so it
# counts as a crash and leaves an artifact.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

seed() { # CORPUS FILE: copies FILE into CORPUS when it exists
  if [[ -f "$2" ]]; then cp -f "$2" "$1/"; else echo "note: $2 not found; not a seed" >&2; fi
}

run_target() { # NAME DICT MAX_LEN SEEDS...
  local name=$1 dict=$2 max_len=$3 corpus=$build/fuzz-corpus/$1
  shift 3
  mkdir -p "$corpus"
  for f in "$@"; do seed "$corpus" "$f"; done
  echo "== $name: $seconds s" >&2
  "$build/tests/fuzz/lpu_${name}_fuzz" "$corpus" \
    -dict="$dict" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=4096 \
    -artifact_prefix="$artifacts/$name-" -print_final_stats=1
}

gguf_seeds=(tests/data/gguf/*.gguf "$shared/models/stories260K.gguf")
run_target gguf_reader tests/fuzz/gguf.dict 1300000 "${gguf_seeds[@]}"
run_target model_vocab tests/fuzz/gguf.dict 1300000 "${gguf_seeds[@]}" \
  "$shared/tokenizer-vectors/ggml-vocab-deepseek-coder.gguf"
# A target file is ~3 KB; 16 KB leaves room for many pools.
run_target target_json tests/fuzz/target_json.dict 16384 tests/data/target/*.json
run_target openai_request tests/fuzz/openai_request.dict 8192 tests/data/serve/*.json
# The seed Program is ~3 KB; 64 KB holds many streams and variants.
run_target program tests/fuzz/program.dict 65536 tests/data/program/*.lpuprog
