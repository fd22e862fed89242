"""Saving and exporting: Save (export defaults), Save As, Export All, with the questions asked
when a file is in the way, and the progress of a batch. The work itself runs in the inference
worker (full precision); this decides names and asks the user.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from desktop import export_dialog
from desktop.document import PhotoDocument, Status
from desktop.export_dialog import Existing, ExportDialog, ExportOptions
from desktop.export_plan import EXTENSIONS, LOSSY, ExportSource, output_format, plan_exports
from desktop.inference.requests import ExportTarget
from desktop.inference.responses import ExportFinished, ExportStep
from desktop.problems import Problem
from desktop.resources import resources_dir
from desktop.session import Session

SAVE_FILTERS = "JPEG (*.jpg *.jpeg);;PNG (*.png);;WebP (*.webp);;TIFF (*.tif *.tiff)"
SUFFIX_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


class Saver(QObject):
    """Turns Save / Save As / Export All into export jobs. `parent` hosts its dialogs."""

    problem = Signal(object)  # Problem: failures and cancellations, for the message bar
    status = Signal(str)  # what was saved where, for the status bar
    settings_chosen = Signal(object)  # StudioSettings: export options to remember

    def __init__(self, session: Session, parent: QWidget) -> None:
        super().__init__(parent)
        self._session = session
        self._parent = parent
        self._export_progress: QProgressDialog | None = None
        self._export_batch: int | None = None
        self._export_results: list[ExportFinished] = []
        session.worker.export_step.connect(self._on_export_step)
        session.worker.export_finished.connect(self._on_export_finished)

    def own_folder(self, doc: PhotoDocument) -> Path | None:
        """The folder of the original, unless it is a pasted image or the bundled sample."""
        if doc.path is None or resources_dir() in doc.path.parents:
            return None
        return doc.path.parent

    def _fallback_folder(self) -> Path:
        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        return Path(pictures or Path.home())

    def save_current(self) -> int | None:
        """Save the photo on screen with the export defaults. Asks before replacing a file."""
        doc = self._session.current
        if doc is None or doc.photo is None:
            return None
        options = ExportOptions.from_settings(self._session.settings)
        folder = options.folder or self.own_folder(doc) or self._fallback_folder()
        planned = plan_exports(
            [self._source(doc, doc.path, doc.photo.format)],
            folder=folder,
            pattern=options.pattern,
            suffix=options.suffix,
            format_setting=options.format_setting,
        )[0]
        path, overwrite = planned.path, False
        if planned.exists:
            answer = export_dialog.ask_existing(self._parent, [planned.path])
            if answer is Existing.CANCEL:
                return None
            if answer is Existing.REPLACE:
                overwrite = True
            else:
                path = self._free_path(path)
        return self._export([self._target(doc, path, planned.format, options, overwrite)])

    def save_current_as(self, path: Path | str | None = None) -> int | None:
        """Save the photo on screen under a name the user picks (the file dialog confirms
        replacing a file; a path given here replaces only after asking)."""
        doc = self._session.current
        if doc is None or doc.photo is None:
            return None
        options = ExportOptions.from_settings(self._session.settings)
        overwrite = False
        if path is None:
            fmt = output_format(options.format_setting, doc.photo.format)
            folder = options.folder or self.own_folder(doc) or self._fallback_folder()
            suggestion = folder / f"{doc.stem}{options.suffix}{EXTENSIONS[fmt]}"
            chosen, _ = QFileDialog.getSaveFileName(
                self._parent, "Save restored photo", str(suggestion), SAVE_FILTERS
            )
            if not chosen:
                return None
            path = Path(chosen)
            overwrite = path.exists()  # the dialog has asked
        else:
            path = Path(path)
            if path.exists():
                answer = export_dialog.ask_existing(self._parent, [path])
                if answer is Existing.CANCEL or answer is Existing.SKIP:
                    return None
                overwrite = answer is Existing.REPLACE
                if answer is Existing.KEEP_BOTH:
                    path = self._free_path(path)
        fmt = SUFFIX_FORMATS.get(path.suffix.lower())
        if fmt is None:
            fmt = output_format(options.format_setting, doc.photo.format)
            path = path.with_name(path.name + EXTENSIONS[fmt])
        return self._export([self._target(doc, path, fmt, options, overwrite)])

    def export_all(self, options: ExportOptions | None = None) -> int | None:
        """Export every open photo (the dialog asks for the options unless given)."""
        docs = [d for d in self._session.documents if d.status is not Status.FAILED]
        if not docs:
            return None
        needs_folder = any(self.own_folder(d) is None for d in docs)
        if options is None:
            names = [(d.stem, d.photo.format if d.photo else None) for d in docs]
            dialog = ExportDialog(self._session.settings, names, needs_folder, self._parent)
            if not dialog.exec():
                return None
            options = dialog.options()
            if dialog.remember.isChecked():
                self.settings_chosen.emit(options.as_settings(self._session.settings))
        if options.folder is None and needs_folder:
            options = dataclasses.replace(options, folder=self._fallback_folder())
        planned = plan_exports(
            [
                self._source(d, d.path if self.own_folder(d) else None, self._format_of(d))
                for d in docs
            ],
            folder=options.folder,
            pattern=options.pattern,
            suffix=options.suffix,
            format_setting=options.format_setting,
        )
        existing = [p.path for p in planned if p.exists]
        answer = Existing.KEEP_BOTH
        if existing:
            answer = export_dialog.ask_existing(self._parent, existing)
            if answer is Existing.CANCEL:
                return None
        targets: list[ExportTarget] = []
        taken: set[Path] = set()
        for doc, plan in zip(docs, planned, strict=True):
            path, overwrite = plan.path, False
            if plan.exists and answer is Existing.SKIP:
                continue
            if plan.exists and answer is Existing.REPLACE and plan.path not in taken:
                overwrite = True
            elif plan.exists or plan.clashes or plan.path in taken:
                path = self._free_path(path, taken)
            taken.add(path)
            targets.append(self._target(doc, path, plan.format, options, overwrite))
        return self._export(targets)

    def _source(
        self, doc: PhotoDocument, source: Path | None, source_format: str | None
    ) -> ExportSource:
        return ExportSource(
            doc_id=doc.doc_id,
            stem=doc.stem,
            source=source,
            source_format=source_format,
            fidelity=self._session.fidelity_of(doc),
        )

    def _format_of(self, doc: PhotoDocument) -> str | None:
        if doc.photo is not None:
            return doc.photo.format
        suffix = doc.path.suffix.lower() if doc.path else ""
        return SUFFIX_FORMATS.get(suffix)

    def _free_path(self, path: Path, taken: set[Path] | None = None) -> Path:
        """A name like `path` that is neither on disk nor already planned in this export."""
        from core.photo_io import next_free_path

        candidate = Path(next_free_path(path))
        number = 2
        while taken and candidate in taken:
            number += 1
            candidate = Path(next_free_path(path.with_name(f"{path.stem} ({number}){path.suffix}")))
        return candidate

    def _target(
        self, doc: PhotoDocument, path: Path, fmt: str, options: ExportOptions, overwrite: bool
    ) -> ExportTarget:
        return self._session.export_target(
            doc,
            path,
            format=fmt,
            quality=options.quality if fmt in LOSSY else 95,
            keep_metadata=options.keep_metadata,
            overwrite=overwrite,
            exact=options.full_precision,
        )

    def _export(self, targets: list[ExportTarget]) -> int | None:
        if not targets:
            return None
        batch = self._session.export(targets)
        self._export_batch = batch
        if len(targets) > 1:
            progress = QProgressDialog("Exporting…", "Cancel", 0, len(targets), self._parent)
            progress.setWindowTitle("Export all")
            progress.setWindowModality(Qt.WindowModality.WindowModal)
            progress.setMinimumDuration(0)
            progress.setAutoClose(False)
            progress.setAutoReset(False)
            progress.canceled.connect(lambda: self._session.worker.cancel_export(batch))
            progress.setValue(0)
            progress.show()
            self._export_progress = progress
        else:
            self.status.emit(f"Saving {targets[0].path.name}…")
        return batch

    def _on_export_step(self, step: ExportStep) -> None:
        progress = self._export_progress
        if progress is not None and step.batch == self._export_batch:
            progress.setLabelText(f"Exported {step.done} of {step.total}: {step.name}")
            progress.setValue(step.done)  # a modal progress dialog processes events here

    def _on_export_finished(self, finished: ExportFinished) -> None:
        self._export_results.append(finished)
        if self._export_progress is not None and finished.batch == self._export_batch:
            self._export_progress.close()
            self._export_progress.deleteLater()
            self._export_progress = None
        written, failed = finished.written, finished.failed
        if failed:
            details = "; ".join(f"{name}: {problem.message}" for name, problem in failed[:3])
            self.problem.emit(
                Problem(
                    kind="write",
                    message=f"Saved {len(written)}, {len(failed)} failed. {details}",
                    fix=failed[0][1].fix,
                    fix_label=failed[0][1].fix_label,
                )
            )
        elif finished.cancelled:
            self.problem.emit(
                Problem(kind="notice", message=f"Export cancelled after {len(written)} photo(s).")
            )
        elif written:
            where = written[0].parent
            text = (
                f"Saved {written[0].name}" if len(written) == 1 else f"Saved {len(written)} photos"
            )
            self.status.emit(f"{text} in {where}")

    @property
    def progress_dialog(self) -> QProgressDialog | None:
        """The progress of the running Export All, if one is running."""
        return self._export_progress

    @property
    def export_results(self) -> list[ExportFinished]:
        return list(self._export_results)
