"""Export batches: how far each has got, what it wrote and what failed, and whether it was
cancelled. Thread-safe (the window cancels, the worker records)."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from desktop.inference.requests import ExportTarget
from desktop.inference.responses import ExportFinished, ExportStep
from desktop.problems import Problem


@dataclass(eq=False)
class _Batch:
    total: int
    done: int = 0
    cancelled: bool = False
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, Problem]] = field(default_factory=list)


class ExportBatches:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._batches: dict[int, _Batch] = {}

    def open(self, total: int) -> int:
        """A new batch of `total` photos; its id."""
        with self._lock:
            batch = next(self._ids)
            if total:
                self._batches[batch] = _Batch(total=total)
            return batch

    def cancel(self, batch: int | None = None) -> None:
        """Cancel one batch (all when None): its photos not yet written are skipped."""
        with self._lock:
            for key, entry in self._batches.items():
                if batch is None or key == batch:
                    entry.cancelled = True

    def cancelled(self, batch: int) -> bool:
        with self._lock:
            entry = self._batches.get(batch)
            return entry is None or entry.cancelled

    def record(
        self, batch: int, target: ExportTarget, path: Path | None, problem: Problem | None
    ) -> tuple[ExportStep, ExportFinished | None]:
        """One photo of `batch` is done (written to `path`, failed, or skipped: neither)."""
        with self._lock:
            entry = self._batches[batch]
            entry.done += 1
            if path is not None:
                entry.written.append(path)
            if problem is not None:
                entry.failed.append((target.name, problem))
            step = ExportStep(
                batch=batch,
                doc_id=target.doc_id,
                name=target.name,
                done=entry.done,
                total=entry.total,
                path=path,
                problem=problem,
            )
            if entry.done < entry.total:
                return step, None
            del self._batches[batch]
            return step, ExportFinished(
                batch=batch,
                written=tuple(entry.written),
                failed=tuple(entry.failed),
                cancelled=entry.cancelled,
            )
