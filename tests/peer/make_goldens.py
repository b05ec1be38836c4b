#!/usr/bin/env python3
"""Regenerates every golden file in tests/data/golden with llama.cpp.

    ~/.cache/lpu/venv/bin/python tests/peer/make_goldens.py --lpu build/release/examples/lpu/lpu

Steps: rewrite SmolLM2 Q4_1 to F32 with llama.cpp (into the model cache, when
absent), write the synthetic models with `lpu synth` into a temporary
directory, then run `oracle.py golden` once per entry of GOLDENS. Pass
--only NAME (repeatable) to regenerate a subset.
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(ROOT, "tests", "data", "golden")
SHARED = os.path.realpath(os.environ.get("LPU_SHARED_DIR") or os.path.join(ROOT, "..", "shared"))
MODELS = os.environ.get("LPU_MODEL_DIR") or os.path.expanduser("~/.cache/lpu/models")

SMOLLM2_Q4_1 = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_F32 = "SmolLM2-135M-Instruct.F32.gguf"

# SmolLM2's chat template rendered for one user message, with the default
# system message its template inserts.
SMOLLM2_CHAT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
    "<|im_start|>assistant\n"
)

# What scripts/demo.sh sends by default: its prompt as one user message in
# llama.cpp's built-in ChatML rendering (no system message), which is what
# `lpu run --chat` renders. tests/golden checks our rendering gives these ids.
SMOLLM2_DEMO = "<|im_start|>user\nWhat are the three primary colors?<|im_end|>\n<|im_start|>assistant\n"

# BOS, then ids spread over the synthetic vocabulary (512: specials, 256
# byte tokens, printable pieces).
SYNTH_PROMPT_IDS = "1,300,301,72,400,511,259,5"

# name -> how to obtain the model, the prompt and which positions keep a full
# row. Full rows cost 4 x n_vocab bytes each: all of them for 512-token
# vocabularies, a few for SmolLM2's 49152 (keep the whole set under 2 MB).
GOLDENS = [
    {
        "name": "stories260K",
        "origin": "shared:stories260K.gguf",
        "args": ["--prompt", "Once upon a time", "--bos"],
        "full_rows": "all",
    },
    {
        "name": "smollm2_f32_chat",
        "origin": "cache:" + SMOLLM2_F32,
        "source": SMOLLM2_Q4_1,
        "args": ["--prompt", SMOLLM2_CHAT, "--special"],
        "full_rows": "0,36,-1",
    },
    {
        "name": "smollm2_f32_demo",
        "origin": "cache:" + SMOLLM2_F32,
        "source": SMOLLM2_Q4_1,
        "args": ["--prompt", SMOLLM2_DEMO, "--special"],
        "full_rows": "-1",
    },
    {
        "name": "smollm2_f32_plain",
        "origin": "cache:" + SMOLLM2_F32,
        "source": SMOLLM2_Q4_1,
        "args": ["--prompt", "The capital of France is"],
        "full_rows": "4",
    },
    {
        "name": "synth_tiny_dense",
        "origin": "synth:tiny-dense",
        "args": ["--prompt-ids", SYNTH_PROMPT_IDS],
        "full_rows": "all",
    },
    {
        "name": "synth_tiny_moe",
        "origin": "synth:tiny-moe",
        "args": ["--prompt-ids", SYNTH_PROMPT_IDS],
        "full_rows": "all",
    },
]


def run(cmd):
    print("+ " + " ".join(cmd if len(" ".join(cmd)) < 300 else cmd[:4] + ["..."]), flush=True)
    subprocess.run(cmd, check=True)


def oracle(*args):
    run([sys.executable, os.path.join(HERE, "oracle.py"), *args])


def model_path(entry, tmp, lpu):
    kind, name = entry["origin"].split(":", 1)
    if kind == "shared":
        return os.path.join(SHARED, "models", name)
    if kind == "cache":
        path = os.path.join(MODELS, name)
        if not os.path.exists(path):
            oracle("f32", os.path.join(MODELS, entry["source"]), path)
        return path
    if not lpu:
        sys.exit(f"{entry['name']}: synthetic models need --lpu PATH (the lpu command-line tool)")
    path = os.path.join(tmp, name + ".gguf")
    if not os.path.exists(path):
        run([lpu, "synth", "--preset", name, "--out", path])
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lpu", help="the lpu tool, for `lpu synth` (e.g. build/release/examples/lpu/lpu)")
    ap.add_argument("--only", action="append", help="regenerate only this golden (repeatable)")
    args = ap.parse_args()
    names = {g["name"] for g in GOLDENS}
    for n in args.only or []:
        if n not in names:
            sys.exit(f"--only {n}: unknown golden (known: {', '.join(sorted(names))})")
    os.makedirs(OUT_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lpu-goldens-") as tmp:
        for entry in GOLDENS:
            if args.only and entry["name"] not in args.only:
                continue
            model = model_path(entry, tmp, args.lpu)
            out = os.path.relpath(os.path.join(OUT_DIR, entry["name"] + ".lpugold"), os.getcwd())
            extra = ["--source", os.path.join(MODELS, entry["source"])] if "source" in entry else []
            oracle(
                "golden", model, "--origin", entry["origin"], *extra, *entry["args"],
                "-n", "64", "--top-k", "64", "--full-rows", entry["full_rows"], "--out", out,
            )
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"tests/data/golden: {total} bytes in all")


if __name__ == "__main__":
    main()
