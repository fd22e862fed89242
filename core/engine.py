"""The engine behind the window and the command line: models, helpers and the pipeline together.

An `Engine` loads what a task needs from the weights folder on first use (never downloading),
and runs `analyze` / `render`. It is not thread-safe: one worker thread owns it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from core import VERSION, pipeline, rendering
from core.callbacks import CancelCheck, ProgressCallback
from core.choices import FaceChoice, PipelineSettings
from core.device import resolve_placement
from core.errors import WeightsMissingError
from core.faces.detection import FaceDetector, RetinaFaceDetector
from core.faces.detectors import DetectorChoice, resolve_detector
from core.faces.masks import FaceParser
from core.faces.upsample import BackgroundUpsampler, RealESRGANUpsampler, ResizeUpsampler
from core.inpaint import remask as remask_faces
from core.model import CodeFormer, load_model
from core.net.config import Variant
from core.photo import Photo
from core.pipeline import Analysis, Rendered
from core.rendering import RenderedRegions
from core.weights.catalogue import CATALOGUE, WeightsFile, codeformer_file, weights_file
from core.weights.store import find, require

log = logging.getLogger(__name__)

PARSING_FILE = "parsing-parsenet"
UPSAMPLER_FILES = {2: "realesrgan-x2", 4: "realesrgan-x4"}


class Engine:
    """Loads models lazily from `weights_dir` and runs the whole-photo pipeline.

    `detector` replaces the face detector (tests inject known landmarks with `GivenFaces`);
    `catalogue` replaces the official weights catalogue (tests use synthetic files).
    """

    def __init__(
        self,
        *,
        weights_dir: Path,
        device: str = "auto",
        precision: str = "auto",
        detector: FaceDetector | None = None,
        catalogue: Iterable[WeightsFile] | None = None,
    ) -> None:
        self.weights_dir = Path(weights_dir)
        self.catalogue = tuple(CATALOGUE if catalogue is None else catalogue)
        self.placement = resolve_placement(device, precision)
        self._device_name = device
        self._injected_detector = detector
        self._models: dict[tuple[str, str], CodeFormer] = {}
        self._detectors: dict[tuple[str, float], FaceDetector] = {}
        self._parser: FaceParser | None = None
        self._upsamplers: dict[str, BackgroundUpsampler] = {}
        self._own_files: dict[str, Path] = {}  # variant -> the user's own checkpoint

    @property
    def device_description(self) -> str:
        return self.placement.describe()

    # -- weights --------------------------------------------------------------------------

    def needed_weights(
        self, variant: str, settings: PipelineSettings, *, given_faces: bool = False
    ) -> list[WeightsFile]:
        """The files a task needs (required ones first, then optional ones)."""
        needed = [] if variant in self._own_files else [codeformer_file(variant, self.catalogue)]
        if not settings.aligned and self._injected_detector is None and not given_faces:
            key = self.detector_choice(settings).weights_key
            if key is not None:  # None: built into the app
                needed.append(weights_file(key, self.catalogue))
        if settings.background == "realesrgan" or settings.face_upsample:
            needed.append(weights_file(self._upsampler_key(settings.upscale), self.catalogue))
        return needed

    def missing_weights(
        self, variant: str, settings: PipelineSettings, *, given_faces: bool = False
    ) -> list[WeightsFile]:
        """The needed files not in the weights folder (`given_faces`: no detector needed)."""
        needed = self.needed_weights(variant, settings, given_faces=given_faces)
        return [f for f in needed if find(f, self.weights_dir) is None]

    # -- models ---------------------------------------------------------------------------

    def use_model_file(self, path: str | Path) -> Variant:
        """Use a CodeFormer checkpoint of the user's own (a fine-tune, a community copy) for the
        variant its tensors show, instead of the catalogued file.

        Checked by structure, never by hash; loaded now, so a bad file fails here with a
        CheckpointError naming it. Returns the variant.
        """
        path = Path(path)
        model = load_model(path, device=self._device_name, precision=self.placement.precision)
        name = model.variant.name
        self._models = {key: m for key, m in self._models.items() if key[0] != name}
        self._models[(name, model.precision)] = model
        self._own_files[name] = path
        return model.variant

    def model_file(self, variant: str) -> Path | None:
        """The checkpoint a variant runs with: the user's own, else the catalogued file when it
        is in the weights folder, else None."""
        if variant in self._own_files:
            return self._own_files[variant]
        return find(codeformer_file(variant, self.catalogue), self.weights_dir)

    def model_name(self, variant: str) -> str:
        """The file name of the checkpoint a variant runs with ("(none)" before it is there)."""
        path = self.model_file(variant)
        return path.name if path is not None else "(none)"

    def provenance(self, variant: str) -> str:
        """What exports record as their maker: the app and the model file."""
        return f"CodeFormer Studio {VERSION} (CodeFormer {variant}, {self.model_name(variant)})"

    def model(self, variant: str, precision: str | None = None) -> CodeFormer:
        """The CodeFormer of a variant at a precision (default: the engine's), loaded once."""
        precision = precision or self.placement.precision
        key = (variant, precision)
        if key not in self._models:
            path = self._own_files.get(variant) or require(
                codeformer_file(variant, self.catalogue), self.weights_dir
            )
            same_net = next((m for (v, _), m in self._models.items() if v == variant), None)
            if same_net is not None:
                placement = replace(self.placement, precision=precision)
                self._models[key] = CodeFormer(same_net.net, same_net.variant, placement, path)
            else:
                self._models[key] = load_model(path, device=self._device_name, precision=precision)
            log.info("model ready: %r", self._models[key])
        return self._models[key]

    def detector_choice(self, settings: PipelineSettings) -> DetectorChoice:
        """The detector `settings.detector` stands for here ("auto": RetinaFace ResNet-50 when
        its file is in the weights folder, else the built-in YuNet)."""

        def has_weights(key: str) -> bool:
            return find(weights_file(key, self.catalogue), self.weights_dir) is not None

        return resolve_detector(settings.detector, has_weights)

    def detector(self, settings: PipelineSettings) -> FaceDetector | None:
        if settings.aligned:
            return None
        if self._injected_detector is not None:
            return self._injected_detector
        choice = self.detector_choice(settings)
        key = (choice.name, settings.confidence)
        if key not in self._detectors:
            self._detectors[key] = self._build_detector(choice, settings)
        return self._detectors[key]

    def _build_detector(self, choice: DetectorChoice, settings: PipelineSettings) -> FaceDetector:
        if choice.weights_key is None:
            from core.faces.yunet import YuNetDetector

            return YuNetDetector(confidence=settings.confidence)
        return RetinaFaceDetector(
            model_name=choice.name,
            weights_dir=self.weights_dir,
            device=self.placement.device,
            confidence=settings.confidence,
        )

    def parsing_missing(self, settings: PipelineSettings) -> WeightsFile | None:
        """The face-parsing file when the settings would use it but it is not downloaded (faces
        are then blended with the soft square), else None."""
        entry = weights_file(PARSING_FILE, self.catalogue)
        wanted = settings.paste_mask == "parsing" and not settings.aligned
        return entry if wanted and find(entry, self.weights_dir) is None else None

    def parser(self, settings: PipelineSettings) -> FaceParser | None:
        """The face parser, or None when it is not wanted or its weights are not there."""
        if settings.paste_mask != "parsing":
            return None
        if self._parser is None:
            if find(weights_file(PARSING_FILE, self.catalogue), self.weights_dir) is None:
                return None
            self._parser = FaceParser(weights_dir=self.weights_dir, device=self.placement.device)
        return self._parser

    def upsampler(self, settings: PipelineSettings) -> BackgroundUpsampler:
        if settings.background != "realesrgan":
            return ResizeUpsampler()
        return self._realesrgan(settings.upscale)

    def _upsampler_key(self, upscale: int) -> str:
        return UPSAMPLER_FILES[4 if upscale > 2 else 2]

    def _realesrgan(self, upscale: int) -> BackgroundUpsampler:
        key = self._upsampler_key(upscale)
        if key not in self._upsamplers:
            path = require(weights_file(key, self.catalogue), self.weights_dir)
            self._upsamplers[key] = RealESRGANUpsampler(path, device=self.placement.device)
        return self._upsamplers[key]

    # -- the pipeline ---------------------------------------------------------------------

    def analyze(
        self,
        photo: Photo,
        settings: PipelineSettings,
        *,
        variant: str = "restoration",
        mask: np.ndarray | None = None,
        detector: FaceDetector | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> Analysis:
        """Analyse a photo for a variant. `detector` overrides the engine's for this photo."""
        missing = self.missing_weights(variant, settings, given_faces=detector is not None)
        if missing:
            names = ", ".join(f.filename for f in missing)
            raise WeightsMissingError(
                f"weights needed but not in {self.weights_dir}: {names}. Download them with "
                "'codeformer-studio weights download' or from the window's weights dialog."
            )
        return pipeline.analyze(
            photo,
            self.model(variant),
            settings,
            detector=detector if detector is not None else self.detector(settings),
            upsampler=self.upsampler(settings),
            parser=self.parser(settings),
            mask=mask,
            progress=progress,
            cancel=cancel,
        )

    def remask(
        self, analysis: Analysis, mask: np.ndarray, *, cancel: CancelCheck | None = None
    ) -> Analysis:
        """An inpainting analysis with its faces encoded for a new damage `mask` (H x W bool in
        photo pixels): only the faces whose damage changed are encoded again
        (`core.inpaint.remask`)."""
        return remask_faces(analysis, self.model(analysis.variant), mask, cancel=cancel)

    def decode_faces(
        self,
        analysis: Analysis,
        fidelity: float,
        indices: Iterable[int],
        *,
        cancel: CancelCheck | None = None,
    ) -> dict[int, np.ndarray]:
        """Faces of `analysis` decoded at `fidelity`, nothing pasted (filling the slider's steps
        ahead of time; `render` takes them as `decoded`)."""
        model = self.model(analysis.variant)
        wanted = set(indices)
        faces = [f for f in analysis.faces if f.index in wanted]
        return rendering.decode_faces(
            faces, model, model.effective_fidelity(fidelity), cancel=cancel
        )

    def render(
        self,
        analysis: Analysis,
        fidelity: float | None,
        *,
        choices: Mapping[int, FaceChoice] | None = None,
        cancel: CancelCheck | None = None,
        exact: bool = False,
        decoded: Mapping[int, np.ndarray] | None = None,
    ) -> Rendered:
        """Decode and composite. `exact`: in fp32 whatever the engine's precision (exports).
        `decoded`: faces decoded before at the fidelity they get now (only pasted)."""
        model, face_upsampler = self._render_with(analysis, exact)
        return rendering.render(
            analysis,
            model,
            fidelity,
            choices=choices,
            face_upsampler=face_upsampler,
            cancel=cancel,
            decoded=decoded,
        )

    def render_regions(
        self,
        analysis: Analysis,
        fidelity: float | None,
        *,
        choices: Mapping[int, FaceChoice] | None = None,
        cancel: CancelCheck | None = None,
        decoded: Mapping[int, np.ndarray] | None = None,
    ) -> RenderedRegions:
        """`render`, made only where the faces can change the photo (a window showing a render
        of the same analysis needs no more: `core.rendering.render_regions`)."""
        model, face_upsampler = self._render_with(analysis, exact=False)
        return rendering.render_regions(
            analysis,
            model,
            fidelity,
            choices=choices,
            face_upsampler=face_upsampler,
            cancel=cancel,
            decoded=decoded,
        )

    def _render_with(
        self, analysis: Analysis, exact: bool
    ) -> tuple[CodeFormer, BackgroundUpsampler | None]:
        settings = analysis.settings
        face_upsampler = self._realesrgan(settings.upscale) if settings.face_upsample else None
        model = self.model(analysis.variant)
        if exact and model.precision != "fp32":
            # faces are encoded in fp32 at every precision: only the decode changes
            model = self.model(analysis.variant, "fp32")
        return model, face_upsampler
