#!/usr/bin/env python3
"""Fidelity of llama.cpp's Q8_0 against its own F32, beside lpu's int8 pass
against lpu's fp32 reference, teacher-forced on the same token ids.

    PY=~/.cache/lpu/venv/bin/python
    $PY tests/peer/peer_eval.py quantize SRC.gguf DST.gguf       # llama.cpp Q8_0
    $PY tests/peer/peer_eval.py compare --f32 F32.gguf --q8 Q8_0.gguf \\
        (--text FILE | --ids 1,2,3) [--steps 512] [--lpu build/x/examples/lpu/lpu] \\
        [--name NAME] [--out RESULT.json]

`compare` evaluates the ids once per llama.cpp model with all logits:
the F32 file with an F32 KV cache (the fp32 reference, as oracle.py builds
it) and the Q8_0 file with llama.cpp's default F16 KV cache; two threads, no
flash attention, the whole sequence in one ubatch. It reports KL(F32 ||
Q8_0) (mean and max over every row), top-1 agreement over every row and the
perplexity of each pass over the next tokens. With --lpu it runs `lpu eval`
on the same ids twice (int8 passes on the F32 file, then on the Q8_0 file,
both against lpu's fp32 pass on the F32 file, at G = 32 and 256 with f16
and int8 KV) and checks the accuracy target: lpu at G = 32 with the f16 KV
cache no worse than llama.cpp's Q8_0 in mean KL and top-1 agreement.
--text is tokenised by llama.cpp with the model's own special-token default
(BOS where the vocabulary asks for it); the same ids go to lpu.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from llama_context import N_THREADS, eval_logits, open_context, quantize

LLAMA_FTYPE_MOSTLY_Q8_0 = 7


def logits_of(model, ids, f32_kv):
    n_ctx = max(512, -(-len(ids) // 256) * 256)
    llm = open_context(model, n_ctx, f32_kv)
    rows = eval_logits(llm, ids).astype(np.float64)
    del llm
    return rows


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def perplexity(lp, ids):
    """exp(mean NLL of the next token) over rows 0 .. n-2."""
    nll = -lp[np.arange(len(ids) - 1), np.asarray(ids[1:])]
    return float(np.exp(nll.mean()))


def fidelity(ref, test, ids):
    lp, lq = log_softmax(ref), log_softmax(test)
    kl = (np.exp(lp) * (lp - lq)).sum(axis=1)
    agree = ref.argmax(axis=1) == test.argmax(axis=1)
    return {
        "kl_rows": kl,
        "kl_mean": float(kl.mean()),
        "kl_max": float(kl.max()),
        "top1_agreement": float(agree.mean()),
        "ppl": perplexity(lq, ids),
        "ref_ppl": perplexity(lp, ids),
    }


def cmd_quantize(args):
    rc = quantize(args.src, args.dst, LLAMA_FTYPE_MOSTLY_Q8_0)
    if rc != 0:
        sys.exit(f"llama_model_quantize({args.src} -> {args.dst}, Q8_0) failed with {rc}")
    import gguf

    kinds = {}
    for t in gguf.GGUFReader(args.dst).tensors:
        kinds[t.tensor_type.name] = kinds.get(t.tensor_type.name, 0) + 1
    print(json.dumps({"dst": args.dst, "tensor_types": kinds}))
    if set(kinds) - {"Q8_0", "F32"}:
        sys.exit(f"{args.dst}: expected Q8_0 matrices and F32 vectors, found {kinds}")


def token_ids(args):
    if args.ids:
        ids = [int(t) for t in args.ids.replace(" ", "").split(",") if t]
    else:
        with open(args.text, "rb") as f:
            text = f.read()
        vocab = open_context(args.f32, vocab_only=True)
        ids = vocab.tokenize(text, add_bos=True, special=False)
    return ids[: args.steps] if args.steps > 0 else ids


def run_lpu(lpu, model, ref, ids, groups, kvs, transforms):
    cmd = [lpu, "eval", model, "--ref", ref, "--ids", ",".join(map(str, ids)), "--steps", "0",
           "--group", groups, "--kv", kvs, "--transform", transforms, "--threads", str(N_THREADS), "--json"]
    print("+ " + " ".join(cmd[:6] + ["..."] + cmd[7:]), file=sys.stderr)
    out = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
    if out["tokens"] != ids:
        sys.exit("lpu eval evaluated other token ids than llama.cpp")
    return out


def rows_for(name, result):
    """Table rows: (pass, KL mean, KL max, top-1, ppl)."""
    rows = [("llama.cpp F32, F32 KV (reference)", None, None, None, result["llama"]["ref_ppl"]),
            ("llama.cpp Q8_0, F16 KV", result["llama"]["kl_mean"], result["llama"]["kl_max"],
             result["llama"]["top1_agreement"], result["llama"]["ppl"])]
    for file_kind in ("f32_file", "q8_0_file"):
        ours = result.get("lpu", {}).get(file_kind)
        if not ours:
            continue
        if file_kind == "f32_file":
            rows.append(("lpu fp32 reference (F32 file)", None, None, None, ours["reference"]["ppl"]))
        for c in ours["configs"]:
            label = (f"lpu int8 G={c['group']} kv={c['kv']} {c.get('transform', 'none')}, "
                     f"{'F32' if file_kind == 'f32_file' else 'Q8_0'} file")
            rows.append((label, c["kl_mean"], c["kl_max"], c["top1_agreement"], c["ppl"]))
    return rows


def print_table(name, result):
    print(f"\n{name}: {result['n_tokens']} tokens (KL and top-1 over every row, perplexity over the next tokens)")
    print(f"{'pass':62} {'KL mean':>10} {'KL max':>10} {'top-1':>7} {'ppl':>10}")
    for label, klm, klx, top1, ppl in rows_for(name, result):
        f = lambda v, spec: "-" if v is None else format(v, spec)
        print(f"{label:62} {f(klm, '10.6f'):>10} {f(klx, '10.6f'):>10} {f(top1, '7.4f'):>7} {ppl:10.4f}")
    for check in result.get("checks", []):
        print(f"{'ok  ' if check['ok'] else 'MISS'} {check['what']}")


def checks(result, llama_kl_rows):
    """The accuracy target, on each of our files. Beside the plain
    comparison of means, the paired difference of per-row KL (ours minus
    llama.cpp's, same rows) with its standard error tells a real gap from
    the rounding noise of one sequence."""
    out = []
    llama = result["llama"]
    for file_kind, label in (("q8_0_file", "Q8_0 file"), ("f32_file", "F32 file")):
        ours = result.get("lpu", {}).get(file_kind)
        if not ours:
            continue
        for c in ours["configs"]:
            out.append(check(c, label, llama, llama_kl_rows))
    return out


def check(c, label, llama, llama_kl_rows):
    """One int8 pass against llama.cpp's Q8_0: mean KL and top-1."""
    d = np.asarray(c["kl_rows"]) - llama_kl_rows
    diff, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    return {
        "what": f"lpu G={c['group']} kv={c['kv']} {c.get('transform', 'none')} on the {label}: KL mean "
                f"{c['kl_mean']:.6f} <= llama.cpp's "
                f"{llama['kl_mean']:.6f} (paired difference {diff:+.6f} +- {se:.6f} s.e.) and top-1 "
                f"{c['top1_agreement']:.4f} >= {llama['top1_agreement']:.4f}",
        "ok": c["kl_mean"] <= llama["kl_mean"] and c["top1_agreement"] >= llama["top1_agreement"],
        "kl_paired_difference": diff,
        "kl_paired_se": se,
    }


def cmd_compare(args):
    ids = token_ids(args)
    if len(ids) < 2:
        sys.exit("need at least 2 tokens")
    ref = logits_of(args.f32, ids, f32_kv=True)
    q8 = logits_of(args.q8, ids, f32_kv=False)
    result = {
        "name": args.name or os.path.basename(args.f32),
        "f32_model": args.f32,
        "q8_0_model": args.q8,
        "n_tokens": len(ids),
        "llama": fidelity(ref, q8, ids),
        "llama_settings": {"n_threads": N_THREADS, "flash_attn": False, "logits_all": True,
                           "f32_kv": "f32", "q8_0_kv": "f16 (default)"},
        "tokens": ids,
    }
    llama_kl_rows = result["llama"].pop("kl_rows")
    if args.lpu:
        # The F32 file at the targets' default G (cpu-host 256; tsp-v1 and
        # hmp-217 320) with the weight transforms on and off, and at G = 32
        # without them; the Q8_0 file at G = 32, imported without loss.
        f32 = run_lpu(args.lpu, args.f32, args.f32, ids, "256,320", "f16,int8", "on,off")
        f32["configs"] += run_lpu(args.lpu, args.f32, args.f32, ids, "32", "f16,int8", "off")["configs"]
        result["lpu"] = {
            "f32_file": f32,
            "q8_0_file": run_lpu(args.lpu, args.q8, args.f32, ids, "32", "f16,int8", "off"),
        }
        for ours in result["lpu"].values():
            ours.pop("tokens", None)
        result["checks"] = checks(result, llama_kl_rows)
        for ours in result["lpu"].values():
            for c in ours["configs"]:
                c.pop("kl_rows", None)
    print_table(result["name"], result)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    if any(not c["ok"] for c in result.get("checks", [])) and args.strict:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("quantize", help="llama.cpp's Q8_0 rewrite of a GGUF (ftype MOSTLY_Q8_0)")
    p.add_argument("src")
    p.add_argument("dst")
    p.set_defaults(fn=cmd_quantize)
    p = sub.add_parser("compare", help="llama.cpp Q8_0 vs F32 (and lpu int8 vs fp32) on the same ids")
    p.add_argument("--f32", required=True, help="the model in F32 (the reference)")
    p.add_argument("--q8", required=True, help="the same model in Q8_0")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--text", help="text file, tokenised by llama.cpp")
    g.add_argument("--ids", help="comma-separated token ids")
    p.add_argument("--steps", type=int, default=512, help="evaluate at most the first N tokens (0: all)")
    p.add_argument("--lpu", help="the lpu tool: also run `lpu eval` on the same ids")
    p.add_argument("--name", help="label for the table")
    p.add_argument("--out", help="write the results as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.set_defaults(fn=cmd_compare)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
