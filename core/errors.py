"""Errors the core raises for things a user can fix. Each message names the file involved."""

from __future__ import annotations


class StudioError(Exception):
    """Base class of the errors that carry a message meant for the user."""


class CheckpointError(StudioError):
    """A weights file that cannot be used: missing, truncated, not a checkpoint, wrong model."""


class DeviceError(StudioError):
    """A device or precision that this machine cannot provide."""


class WeightsMissingError(StudioError):
    """A weights file the task needs is not in the weights folder."""


class DownloadError(StudioError):
    """A download that failed: offline, refused, cut off, or the bytes did not verify."""


class DownloadCancelled(StudioError):
    """The user cancelled a download; the partial file is kept for resuming."""


class ImageReadError(StudioError):
    """A photo that cannot be read: not an image, truncated, or empty."""


class ImageWriteError(StudioError):
    """A photo that cannot be written, or would overwrite a file without permission."""


class Cancelled(StudioError):
    """Work stopped because the caller asked for it."""
