"""The window's slider as the user feels it: new value -> picture on screen, and the process's
memory over a long slider session, against the core's own render of the same photo.

One process: first the core (an `Engine`, the photo analysed once, `render` timed at new
fidelities), then the real window (offscreen Qt, the real worker and engine, the model given
as the user's own file, prefetch off so every value is a real render), driven through new
fidelities with `Session.set_fidelity`; a value counts as shown once the session holds its
result and nothing is pending (the compare view has its pixmaps by then). RSS is read from
/proc after each value.

    python -m bench.window [--quick] [--megapixels 12] [--faces 2] [--values 12]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import (
    RESULTS,
    BenchResult,
    Table,
    Target,
    add_common_args,
    machine_info,
    scale_from_args,
    seconds_text,
    show,
    synthesize_photo,
    table_rows,
)

UPSCALE = 2  # the window's default


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fidelities(count: int) -> list[float]:
    """New values, none repeated and none 0.5 (where the session starts), spread over the slider
    as a user trying values would (up to 33 of them, from 0.03 to 0.99)."""
    return [round(0.03 + ((i * 7) % 33) * 0.03, 2) for i in range(count)]


def core_renders(model: Path, photo_path: Path, values: list[float]) -> tuple[list[float], str]:
    """Seconds of `Engine.render` at each value, and the precision measured at start-up (the
    window is then given the same, so both run the same arithmetic)."""
    from core.choices import PipelineSettings
    from core.engine import Engine
    from core.photo_io import read_photo

    engine = Engine(weights_dir=Path(tempfile.mkdtemp()), device="auto", precision="auto")
    engine.use_model_file(model)
    analysis = engine.analyze(read_photo(photo_path), PipelineSettings(upscale=UPSCALE))
    engine.render(analysis, 0.5)  # warm-up
    seconds = []
    for value in values:
        started = time.perf_counter()
        engine.render(analysis, value)
        seconds.append(time.perf_counter() - started)
    return seconds, engine.placement.precision


def window_renders(
    model: Path, photo_path: Path, values: list[float], folder: Path, precision: str
) -> tuple[list[float], list[float], list[float], float, float, float]:
    """Seconds from a new value to its picture, seconds of that render in the worker (its job,
    QImage included: `result_seconds`), RSS (MB) after each, RSS after the first one;
    then, with prefetch on: seconds until every step of the slider is filled, and seconds from
    a landing on a filled step (no whole photo cached for it) to its picture."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CODEFORMER_STUDIO_CONFIG"] = str(folder / "config")
    os.environ["CODEFORMER_STUDIO_WEIGHTS"] = str(folder / "weights")
    from PySide6.QtCore import QEventLoop

    from desktop.app import create_window, make_application
    from desktop.settings import SettingsStore, StudioSettings

    app = make_application()
    store = SettingsStore()
    store.save(
        StudioSettings(model_file=str(model), prefetch=False, upscale=UPSCALE, precision=precision)
    )
    window = create_window([str(photo_path)], store=store)
    session = window.session

    def wait(condition, timeout: float = 600.0) -> None:
        """Run the event loop as the app does (asleep until an event comes) until `condition`."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not show the result in time")
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    def shown(value: float | None = None) -> bool:
        doc = session.current
        if doc is None or doc.result is None or doc.render_pending:
            return False
        return value is None or abs((doc.result_fidelity or -1) - value) < 1e-6

    wait(shown)
    session.set_fidelity(0.5)
    wait(lambda: shown(0.5))
    gc.collect()
    first = rss_mb()
    seconds, worker, rss = [], [], []
    for value in values:
        started = time.perf_counter()
        session.set_fidelity(value)
        wait(lambda value=value: shown(value))
        seconds.append(time.perf_counter() - started)
        worker.append(session.current.result_seconds)
        rss.append(rss_mb())
    session.worker.set_prefetch(True)
    session.set_fidelity(0.5)
    wait(lambda: shown(0.5))
    started = time.perf_counter()
    wait(session.worker.is_idle)
    fill = time.perf_counter() - started
    started = time.perf_counter()
    session.set_fidelity(0.25)  # a step: its faces decoded, no whole photo cached
    wait(lambda: shown(0.25))
    landing = time.perf_counter() - started
    session.shutdown()
    window.close()
    return seconds, worker, rss, first, fill, landing


def run(args: argparse.Namespace) -> BenchResult:
    from core.memory import keep_freed_memory

    keep_freed_memory()  # as the window and the command line do at start-up
    scale = scale_from_args(args)
    folder = Path(tempfile.mkdtemp(prefix="bench-window-"))
    try:
        from core.synthetic import write_checkpoint

        model = write_checkpoint(folder / "my_model.pth", scale.network())
        megapixels = 1.0 if scale.quick else args.megapixels
        photo = synthesize_photo(folder, megapixels, args.faces)
        values = fidelities(args.values)
        core, precision = core_renders(model, photo.path, values[: max(3, len(values) // 3)])
        gc.collect()
        window, worker, rss, first, fill, landing = window_renders(
            model, photo.path, values, folder, precision
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    core_median, window_median = statistics.median(core), statistics.median(window)
    worker_median = statistics.median(worker)
    ratio = window_median / core_median
    own = window_median / worker_median  # what the window adds around its own worker's render
    growth = max(rss) - first
    rows = [
        ("core render (Engine.render)", seconds_text(core_median), f"{len(core)} values"),
        ("window: new value -> picture", seconds_text(window_median), f"{len(window)} values"),
        ("window / core", f"{ratio:.2f}x", "target <= 1.15x"),
        ("  of which the worker's job (render + QImage)", seconds_text(worker_median), ""),
        ("window / its worker's job", f"{own:.2f}x", "what the window adds around it"),
        ("RSS after the first result", f"{first:.0f} MB", ""),
        ("RSS after the last value", f"{rss[-1]:.0f} MB", f"max {max(rss):.0f} MB"),
        ("RSS growth over the session", f"{growth:+.0f} MB", "target within +1024 MB"),
        (
            "slider filled when idle (21 steps)",
            seconds_text(fill),
            f"{seconds_text(fill / args.faces)} per face, with the 6 whole-photo prefetches",
        ),
        ("landing on a filled step -> picture", seconds_text(landing), "target < 100 ms"),
    ]
    per_value = [
        (f"{v:.2f}", seconds_text(s), seconds_text(w), f"{m:.0f} MB")
        for v, s, w, m in zip(values, window, worker, rss, strict=True)
    ]
    machine = machine_info()
    notes = (
        f"{megapixels:g} MP photo, {args.faces} faces, upscale {UPSCALE}x ({scale.label}), "
        f"precision {precision} (measured at start-up, given to both), prefetch off; "
        + ", ".join(f"{k}: {v}" for k, v in machine.items() if k in ("CPU", "torch threads")),
    )
    return BenchResult(
        name="window",
        tables=(
            Table(
                title="The window's slider against the core",
                columns=("what", "median / value", "note"),
                rows=table_rows(rows),
                notes=notes,
            ),
            Table(
                title="Each new value in the window",
                columns=("fidelity", "to the picture", "worker's job", "RSS after"),
                rows=table_rows(per_value),
            ),
        ),
        targets=(
            Target(
                name="window overhead",
                goal="new value to picture <= 1.15x the core's render",
                measured=f"{ratio:.2f}x",
                met=ratio <= 1.15,
            ),
            Target(
                name="landing on a filled step",
                goal="< 100 ms to the picture",
                measured=seconds_text(landing),
                met=landing < 0.1,
            ),
            Target(
                name="flat memory",
                goal=f"{len(values)} new values within +1 GB of the first result",
                measured=f"{growth:+.0f} MB",
                met=growth <= 1024,
            ),
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--faces", type=int, default=2)
    parser.add_argument("--values", type=int, default=12)
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args()
    result = run(args)
    show(result)
    out = args.out or (RESULTS / ("quick" if args.quick else "") / "window.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
