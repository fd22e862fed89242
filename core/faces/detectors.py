"""The face detectors on offer, by name: which one ships with the app, which needs a download, and
what "auto" picks.

Plain values: importing this module loads neither torch nor OpenCV, so the window can list the
detectors before its first paint. The classes that run them are `core.faces.yunet.YuNetDetector`
and `core.faces.detection.RetinaFaceDetector`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

AUTO = "auto"
"""The default: RetinaFace ResNet-50 when its weights are in the weights folder, else YuNet."""


@dataclass(frozen=True, kw_only=True)
class DetectorChoice:
    """One detector the user can pick.

    `weights_key` is the catalogue key (`core.weights`) of the file it needs, or None for a
    detector whose model ships inside the app.
    """

    name: str
    label: str
    weights_key: str | None
    summary: str


YUNET = DetectorChoice(
    name="yunet",
    label="YuNet (built in)",
    weights_key=None,
    summary="Small and fast, ships with the app (Apache-2.0). Good for portraits and groups.",
)
RETINAFACE_RESNET50 = DetectorChoice(
    name="retinaface_resnet50",
    label="RetinaFace ResNet-50 (download, 109 MB)",
    weights_key="detection-resnet50",
    summary="The reference pipeline's detector: best on tiny faces and crowds.",
)
RETINAFACE_MOBILE = DetectorChoice(
    name="retinaface_mobile0.25",
    label="RetinaFace MobileNet-0.25 (download, 1.7 MB)",
    weights_key="detection-mobilenet",
    summary="A light RetinaFace.",
)

DETECTORS: tuple[DetectorChoice, ...] = (YUNET, RETINAFACE_RESNET50, RETINAFACE_MOBILE)
DETECTOR_NAMES: tuple[str, ...] = (AUTO, *(d.name for d in DETECTORS))
"""Every value a `detector` setting may take ("auto" first)."""


def detector_choice(name: str) -> DetectorChoice:
    """The detector called `name` ("auto" is not one: see `resolve_detector`)."""
    for choice in DETECTORS:
        if choice.name == name:
            return choice
    known = ", ".join(DETECTOR_NAMES)
    raise ValueError(f"unknown face detector {name!r}; choose one of {known}")


def resolve_detector(name: str, has_weights: Callable[[str], bool]) -> DetectorChoice:
    """The detector a setting stands for.

    "auto" is RetinaFace ResNet-50 when `has_weights("detection-resnet50")` says its file is in
    the weights folder, else YuNet (built in, so a new user needs no detector download). Any
    other name is that detector, present or not (the caller reports a missing file).
    """
    if name == AUTO:
        if has_weights(RETINAFACE_RESNET50.weights_key or ""):
            return RETINAFACE_RESNET50
        return YUNET
    return detector_choice(name)
