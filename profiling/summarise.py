#!/usr/bin/env python3
"""Turns Nsight Systems / Nsight Compute CSV output into markdown tables.

usage: summarise.py [--top N] [-o OUT.md] CSV...

Each CSV's kind is recognised from its header:
  - nsys stats --report cuda_gpu_kern_sum (older nsys: gpukernsum) -> top kernels by total time
  - nsys stats --report cuda_gpu_mem_time_sum (gpumemtimesum)      -> memory operations
  - nsys stats --report nvtx_sum (nvtxsum)                          -> NVTX ranges
  - ncu --csv --page details (or ncu --import X.ncu-rep --csv ...)  -> per-kernel duration,
    SM / memory / DRAM throughput, achieved occupancy, registers
Column names differ between tool versions ("Avg (ns)" vs "Average"); they are matched loosely.
Standard library only, so it runs under any python3.
"""
import argparse
import csv
import io
import re
import sys
from collections import OrderedDict


def norm(s):
    return re.sub(r"[^a-z0-9%]", "", s.lower())


def to_float(s):
    s = (s or "").strip().replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


def short_name(name, width=70):
    """A readable kernel name: no 'void', no anonymous namespaces, parameters elided."""
    n = name.strip()
    n = re.sub(r"^void ", "", n)
    n = n.replace("(anonymous namespace)::", "")
    # Drop the parameter list: the last top-level '(...)'.
    depth, cut = 0, None
    for i in range(len(n) - 1, -1, -1):
        c = n[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                cut = i
                break
    if cut and n.endswith(")") and cut > 0:
        n = n[:cut]
    if len(n) > width:
        n = n[: width - 1] + "…"
    return n.replace("|", "\\|")


def read_table(path):
    """The CSV's header and rows, skipping any lines before the header."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cols = [norm(c) for c in next(csv.reader([line]), [])]
        if len(cols) >= 3 and any(c in ("name", "range", "operation", "metricname", "kernelname")
                                  for c in cols):
            reader = csv.reader(io.StringIO("\n".join(lines[i:])))
            header = next(reader)
            rows = [r for r in reader if r and len(r) >= len(header) - 1]
            return header, rows
    return None, []


def col(header, *candidates, prefix=False):
    """Index of the first column whose normalised name matches (or starts with) a candidate."""
    names = [norm(h) for h in header]
    for cand in candidates:
        c = norm(cand)
        for i, n in enumerate(names):
            if n == c or (prefix and n.startswith(c)):
                return i
    return None


def kind_of(header):
    names = [norm(h) for h in header]
    if "metricname" in names and "metricvalue" in names:
        return "ncu"
    if "range" in names:
        return "nvtx"
    if "operation" in names:
        return "mem"
    if "name" in names and any(n.startswith("totaltime") for n in names):
        return "kernels"
    return None


def time_summary(header, rows, label_cols, title, top, unit_ns=True):
    """A table for the nsys *_sum reports: rows sorted by total time."""
    i_name = col(header, *label_cols)
    i_total = col(header, "Total Time", prefix=True)
    i_n = col(header, "Instances", "Count", "Calls", "Num Calls")
    i_avg = col(header, "Avg", "Average", "Avg (ns)", prefix=True)
    i_med = col(header, "Med", "Median", "Med (ns)", prefix=True)
    if i_name is None or i_total is None:
        return f"_{title}: unrecognised columns {header}_\n"
    items = []
    for r in rows:
        total = to_float(r[i_total]) if i_total < len(r) else None
        if total is None:
            continue
        items.append((total, r))
    items.sort(key=lambda x: -x[0])
    grand = sum(t for t, _ in items) or 1.0
    scale = 1e-6 if unit_ns else 1.0  # ns -> ms
    out = [f"### {title}: {len(items)} entries, {grand * scale:.3f} ms in total\n",
           "| # | name | time % | total ms | calls | avg µs | med µs |",
           "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for k, (total, r) in enumerate(items[:top], 1):
        def get(i, f=1e-3):
            v = to_float(r[i]) if i is not None and i < len(r) else None
            return "-" if v is None else f"{v * f:.2f}"
        calls = r[i_n].strip() if i_n is not None and i_n < len(r) else "-"
        out.append(f"| {k} | {short_name(r[i_name])} | {100 * total / grand:.1f} | "
                   f"{total * scale:.3f} | {calls} | {get(i_avg)} | {get(i_med)} |")
    if len(items) > top:
        rest = sum(t for t, _ in items[top:])
        out.append(f"| | ({len(items) - top} more) | {100 * rest / grand:.1f} | "
                   f"{rest * scale:.3f} | | | |")
    return "\n".join(out) + "\n"


NCU_METRICS = OrderedDict([
    ("duration", ("Duration",)),
    ("sm", ("Compute (SM) Throughput", "SM Throughput")),
    ("mem", ("Memory Throughput",)),
    ("dram", ("DRAM Throughput",)),
    ("occ", ("Achieved Occupancy",)),
    ("regs", ("Registers Per Thread",)),
])
TIME_UNITS = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3,
              "second": 1e6, "s": 1e6}


def ncu_summary(header, rows, top):
    i_id = col(header, "ID")
    i_k = col(header, "Kernel Name", "Function Name")
    i_m = col(header, "Metric Name")
    i_u = col(header, "Metric Unit")
    i_v = col(header, "Metric Value")
    if i_k is None or i_m is None or i_v is None:
        return f"_ncu: unrecognised columns {header}_\n"
    wanted = {norm(n): key for key, names in NCU_METRICS.items() for n in names}
    launches = OrderedDict()  # launch id -> {kernel, metric values}
    for n, r in enumerate(rows):
        if max(i_k, i_m, i_v) >= len(r):
            continue
        lid = r[i_id] if i_id is not None else str(n)
        rec = launches.setdefault(lid, {"kernel": r[i_k]})
        key = wanted.get(norm(r[i_m]))
        v = to_float(r[i_v])
        if key is None or v is None:
            continue
        if key == "duration":
            unit = r[i_u].strip() if i_u is not None and i_u < len(r) else "nsecond"
            v *= TIME_UNITS.get(unit, 1e-3)  # to µs
        rec[key] = v
    kernels = OrderedDict()  # kernel -> list of launch records
    for rec in launches.values():
        kernels.setdefault(rec["kernel"], []).append(rec)

    def mean(recs, key):
        vals = [r[key] for r in recs if key in r]
        return sum(vals) / len(vals) if vals else None

    table = []
    for name, recs in kernels.items():
        d = mean(recs, "duration")
        total = sum(r.get("duration", 0.0) for r in recs)
        table.append((total, name, len(recs), d, [mean(recs, k) for k in
                                                 ("sm", "mem", "dram", "occ", "regs")]))
    table.sort(key=lambda x: -x[0])
    grand = sum(t[0] for t in table) or 1.0
    out = [f"### ncu: {len(table)} kernels, {len(launches)} profiled launches, "
           f"{grand / 1e3:.3f} ms profiled\n",
           "| # | kernel | launches | avg µs | time % | SM % | memory % | DRAM % | occupancy % "
           "| regs | bound by |",
           "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]

    def f(v, p=1):
        return "-" if v is None else f"{v:.{p}f}"

    for k, (total, name, n, d, (sm, mem, dram, occ, regs)) in enumerate(table[:top], 1):
        # A rough hint from speed-of-light: whichever unit is nearer its peak.
        if sm is None or mem is None:
            hint = "-"
        elif max(sm, mem) < 60:
            hint = "latency / launch"
        else:
            hint = "memory" if mem >= sm else "compute"
        out.append(f"| {k} | {short_name(name)} | {n} | {f(d, 2)} | {100 * total / grand:.1f} | "
                   f"{f(sm)} | {f(mem)} | {f(dram)} | {f(occ)} | {f(regs, 0)} | {hint} |")
    return "\n".join(out) + "\n"


def summarise(paths, top):
    parts = []
    for p in paths:
        header, rows = read_table(p)
        kind = kind_of(header) if header else None
        if kind == "kernels":
            parts.append(time_summary(header, rows, ("Name",), "GPU kernels", top))
        elif kind == "mem":
            parts.append(time_summary(header, rows, ("Operation",), "Memory operations", top))
        elif kind == "nvtx":
            parts.append(time_summary(header, rows, ("Range",), "NVTX ranges", top))
        elif kind == "ncu":
            parts.append(ncu_summary(header, rows, top))
        else:
            parts.append(f"_{p}: not a recognised nsys/ncu CSV (skipped)_\n")
    return "\n".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", nargs="+", help="CSV files from nsys stats or ncu --csv")
    ap.add_argument("--top", type=int, default=15, help="rows per table (default 15)")
    ap.add_argument("-o", "--output", help="write markdown here (default: stdout)")
    a = ap.parse_args(argv)
    md = summarise(a.csv, a.top)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
