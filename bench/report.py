"""Writing the benchmark report: a markdown file and a bar chart drawn with Pillow.

The chart needs no plotting library: each pair of bars is the baseline's time (full width) and
ours (its share of it), labelled with both times and the ratio, so cases of very different
durations can share one picture.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.common import Bar, BenchResult, ratio, ratio_text, seconds_text

BASELINE_COLOUR = (150, 150, 150)
OURS_COLOUR = (59, 120, 196)
TEXT_COLOUR = (30, 30, 30)


def markdown_report(
    results: Sequence[BenchResult],
    machine: Mapping[str, str],
    *,
    mode: str,
    seconds: float,
    plot_name: str | None,
) -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        "# CodeFormer Studio benchmarks",
        "",
        f"Run {now}, {mode}, {seconds / 60:.1f} min in all (`python -m bench.run_all`). Ratios "
        "are baseline time / our time, both measured in this run on this machine. Weights are "
        "random (synthetic checkpoints in the official layout): the timing does not depend on "
        "their values.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    targets = [t for r in results for t in r.targets]
    if targets:
        lines += ["", "## Targets of the issue", "", "| target | goal | measured | met |"]
        lines.append("| --- | --- | --- | --- |")
        lines += [
            f"| {t.name} | {t.goal} | {t.measured} | {'yes' if t.met else '**no**'} |"
            for t in targets
        ]
    if plot_name:
        lines += ["", f"![time relative to the baseline]({plot_name})"]
    lines += ["", "## Figures", ""]
    lines += [r.markdown() for r in results]
    return "\n".join(lines) + "\n"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def _plain(text: str) -> str:
    """The default font has no micro sign."""
    return text.replace("µs", "us")


def draw_bars(bars: Sequence[Bar], path: Path, *, title: str) -> Path:
    """A PNG of the bar pairs (baseline grey, ours blue), one row per pair."""
    width, left, right = 1200, 360, 30
    row_height, bar_height, top = 46, 16, 70
    height = top + row_height * len(bars) + 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font, small, big = _font(14), _font(12), _font(18)
    draw.text((20, 16), title, fill=TEXT_COLOUR, font=big)
    draw.rectangle((left, 46, left + 14, 58), fill=BASELINE_COLOUR)
    draw.text((left + 20, 44), "baseline (reference, rerun)", fill=TEXT_COLOUR, font=small)
    draw.rectangle((left + 240, 46, left + 254, 58), fill=OURS_COLOUR)
    draw.text((left + 260, 44), "ours", fill=TEXT_COLOUR, font=small)
    span = width - left - right
    for i, bar in enumerate(bars):
        y = top + i * row_height
        draw.text((20, y + 10), bar.label, fill=TEXT_COLOUR, font=font)
        longest = max(bar.baseline, bar.ours, 1e-12)
        base_w = max(1, round(span * bar.baseline / longest))
        ours_w = max(1, round(span * bar.ours / longest))
        draw.rectangle((left, y, left + base_w, y + bar_height), fill=BASELINE_COLOUR)
        draw.rectangle(
            (left, y + bar_height + 2, left + ours_w, y + 2 * bar_height + 2), fill=OURS_COLOUR
        )
        draw.text((left + 6, y + 1), _plain(seconds_text(bar.baseline)), fill="white", font=small)
        speedup = ratio(bar.baseline, bar.ours)
        label = f"{_plain(seconds_text(bar.ours))}  ({ratio_text(speedup)} faster)"
        if speedup < 1:
            label = f"{_plain(seconds_text(bar.ours))}  ({ratio_text(1 / speedup)} slower)"
        ours_text_x = left + ours_w + 6
        if ours_w > span - 220:  # no room right of the bar: write inside it
            draw.text((left + 6, y + bar_height + 3), label, fill="white", font=small)
        else:
            draw.text((ours_text_x, y + bar_height + 3), label, fill=TEXT_COLOUR, font=small)
    image.save(path)
    return path
