#!/usr/bin/env bash
# Builds the GGUF reader fuzzer with clang's libFuzzer (the `fuzz` preset:
# AddressSanitizer + UBSan) and runs it.
#
#   scripts/fuzz.sh [SECONDS]        # default 60
#
# Seeds: tests/data/gguf/*.gguf and ../shared/models/stories260K.gguf (when
# present). New corpus entries go to $BUILD/fuzz-corpus/gguf_reader, crashes
# to $BUILD/fuzz-artifacts/. Environment: LPU_FUZZ_BUILD_DIR (default
# build/fuzz), LPU_FUZZ_JOBS (build parallelism, default 2), LPU_SHARED_DIR.
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
cmake --build "$build" --target lpu_gguf_reader_fuzz -j "${LPU_FUZZ_JOBS:-2}"

corpus=$build/fuzz-corpus/gguf_reader
artifacts=$build/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
cp -f tests/data/gguf/*.gguf "$corpus/"
if [[ -f "$shared/models/stories260K.gguf" ]]; then
  cp -f "$shared/models/stories260K.gguf" "$corpus/"
else
  echo "note: $shared/models/stories260K.gguf not found; seeding from tests/data/gguf only" >&2
fi

# The preset's UBSan recovers by default; stop at the first report so it
# counts as a crash and leaves an artifact.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec "$build/tests/fuzz/lpu_gguf_reader_fuzz" "$corpus" \
  -dict=tests/fuzz/gguf.dict -max_total_time="$seconds" -max_len=1300000 -rss_limit_mb=4096 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
