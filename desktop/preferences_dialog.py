"""Preferences: device and precision, the pipeline's options, export defaults."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.faces.detectors import AUTO, DETECTORS
from desktop.export_plan import check_pattern
from desktop.settings import StudioSettings, validated

DEVICE_LABELS = {
    "auto": "Automatic (best available)",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (Metal)",
    "cpu": "CPU",
}
PRECISION_LABELS = {
    "auto": "Automatic (fastest that is exact enough)",
    "fp32": "Full (fp32)",
    "bf16": "bfloat16",
    "fp16": "float16 (CUDA)",
}
BACKGROUND_LABELS = {"resize": "Plain resize", "realesrgan": "Real-ESRGAN (sharper, slower)"}
DETECTOR_LABELS = {
    AUTO: "Automatic (RetinaFace ResNet-50 if downloaded, else YuNet)",
    **{d.name: d.label for d in DETECTORS},
}
MASK_LABELS = {
    "parsing": "Face parsing when downloaded (follows the face), else soft square",
    "square": "Soft square",
}
FORMAT_LABELS = {
    "same": "Same as the original",
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "tiff": "TIFF",
}


def combo(labels: dict[str, str], value: str, tooltip: str) -> QComboBox:
    box = QComboBox()
    for key, label in labels.items():
        box.addItem(label, key)
    box.setCurrentIndex(max(0, box.findData(value)))
    box.setToolTip(tooltip)
    return box


def full_precision_box(checked: bool) -> QCheckBox:
    """The export precision choice (Export All and Preferences alike)."""
    box = QCheckBox("Full precision (exact; slower on a CPU)")
    box.setChecked(checked)
    box.setToolTip(
        "On: exports are computed in full precision (fp32), whatever the preview uses.\n"
        "Off: exports are computed like the preview on screen (bf16 or fp16 where that is "
        "faster): quicker, and rounded by about one level in 255."
    )
    return box


class FolderField(QWidget):
    def __init__(self, value: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(value)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def value(self) -> str:
        return self.edit.text().strip()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", self.value())
        if folder:
            self.edit.setText(folder)


class PreferencesDialog(QDialog):
    def __init__(self, settings: StudioSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(520)
        self._original = settings
        s = settings

        self.device = combo(DEVICE_LABELS, s.device, "Where the network runs")
        self.precision = combo(
            PRECISION_LABELS,
            s.precision,
            "Number format of the network. Exports are always computed in full precision.",
        )
        self.weights_folder = FolderField(s.weights_folder, "Default folder for model files")
        self.prefetch = QCheckBox("Fill the fidelity slider when idle")
        self.prefetch.setChecked(s.prefetch)
        self.prefetch.setToolTip(
            "While nothing else runs, render a few fidelities around the slider's (and the ends),"
            " then decode the faces of the photo on screen at every 0.05 step, so that the slider"
            " shows them at once. Turn it off to save power on battery."
        )
        processing = QFormLayout()
        processing.addRow("Device", self.device)
        processing.addRow("Precision", self.precision)
        processing.addRow("Weights folder", self.weights_folder)
        processing.addRow("", self.prefetch)

        self.upscale = QSpinBox()
        self.upscale.setRange(1, 4)
        self.upscale.setValue(s.upscale)
        self.upscale.setSuffix(" ×")
        self.upscale.setToolTip("Enlarge the whole photo by this factor")
        self.background = combo(
            BACKGROUND_LABELS, s.background, "How the non-face parts are enlarged"
        )
        self.face_upsample = QCheckBox("Also sharpen the restored faces when enlarging")
        self.face_upsample.setChecked(s.face_upsample)
        self.detector = combo(
            DETECTOR_LABELS,
            s.detector,
            "The face detector. YuNet ships with the app; RetinaFace (a download) finds more "
            "tiny faces in crowds.",
        )
        self.confidence = QDoubleSpinBox()
        self.confidence.setRange(0.05, 1.0)
        self.confidence.setSingleStep(0.05)
        self.confidence.setDecimals(2)
        self.confidence.setValue(s.confidence)
        self.confidence.setToolTip("Lower finds more (and more doubtful) faces")
        self.min_face = QDoubleSpinBox()
        self.min_face.setRange(0.0, 200.0)
        self.min_face.setSingleStep(1.0)
        self.min_face.setDecimals(0)
        self.min_face.setSuffix(" px between the eyes")
        self.min_face.setValue(s.min_face)
        self.min_face.setToolTip("Smaller faces are left as they are")
        self.only_center = QCheckBox("Only the face nearest the centre")
        self.only_center.setChecked(s.only_center_face)
        self.paste_mask = combo(MASK_LABELS, s.paste_mask, "How restored faces are blended back")
        faces = QFormLayout()
        faces.addRow("Upscale", self.upscale)
        faces.addRow("Background", self.background)
        faces.addRow("", self.face_upsample)
        faces.addRow("Detector", self.detector)
        faces.addRow("Detection threshold", self.confidence)
        faces.addRow("Minimum face size", self.min_face)
        faces.addRow("", self.only_center)
        faces.addRow("Blend mask", self.paste_mask)

        self.export_format = combo(FORMAT_LABELS, s.export_format, "File format of exports")
        self.export_quality = QSpinBox()
        self.export_quality.setRange(1, 100)
        self.export_quality.setValue(s.export_quality)
        self.export_quality.setToolTip("JPEG and WebP quality")
        self.export_folder = FolderField(s.export_folder, "Next to each original")
        self.export_pattern = QLineEdit(s.export_pattern)
        self.export_pattern.setToolTip("Fields: {name} {suffix} {fidelity} {index}")
        self.export_suffix = QLineEdit(s.export_suffix)
        self.keep_metadata = QCheckBox("Keep colour profile and EXIF metadata")
        self.keep_metadata.setChecked(s.keep_metadata)
        self.export_full_precision = full_precision_box(s.export_full_precision)
        self.pattern_problem = QLabel()
        self.pattern_problem.setObjectName("errorText")
        self.pattern_problem.setWordWrap(True)
        export = QFormLayout()
        export.addRow("Format", self.export_format)
        export.addRow("Quality", self.export_quality)
        export.addRow("Folder", self.export_folder)
        export.addRow("File name", self.export_pattern)
        export.addRow("Suffix", self.export_suffix)
        export.addRow("", self.keep_metadata)
        export.addRow("", self.export_full_precision)
        export.addRow("", self.pattern_problem)

        tabs = QTabWidget()
        for title, form in (("Processing", processing), ("Faces", faces), ("Export", export)):
            page = QWidget()
            page.setLayout(form)
            tabs.addTab(page, title)
        self.tabs = tabs
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self._defaults
        )
        self.export_pattern.textChanged.connect(self._check)
        self.export_format.currentIndexChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.buttons)
        self._check()

    def _check(self) -> None:
        lossless = self.export_format.currentData() in ("png", "tiff")
        self.export_quality.setEnabled(not lossless)  # quality is for JPEG and WebP
        problem = check_pattern(self.export_pattern.text())
        self.pattern_problem.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def _defaults(self) -> None:
        defaults = StudioSettings()
        keep = {"fidelity": self._original.fidelity, "compare_mode": self._original.compare_mode}
        self._load(dataclasses.replace(defaults, **keep))

    def _load(self, s: StudioSettings) -> None:
        for box, value in (
            (self.device, s.device),
            (self.precision, s.precision),
            (self.background, s.background),
            (self.detector, s.detector),
            (self.paste_mask, s.paste_mask),
            (self.export_format, s.export_format),
        ):
            box.setCurrentIndex(max(0, box.findData(value)))
        self.weights_folder.edit.setText(s.weights_folder)
        self.prefetch.setChecked(s.prefetch)
        self.upscale.setValue(s.upscale)
        self.face_upsample.setChecked(s.face_upsample)
        self.confidence.setValue(s.confidence)
        self.min_face.setValue(s.min_face)
        self.only_center.setChecked(s.only_center_face)
        self.export_quality.setValue(s.export_quality)
        self.export_folder.edit.setText(s.export_folder)
        self.export_pattern.setText(s.export_pattern)
        self.export_suffix.setText(s.export_suffix)
        self.keep_metadata.setChecked(s.keep_metadata)
        self.export_full_precision.setChecked(s.export_full_precision)

    def settings(self) -> StudioSettings:
        """The settings as edited (valid values only)."""
        return validated(
            dataclasses.replace(
                self._original,
                device=self.device.currentData(),
                precision=self.precision.currentData(),
                weights_folder=self.weights_folder.value(),
                prefetch=self.prefetch.isChecked(),
                upscale=self.upscale.value(),
                background=self.background.currentData(),
                face_upsample=self.face_upsample.isChecked(),
                detector=self.detector.currentData(),
                confidence=round(self.confidence.value(), 2),
                min_face=float(self.min_face.value()),
                only_center_face=self.only_center.isChecked(),
                paste_mask=self.paste_mask.currentData(),
                export_format=self.export_format.currentData(),
                export_quality=self.export_quality.value(),
                export_folder=self.export_folder.value(),
                export_pattern=self.export_pattern.text(),
                export_suffix=self.export_suffix.text(),
                keep_metadata=self.keep_metadata.isChecked(),
                export_full_precision=self.export_full_precision.isChecked(),
            )
        )
