"""The app's icons (qtawesome, Material Design Icons 6), in one place so they stay consistent."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtGui import QIcon

ICON_COLOR = "#d7dbe0"
ICON_COLOR_DISABLED = "#6b7079"

NAMES = {
    "open": "mdi6.folder-open",
    "open_folder": "mdi6.folder-multiple-image",
    "paste": "mdi6.content-paste",
    "sample": "mdi6.image-outline",
    "save": "mdi6.content-save",
    "save_as": "mdi6.content-save-edit",
    "export_all": "mdi6.content-save-all",
    "remove": "mdi6.close",
    "wipe": "mdi6.compare-horizontal",
    "side_by_side": "mdi6.view-split-vertical",
    "original": "mdi6.eye",
    "fit": "mdi6.fit-to-screen",
    "zoom_100": "mdi6.numeric-1-box-outline",
    "zoom_in": "mdi6.magnify-plus-outline",
    "zoom_out": "mdi6.magnify-minus-outline",
    "preferences": "mdi6.cog",
    "weights": "mdi6.package-down",
    "about": "mdi6.information-outline",
    "quit": "mdi6.power",
    "error": "mdi6.alert-circle",
    "warning": "mdi6.alert",
    "info": "mdi6.information",
    "close": "mdi6.close",
    "download": "mdi6.download",
    "import": "mdi6.file-import",
    "folder": "mdi6.folder-outline",
    "drop": "mdi6.image-plus",
    "recent": "mdi6.history",
    "retry": "mdi6.refresh",
    "face": "mdi6.face-recognition",
    "ready": "mdi6.check-circle",
    "queued": "mdi6.timer-sand",
    "failed": "mdi6.image-broken-variant",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "clear_damage": "mdi6.delete-sweep-outline",
}


def icon(name: str, color: str = ICON_COLOR) -> QIcon:
    return qta.icon(NAMES[name], color=color, color_disabled=ICON_COLOR_DISABLED)


def named_icon(qtawesome_name: str, color: str = ICON_COLOR) -> QIcon:
    """An icon by its qtawesome name (e.g. `TaskMode.icon_name`)."""
    return qta.icon(qtawesome_name, color=color, color_disabled=ICON_COLOR_DISABLED)
