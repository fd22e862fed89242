"""Run every benchmark and write `bench/results/report.md` and `bench/results/report.png`.

    python -m bench.run_all [--quick] [--only slider,precision] [--repeats N] [--threads N]

The full run (official 512 network, random weights) takes about 10 minutes on a 2-core CPU;
`--quick` (tiny network) about 2 minutes, for trying the benchmarks, not for their figures.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

from bench import first_result, memory, precision, slider, startup
from bench.common import (
    REPO,
    RESULTS,
    BenchResult,
    add_common_args,
    machine_info,
    scale_from_args,
    setup_torch,
    show,
)
from bench.report import draw_bars, markdown_report
from core.memory import keep_freed_memory

BENCHMARKS = ("startup", "precision", "slider", "first_result", "memory")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder of the report (default {RESULTS.relative_to(REPO)}; with --quick, its "
        "quick/ subfolder, so a try never replaces the full run's report)",
    )
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = RESULTS / "quick" if args.quick else RESULTS
    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    setup_torch(args.threads)
    tuned = keep_freed_memory()  # as the app does at start-up (the reference runs untouched)
    scale = scale_from_args(args)
    machine = machine_info()
    machine["allocator (our process)"] = (
        "glibc malloc keeps freed memory (core.memory.keep_freed_memory)"
        if tuned
        else "system default"
    )
    machine["allocator (reference's process)"] = "system default"
    print(f"CodeFormer Studio benchmarks, {scale.label}")
    for key, value in machine.items():
        print(f"  {key}: {value}")
    print(flush=True)

    started = time.perf_counter()
    results: list[BenchResult] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        workdir = Path(folder)
        for name in chosen:
            began = time.perf_counter()
            print(f"== {name}", flush=True)
            if name == "startup":
                result = startup.run(scale, workdir)
            elif name == "precision":
                result = precision.run(scale, workdir, threads=args.threads)
            elif name == "slider":
                result = slider.run(scale, workdir, threads=args.threads)
            elif name == "first_result":
                result = first_result.run(scale, workdir, threads=args.threads)
            else:
                result = memory.run(scale, workdir, threads=args.threads, baseline=scale.quick)
            show(result)
            print(f"({name}: {time.perf_counter() - began:.0f} s)\n", flush=True)
            results.append(result)
    elapsed = time.perf_counter() - started
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        machine["load average at end"] = f"{load} (other work on the machine skews the figures)"

    args.out.mkdir(parents=True, exist_ok=True)
    bars = [bar for r in results for bar in r.bars]
    plot = None
    if bars:
        plot = draw_bars(
            bars,
            args.out / "report.png",
            title=f"Time relative to the baseline, shorter is faster ({scale.label})",
        )
    report = markdown_report(
        results,
        machine,
        mode=scale.label,
        seconds=elapsed,
        plot_name=plot.name if plot else None,
    )
    (args.out / "report.md").write_text(report, encoding="utf-8")
    print(f"report: {args.out / 'report.md'}" + (f", plot: {plot}" if plot else ""))


if __name__ == "__main__":
    main()
