#!/usr/bin/env python3
"""Summarises lpu_bench_kernels JSON runs (medians of repetitions).

Prints each run's probes (calibrated at its start, and the medians of its
probe/ benchmarks), then per benchmark the median time and counters, the
roofline again against the probe medians of the same run (roof_med: the
probes' repetitions interleave with the others, so they saw the same
machine; the JSON's roofline counter uses the calibration at start), the
ratio to the oneDNN baseline of the same shape, M and working set (oneDNN's
time over ours: above 1 means faster than oneDNN) and the same against
Eigen fp32; then the performance targets at the default G = 256, each marked
ok or MISS. Ratios pair benchmarks of the same run only.

Usage: summarize.py [--merge OUT.json] RUN.json [RUN.json...]
  --merge writes the runs as one Google Benchmark JSON file: the first
  run's context plus `lpu_runs` (every run's context), and every entry
  tagged with its run's index `lpu_run` (each run has its own probes). A
  merged file given as RUN.json is split into its runs again.
"""

import json
import sys

DEFAULT_G = "g256"


def load(path):
    """The runs in a JSON file: one, or several for a merged file."""
    with open(path, encoding="utf-8") as f:
        run = json.load(f)
    contexts = run.get("context", {}).get("lpu_runs")
    if not contexts:
        return [run]
    return [{"context": c, "benchmarks": [b for b in run["benchmarks"] if b.get("lpu_run") == i]}
            for i, c in enumerate(contexts)]


def medians(run):
    rows = {}
    for b in run.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
        rows[name] = {
            "us": b["real_time"] * scale,
            "GBps": b.get("GBps", 0.0),
            "GOPs": b.get("GOPs", 0.0),
            "roofline": b.get("roofline", 0.0),
        }
    return rows


def probe_medians(rows, context):
    """(read GB/s, VNNI GOP/s) the run's own probe/ medians give, falling
    back to the calibration at its start where a probe did not run."""
    read = rows.get("probe/read_bw", {}).get("GBps") or float(context.get("probe_read_bw_GBps", 0))
    vnni = rows.get("probe/vnni_peak", {}).get("GOPs") or float(context.get("probe_vnni_peak_GOPs", 0))
    return read, vnni


def roofline_vs(r, read, vnni):
    """GOPs over min(VNNI peak, read bandwidth x ops per weight byte), as
    the binary computes its counter, for other probe values."""
    if not r["GBps"] or not r["GOPs"]:
        return 0.0
    bound = read * r["GOPs"] / r["GBps"]
    if vnni:
        bound = min(bound, vnni)
    return r["GOPs"] / bound if bound else 0.0


def key_of(name):
    """(family, shape, m, dram, g) from a benchmark name, or None."""
    parts = name.split("/")
    dram = parts[-1] == "dram"
    if dram:
        parts = parts[:-1]
    if parts[0] in ("gemv", "gemm") and len(parts) == 4:
        return ("lpu", parts[1], parts[2], dram, parts[3])
    if parts[0] in ("onednn", "eigen", "naive") and len(parts) == 4:
        return (parts[0], parts[2], parts[3], dram, None)
    return None


def merge(runs, out_path):
    merged = {"context": dict(runs[0].get("context", {})), "benchmarks": []}
    merged["context"]["lpu_runs"] = [r.get("context", {}) for r in runs]
    for i, r in enumerate(runs):
        merged["benchmarks"].extend(dict(b, lpu_run=i) for b in r.get("benchmarks", []))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=2)


def print_runs(runs):
    c = runs[0].get("context", {})
    print(f"threads {c.get('lpu_threads', '?')}, kernels {c.get('lpu_kernel_isa', '?')}, "
          f"oneDNN {c.get('onednn_version', '?')}, {len(runs)} run(s)")
    for i, r in enumerate(runs):
        c = r.get("context", {})
        rows = medians(r)
        read = rows.get("probe/read_bw", {}).get("GBps")
        vnni = rows.get("probe/vnni_peak", {}).get("GOPs")
        load = " ".join(f"{x:.2f}" for x in c.get("load_avg", []))
        print(f"  run {i}: load average {load or '?'}; probes at start: read "
              f"{float(c.get('probe_read_bw_GBps', 0)):.2f} GB/s, VNNI "
              f"{float(c.get('probe_vnni_peak_GOPs', 0)):.0f} GOP/s; medians: read "
              f"{f'{read:.2f}' if read else '-'} GB/s, VNNI {f'{vnni:.0f}' if vnni else '-'} GOP/s")
        start_read = float(c.get("probe_read_bw_GBps", 0))
        start_vnni = float(c.get("probe_vnni_peak_GOPs", 0))
        # The probes repeat through the run; when they drop well below
        # their start values, something else took the cores or the memory.
        if (read and start_read and read < 0.85 * start_read) or (
                vnni and start_vnni and vnni < 0.9 * start_vnni):
            print(f"  run {i}: WARNING: the probes fell during the run: the machine was busy")


def print_table(run_rows):
    fmt = "{:<44} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}"
    print(fmt.format("benchmark", "time_us", "GBps", "GOPs", "roofline", "roof_med", "x_onednn",
                     "x_eigen"))
    for rows, ratio in run_rows:
        for name, r in rows.items():
            if name.startswith("probe/"):
                continue
            k = key_of(name)
            xo = ratio("onednn", k, r) if k and k[0] == "lpu" else None
            xe = ratio("eigen", k, r) if k and k[0] == "lpu" else None
            print(fmt.format(name, f"{r['us']:.1f}", f"{r['GBps']:.2f}", f"{r['GOPs']:.1f}",
                             f"{r['roofline']:.3f}", f"{r['roof_med']:.3f}",
                             f"{xo:.2f}" if xo else "-", f"{xe:.2f}" if xe else "-"))


def target_checks(rows, ratio):
    checks = []
    for name, r in rows.items():
        k = key_of(name)
        if not k or k[0] != "lpu" or k[4] != DEFAULT_G:
            continue
        _, shape, m, dram, _ = k
        xo = ratio("onednn", k, r)
        if m == "m1" and dram:
            checks.append((f"GEMV {shape} m1 /dram: roof_med >= 0.95", r["roof_med"], 0.95))
            if xo:
                checks.append((f"GEMV {shape} m1 /dram: x oneDNN >= 0.95", xo, 0.95))
            xe = ratio("eigen", k, r)
            if xe:
                checks.append((f"GEMV {shape} m1 /dram: x Eigen fp32 >= 4", xe, 4.0))
        if m in ("m128", "m512") and not dram:
            checks.append((f"GEMM {shape} {m}: roof_med >= 0.80", r["roof_med"], 0.80))
            if xo:
                checks.append((f"GEMM {shape} {m}: x oneDNN >= 0.95", xo, 0.95))
        if m == "m16" and dram:
            m1 = rows.get(f"gemv/{shape}/m1/{DEFAULT_G}/dram")
            if m1:
                checks.append((f"/dram {shape}: time m1 / time m16 >= 0.5", m1["us"] / r["us"], 0.5))
    return checks


def main():
    args = sys.argv[1:]
    out = None
    if len(args) >= 2 and args[0] == "--merge":
        out, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    runs = [run for p in args for run in load(p)]
    if out:
        merge(runs, out)

    run_rows = []
    for run in runs:
        rows = medians(run)
        read, vnni = probe_medians(rows, run.get("context", {}))
        for r in rows.values():
            r["roof_med"] = roofline_vs(r, read, vnni)
        baseline = {}
        for name, r in rows.items():
            k = key_of(name)
            if k and k[0] != "lpu":
                baseline[(k[0], k[1], k[2], k[3])] = r

        def ratio(family, k, r, baseline=baseline):
            b = baseline.get((family, k[1], k[2], k[3]))
            return b["us"] / r["us"] if b else None

        run_rows.append((rows, ratio))

    print_runs(runs)
    print()
    print_table(run_rows)
    print()
    print("targets at G = 256 (roof_med: against the run's probe medians; "
          "x_onednn = oneDNN time / ours):")
    checks = [c for rows, ratio in run_rows for c in target_checks(rows, ratio)]
    missed = 0
    for label, value, goal in checks:
        ok = value >= goal
        missed += not ok
        print(f"  {label:<52} {value:7.3f}  {'ok' if ok else 'MISS'}")
    print(f"{len(checks) - missed} of {len(checks)} targets met")


if __name__ == "__main__":
    main()
