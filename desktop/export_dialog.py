"""The Export all dialog (format, quality, folder, name pattern, metadata), and the question asked
when files already exist."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.export_plan import check_pattern, file_name, output_format
from desktop.preferences_dialog import FORMAT_LABELS, FolderField, combo, full_precision_box
from desktop.settings import StudioSettings


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    format_setting: str
    quality: int
    folder: Path | None  # None: next to each original
    pattern: str
    suffix: str
    keep_metadata: bool
    full_precision: bool = True

    @classmethod
    def from_settings(cls, s: StudioSettings) -> ExportOptions:
        return cls(
            format_setting=s.export_format,
            quality=s.export_quality,
            folder=Path(s.export_folder) if s.export_folder else None,
            pattern=s.export_pattern,
            suffix=s.export_suffix,
            keep_metadata=s.keep_metadata,
            full_precision=s.export_full_precision,
        )

    def as_settings(self, s: StudioSettings) -> StudioSettings:
        return dataclasses.replace(
            s,
            export_format=self.format_setting,
            export_quality=self.quality,
            export_folder=str(self.folder) if self.folder else "",
            export_pattern=self.pattern,
            export_suffix=self.suffix,
            keep_metadata=self.keep_metadata,
            export_full_precision=self.full_precision,
        )


class ExportDialog(QDialog):
    def __init__(
        self,
        settings: StudioSettings,
        names: list[tuple[str, str | None]],
        needs_folder: bool,
        parent: QWidget | None = None,
    ) -> None:
        """names: (stem, source format) of the photos to export; `needs_folder` when a pasted
        image has no folder of its own."""
        super().__init__(parent)
        self.setWindowTitle("Export all photos")
        self.setMinimumWidth(500)
        self._names = names
        self._needs_folder = needs_folder
        s = settings
        self.format = combo(FORMAT_LABELS, s.export_format, "File format")
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(s.export_quality)
        self.quality.setToolTip("JPEG and WebP quality (1 to 100)")
        self.folder = FolderField(s.export_folder, "Next to each original")
        self.pattern = QLineEdit(s.export_pattern)
        self.pattern.setToolTip("Fields: {name} {suffix} {fidelity} {index}")
        self.suffix = QLineEdit(s.export_suffix)
        self.keep_metadata = QCheckBox("Keep colour profile and EXIF metadata")
        self.keep_metadata.setChecked(s.keep_metadata)
        self.full_precision = full_precision_box(s.export_full_precision)
        self.remember = QCheckBox("Use these as the defaults for Save")
        self.remember.setChecked(True)
        self.preview = QLabel()
        self.preview.setObjectName("hint")
        self.preview.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Quality", self.quality)
        form.addRow("Folder", self.folder)
        form.addRow("File name", self.pattern)
        form.addRow("Suffix", self.suffix)
        form.addRow("", self.keep_metadata)
        form.addRow("", self.full_precision)
        form.addRow("", self.remember)
        form.addRow("", self.preview)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(f"Export {len(names)}")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"{len(names)} photo(s), each at the fidelity and face choices shown.")
        )
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        for signal in (
            self.pattern.textChanged,
            self.suffix.textChanged,
            self.folder.edit.textChanged,
            self.format.currentIndexChanged,
        ):
            signal.connect(self._update)
        self._update()

    def options(self) -> ExportOptions:
        folder = self.folder.value()
        return ExportOptions(
            format_setting=self.format.currentData(),
            quality=self.quality.value(),
            folder=Path(folder) if folder else None,
            pattern=self.pattern.text(),
            suffix=self.suffix.text(),
            keep_metadata=self.keep_metadata.isChecked(),
            full_precision=self.full_precision.isChecked(),
        )

    def _update(self) -> None:
        options = self.options()
        formats = {output_format(options.format_setting, f) for _, f in self._names}
        self.quality.setEnabled(bool(formats & {"JPEG", "WEBP"}))
        problem = check_pattern(options.pattern)
        if problem is None and self._needs_folder and options.folder is None:
            problem = "A pasted image has no folder of its own: choose an output folder."
        if problem is None and self._names:
            stem, source_format = self._names[0]
            fmt = output_format(options.format_setting, source_format)
            example = file_name(
                options.pattern, name=stem, suffix=options.suffix, fidelity=0.5, index=1, fmt=fmt
            )
            where = str(options.folder) if options.folder else "next to the original"
            self.preview.setText(f"For example: {example} ({where})")
        else:
            self.preview.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)


class Existing(enum.Enum):
    REPLACE = "replace"
    KEEP_BOTH = "keep_both"
    SKIP = "skip"
    CANCEL = "cancel"


def ask_existing(parent: QWidget, paths: list[Path]) -> Existing:
    """Files are in the way: replace them, keep both (a new name), skip those photos, or cancel."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Files already exist")
    if len(paths) == 1:
        box.setText(f"“{paths[0].name}” already exists in {paths[0].parent}.")
    else:
        listed = "\n".join(p.name for p in paths[:6]) + ("\n…" if len(paths) > 6 else "")
        box.setText(f"{len(paths)} files already exist:\n{listed}")
    box.setInformativeText("Replace them, or keep both by giving the new files another name?")
    replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep both", QMessageBox.ButtonRole.AcceptRole)
    skip = box.addButton("Skip", QMessageBox.ButtonRole.RejectRole) if len(paths) > 1 else None
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    if clicked is replace:
        return Existing.REPLACE
    if clicked is keep:
        return Existing.KEEP_BOTH
    if skip is not None and clicked is skip:
        return Existing.SKIP
    del cancel
    return Existing.CANCEL
