"""First run and weights: which model files are needed, their sizes and licences; Download (in a
thread, with progress and Cancel), or "Choose a file I already have". Offline, it says so plainly
and says where to put the files.

`api` is the core.weights module (download, import_file); tests may pass their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from PySide6.QtCore import Qt, QThread, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.icons import icon

log = logging.getLogger(__name__)


def human_size(size: int | None) -> str:
    if not size:
        return "unknown size"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def _size_text(entry: Any) -> str:
    text = getattr(entry, "size_text", None)
    return str(text) if text else human_size(getattr(entry, "size", None))


def _api() -> ModuleType:
    import core.weights

    return core.weights


class DownloadThread(QThread):
    """Downloads the entries one after the other; cancel() stops at the next chunk."""

    file_progress = Signal(str, int, int)  # key, done, total
    file_done = Signal(str, str)  # key, path
    failed = Signal(str, str)  # key, message
    cancelled = Signal()

    def __init__(self, entries: Sequence[Any], folder: Path, api: Any) -> None:
        super().__init__()
        self._entries = list(entries)
        self._folder = folder
        self._api = api
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        from core.errors import DownloadCancelled

        for entry in self._entries:
            key = entry.key

            def progress(done: int, total: int | None, key: str = key) -> None:
                self.file_progress.emit(key, int(done), int(total or 0))

            try:
                path = self._api.download(
                    entry, self._folder, progress=progress, cancel=self._cancel.is_set
                )
            except DownloadCancelled:
                self.cancelled.emit()
                return
            except Exception as exc:  # DownloadError carries the user message
                log.info("download of %s failed: %s", entry.filename, exc)
                self.failed.emit(key, str(exc))
                return
            self.file_done.emit(key, str(path))


class ImportThread(QThread):
    """Checks and copies a file the user has (hashing and, for CodeFormer files, loading it)."""

    done = Signal(str)  # path
    failed = Signal(str)  # message

    def __init__(self, source: Path, entry: Any, folder: Path, api: Any) -> None:
        super().__init__()
        self._source, self._entry, self._folder, self._api = source, entry, folder, api

    def run(self) -> None:
        try:
            path = self._api.import_file(self._source, self._entry, self._folder)
        except Exception as exc:  # CheckpointError carries the user message
            self.failed.emit(str(exc))
            return
        self.done.emit(str(path))


class WeightsDialog(QDialog):
    """Non-modal. `installed` fires when every listed file is in the folder."""

    installed = Signal()

    def __init__(
        self,
        files: Sequence[Any],
        folder: Path,
        *,
        api: Any = None,
        first_run: bool = True,
        heading: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`heading`: what the dialog says first (e.g. which task needs the files)."""
        super().__init__(parent)
        self.setWindowTitle("Model files" if not first_run else "Welcome to CodeFormer Studio")
        self.setMinimumWidth(860)
        self._files = list(files)
        self._folder = Path(folder)
        self._api = api
        self._thread: DownloadThread | ImportThread | None = None
        self._done: set[str] = set()
        self._announced = False
        self._failed: set[str] = set()

        total = sum(
            int(getattr(f, "size", 0) or getattr(f, "approx_size", 0) or 0) for f in self._files
        )
        one = len(self._files) == 1
        if first_run:
            default_title = (
                f"CodeFormer Studio needs one model file: {self._files[0].filename}"
                if one
                else "CodeFormer Studio needs its model files"
            )
        else:
            default_title = "This model file is missing" if one else "These model files are missing"
        title = heading or default_title
        self.heading = QLabel(title)
        self.heading.setObjectName("dialogTitle")
        self.heading.setWordWrap(True)
        once = (
            f"It is downloaded once ({human_size(total)})"
            if one
            else f"They are downloaded once ({human_size(total)} in all)"
        )
        intro = QLabel(
            f"{once} into the weights folder; faces are found by the detector built into the "
            "app. Nothing is downloaded until you press Download."
        )
        intro.setWordWrap(True)
        folder_row = QHBoxLayout()
        self.folder_label = QLabel(f"Folder: {self._folder}")
        self.folder_label.setObjectName("hint")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_folder = QPushButton(icon("folder"), "Open folder")
        open_folder.setToolTip("Show the weights folder in the file manager")
        open_folder.clicked.connect(self._open_folder)
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(open_folder)

        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["File", "What for", "Size", "Licence", "Status"])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._items: dict[str, QTreeWidgetItem] = {}
        for entry in self._files:
            licence = str(getattr(entry, "licence", ""))
            if getattr(entry, "non_commercial", False) and "non-commercial" not in licence:
                licence += " (non-commercial)"
            item = QTreeWidgetItem(
                [
                    entry.filename,
                    str(getattr(entry, "purpose", "")),
                    _size_text(entry),
                    licence,
                    "Missing",
                ]
            )
            note = getattr(entry, "hash_note", None)
            item.setToolTip(0, str(getattr(entry, "url", "")) + (f"\n{note}" if note else ""))
            item.setToolTip(3, str(getattr(entry, "licence_url", "")))
            item.setToolTip(1, str(getattr(entry, "purpose", "")))
            self.table.addTopLevelItem(item)
            self._items[entry.key] = item
        rows = max(1, len(self._files))
        row_height = max(self.table.sizeHintForRow(0), 20)
        self.table.setFixedHeight(header.sizeHint().height() + rows * row_height + 8)
        self.table.setCurrentItem(self.table.topLevelItem(0))

        self.licence_note = QLabel()
        self.licence_note.setObjectName("licenceNote")
        self.licence_note.setWordWrap(True)
        self.licence_note.setOpenExternalLinks(True)
        restricted = [f for f in self._files if getattr(f, "non_commercial", False)]
        if restricted:
            names = ", ".join(f.filename for f in restricted)
            self.licence_note.setText(
                f"<b>Non-commercial use only.</b> {names}: CodeFormer's weights are released by "
                "S-Lab under the S-Lab License 1.0, which allows research and personal use but "
                "not commercial use. By downloading them you accept that licence "
                "(<a href='https://github.com/sczhou/CodeFormer/blob/master/LICENSE'>read it</a>)."
            )
        self.licence_note.setVisible(bool(restricted))

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("hint")
        self.status.hide()
        self.offline = QLabel()
        self.offline.setObjectName("errorBox")
        self.offline.setWordWrap(True)
        self.offline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.offline.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()

        self.download_button = QPushButton(icon("download", "white"), "Download")
        self.download_button.setObjectName("primaryButton")
        self.download_button.setToolTip("Download the missing files now")
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.hide()
        self.choose_button = QPushButton(icon("import"), "Choose a file I already have…")
        self.choose_button.setToolTip(
            "Use a copy you downloaded before: it is checked and copied into the weights folder"
        )
        self.choose_button.clicked.connect(self._choose_file)
        self.close_button = QPushButton("Later")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.download_button)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(intro)
        layout.addLayout(folder_row)
        layout.addWidget(self.table)
        layout.addWidget(self.licence_note)
        layout.addWidget(self.offline)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(line)
        layout.addLayout(buttons)
        self.refresh()

    # -- state ------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    @property
    def files(self) -> list[Any]:
        return list(self._files)

    def _present(self, entry: Any) -> bool:
        return (self._api or _api()).find(entry, self._folder) is not None

    def missing(self) -> list[Any]:
        return [f for f in self._files if not self._present(f)]

    @property
    def downloading(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def refresh(self) -> None:
        for entry in self._files:
            present = self._present(entry)
            if present:
                self._done.add(entry.key)
            state = "Failed" if entry.key in self._failed else "Missing"
            self._items[entry.key].setText(4, "Installed" if present else state)
        missing = self.missing()
        self.download_button.setEnabled(bool(missing) and not self.downloading)
        if not missing:
            self._say("All files are installed.")
            self.close_button.setText("Close")
            if not self._announced:
                self._announced = True
                self.installed.emit()

    # -- download ---------------------------------------------------------------------------

    def start_download(self) -> None:
        missing = self.missing()
        if not missing or self.downloading:
            return
        self.offline.hide()
        self._failed.clear()
        self.progress.setValue(0)
        self.progress.show()
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.cancel_button.show()
        self._say(f"Downloading {missing[0].filename}…")
        self._folder.mkdir(parents=True, exist_ok=True)
        thread = DownloadThread(missing, self._folder, self._api or _api())
        thread.file_progress.connect(self._on_progress)
        thread.file_done.connect(self._on_file_done)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        thread.start()

    def cancel_download(self) -> None:
        if isinstance(self._thread, DownloadThread):
            self._thread.cancel()
            self._say("Cancelling…")

    def wait_for_download(self, timeout_ms: int = 30000) -> bool:
        return self._thread is None or bool(self._thread.wait(timeout_ms))

    def _on_progress(self, key: str, done: int, total: int) -> None:
        entry = next(f for f in self._files if f.key == key)
        total = total or int(getattr(entry, "size", 0) or 0)
        if total:
            self.progress.setValue(round(1000 * done / total))
            self.progress.setFormat(f"{entry.filename}: {human_size(done)} of {human_size(total)}")
        self._items[key].setText(4, f"{round(100 * done / total)} %" if total else "…")

    def _on_file_done(self, key: str, path: str) -> None:
        self._done.add(key)
        self._items[key].setText(4, "Installed")
        remaining = self.missing()
        if remaining:
            self._say(f"Downloading {remaining[0].filename}…")

    def _on_failed(self, key: str, message: str) -> None:
        entry = next(f for f in self._files if f.key == key)
        self._failed.add(key)
        self._items[key].setText(4, "Failed")
        addresses = "".join(
            f"<li>{f.filename} from {getattr(f, 'url', '')}</li>" for f in self.missing()
        )
        self.offline.setText(
            f"<b>Could not download {entry.filename}.</b> {message}<br><br>"
            "If this computer is offline, download the files on another computer and put them "
            f"in this folder:<br><b>{self._folder}</b><ul>{addresses}</ul>"
            "Then press Download again (it checks them), or use “Choose a file I already have…”."
        )
        self.offline.show()
        self._say("")
        self.adjustSize()

    def _on_cancelled(self) -> None:
        self._say("Download cancelled. Press Download to continue where it stopped.")

    def _on_thread_finished(self) -> None:
        self._thread = None
        self.progress.hide()
        self.cancel_button.hide()
        self.choose_button.setEnabled(True)
        self.refresh()

    # -- import -----------------------------------------------------------------------------

    def _choose_file(self) -> None:
        row = max(0, self.table.indexOfTopLevelItem(self.table.currentItem()))
        entry = self._files[row]
        source, _ = QFileDialog.getOpenFileName(
            self, f"Choose {entry.filename}", "", "Model files (*.pth *.safetensors);;All files (*)"
        )
        if source:
            self.import_file(Path(source), entry)

    def import_file(self, source: Path, entry: Any) -> None:
        """Check and copy `source` into the weights folder as `entry`, in a thread."""
        if self.downloading:
            return
        self.offline.hide()
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy
        self.progress.setFormat("")
        self.progress.show()
        self._say(f"Checking {source.name}…")
        thread = ImportThread(source, entry, self._folder, self._api or _api())
        thread.done.connect(lambda _path: self._say(f"{entry.filename} imported."))
        thread.failed.connect(self._on_import_failed)
        thread.finished.connect(self._on_import_finished)
        self._thread = thread
        thread.start()

    def _on_import_failed(self, message: str) -> None:
        self._say("")
        self.offline.setText(f"<b>That file cannot be used.</b> {message}")
        self.offline.show()

    def _on_import_finished(self) -> None:
        self._thread = None
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.choose_button.setEnabled(True)
        self.refresh()

    def _open_folder(self) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._folder)))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._thread is not None:
            if isinstance(self._thread, DownloadThread):
                self._thread.cancel()
            self._thread.wait()
        super().closeEvent(event)
