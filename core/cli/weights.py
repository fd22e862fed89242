"""`codeformer-studio weights`: list, download, import, verify the weights files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from core.cli.parser import TASKS
from core.cli.restore import weights_folder
from core.errors import StudioError

if TYPE_CHECKING:
    from core.weights.catalogue import WeightsFile


def run_weights(args: argparse.Namespace) -> int:
    from core.weights.catalogue import CATALOGUE, codeformer_file, weights_file

    folder = weights_folder(args)
    if args.action == "path":
        print(folder)
        return 0
    if args.action == "list":
        from core.weights.store import status

        print(f"weights folder: {folder}")
        for st in status(folder):
            e = st.entry
            mark = "present" if st.present else "missing"
            print(f"{e.key:26} {e.filename:34} {e.size_text:>18}  {mark:8} {e.licence}")
        return 0
    if args.action == "download":
        keys = list(args.keys)
        if args.all:
            keys = [e.key for e in CATALOGUE]
        # a task needs its CodeFormer file; the face detector is built into the app
        keys += [codeformer_file(TASKS[task]).key for task in args.task]
        if not keys:
            raise StudioError("name the files to download (see 'weights list'), --task or --all")
        entries = [weights_file(k) for k in dict.fromkeys(keys)]
        return _download(entries, folder)
    if args.action == "import":
        from core.weights.store import import_file

        path = import_file(args.file, weights_file(args.key), folder, link=args.link)
        print(f"imported {args.file} as {path}")
        return 0
    if args.action == "verify":
        from core.weights.store import find, verify

        entries = [weights_file(k) for k in args.keys] or list(CATALOGUE)
        failed = 0
        for e in entries:
            found = find(e, folder)
            if found is None:
                if args.keys:
                    print(f"missing  {e.filename}")
                    failed += 1
                continue
            try:
                verify(found, e, folder=folder)
                print(f"ok       {found}")
            except StudioError as exc:
                print(f"FAILED   {found}: {exc}")
                failed += 1
        return 1 if failed else 0
    raise StudioError(f"unknown weights action {args.action}")


def _download(entries: Sequence[WeightsFile], folder: Path) -> int:
    from core.weights.download import download

    failed = 0
    for e in entries:
        if e.non_commercial:
            print(
                f"note: {e.filename} is under the {e.licence}: non-commercial use only.",
                file=sys.stderr,
            )
        bar = tqdm(
            total=e.size,
            unit="B",
            unit_scale=True,
            desc=e.filename,
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
        )

        def progress(done: int, total: int | None, bar: tqdm = bar) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            path = download(e, folder, progress=progress)
            bar.close()
            print(f"ok       {path}")
        except StudioError as exc:
            bar.close()
            print(f"FAILED   {e.filename}: {exc}")
            failed += 1
    return 1 if failed else 0
