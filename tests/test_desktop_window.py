"""The main window with a scripted engine: empty state, opening, the fidelity slider, faces,
compare modes and the held key, paste and drop, messages, settings, closing during work."""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication

from desktop.about_dialog import AboutDialog
from desktop.document import Status
from desktop.images import qimage_from_rgb, rgb_from_qimage
from desktop.preferences_dialog import PreferencesDialog
from desktop.settings import SettingsStore, StudioSettings
from tests.desktop_support import ScriptedEngine, synthetic_photo, window_factory  # noqa: F401

pytestmark = pytest.mark.qt


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine(faces=2)


@pytest.fixture
def window(window_factory, engine):  # noqa: F811
    return window_factory(lambda s: lambda: engine, settings=StudioSettings(upscale=1))


def open_ready(qtbot, window, name="photo.png", seed=0):
    doc = window.session.open_photo(synthetic_photo(seed=seed), name)
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)
    assert window.session.worker.wait_until_idle(10)
    return doc


def test_empty_state_invites_a_drop(window):
    assert window.stack.currentWidget() is window.empty
    assert window.empty.isVisible()
    texts = [w.text() for w in window.empty.findChildren(type(window.zoom_label))]
    assert "Drop photos or folders here" in texts
    assert window.empty.open_button.isVisible() and window.empty.sample_button.isVisible()
    assert not window.actions_.save.isEnabled()


def test_opening_shows_the_photo_its_faces_and_the_result(qtbot, window, engine):
    doc = open_ready(qtbot, window)
    assert window.stack.currentWidget() is window.compare
    assert window.compare.main.has_result()
    assert set(window.faces.rows()) == {0, 1}
    assert "Showing fidelity 0.50" in window.fidelity.shown.text()
    assert window.render_status.text().startswith("Last render")
    assert window.device_status.text() == "Device: Scripted test engine"
    assert window.filmstrip.model().rowCount() == 1
    assert "Ready" in window.photo_status.text()
    assert doc is window.session.current


def test_slider_drag_renders_newest_value_and_states_it(qtbot, window, engine):
    doc = open_ready(qtbot, window)
    engine.render_face_seconds = 0.01
    for position in range(50, 91):
        window.fidelity.slider.setValue(position)  # like a drag: many values quickly
        qtbot.wait(2)
    assert window.session.worker.wait_until_idle(10)
    qtbot.wait(window.fidelity._throttle.interval_ms + 20)  # the trailing throttled value
    assert window.session.worker.wait_until_idle(10)
    assert doc.result_fidelity == pytest.approx(0.90)
    assert "Showing fidelity 0.90" in window.fidelity.shown.text()
    rgb, _ = rgb_from_qimage(doc.result)
    assert rgb[0, 0, 0] == round(255 * 0.9)
    renders = engine.calls_of("render")
    assert len(renders) < 41  # throttled and superseded, not one render per value
    assert not window.fidelity.busy.isVisible()


def test_spin_box_and_slider_agree(qtbot, window):
    window.fidelity.spin.setValue(0.25)
    assert window.fidelity.slider.value() == 25
    window.fidelity.slider.setValue(70)
    assert window.fidelity.value() == pytest.approx(0.70)


def test_face_toggles_and_own_fidelity(qtbot, window, engine):
    open_ready(qtbot, window)
    row = window.faces.rows()[1]
    row.restore.setChecked(False)
    assert window.session.worker.wait_until_idle(10)
    assert not engine.calls_of("render")[-1].choices[1].enabled
    assert not row.own.isEnabled()
    row0 = window.faces.rows()[0]
    row0.own.setChecked(True)
    row0.fidelity.setValue(0.15)
    assert window.session.worker.wait_until_idle(10)
    choice = engine.calls_of("render")[-1].choices[0]
    assert choice.enabled and choice.fidelity == pytest.approx(0.15)
    window.fidelity.slider.setValue(80)  # the face with its own fidelity keeps it
    assert row0.fidelity.value() == pytest.approx(0.15)


def test_selecting_a_face_outlines_it(qtbot, window):
    doc = open_ready(qtbot, window)
    window.faces.select(1)
    box = doc.faces[1].box
    rect = window.compare.main.highlight
    assert rect is not None
    assert (rect.x(), rect.y(), rect.width()) == pytest.approx((box[0], box[1], box[2] - box[0]))
    window.faces.select(-1)
    assert window.compare.main.highlight is None


def test_compare_modes_by_action_and_held_key(qtbot, window):
    open_ready(qtbot, window)
    window.actions_.side_by_side.trigger()
    assert window.compare.mode == "side_by_side" and window.compare.left.isVisible()
    window.actions_.wipe.trigger()
    assert window.compare.mode == "wipe" and not window.compare.left.isVisible()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    press = QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.compare.main.viewport(), press)
    assert window.compare.main.visible_side() == "before"
    repeat = QKeyEvent(
        QKeyEvent.Type.KeyRelease, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, "", True
    )
    QApplication.sendEvent(window.compare.main.viewport(), repeat)  # auto-repeat: still held
    assert window.compare.main.visible_side() == "before"
    release = QKeyEvent(QKeyEvent.Type.KeyRelease, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.compare.main.viewport(), release)
    assert window.compare.main.visible_side() == "wipe"


def test_zoom_actions_and_label(qtbot, window):
    open_ready(qtbot, window)
    window.actions_.zoom_100.trigger()
    assert window.zoom_label.text() == "100 %"
    window.actions_.zoom_in.trigger()
    assert window.zoom_label.text() == "125 %"
    window.actions_.fit.trigger()
    assert window.compare.main.fitting


def test_paste_an_image_from_the_clipboard(qtbot, window):
    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[..., 1] = 200
    QGuiApplication.clipboard().setImage(qimage_from_rgb(rgb))
    assert window.paste()
    doc = window.session.current
    assert doc is not None and doc.name == "Pasted image 1" and doc.path is None
    assert doc.photo.width == 40 and int(doc.photo.pixels[0, 0, 1]) == 200
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=15000)


def test_drop_an_image(qtbot, window):
    mime = QMimeData()
    mime.setImageData(qimage_from_rgb(np.full((20, 24, 3), 90, np.uint8)))
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert window.session.current is not None and window.session.current.photo.width == 24


def test_problems_show_a_non_modal_message_with_the_fix(qtbot, window, engine):
    engine.fail_with = MemoryError()
    doc = window.session.open_photo(synthetic_photo(), "huge.png")
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=15000)
    assert doc.status is Status.FAILED
    assert "memory" in window.message_bar.text.text().lower()
    assert window.message_bar.action.text() == "Open Preferences"
    assert QApplication.activeModalWidget() is None


def test_settings_persist_between_runs(qtbot, window_factory, engine):  # noqa: F811
    first = window_factory(lambda s: lambda: engine)
    first.fidelity.slider.setValue(70)
    first.set_compare_mode("side_by_side")
    first.resize(first.width(), 650)  # the offscreen screen is 800 x 800
    changed = dataclasses.replace(first.session.settings, upscale=3, device="cpu", confidence=0.6)
    first.apply_settings(changed)
    first.close()
    loaded = SettingsStore().load()
    assert (loaded.fidelity, loaded.compare_mode) == (0.7, "side_by_side")
    assert (loaded.upscale, loaded.device, loaded.confidence) == (3, "cpu", 0.6)
    second = window_factory(lambda s: lambda: engine)
    assert second.fidelity.value() == pytest.approx(0.7)
    assert second.compare.mode == "side_by_side"
    assert second.size().height() == 650


def test_preferences_dialog_edits_every_setting(qtbot):
    settings = StudioSettings()
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    dialog.upscale.setValue(4)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.background.setCurrentIndex(dialog.background.findData("realesrgan"))
    dialog.only_center.setChecked(True)
    dialog.export_format.setCurrentIndex(dialog.export_format.findData("png"))
    dialog.export_suffix.setText("_fixed")
    edited = dialog.settings()
    assert (edited.upscale, edited.device, edited.background) == (4, "cpu", "realesrgan")
    assert edited.only_center_face and edited.export_format == "png"
    assert edited.export_suffix == "_fixed"
    dialog.export_pattern.setText("{nope}")
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_changing_the_pipeline_reanalyses(qtbot, window, engine):
    doc = open_ready(qtbot, window)
    window.apply_settings(dataclasses.replace(window.session.settings, confidence=0.5))
    qtbot.waitUntil(lambda: len(engine.calls_of("analyze")) == 2, timeout=10000)
    qtbot.waitUntil(lambda: doc.status is Status.READY, timeout=10000)


def test_close_during_analysis_exits_cleanly(qtbot, window_factory):  # noqa: F811
    slow = ScriptedEngine(faces=40, face_seconds=0.1)
    window = window_factory(lambda s: lambda: slow)
    doc = window.session.open_photo(synthetic_photo(), "slow.png")
    qtbot.waitUntil(lambda: doc.status is Status.ANALYSING, timeout=10000)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 2.0
    assert not window.session.worker.running
    assert slow.calls_of("analyze")[0].cancelled


def test_every_action_has_a_tooltip_and_menus_hold_them(window):
    actions = window.actions_
    every = []
    for name in actions.__dataclass_fields__:
        value = getattr(actions, name)
        if name.endswith("_group"):
            continue
        every += list(value.values()) if isinstance(value, dict) else [value]
    for action in every:
        assert action.toolTip(), action.text()
    assert actions.save.shortcut().toString() == "Ctrl+S"
    assert actions.fit.shortcuts()[0].toString() == "Ctrl+0"
    assert actions.zoom_100.shortcut().toString() == "Ctrl+1"
    keys = [k.toString() for action in every for k in action.shortcuts()]
    assert len(keys) == len(set(keys)), "a shortcut is used twice"
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Edit", "&Task", "&View", "&Help"]


def test_about_names_the_licences(qtbot):
    dialog = AboutDialog("1.2.3", "CPU fp32")
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    for expected in ("MIT", "S-Lab License 1.0", "non-commercial", "facexlib", "BSD 3-Clause"):
        assert expected in text
    assert "CPU fp32" in text


def test_switching_photos_with_keys(qtbot, window):
    first = open_ready(qtbot, window, "a.png", 0)
    second = open_ready(qtbot, window, "b.png", 1)
    assert window.session.current is second
    window.actions_.previous_photo.trigger()
    assert window.session.current is first
    assert window.filmstrip.currentIndex().row() == 0
    window.actions_.remove.trigger()
    assert window.session.current is second and len(window.session.documents) == 1


def test_busy_spinner_runs_only_while_a_render_is_pending(qtbot, window, engine):
    open_ready(qtbot, window)
    assert not window.fidelity.busy.isVisible() and not window.fidelity.spinning
    engine.render_face_seconds = 0.3
    window.session.set_fidelity(0.2)
    assert window.fidelity.busy.isVisible() and window.fidelity.spinning
    assert window.compare.busy.isVisible() and window.compare.busy.spinning  # on the photo too
    assert window.session.worker.wait_until_idle(10)
    assert not window.fidelity.busy.isVisible() and not window.fidelity.spinning
    assert not window.compare.busy.isVisible() and not window.compare.busy.spinning


def test_the_busy_indicator_keeps_nothing_per_frame(qtbot):
    """The fidelity panel once spun qtawesome's animated icon, which loaded the icon font again
    on every frame (a QRawFont cached under a key that changed from call to call): hundreds of
    MB more per render of a full-size photo. Its indicator must hold nothing more after 100
    painted frames."""
    import gc

    import qtawesome

    from desktop.fidelity_panel import FidelityPanel

    panel = FidelityPanel(0.5)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_busy(True)

    def paint(frames: int) -> None:
        for _ in range(frames):
            panel.busy.repaint()
        qtbot.wait(50)  # the animation's own timer ticks too

    paint(10)
    gc.collect()
    fonts = qtawesome._instance().rawfont_cache
    before_objects, before_fonts = len(gc.get_objects()), sum(len(c) for c in fonts.values())
    paint(100)
    gc.collect()
    assert sum(len(c) for c in fonts.values()) == before_fonts
    assert len(gc.get_objects()) - before_objects < 50
    assert panel.spinning
    panel.set_busy(False)
    assert not panel.spinning


def test_many_void_qt_calls_do_not_exhaust_none(qtbot):
    """PySide6 6.12.0 on Python 3.11 leaks a reference to None per void call; the guard (a
    session fixture in conftest, and make_application in the app) keeps the process alive."""
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    for _ in range(50_000):  # ten times None's usual reference count
        widget.update()
    assert sys.getrefcount(None) > 0


def test_preferences_offer_every_detector_and_the_minimum_face_size(qtbot, window):
    from core.faces.detectors import DETECTOR_NAMES

    dialog = window.open_preferences(run=False)
    qtbot.addWidget(dialog)
    offered = [dialog.detector.itemData(i) for i in range(dialog.detector.count())]
    assert offered == list(DETECTOR_NAMES) and dialog.detector.currentData() == "auto"
    dialog.detector.setCurrentIndex(dialog.detector.findData("yunet"))
    dialog.min_face.setValue(12)
    chosen = dialog.settings()
    assert chosen.detector == "yunet" and chosen.pipeline().min_eye_distance == 12


def test_model_files_menu_lists_what_the_settings_use(qtbot, window, tmp_path):
    """The default detector is built in: CodeFormer and the optional face parsing only; a
    RetinaFace chosen in Preferences adds its file."""
    window._weights_folder_for = lambda _s: tmp_path / "weights"
    window.actions_.weights.trigger()
    dialog = window._weights_dialog
    assert dialog.isVisible()
    names = [f.filename for f in dialog.files]
    assert names == ["codeformer.pth", "parsing_parsenet.pth"]
    dialog.close()
    chosen = dataclasses.replace(window.session.settings, detector="retinaface_resnet50")
    window.apply_settings(chosen)
    window.actions_.weights.trigger()
    names = [f.filename for f in window._weights_dialog.files]
    assert names == ["codeformer.pth", "detection_Resnet50_Final.pth", "parsing_parsenet.pth"]


def test_own_model_file_is_named_in_the_status_bar_and_about(qtbot, window, tmp_path):
    own = tmp_path / "my_finetune.pth"
    assert window.model_status.text() == "Model: official"
    window.choose_model_file(own)
    assert window.session.settings.model_file == str(own)
    assert window.model_status.text() == "Model: my_finetune.pth"
    assert "my_finetune.pth (your own model file)" in window.model_text()


def test_export_dialog_previews_names_and_needs_a_folder_for_pasted_images(qtbot):
    from desktop.export_dialog import ExportDialog

    dialog = ExportDialog(StudioSettings(), [("grandma", "JPEG"), ("Pasted image 1", None)], True)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "folder" in dialog.preview.text()
    dialog.folder.edit.setText("/tmp/out")
    assert ok.isEnabled() and "grandma_restored.jpg" in dialog.preview.text()
    dialog.format.setCurrentIndex(dialog.format.findData("png"))
    assert "grandma_restored.png" in dialog.preview.text() and not dialog.quality.isEnabled()
    dialog.pattern.setText("{name")
    assert not ok.isEnabled()


def test_ctrl_up_and_down_step_the_fidelity_from_anywhere(qtbot, window, engine):
    doc = open_ready(qtbot, window)
    up, down = window.actions_.fidelity_up, window.actions_.fidelity_down
    assert up.shortcut().toString() == "Ctrl+Up" and down.shortcut().toString() == "Ctrl+Down"
    start = window.fidelity.value()
    window.faces.setFocus()  # not on the slider
    up.trigger()
    assert window.fidelity.value() == pytest.approx(start + 0.05)
    assert window.session.fidelity == pytest.approx(start + 0.05)  # asked for at once
    assert window.session.worker.wait_until_idle(10)
    qtbot.waitUntil(lambda: doc.result_fidelity == pytest.approx(start + 0.05), timeout=5000)
    down.trigger()
    down.trigger()
    assert window.session.fidelity == pytest.approx(start - 0.05)
    window.fidelity.set_value(0.98)
    up.trigger()
    assert window.fidelity.value() == 1.0  # clamped
