#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn the "@@BENCH {json}" lines of a make bench run into a report.

    report.py <output.log> <out dir>

Writes, in <out dir>: bench.json (every result, as printed in the guest),
bench.md (Markdown tables: map and unmap per kind, size and path, with the
ratio of each iommufd path to type1 of the same kind, size and operation;
4K map+unmap pairs per second per path;
access_rw against memcpy; kernel memory per pinned page; the concurrent
small operations), and bench.png, the cost per 4K page against the size for
each path, drawn by gnuplot when it is installed. Prints bench.md.
It reports; it never judges a speed.
"""
import json
import os
import shutil
import subprocess
import sys

PATHS = ["type1", "cdev", "compat", "mock", "copy"]
KINDS = ["4k", "hugetlb", "thp"]
MIB = 1024 * 1024


def load(log):
    results = []
    with open(log, errors="replace") as f:
        for line in f:
            line = line.strip().replace("\r", "")
            if line.startswith("@@BENCH {"):
                results.append(json.loads(line[len("@@BENCH "):]))
    return results


def size_name(size):
    return "%d GiB" % (size // 1024 // MIB) if size >= 1024 * MIB \
        else "%d MiB" % (size // MIB)


def timing_tables(res, out):
    timed = {(r["kind"], r["path"], r["op"], r["size"]): r["ns"]
             for r in res if r["op"] in ("map", "unmap")}
    sizes = sorted({k[3] for k in timed})
    for op in ("map", "unmap"):
        out.append("\n### %s (best of the repetitions; ms, and the ratio "
                   "to type1)\n" % op)
        out.append("| kind | size | " + " | ".join(PATHS) + " |")
        out.append("|---|---|" + "---|" * len(PATHS))
        for kind in KINDS:
            for size in sizes:
                base = timed.get((kind, "type1", op, size))
                if base is None:
                    continue
                cells = []
                for path in PATHS:
                    ns = timed.get((kind, path, op, size))
                    if ns is None:
                        cells.append("-")
                    elif path == "type1":
                        cells.append("%.2f" % (ns / 1e6))
                    else:
                        cells.append("%.2f (%.2f)" % (ns / 1e6, ns / base))
                out.append("| %s | %s | %s |" % (kind, size_name(size),
                                                  " | ".join(cells)))
    return timed


def pair_table(res, out):
    pairs = {r["path"]: r for r in res if r["op"] == "pair"}
    if not pairs:
        return
    base = pairs.get("type1")
    out.append("\n### 4K MAP+UNMAP pairs at scattered IOVAs (best of the "
               "repetitions; pairs per second, the ratio to type1, and "
               "the pair's time split into its MAP and its UNMAP by their "
               "shares in a separately clocked run)\n")
    out.append("| path | ns per pair | pairs/s | rate / type1 | MAP ns "
               "| UNMAP ns |")
    out.append("|---|---|---|---|---|---|")
    for path in PATHS:
        r = pairs.get(path)
        if r is None:
            continue
        ns = r["ns"]
        ratio = ("-" if not base or path == "type1"
                 else "%.2f" % (base["ns"] / ns))
        split = ["%.0f" % r[k] if k in r else "-"
                 for k in ("map_ns", "unmap_ns")]
        out.append("| %s | %.0f | %.0f | %s | %s | %s |" %
                   (path, ns, 1e9 / ns, ratio, split[0], split[1]))


def target_table(timed, out):
    size = 512 * MIB
    out.append("\n### iommufd (cdev) / type1 at 512 MiB\n")
    cols = [(k, op) for k in KINDS for op in ("map", "unmap")]
    out.append("| | " + " | ".join("%s %s" % c for c in cols) + " |")
    out.append("|---|" + "---|" * len(cols))
    for path in ("cdev", "compat"):
        cells = []
        for kind, op in cols:
            a = timed.get((kind, path, op, size))
            b = timed.get((kind, "type1", op, size))
            cells.append("%.2f" % (a / b) if a and b else "-")
        out.append("| %s | %s |" % (path, " | ".join(cells)))


def other_tables(res, out):
    rw = [r for r in res if r["path"] == "access_rw"]
    if rw:
        out.append("\n### access_rw against memcpy (ns per call, in the "
                   "kernel)\n")
        out.append("| direction | bytes | access_rw | memcpy | ratio |")
        out.append("|---|---|---|---|---|")
        for r in rw:
            out.append("| %s | %d | %.1f | %.1f | %.2f |" %
                       (r["op"], r["size"], r["ns"], r["memcpy_ns"],
                        r["ns"] / r["memcpy_ns"]))
    mem = {r["path"]: r for r in res if r["op"] == "memory"}
    if mem:
        out.append("\n### kernel memory while 2 GiB of 4K pages are mapped "
                   "(bytes per page)\n")
        out.append("| path | free pages drop | Slab growth | beyond type1 |")
        out.append("|---|---|---|---|")
        base = mem.get("type1")
        for path, r in mem.items():
            extra = "-" if not base or path == "type1" else "%.3f" % (
                r["bytes_per_page"] - base["bytes_per_page"])
            out.append("| %s | %.3f | %.3f | %s |" %
                       (path, r["bytes_per_page"], r["slab_bytes_per_page"],
                        extra))
    for r in res:
        if r["op"] == "concurrent":
            out.append("\n### small operations during a %s MAP (cdev, 4K)\n"
                       % size_name(r["size"]))
            out.append("The MAP took %.1f ms. Meanwhile %d IOVA_RANGES "
                       "(longest %.2f ms) and %d 4K map+unmap (longest "
                       "%.2f ms) completed." %
                       (r["ns"] / 1e6, r["ranges"], r["ranges_max_ns"] / 1e6,
                        r["small_maps"], r["small_map_max_ns"] / 1e6))


def plot(timed, outdir):
    if not shutil.which("gnuplot"):
        return None
    dat = os.path.join(outdir, "bench.dat")
    sizes = sorted({k[3] for k in timed})
    blocks = []
    with open(dat, "w") as f:
        for kind in KINDS:
            for op in ("map", "unmap"):
                for path in PATHS:
                    rows = [(s, timed[(kind, path, op, s)]) for s in sizes
                            if (kind, path, op, s) in timed]
                    if not rows:
                        continue
                    f.write("# %s %s %s\n" % (kind, op, path))
                    for s, ns in rows:
                        f.write("%d %.3f\n" % (s // MIB, ns / (s / 4096)))
                    f.write("\n\n")
                    blocks.append((kind, op, path))
    png = os.path.join(outdir, "bench.png")
    script = ["set terminal png size 1500,900",
              "set output '%s'" % png,
              "set multiplot layout 2,3 title 'ns per 4K page against "
              "the size (MiB), per path'",
              "set logscale x 2", "set logscale y", "set key left top",
              "set grid"]
    for op in ("map", "unmap"):
        for kind in KINDS:
            curves = ["'%s' index %d using 1:2 with linespoints title '%s'" %
                      (dat, i, b[2]) for i, b in enumerate(blocks)
                      if b[0] == kind and b[1] == op]
            script.append("set title '%s %s'" % (kind, op))
            script.append("plot " + ", ".join(curves) if curves else
                          "plot 0 notitle")
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                   check=True)
    return png


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py <output.log> <out dir>")
    res = load(sys.argv[1])
    if not res:
        sys.exit("no @@BENCH lines in %s" % sys.argv[1])
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(res, f, indent=1)
    out = ["## make bench: iommufd against VFIO type1, one boot under "
           "-icount"]
    timed = timing_tables(res, out)
    other_tables(res, out)
    target_table(timed, out)
    pair_table(res, out)
    png = plot(timed, outdir)
    out.append("\nJSON: %s/bench.json; plot: %s" %
               (outdir, png or "(gnuplot not installed)"))
    text = "\n".join(out) + "\n"
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
