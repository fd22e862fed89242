"""Every action of the window, with its icon, shortcut and tooltip, and the menus holding them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from desktop.icons import icon, named_icon
from desktop.task_mode import TaskMode

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Actions:
    open: QAction
    open_folder: QAction
    sample: QAction
    paste: QAction
    save: QAction
    save_as: QAction
    export_all: QAction
    remove: QAction
    quit: QAction
    wipe: QAction
    side_by_side: QAction
    show_original: QAction
    fit: QAction
    zoom_100: QAction
    zoom_in: QAction
    zoom_out: QAction
    next_photo: QAction
    previous_photo: QAction
    preferences: QAction
    weights: QAction
    use_model: QAction
    fidelity_up: QAction
    fidelity_down: QAction
    about: QAction
    compare_group: QActionGroup
    # The tasks, checkable and exclusive (Alt+1, Alt+2, Alt+3), and Inpaint's stroke history.
    tasks: dict[TaskMode, QAction]
    task_group: QActionGroup
    undo_stroke: QAction
    redo_stroke: QAction
    clear_damage: QAction
    # The brush's keys, wherever the focus is (the brush itself takes them first when focused).
    brush_tool: QAction
    eraser_tool: QAction
    smaller_brush: QAction
    larger_brush: QAction


def _action(
    window: QMainWindow,
    text: str,
    tip: str,
    icon_name: str | None = None,
    shortcuts: list[QKeySequence | str | Key] | None = None,
) -> QAction:
    action = QAction(text, window)
    if icon_name:
        action.setIcon(icon(icon_name))
    keys = [s if isinstance(s, QKeySequence) else QKeySequence(s) for s in (shortcuts or [])]
    if keys:
        action.setShortcuts(keys)
        tip = f"{tip} ({keys[0].toString(QKeySequence.SequenceFormat.NativeText)})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_actions(window: QMainWindow) -> Actions:
    a = _action
    wipe = a(window, "&Wipe", "Compare with a divider you can drag", "wipe", ["W"])
    side = a(window, "&Side by Side", "Original and restored side by side", "side_by_side", ["S"])
    group = QActionGroup(window)
    for action in (wipe, side):
        action.setCheckable(True)
        group.addAction(action)
    wipe.setChecked(True)
    show_original = a(
        window, "Show &Original", "Show the original photo (or hold Space or \\)", "original"
    )
    show_original.setCheckable(True)
    task_group = QActionGroup(window)
    tasks: dict[TaskMode, QAction] = {}
    for number, mode in enumerate(TaskMode, start=1):
        action = a(window, f"&{mode.title}", _task_tip(mode), None, [f"Alt+{number}"])
        action.setIcon(named_icon(mode.icon_name))
        action.setCheckable(True)
        action.setData(mode.value)
        task_group.addAction(action)
        tasks[mode] = action
    tasks[TaskMode.RESTORE].setChecked(True)
    return Actions(
        open=a(window, "&Open Photos…", "Open photos to restore", "open", [Key.Open]),
        open_folder=a(
            window, "Open &Folder…", "Open every photo in a folder", "open_folder", ["Ctrl+Shift+O"]
        ),
        sample=a(window, "Try a Sa&mple Photo", "Open the bundled old photo", "sample"),
        paste=a(
            window, "&Paste", "Open an image or files from the clipboard", "paste", [Key.Paste]
        ),
        save=a(
            window, "&Save", "Save the restored photo with the export defaults", "save", [Key.Save]
        ),
        save_as=a(window, "Save &As…", "Save the restored photo as…", "save_as", ["Ctrl+Shift+S"]),
        export_all=a(
            window, "&Export All…", "Save every open photo, restored", "export_all", ["Ctrl+E"]
        ),
        remove=a(
            window, "&Close Photo", "Remove the photo from the list", "remove", [Key.Close, "Del"]
        ),
        quit=a(window, "&Quit", "Quit CodeFormer Studio", "quit", ["Ctrl+Q"]),
        wipe=wipe,
        side_by_side=side,
        show_original=show_original,
        fit=a(window, "&Fit", "Fit the photo in the window", "fit", ["Ctrl+0", "F"]),
        zoom_100=a(window, "&100 %", "One photo pixel per screen pixel", "zoom_100", ["Ctrl+1"]),
        zoom_in=a(window, "Zoom &In", "Zoom in", "zoom_in", [Key.ZoomIn, "Ctrl+="]),
        zoom_out=a(window, "Zoom O&ut", "Zoom out", "zoom_out", [Key.ZoomOut]),
        next_photo=a(window, "&Next Photo", "Show the next photo", None, ["PgDown", "Ctrl+]"]),
        previous_photo=a(
            window, "&Previous Photo", "Show the previous photo", None, ["PgUp", "Ctrl+["]
        ),
        preferences=a(
            window,
            "&Preferences…",
            "Device, upscale, faces, export defaults",
            "preferences",
            [Key.Preferences, "Ctrl+,"],
        ),
        weights=a(window, "&Model Files…", "Download or import the model files", "weights"),
        fidelity_up=a(
            window,
            "&Fidelity +0.05 (Identity)",
            "Move the fidelity 0.05 toward the input's identity",
            None,
            ["Ctrl+Up"],
        ),
        fidelity_down=a(
            window,
            "Fidelity −0.05 (&Quality)",
            "Move the fidelity 0.05 toward quality",
            None,
            ["Ctrl+Down"],
        ),
        use_model=a(
            window,
            "Use a Model &File…",
            "Restore with a CodeFormer checkpoint of your own (a fine-tune or a copy)",
            "open",
        ),
        about=a(window, "&About CodeFormer Studio", "Version and licences", "about"),
        compare_group=group,
        tasks=tasks,
        task_group=task_group,
        undo_stroke=a(
            window, "&Undo Stroke", "Undo the last brush stroke (Inpaint)", "undo", ["Ctrl+Z"]
        ),
        redo_stroke=a(
            window,
            "&Redo Stroke",
            "Redo the brush stroke (Inpaint)",
            "redo",
            ["Ctrl+Shift+Z", "Ctrl+Y"],
        ),
        clear_damage=a(
            window, "C&lear Painted Damage", "Remove everything painted (undoable)", "clear_damage"
        ),
        brush_tool=a(window, "&Brush", "Paint over the damage (Inpaint)", None, ["B"]),
        eraser_tool=a(window, "&Eraser", "Switch between erasing and painting", None, ["E"]),
        smaller_brush=a(window, "S&maller Brush", "Make the brush smaller", None, ["["]),
        larger_brush=a(window, "L&arger Brush", "Make the brush larger", None, ["]"]),
    )


def _task_tip(mode: TaskMode) -> str:
    what = mode.tooltip[0].lower() + mode.tooltip[1:]
    return f"{mode.title}: {what}. Uses {mode.checkpoint().filename}"


def build_menus(window: QMainWindow, actions: Actions, recent: QMenu) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    for action in (actions.open, actions.open_folder):
        file.addAction(action)
    file.addMenu(recent)
    file.addAction(actions.sample)
    file.addSeparator()
    file.addAction(actions.use_model)
    file.addSeparator()
    for action in (actions.save, actions.save_as, actions.export_all):
        file.addAction(action)
    file.addSeparator()
    file.addAction(actions.remove)
    file.addSeparator()
    file.addAction(actions.quit)
    edit = bar.addMenu("&Edit")
    edit.addAction(actions.undo_stroke)
    edit.addAction(actions.redo_stroke)
    edit.addAction(actions.clear_damage)
    brush = edit.addMenu("Br&ush")
    for action in (
        actions.brush_tool,
        actions.eraser_tool,
        actions.smaller_brush,
        actions.larger_brush,
    ):
        brush.addAction(action)
    edit.addSeparator()
    edit.addAction(actions.paste)
    edit.addSeparator()
    edit.addAction(actions.preferences)
    task = bar.addMenu("&Task")
    for action in actions.tasks.values():
        task.addAction(action)
    view = bar.addMenu("&View")
    for action in (actions.wipe, actions.side_by_side, actions.show_original):
        view.addAction(action)
    view.addSeparator()
    for action in (actions.fit, actions.zoom_100, actions.zoom_in, actions.zoom_out):
        view.addAction(action)
    view.addSeparator()
    view.addAction(actions.fidelity_up)
    view.addAction(actions.fidelity_down)
    view.addSeparator()
    view.addAction(actions.previous_photo)
    view.addAction(actions.next_photo)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions.weights)
    help_menu.addAction(actions.about)
