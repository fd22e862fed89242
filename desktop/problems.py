"""Exceptions -> what the message bar tells the user, and which action fixes it.

Torch is never imported here: out-of-memory errors are recognised by their class name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.errors import (
    Cancelled,
    CheckpointError,
    DeviceError,
    DownloadCancelled,
    DownloadError,
    ImageReadError,
    ImageWriteError,
    StudioError,
    WeightsMissingError,
)


class Fix(enum.Enum):
    """The action the message bar offers next to a problem."""

    NONE = "none"
    GET_WEIGHTS = "get_weights"  # open the weights dialog
    PREFERENCES = "preferences"  # device, precision, upscale...
    REMOVE_PHOTO = "remove_photo"
    CHOOSE_FOLDER = "choose_folder"  # export folder
    RETRY = "retry"


@dataclass(frozen=True, kw_only=True)
class Problem:
    kind: str  # out_of_memory, unreadable, weights_missing, broken_weights, device, write, ...
    message: str
    fix: Fix = Fix.NONE
    fix_label: str = ""


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "OutOfMemoryError" in names:
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def is_cancellation(exc: BaseException) -> bool:
    return isinstance(exc, (Cancelled, DownloadCancelled))


def describe(exc: BaseException, *, photo: str | None = None) -> Problem:
    """A user-facing description of `exc`, raised while working on `photo` (a name) if given."""
    about = f" ({photo})" if photo else ""
    if is_out_of_memory(exc):
        return Problem(
            kind="out_of_memory",
            message=(
                f"Ran out of memory while restoring{about}. Lower the upscale factor, turn off "
                "the Real-ESRGAN background, or switch the device to CPU in Preferences."
            ),
            fix=Fix.PREFERENCES,
            fix_label="Open Preferences",
        )
    if isinstance(exc, WeightsMissingError):
        return Problem(
            kind="weights_missing",
            message=f"{exc} Download the weights or choose files you already have.",
            fix=Fix.GET_WEIGHTS,
            fix_label="Get weights…",
        )
    if isinstance(exc, CheckpointError):
        return Problem(
            kind="broken_weights",
            message=f"{exc} Download the file again or choose a good copy.",
            fix=Fix.GET_WEIGHTS,
            fix_label="Replace weights…",
        )
    if isinstance(exc, DeviceError):
        return Problem(
            kind="device",
            message=f"{exc}.",
            fix=Fix.PREFERENCES,
            fix_label="Choose device",
        )
    if isinstance(exc, ImageReadError):
        return Problem(
            kind="unreadable", message=str(exc), fix=Fix.REMOVE_PHOTO, fix_label="Remove photo"
        )
    if isinstance(exc, ImageWriteError):
        return Problem(
            kind="write", message=str(exc), fix=Fix.CHOOSE_FOLDER, fix_label="Choose folder…"
        )
    if isinstance(exc, DownloadError):
        return Problem(kind="download", message=str(exc), fix=Fix.GET_WEIGHTS, fix_label="Retry…")
    if isinstance(exc, OSError):
        return Problem(
            kind="io",
            message=f"{exc.strerror or exc}{about}: {exc.filename or ''}".rstrip(": "),
        )
    if isinstance(exc, StudioError):
        return Problem(kind="studio", message=f"{exc}{about}")
    return Problem(
        kind="internal",
        message=f"Something went wrong{about}: {type(exc).__name__}: {exc}",
        fix=Fix.RETRY,
        fix_label="Try again",
    )
