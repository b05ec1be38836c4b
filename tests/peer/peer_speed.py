#!/usr/bin/env python3
"""End-to-end speed: `lpu run --int8` beside llama.cpp on the same GGUF, in
one run, with the read-bandwidth probe measured in the same run.

    ~/.cache/lpu/venv/bin/python tests/peer/peer_speed.py \\
        --lpu build/x/examples/lpu/lpu --bench build/x/bench/lpu_bench_kernels \\
        --model smollm2=PATH.gguf --model llama-1b=PATH.gguf \\
        [--text tests/data/eval/prose.txt] [--prompt-tokens 256] [--decode-tokens 128] \\
        [--reps 3] [--group 256,32] [--out RESULT.json]

Per model, both engines on two threads:
- prefill: the first --prompt-tokens ids of --text (tokenised by llama.cpp,
  BOS per the vocabulary) evaluated as one batch; tokens / seconds.
- decode: the first 8 ids as the prompt, then --decode-tokens greedy tokens,
  one forward pass each, past end-of-generation; (tokens - 1) / seconds
  from the first generated token to the last.
lpu: `lpu run MODEL --int8 --threads 2 --group G --prompt-ids ... --json`
(its stderr timing line; --ignore-eos for decode), a fresh process per
repetition. llama.cpp (llama-cpp-python): `Llama(model, n_threads=2,
n_threads_batch=2)`, every other setting its default (n_ctx = n_batch =
512, F16 KV cache, no flash attention); prefill is one `eval` of the
prompt, decode is `eval` of one token at a time (the argmax of the last
logits), timed with time.perf_counter. Medians of --reps repetitions.

Decode as a fraction of the read bandwidth = (bytes of weights read per
token x tokens/s) / probe/read_bw of lpu_bench_kernels (a 2-thread sum over
2 GiB), the higher of its medians at the start and at the end of the run.
Weight bytes per token count every matrix a token multiplies by once
(attention, FFN and the output projection; the token embedding only when
it is also the output): lpu's packed int8 with its scale headers at G,
llama.cpp's tensors as stored. The KV cache and the one embedding row are
left out (at most about 1% of the bytes here). Prefill as a fraction of
the VNNI peak = 2 x (weights in those matrices; the output projection once
per prompt, as both engines compute only the last token's logits) x
tokens/s / probe/vnni_peak (GOP/s, same run).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

N_THREADS = 2
DECODE_PROMPT = 8


def load_avg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def _busy_seconds():
    """CPU seconds every process has used since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in f.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    self, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self.ru_utime + self.ru_stime + children.ru_utime + children.ru_stime


def with_interference(fn, *args):
    """fn(*args) with "others_cpu_s" added: the CPU seconds other processes
    took meanwhile; on two cores anything much above 0 slows a 2-thread
    figure (llama.cpp's spinning thread pool most of all)."""
    busy, own = _busy_seconds(), _own_seconds()
    r = fn(*args)
    r["others_cpu_s"] = max(0.0, (_busy_seconds() - busy) - (_own_seconds() - own))
    return r


def probes(bench):
    """Medians of probe/read_bw (GB/s) and probe/vnni_peak (GOP/s; 0 without
    AVX-512 VNNI), 3 repetitions each."""
    cmd = [bench, "--benchmark_filter=^probe/(read_bw|vnni_peak)", "--benchmark_repetitions=3",
           "--benchmark_report_aggregates_only=true", "--benchmark_format=json"]
    p = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(p.stderr)
    med = {b["run_name"]: b for b in json.loads(p.stdout)["benchmarks"] if b.get("aggregate_name") == "median"}
    read = [b for name, b in med.items() if name.startswith("probe/read_bw")]
    vnni = [b for name, b in med.items() if name.startswith("probe/vnni_peak")]
    if not read:
        sys.exit(f"{bench}: no probe/read_bw median in its output")
    return float(read[0]["GBps"]), float(vnni[0]["GOPs"]) if vnni else 0.0


def matmul_tensors(path):
    """(name, n_out, k, stored bytes) of every matrix a token is multiplied
    by, from the GGUF's tensor infos."""
    import gguf

    tensors = gguf.GGUFReader(path).tensors
    names = {t.name for t in tensors}
    out = []
    for t in tensors:
        if len(t.shape) < 2:
            continue
        if t.name == "token_embd.weight" and "output.weight" in names:
            continue  # a lookup: one row per token
        if len(t.shape) > 2:
            sys.exit(f"{path}: {t.name} is not a matrix (MoE models are not measured here)")
        k, n = int(t.shape[0]), int(t.shape[1])
        out.append((t.name, n, k, int(t.n_bytes)))
    return out


def packed_bytes(n, k, group):
    """Bytes of an N x K matrix in the 16c4 layout (docs/quantization.md):
    per panel of 16 outputs and group, a 64-byte scale header and
    ceil(len / 4) 64-byte vectors."""
    panels = -(-n // 16)
    per_panel = 0
    for g0 in range(0, k, group):
        length = min(group, k - g0)
        per_panel += 64 + -(-length // 4) * 64
    return panels * per_panel


def weight_bytes(path, group):
    mats = matmul_tensors(path)
    output = {"output.weight", "token_embd.weight"}  # whichever is the output projection
    return {
        "lpu": sum(packed_bytes(n, k, group) for _, n, k, _ in mats),
        "llama.cpp": sum(b for *_, b in mats),
        "parameters": sum(n * k for _, n, k, _ in mats),
        "output_parameters": sum(n * k for name, n, k, _ in mats if name in output),
    }


def prefill_ops_per_token(wb, n_prompt):
    """Multiply-adds x 2 per prompt token: every matrix for every token, the
    output projection only for the last one (neither engine computes the
    others' logits)."""
    body = wb["parameters"] - wb["output_parameters"]
    return 2 * (body + wb["output_parameters"] / n_prompt)


def tokens_of(path, text_path, count):
    import llama_cpp

    vocab = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    with open(text_path, "rb") as f:
        ids = vocab.tokenize(f.read(), add_bos=True, special=False)
    if len(ids) < count:
        sys.exit(f"{text_path}: {len(ids)} tokens for {path}, need {count}")
    return ids[:count]


def lpu_run(lpu, model, ids, n_predict, group):
    cmd = [lpu, "run", model, "--int8", "--threads", str(N_THREADS), "--group", str(group),
           "--prompt-ids", ",".join(map(str, ids)), "-n", str(n_predict), "--ignore-eos", "--json"]
    p = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # "prompt: N tokens, X tokens/s; generated: M tokens, Y tokens/s"
    line = [l for l in p.stderr.splitlines() if l.startswith("prompt: ")][-1]
    prompt_part, gen_part = line.split(";")
    return float(prompt_part.split(",")[1].split()[0]), float(gen_part.split(",")[1].split()[0])


def lpu_speed(lpu, model, prompt, short, n_decode, group, reps):
    prefill = [lpu_run(lpu, model, prompt, 1, group)[0] for _ in range(reps)]
    decode = [lpu_run(lpu, model, short, n_decode, group)[1] for _ in range(reps)]
    return {"prefill_tps": statistics.median(prefill), "decode_tps": statistics.median(decode),
            "prefill_runs": prefill, "decode_runs": decode}


def llama_speed(model, prompt, short, n_decode, reps):
    import llama_cpp

    llm = llama_cpp.Llama(model_path=model, n_threads=N_THREADS, n_threads_batch=N_THREADS, verbose=False)
    n_vocab = llm.n_vocab()
    llm.eval(short)  # warm-up: first-use allocations, page faults of the mmap
    prefill, decode = [], []
    for _ in range(reps):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        prefill.append(len(prompt) / (time.perf_counter() - t0))
    for _ in range(reps):
        llm.reset()
        llm.eval(short)
        # As `lpu run` times it: from the first generated token (chosen from
        # the prompt's logits) to the last, n_decode - 1 forward passes.
        t0 = time.perf_counter()
        for _ in range(n_decode - 1):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))
            llm.eval([int(np.argmax(logits))])
        decode.append((n_decode - 1) / (time.perf_counter() - t0))
    return {"prefill_tps": statistics.median(prefill), "decode_tps": statistics.median(decode),
            "prefill_runs": prefill, "decode_runs": decode}


def measure_model(args, name, path, probe_gbps):
    ids = tokens_of(path, args.text, args.prompt_tokens)
    short = ids[:DECODE_PROMPT]
    engines = {}
    for group in args.groups:
        print(f"[{name}] lpu G={group}", file=sys.stderr)
        r = with_interference(lpu_speed, args.lpu, path, ids, short, args.decode_tokens, group, args.reps)
        r["weight_bytes_per_token"] = weight_bytes(path, group)["lpu"]
        engines[f"lpu G={group}"] = r
    print(f"[{name}] llama.cpp", file=sys.stderr)
    theirs = with_interference(llama_speed, path, ids, short, args.decode_tokens, args.reps)
    wb = weight_bytes(path, args.groups[0])
    theirs["weight_bytes_per_token"] = wb["llama.cpp"]
    engines["llama.cpp"] = theirs
    for r in engines.values():
        r["decode_gbps"] = r["weight_bytes_per_token"] * r["decode_tps"] / 1e9
        r["decode_read_bw_fraction"] = r["decode_gbps"] / probe_gbps
    ratios = {e: {"prefill": r["prefill_tps"] / theirs["prefill_tps"], "decode": r["decode_tps"] / theirs["decode_tps"]}
              for e, r in engines.items() if e != "llama.cpp"}
    return {"model": path, "parameters_in_matmuls": wb["parameters"],
            "prefill_ops_per_token": prefill_ops_per_token(wb, len(ids)), "prompt_tokens": len(ids),
            "decode_prompt_tokens": len(short), "decode_tokens": args.decode_tokens, "engines": engines,
            "over_llama": ratios}


def print_table(result):
    print(f"\nprobes (the higher of the runs at the start and the end): read {result['read_probe_gbps']:.2f} GB/s "
          f"({', '.join(f'{v:.2f}' for v in result['read_probe_runs'])}), VNNI {result['vnni_probe_gops']:.0f} GOP/s "
          f"({', '.join(f'{v:.0f}' for v in result['vnni_probe_runs'])}); load average before "
          f"{result['load_avg_before']}, after {result['load_avg_after']}")
    print("tokens/s: median (min-max) of the repetitions; others CPU s: other processes' CPU time meanwhile")
    print(f"{'model':9} {'engine':15} {'MB/tok':>7} {'prefill t/s':>19} {'of VNNI':>7} {'decode t/s':>17} "
          f"{'dec GB/s':>8} {'of read bw':>10} {'others CPU s':>12}")
    span = lambda r, k: f"{r[k + '_tps']:.1f} ({min(r[k + '_runs']):.0f}-{max(r[k + '_runs']):.0f})"
    for name, m in result["models"].items():
        for engine, r in m["engines"].items():
            print(f"{name:9} {engine:15} {r['weight_bytes_per_token'] / 1e6:7.1f} {span(r, 'prefill'):>19} "
                  f"{r['prefill_vnni_fraction']:7.3f} {span(r, 'decode'):>17} {r['decode_gbps']:8.2f} "
                  f"{r['decode_read_bw_fraction']:10.3f} {r['others_cpu_s']:12.1f}")
        for engine, ratio in m["over_llama"].items():
            label = engine + "/llama"
            print(f"{name:9} {label:15} {'':7} {ratio['prefill']:18.2f}x {'':7} {ratio['decode']:16.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lpu", required=True, help="the lpu tool")
    ap.add_argument("--bench", required=True, help="lpu_bench_kernels (for probe/read_bw)")
    ap.add_argument("--model", action="append", required=True, help="NAME=PATH.gguf (repeatable)")
    ap.add_argument("--text", default=os.path.join(os.path.dirname(__file__), "..", "data", "eval", "prose.txt"))
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--group", default="256", help="lpu's group sizes G, e.g. 256,32 (default 256)")
    ap.add_argument("--out", help="write the results as JSON")
    args = ap.parse_args()
    models = dict(m.split("=", 1) for m in args.model)
    args.groups = [int(g) for g in args.group.split(",")]

    result = {"load_avg_before": load_avg(), "threads": N_THREADS, "models": {}}
    runs = [probes(args.bench)]
    for name, path in models.items():
        result["models"][name] = measure_model(args, name, path, runs[0][0])
    runs.append(probes(args.bench))
    result["load_avg_after"] = load_avg()
    result["read_probe_runs"] = [r[0] for r in runs]
    # The higher of the two: a probe disturbed by another process only reads low.
    result["read_probe_gbps"] = max(result["read_probe_runs"])
    result["vnni_probe_runs"] = [r[1] for r in runs]
    result["vnni_probe_gops"] = max(result["vnni_probe_runs"])
    for m in result["models"].values():  # against the probes of the whole run
        for r in m["engines"].values():
            r["decode_read_bw_fraction"] = r["decode_gbps"] / result["read_probe_gbps"]
            r["prefill_gops"] = m["prefill_ops_per_token"] * r["prefill_tps"] / 1e9
            r["prefill_vnni_fraction"] = (r["prefill_gops"] / result["vnni_probe_gops"]
                                          if result["vnni_probe_gops"] else 0.0)
    print_table(result)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
