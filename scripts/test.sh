#!/usr/bin/env bash
# Builds lpu and runs every test: installs what is missing (Debian packages,
# the Python `gguf` package in a cached virtual environment, the SmolLM2
# model in the model cache), then
#   1. the release build and its full CTest suite,
#   2. the GGUF, tokenizer, target, Program, compiler, simulator and device
#      suites again under AddressSanitizer + UBSan,
#   3. an out-of-tree project built against the installed package.
# Idempotent: a second run reuses everything. Usage: ./scripts/test.sh
source "$(dirname "$0")/common.sh"

ensure_apt_packages
ensure_python_env
export LPU_PYTHON="$LPU_VENV/bin/python"
if ! fetch_smollm2 >/dev/null; then
  log "SmolLM2 is unavailable: the tests that need it will be skipped (they fail under CI=true)"
fi

cd "$LPU_ROOT"
log "release build"
build_preset release
ctest --preset release

log "GGUF, tokenizer, target, Program, compiler, simulator, device, sampling, engine and server wire-format tests under asan+ubsan"
build_preset asan-ubsan lpu_gguf_test lpu_tokenizer_test lpu_target_test lpu_program_test \
  lpu_compiler_test lpu_sim_test lpu_device_test lpu_sampling_test lpu_engine_test lpu_serve_test
ctest --preset asan-ubsan -L 'lpu_gguf_test|lpu_tokenizer_test|lpu_target_test|lpu_program_test|lpu_compiler_test|lpu_sim_test|lpu_device_test|lpu_sampling_test|lpu_engine_test|lpu_serve_test'

log "install and build an out-of-tree consumer with find_package(lpu)"
prefix="$LPU_ROOT/build/install"
cmake --install build/release --prefix "$prefix" >/dev/null
# The README's library example, exactly as printed there.
example="$LPU_ROOT/build/install-consumer-readme/readme_example.cpp"
mkdir -p "$(dirname "$example")"
awk '/<!-- readme_example.cpp -->/ { found = 1; next }
     found && /^```cpp/ { inside = 1; next }
     inside && /^```/ { exit }
     inside { print }' README.md > "$example"
[ -s "$example" ] || { echo "README.md: no readme_example.cpp block" >&2; exit 1; }
cmake -S tests/install -B build/install-consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DLPU_README_EXAMPLE="$example" >/dev/null
cmake --build build/install-consumer
./build/install-consumer/lpu_install_consumer "$LPU_ROOT/../shared/models/stories260K.gguf"
./build/install-consumer/lpu_readme_example "$LPU_ROOT/../shared/models/stories260K.gguf"
log "all tests passed"
