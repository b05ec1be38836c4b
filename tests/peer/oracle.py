#!/usr/bin/env python3
"""llama.cpp as an oracle: tokens, greedy continuations, logits, F32 rewrites
and the golden files that tests/golden compares lpu's reference forward pass
against.

Run with the pinned virtual environment (see tests/peer/README.md):
    ~/.cache/lpu/venv/bin/python tests/peer/oracle.py SUBCOMMAND ...

Every context is built the same way so that numbers are comparable with an
fp32 reference: F32 KV cache (type_k = type_v = 0), no flash attention, two
threads, all logits kept, a fixed seed, and one ubatch for the whole sequence.
"""

import argparse
import hashlib
import json
import os
import shlex
import sys
from importlib import metadata

import numpy as np

import goldfile
from llama_context import N_THREADS, SEED, eval_logits, open_context, quantize

LLAMA_FTYPE_ALL_F32 = 0


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_ids(text):
    return [int(t) for t in text.replace(" ", "").split(",") if t != ""]


def f9(x):
    """A float32 as a Python float that prints with 9 significant digits,
    enough to round-trip a float32 exactly."""
    return float(f"{float(x):.9g}")


def argmax_lowest(row):
    # np.argmax returns the first maximum: ties go to the lowest id.
    return int(np.argmax(row))


def top_k(row, k):
    """Ids of the k largest logits, descending; ties ordered by lower id."""
    order = np.argsort(-row, kind="stable")[:k]
    return order.astype(np.int32), row[order].astype(np.float32)


def prompt_ids(llm, args):
    if args.prompt_ids is not None:
        return parse_ids(args.prompt_ids)
    return llm.tokenize(args.prompt.encode("utf-8"), add_bos=args.bos, special=args.special)


def run_greedy(llm, ids, n):
    """llama.cpp's incremental greedy path: the prompt as one batch, then one
    token per decode. Returns (generated ids, per-step diagnostics)."""
    llm.reset()
    llm.eval(ids)
    out, margins, disagreements = [], [], []
    for step in range(n):
        row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        tok = argmax_lowest(row)
        sampled = llm.sample(temp=0.0, repeat_penalty=1.0)
        if sampled != tok:
            disagreements.append({"step": step, "argmax": tok, "sampler": int(sampled)})
        top2 = np.partition(row, -2)[-2:]
        margins.append(float(top2[1] - top2[0]))
        out.append(tok)
        llm.eval([tok])
    return out, {"margins": margins, "sampler_disagreements": disagreements}


def detok(llm, ids):
    return llm.detokenize(ids, special=True).decode("utf-8", errors="replace")


def regen_command():
    home = os.path.expanduser("~")
    parts = ["~/.cache/lpu/venv/bin/python", "tests/peer/oracle.py"]
    for a in sys.argv[1:]:
        parts.append(
            '"$HOME' + a[len(home) :] + '"' if a.startswith(home + "/") else shlex.quote(a)
        )
    return " ".join(parts)


def versions():
    out = {}
    for pkg in ("llama_cpp_python", "gguf", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


# ---- subcommands -------------------------------------------------------------


def cmd_tokens(args):
    llm = open_context(args.model, vocab_only=True)
    ids = llm.tokenize(args.text.encode("utf-8"), add_bos=args.bos, special=args.special)
    print(json.dumps(ids))


def cmd_greedy(args):
    llm = open_context(args.model, n_ctx=args.n_ctx)
    ids = prompt_ids(llm, args)
    gen, diag = run_greedy(llm, ids, args.n)
    print(
        json.dumps(
            {
                "prompt_ids": ids,
                "ids": gen,
                "text": detok(llm, gen),
                "sampler_disagreements": diag["sampler_disagreements"],
            },
            ensure_ascii=False,
        )
    )


def cmd_logits(args):
    llm = open_context(args.model, n_ctx=args.n_ctx)
    ids = parse_ids(args.ids)
    rows = eval_logits(llm, ids)
    if args.last:
        rows = rows[-1:]
    out = {"ids": ids, "n_vocab": int(rows.shape[1]), "rows": []}
    for row in rows:
        if args.top:
            tid, tval = top_k(row, args.top)
            out["rows"].append({"top_ids": tid.tolist(), "top_logits": [f9(v) for v in tval]})
        else:
            out["rows"].append([f9(v) for v in row])
    print(json.dumps(out))


def cmd_f32(args):
    rc = quantize(args.src, args.dst, LLAMA_FTYPE_ALL_F32, allow_requantize=True)
    if rc != 0:
        sys.exit(f"llama_model_quantize({args.src} -> {args.dst}) failed with {rc}")
    import gguf

    reader = gguf.GGUFReader(args.dst)
    kinds = sorted({t.tensor_type.name for t in reader.tensors})
    print(json.dumps({"dst": args.dst, "tensors": len(reader.tensors), "types": kinds}))
    if kinds != ["F32"]:
        sys.exit(f"{args.dst}: expected only F32 tensors, found {kinds}")


def resolve_positions(spec, n):
    if spec in (None, ""):
        return []
    if spec == "all":
        return list(range(n))
    out = []
    for p in parse_ids(spec):
        q = p + n if p < 0 else p
        if not 0 <= q < n:
            sys.exit(f"--full-rows: position {p} is outside 0..{n - 1}")
        out.append(q)
    return sorted(set(out))


def cmd_golden(args):
    llm = open_context(args.model, n_ctx=args.n_ctx)
    ids = prompt_ids(llm, args)
    gen, diag = run_greedy(llm, ids, args.n)
    seq = ids + gen
    if len(seq) > args.n_ctx:
        sys.exit(f"sequence of {len(seq)} tokens exceeds --n-ctx {args.n_ctx}")
    logits = eval_logits(llm, seq)
    n, vocab = logits.shape
    k = min(args.top_k, vocab)

    # The batched pass must reproduce the incremental greedy choices, or the
    # golden would be asserting something llama.cpp itself does not satisfy.
    batched = [argmax_lowest(logits[len(ids) - 1 + s]) for s in range(len(gen))]
    mismatches = [s for s in range(len(gen)) if batched[s] != gen[s]]

    top_ids = np.zeros((n, k), np.int32)
    top_vals = np.zeros((n, k), np.float32)
    for p in range(n):
        top_ids[p], top_vals[p] = top_k(logits[p], k)
    full = resolve_positions(args.full_rows, n)

    model = {
        "origin": args.origin,
        "file": os.path.basename(args.model),
        "sha256": sha256_file(args.model),
        "size": os.path.getsize(args.model),
    }
    if args.source:
        model["source_file"] = os.path.basename(args.source)
        model["source_sha256"] = sha256_file(args.source)
    header = {
        "format": "lpu-golden-1",
        "name": args.name or os.path.splitext(os.path.basename(args.out))[0],
        "generator": {"script": "tests/peer/oracle.py", "versions": versions()},
        "command": regen_command(),
        "regenerate_all": "~/.cache/lpu/venv/bin/python tests/peer/make_goldens.py --lpu LPU_TOOL",
        "model": model,
        "llama": {
            "n_ctx": args.n_ctx,
            "n_threads": N_THREADS,
            "type_k": "f32",
            "type_v": "f32",
            "flash_attn": False,
            "logits_all": True,
            "seed": SEED,
        },
        "prompt": args.prompt,
        "add_special": bool(args.bos) if args.prompt is not None else None,
        "parse_special": bool(args.special) if args.prompt is not None else None,
        "prompt_ids": ids,
        "generated_ids": gen,
        "generated_text": detok(llm, gen),
        "tokens": seq,
        "n_prompt": len(ids),
        "n_generated": len(gen),
        "n_positions": n,
        "n_vocab": vocab,
        "top_k": k,
        "full_row_positions": full,
        "greedy": {
            "sampler_disagreements": diag["sampler_disagreements"],
            "batched_argmax_mismatches": mismatches,
            "min_top1_margin": min(diag["margins"]) if diag["margins"] else None,
            "top1_margins": [f9(m) for m in diag["margins"]],
        },
    }
    arrays = {
        "top_ids": top_ids,
        "top_logits": top_vals,
        "row_max": logits.max(axis=1),
        "row_min": logits.min(axis=1),
        "full_rows": logits[full] if full else np.zeros((0, vocab), np.float32),
    }
    goldfile.write(args.out, header, arrays)
    _check_roundtrip(args.out, arrays)
    summary = {k2: header[k2] for k2 in ("name", "n_prompt", "n_generated", "n_vocab")}
    summary.update(bytes=os.path.getsize(args.out), text=header["generated_text"])
    summary.update(greedy={k2: v for k2, v in header["greedy"].items() if k2 != "top1_margins"})
    print(json.dumps(summary, ensure_ascii=False))
    if mismatches or diag["sampler_disagreements"]:
        print("warning: llama.cpp's batched and incremental greedy paths disagree", file=sys.stderr)


def _check_roundtrip(path, arrays):
    _, back = goldfile.read(path)
    for name, arr in arrays.items():
        if not np.array_equal(back[name], arr):
            sys.exit(f"{path}: array '{name}' did not read back identically")


def cmd_show(args):
    header, arrays = goldfile.read(args.file)
    header.pop("greedy", None) if not args.verbose else None
    print(json.dumps(header, indent=1, ensure_ascii=False))
    for name, arr in arrays.items():
        print(f"{name}: {arr.dtype} {list(arr.shape)}")


def cmd_agreement(args):
    """llama.cpp's logits for `ids` against ours (raw little-endian float32,
    [len(ids), n_vocab] row-major): top-1 agreement and KL(llama || ours)."""
    llm = open_context(args.model, n_ctx=args.n_ctx)
    ids = parse_ids(args.ids)
    ref = eval_logits(llm, ids).astype(np.float64)
    ours = np.fromfile(args.ours, dtype="<f4").astype(np.float64)
    if ours.size != ref.size:
        sys.exit(f"{args.ours}: {ours.size} floats, expected {ref.shape[0]}x{ref.shape[1]}")
    ours = ours.reshape(ref.shape)

    def log_softmax(x):
        x = x - x.max(axis=1, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=1, keepdims=True))

    lp, lq = log_softmax(ref), log_softmax(ours)
    kl = (np.exp(lp) * (lp - lq)).sum(axis=1)
    agree = (ref.argmax(axis=1) == ours.argmax(axis=1)).astype(int)
    print(
        json.dumps(
            {
                "positions": len(ids),
                "top1_agreement": float(agree.mean()),
                "top1_disagreeing_positions": [int(i) for i in np.nonzero(agree == 0)[0]],
                "kl_mean": float(kl.mean()),
                "kl_max": float(kl.max()),
            }
        )
    )


# ---- command line ------------------------------------------------------------


def _add_prompt(p):
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--prompt", help="prompt text, tokenised by llama.cpp")
    g.add_argument("--prompt-ids", help="comma-separated prompt token ids")
    p.add_argument("--bos", action="store_true", help="add the model's special tokens (BOS)")
    p.add_argument("--special", action="store_true", help="parse special tokens in the text")
    p.add_argument("-n", type=int, default=64, help="tokens to generate")
    p.add_argument("--n-ctx", type=int, default=512)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("tokens", help="llama.cpp tokenisation as a JSON list")
    p.add_argument("model")
    p.add_argument("text")
    p.add_argument("--bos", action="store_true")
    p.add_argument("--special", action="store_true")
    p.set_defaults(fn=cmd_tokens)

    p = sub.add_parser("greedy", help="greedy continuation ids and text")
    p.add_argument("model")
    _add_prompt(p)
    p.set_defaults(fn=cmd_greedy)

    p = sub.add_parser("logits", help="logit rows for a token sequence, as JSON")
    p.add_argument("model")
    p.add_argument("--ids", required=True)
    p.add_argument("--last", action="store_true", help="only the last row")
    p.add_argument("--top", type=int, default=0, help="only the top-k ids and logits")
    p.add_argument("--n-ctx", type=int, default=512)
    p.set_defaults(fn=cmd_logits)

    p = sub.add_parser("f32", help="llama.cpp's own rewrite of a GGUF to all-F32")
    p.add_argument("src")
    p.add_argument("dst")
    p.set_defaults(fn=cmd_f32)

    p = sub.add_parser("golden", help="write a teacher-forcing golden file")
    p.add_argument("model")
    _add_prompt(p)
    p.add_argument("--out", required=True)
    p.add_argument("--name", help="golden name (default: the output file's stem)")
    p.add_argument("--top-k", type=int, default=64)
    p.add_argument("--full-rows", default="", help="positions with full rows: 0,5,-1 or all")
    p.add_argument("--source", help="the file MODEL was rewritten from (its sha256 is recorded)")
    p.add_argument(
        "--origin",
        required=True,
        help="how a test obtains MODEL: shared:FILE (../shared/models), cache:FILE "
        "(the model cache; an F32 rewrite of --source when absent) or synth:PRESET",
    )
    p.set_defaults(fn=cmd_golden)

    p = sub.add_parser("show", help="print a golden file's header and arrays")
    p.add_argument("file")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(fn=cmd_show)

    p = sub.add_parser("agreement", help="top-1 agreement and KL of our logits vs llama.cpp")
    p.add_argument("model")
    p.add_argument("--ids", required=True)
    p.add_argument("--ours", required=True, help="raw little-endian float32 [n_ids x n_vocab]")
    p.add_argument("--n-ctx", type=int, default=512)
    p.set_defaults(fn=cmd_agreement)

    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
