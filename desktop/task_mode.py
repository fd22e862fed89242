"""The window's three tasks: Restore, Colorize and Inpaint, and what each means for the window.

A plain enum with no Qt and no torch (importing it loads neither): the window reads the title, the
variant to analyse with, the checkpoint to offer when it is missing, whether the fidelity slider
applies, and the note that says in plain words what the task does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from core.net.config import variant_by_name
from core.weights.catalogue import WeightsFile, codeformer_file


class TaskMode(enum.Enum):
    """What the window does to a photo's faces. The value is the CLI's `--task` name."""

    RESTORE = "restore"
    COLORIZE = "colorize"
    INPAINT = "inpaint"

    @property
    def title(self) -> str:
        return _TITLES[self]

    @property
    def variant(self) -> str:
        """The CodeFormer variant: "restoration", "colorization" or "inpainting"."""
        return _VARIANTS[self]

    @property
    def uses_fidelity(self) -> bool:
        """Whether the fidelity slider applies (only Restore; the others have a fixed value)."""
        return variant_by_name(self.variant).fixed_fidelity is None

    @property
    def fixed_fidelity(self) -> float | None:
        """The fidelity the official inference always uses (colorize 0, inpaint 1), or None."""
        return variant_by_name(self.variant).fixed_fidelity

    def render_fidelity(self, slider: float) -> float | None:
        """What to pass to `Engine.render`: the slider's value for Restore, else None."""
        return float(slider) if self.uses_fidelity else None

    @property
    def needs_mask(self) -> bool:
        """Whether the task needs the user's painted damage (Inpaint)."""
        return self is TaskMode.INPAINT

    def checkpoint(self, catalogue: Iterable[WeightsFile] | None = None) -> WeightsFile:
        """The CodeFormer checkpoint this task needs (offer it through the weights dialog)."""
        return codeformer_file(self.variant, catalogue)

    @property
    def note(self) -> str:
        """One or two plain sentences for the window, shown while the task is chosen."""
        return _NOTES[self]

    @property
    def tooltip(self) -> str:
        return _TOOLTIPS[self]

    @property
    def icon_name(self) -> str:
        """A qtawesome name (Material Design Icons 6)."""
        return _ICONS[self]

    @classmethod
    def from_variant(cls, variant: str) -> TaskMode:
        for mode in cls:
            if mode.variant == variant:
                return mode
        raise ValueError(f"no task uses the variant {variant!r}")


_TITLES = {
    TaskMode.RESTORE: "Restore",
    TaskMode.COLORIZE: "Colorize",
    TaskMode.INPAINT: "Inpaint",
}
_VARIANTS = {
    TaskMode.RESTORE: "restoration",
    TaskMode.COLORIZE: "colorization",
    TaskMode.INPAINT: "inpainting",
}
_NOTES = {
    TaskMode.RESTORE: (
        "Restore: blurry, worn faces are rebuilt. Move the fidelity slider between quality "
        "and closeness to the original."
    ),
    TaskMode.COLORIZE: (
        "Colorize: only faces are coloured; the rest of the photo stays as it is. Works on "
        "grey and faded photos."
    ),
    TaskMode.INPAINT: (
        "Inpaint: paint over the damage (scratches, stains, missing parts) on a face; the "
        "painted parts are filled in and the rest of the face is kept. Only faces are repaired."
    ),
}
_TOOLTIPS = {
    TaskMode.RESTORE: "Rebuild blurry, worn faces (the fidelity slider applies)",
    TaskMode.COLORIZE: "Colour the faces of a grey or faded photo",
    TaskMode.INPAINT: "Paint over damaged parts of faces and have them filled in",
}
_ICONS = {
    TaskMode.RESTORE: "mdi6.face-man-shimmer",
    TaskMode.COLORIZE: "mdi6.palette",
    TaskMode.INPAINT: "mdi6.brush",
}
