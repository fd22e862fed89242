"""The window's three tasks with the real Engine (tiny synthetic checkpoints of the restoration,
colorization and inpainting layouts, the sample's landmarks injected): each photo keeps its task and
each task's result, Colorize colours a grey photo, the brush inpaints near a stroke and keeps the
rest exactly, undo brings the earlier result back, a missing checkpoint is offered, the fidelity is
greyed out outside Restore, exports follow the task."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from core.net.config import COLORIZATION, INPAINTING, RESTORATION, tiny_config
from core.synthetic import write_checkpoint
from desktop.document import Status
from desktop.images import rgb_from_qimage
from desktop.settings import StudioSettings
from desktop.task_mode import TaskMode
from tests.desktop_support import (  # noqa: F401
    SAMPLE,
    sample_faces,
    synthetic_catalogue,
    window_factory,
)

pytestmark = pytest.mark.qt

UPSCALE = 2
TIMEOUT = 60000


def write_weights(folder: Path, variants) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for seed, variant in enumerate(variants):
        write_checkpoint(folder / variant.checkpoint_file, tiny_config(variant), seed=seed)
    return folder


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_weights(
        tmp_path_factory.mktemp("weights"), (RESTORATION, COLORIZATION, INPAINTING)
    )


class Calls:
    """What the engines built for one window were asked to do, by method and variant."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []

    def add(self, method: str, variant: str) -> None:
        with self.lock:
            self.calls.append((method, variant))

    def count(self, method: str, variant: str | None = None) -> int:
        with self.lock:
            return sum(1 for m, v in self.calls if m == method and variant in (None, v))


def counting_factory_for(weights_dir: Path, calls: Calls):
    """The real Engine on the CPU in fp32 with the sample's faces, recording its calls."""

    def factory_for(settings: StudioSettings):
        def build():
            from core.engine import Engine
            from core.faces.detection import GivenFaces

            class CountingEngine(Engine):
                def analyze(self, photo, settings, *, variant="restoration", **kw):
                    calls.add("analyze", variant)
                    return super().analyze(photo, settings, variant=variant, **kw)

                def remask(self, analysis, mask, **kw):
                    calls.add("remask", analysis.variant)
                    return super().remask(analysis, mask, **kw)

                def render(self, analysis, fidelity, **kw):
                    calls.add("render", analysis.variant)
                    return super().render(analysis, fidelity, **kw)

            return CountingEngine(
                weights_dir=weights_dir,
                device="cpu",
                precision="fp32",
                detector=GivenFaces(sample_faces()),
                catalogue=synthetic_catalogue(weights_dir),
            )

        return build

    return factory_for


@pytest.fixture
def calls():
    return Calls()


@pytest.fixture
def window(window_factory, weights, calls):  # noqa: F811
    settings = StudioSettings(upscale=UPSCALE, paste_mask="square", fidelity=0.5)
    return window_factory(counting_factory_for(weights, calls), settings=settings)


def settle(qtbot, window, doc):
    """Wait until the photo's task is analysed and its newest render is on screen."""
    qtbot.waitUntil(
        lambda: doc.status in (Status.READY, Status.FAILED, Status.NEEDS_WEIGHTS), timeout=TIMEOUT
    )
    assert doc.status is Status.READY, doc.problem
    qtbot.wait(200)  # a throttled request may still be waiting
    assert window.session.worker.wait_until_idle(60)
    assert not doc.render_pending and doc.result is not None


def shown(doc) -> np.ndarray:
    rgb, _ = rgb_from_qimage(doc.result)
    return rgb


def open_sample(qtbot, window):
    (doc,) = window.open_sample()
    settle(qtbot, window, doc)
    return doc


def grey_copy(tmp_path: Path) -> Path:
    path = tmp_path / "grey.png"
    with Image.open(SAMPLE) as sample:
        sample.convert("L").save(path)
    return path


def test_each_photo_keeps_its_task_and_each_tasks_result(qtbot, window, calls, tmp_path):
    doc = open_sample(qtbot, window)
    assert doc.mode is TaskMode.RESTORE and window.actions_.tasks[TaskMode.RESTORE].isChecked()
    restored = shown(doc)

    window.actions_.tasks[TaskMode.COLORIZE].trigger()
    assert doc.mode is TaskMode.COLORIZE
    settle(qtbot, window, doc)
    colorized = shown(doc)
    assert colorized.shape == restored.shape and not np.array_equal(colorized, restored)
    assert "Colorize" in window.filmstrip.model().index(0).data(Qt.ItemDataRole.ToolTipRole)

    # A second photo opens in the task chosen last and keeps its own.
    (other,) = window.open_paths([grey_copy(tmp_path)])
    assert other.mode is TaskMode.COLORIZE
    settle(qtbot, window, other)
    window.set_task(TaskMode.INPAINT)
    settle(qtbot, window, other)
    assert other.mode is TaskMode.INPAINT and doc.mode is TaskMode.COLORIZE

    analyses, renders = calls.count("analyze"), calls.count("render")
    window.session.set_current(doc)  # back to the first photo: its colorized result, at once
    assert window.actions_.tasks[TaskMode.COLORIZE].isChecked()
    assert np.array_equal(shown(doc), colorized)
    assert np.array_equal(rgb_from_qimage(window.compare._after_image)[0], colorized)
    window.set_task(TaskMode.RESTORE)  # and its restored one
    assert np.array_equal(shown(doc), restored)
    assert window.actions_.tasks[TaskMode.RESTORE].isChecked()
    window.session.set_current(other)
    assert other.mode is TaskMode.INPAINT and window.inpaint_bar.isVisible()
    assert window.session.worker.wait_until_idle(30)
    assert (calls.count("analyze"), calls.count("render")) == (analyses, renders)
    # Each photo was analysed once per task it was used in (the second opened in Colorize).
    assert calls.count("analyze", "restoration") == 1
    assert calls.count("analyze", "colorization") == 2
    assert calls.count("analyze", "inpainting") == 1


def test_colorize_gives_a_colour_photo_of_the_same_size_from_a_grey_one(qtbot, window, tmp_path):
    window.set_task(TaskMode.COLORIZE)  # no photo yet: new photos open in Colorize
    (doc,) = window.open_paths([grey_copy(tmp_path)])
    settle(qtbot, window, doc)
    assert doc.photo.is_grey and doc.mode is TaskMode.COLORIZE
    rgb = shown(doc)
    assert rgb.shape == (doc.photo.height * UPSCALE, doc.photo.width * UPSCALE, 3)
    x1, y1, x2, y2 = (round(v * UPSCALE) for v in doc.faces[0].box)
    face = rgb[y1:y2, x1:x2].astype(np.int16)
    spread = np.abs(face - face.mean(axis=2, keepdims=True)).max(axis=2)
    assert (spread > 8).mean() > 0.1  # colour where the face is
    background = doc.analysis.background
    assert np.array_equal(rgb[-20:, :40], background[-20:, :40])  # the rest stays as it is
    target = tmp_path / "colorized.png"  # Save exports the colorized result
    window.save_current_as(target)
    qtbot.waitUntil(lambda: bool(window.export_results), timeout=TIMEOUT)
    with Image.open(target) as saved:
        assert saved.mode == "RGB" and np.array_equal(np.asarray(saved), rgb)
    # Restore keeps a grey photo grey: the two tasks do not fight.
    window.set_task(TaskMode.RESTORE)
    settle(qtbot, window, doc)
    restored = shown(doc).astype(np.int16)
    assert np.array_equal(restored[..., 0], restored[..., 1])
    assert np.array_equal(restored[..., 1], restored[..., 2])


def test_the_fidelity_is_greyed_out_outside_restore_with_the_reason(qtbot, window):
    doc = open_sample(qtbot, window)
    slider = window.fidelity.slider
    assert slider.isEnabled() and not window.task_note.isVisible()
    assert window.faces.rows()[0].own.isVisible()
    for mode in (TaskMode.COLORIZE, TaskMode.INPAINT):
        window.set_task(mode)
        assert not slider.isEnabled() and not window.fidelity.spin.isEnabled()
        assert slider.value() == round(100 * mode.fixed_fidelity)  # what the task uses
        assert window.fidelity.value() == 0.5  # the user's, kept
        assert "fidelity" in slider.toolTip() and mode.title in slider.toolTip()
        # An export's {fidelity} names what the result is computed at, not the slider.
        assert window.session.fidelity_of(doc) == mode.fixed_fidelity
        assert window.task_note.isVisible()
        assert mode.checkpoint().filename in window.task_note.text()
        settle(qtbot, window, doc)
        assert window.faces.rows()[0].restore.text() == mode.title
        assert not window.faces.rows()[0].own.isVisible()
    assert "only faces are coloured; the rest of the photo stays as it is" in (
        TaskMode.COLORIZE.note.lower()
    )
    window.set_task(TaskMode.COLORIZE)
    assert "only faces are coloured; the rest of the photo stays as it is." in (
        window.task_note.text().lower()
    )
    window.set_task(TaskMode.RESTORE)
    assert slider.isEnabled() and slider.value() == 50 and not window.task_note.isVisible()
    assert window.session.fidelity_of(doc) == 0.5


def drag_on(view, scene_points) -> None:
    """A left drag through points in scene units."""
    drag_on_viewport(view, [QPointF(view.mapFromScene(QPointF(x, y))) for x, y in scene_points])


def stroke_across_the_eyes(window, view=None) -> None:
    """A drag along the eyes (photo pixels ~ (112, 97) to (152, 95)), in scene (upscaled) units."""
    view = view or window.compare.main
    window.brush.set_brush_radius(5)
    photo_points = [(110 + 4 * i, 97 - 0.05 * 4 * i) for i in range(11)]
    drag_on(view, [((x + 0.5) * UPSCALE, (y + 0.5) * UPSCALE) for x, y in photo_points])


def near_and_far(doc, changed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the result within reach of the painted damage, and those far from it."""
    import cv2

    damage = doc.analysis.damage.astype(np.uint8)
    big = cv2.resize(damage, (changed.shape[1], changed.shape[0]), interpolation=cv2.INTER_NEAREST)
    reach = cv2.dilate(big, np.ones((15, 15), np.uint8)) > 0
    return changed & reach, changed & ~reach


def test_a_stroke_inpaints_near_it_keeps_the_rest_and_undo_brings_it_back(
    qtbot, window, calls, tmp_path
):
    window.set_task(TaskMode.INPAINT)
    doc = open_sample(qtbot, window)
    assert window.inpaint_bar.isVisible() and window.compare.overlay is window.brush
    assert window.brush.transform().m11() == UPSCALE  # photo pixels over the upscaled scene
    before = shown(doc)
    background = doc.analysis.background
    assert np.array_equal(before, background)  # nothing painted: the photo as it is
    assert not window.actions_.undo_stroke.isEnabled()

    stroke_across_the_eyes(window)
    assert len(doc.damage.strokes) == 1 and window.actions_.undo_stroke.isEnabled()
    settle(qtbot, window, doc)
    after = shown(doc)
    assert calls.count("remask") == 1 and calls.count("analyze", "inpainting") == 1
    (stroke,) = doc.damage.strokes
    assert 107 <= stroke.points[0][0] <= 112 and 93 <= stroke.points[0][1] <= 99
    painted = doc.analysis.damage
    assert painted[97, 130] and not painted[150, 130]  # on the eyes, not on the mouth
    changed = np.any(after != background, axis=2)
    near, far = near_and_far(doc, changed)
    assert near.sum() > 50  # filled in where painted
    assert not far.any()  # every pixel away from the damage is the photo's

    # Undo (Edit menu) brings the unpainted result back; redo the painted one.
    window.actions_.undo_stroke.trigger()
    assert doc.damage.strokes == ()
    settle(qtbot, window, doc)
    assert np.array_equal(shown(doc), before)
    window.actions_.redo_stroke.trigger()
    settle(qtbot, window, doc)
    assert np.array_equal(shown(doc), after)
    assert calls.count("analyze", "inpainting") == 1  # only re-encoded, never analysed again

    # Save exports the inpainted result.
    target = tmp_path / "inpainted.png"
    window.save_current_as(target)
    qtbot.waitUntil(lambda: bool(window.export_results), timeout=TIMEOUT)
    assert window.export_results[0].written == (target,)
    with Image.open(target) as saved:
        assert np.array_equal(np.asarray(saved.convert("RGB")), after)


def test_with_the_brush_only_the_handle_moves_the_divider(qtbot, window):
    window.set_task(TaskMode.INPAINT)
    doc = open_sample(qtbot, window)
    view = window.compare.main
    view.set_divider(0.5)
    handle = view._handle_center()
    # A stroke that starts right beside the divider, far from its handle, is a stroke.
    beside = QPointF(handle.x() + 6, handle.y() + 80)
    drag_on_viewport(view, [beside, beside + QPointF(30, 0)])
    assert len(doc.damage.strokes) == 1 and view.divider == 0.5
    # The handle still drags the divider (and paints nothing).
    drag_on_viewport(view, [handle, handle + QPointF(60, 0)])
    assert view.divider > 0.55 and len(doc.damage.strokes) == 1
    # Without the brush, anywhere along the divider grabs it.
    window.set_task(TaskMode.RESTORE)
    settle(qtbot, window, doc)
    before = view.divider
    along = QPointF(view._divider_view_x() + 6, handle.y() + 80)
    drag_on_viewport(view, [along, along - QPointF(60, 0)])
    assert view.divider < before - 0.05


def test_brush_keys_work_wherever_the_focus_is(qtbot, window):
    window.set_task(TaskMode.INPAINT)
    open_sample(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    brush = window.brush
    window.filmstrip.setFocus()  # not the photo
    qtbot.waitUntil(window.filmstrip.hasFocus, timeout=3000)
    radius = brush.brush_radius
    QTest.keyClick(window.filmstrip, Qt.Key.Key_BracketRight)
    assert brush.brush_radius > radius
    QTest.keyClick(window.filmstrip, Qt.Key.Key_BracketLeft)
    assert brush.brush_radius == pytest.approx(radius)
    QTest.keyClick(window.filmstrip, Qt.Key.Key_E)
    assert brush.erasing
    QTest.keyClick(window.filmstrip, Qt.Key.Key_B)
    assert not brush.erasing
    # On the photo the brush takes its keys itself: one press, one step.
    view = window.compare.main
    view.viewport().setFocus()
    QTest.keyClick(view.viewport(), Qt.Key.Key_E)
    assert brush.erasing
    # Outside Inpaint the keys do nothing.
    window.set_task(TaskMode.RESTORE)
    assert not window.actions_.larger_brush.isEnabled()


def drag_on_viewport(view, points) -> None:
    """A left drag through points in viewport pixels."""
    viewport = view.viewport()
    points = [p.toPoint() for p in points]
    QTest.mouseMove(viewport, points[0])
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for point in points[1:]:
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1]
    )


def test_painting_side_by_side_and_across_the_wipe(qtbot, window):
    window.set_task(TaskMode.INPAINT)
    doc = open_sample(qtbot, window)
    view = window.compare.main
    assert view.overlay is window.brush
    width = view.sceneRect().width()
    view.set_divider(0.5)
    clip = window.brush._clip_right
    assert clip == pytest.approx(0.5 * width / UPSCALE)  # the fill shows on the original's side
    view.set_divider(0.3)
    assert window.brush._clip_right == pytest.approx(0.3 * width / UPSCALE)
    window.compare.set_show_original(True)
    assert window.brush._clip_right is None
    window.compare.set_show_original(False)
    # While a stroke is painted all of it shows, on both sides of the divider; the view stays
    # fitted (painting is not panning).
    assert view.fitting
    viewport = view.viewport()
    start = view.mapFromScene(QPointF(0.2 * width, 200))
    QTest.mouseMove(viewport, start)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, view.mapFromScene(QPointF(0.6 * width, 200)))
    assert view.painting and window.brush._clip_right is None and window.brush.painting
    QTest.mouseRelease(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        view.mapFromScene(QPointF(0.6 * width, 200)),
    )
    assert not view.painting and window.brush._clip_right == pytest.approx(0.3 * width / UPSCALE)
    assert view.fitting and len(doc.damage.strokes) == 1
    window.actions_.undo_stroke.trigger()
    assert doc.damage.strokes == ()

    window.set_compare_mode("side_by_side")
    assert window.compare.left.overlay is window.brush and view.overlay is None
    assert window.brush._clip_right is None
    qtbot.wait(50)
    stroke_across_the_eyes(window, window.compare.left)
    assert len(doc.damage.strokes) == 1
    settle(qtbot, window, doc)
    assert not np.array_equal(shown(doc), doc.analysis.background)
    window.set_compare_mode("wipe")
    assert view.overlay is window.brush and window.compare.left.overlay is None
    # Leaving Inpaint takes the brush away; the strokes stay with the photo.
    window.set_task(TaskMode.RESTORE)
    assert window.compare.overlay is None and not window.inpaint_bar.isVisible()
    window.set_task(TaskMode.INPAINT)
    assert window.brush.mask() is doc.damage and len(doc.damage.strokes) == 1


def test_a_missing_inpainting_checkpoint_is_offered(qtbot, window_factory, tmp_path, calls):  # noqa: F811
    folder = write_weights(tmp_path / "weights", (RESTORATION,))
    settings = StudioSettings(upscale=UPSCALE, paste_mask="square")
    window = window_factory(
        counting_factory_for(folder, calls), settings=settings, weights_folder=folder
    )
    doc = open_sample(qtbot, window)
    window.set_task(TaskMode.INPAINT)
    qtbot.waitUntil(
        lambda: window._weights_dialog is not None and window._weights_dialog.isVisible(),
        timeout=TIMEOUT,
    )
    dialog = window._weights_dialog
    assert [f.filename for f in dialog.files] == ["codeformer_inpainting.pth"]
    assert "codeformer_inpainting.pth" in dialog.heading.text()
    assert dialog.licence_note.isVisible() and "Non-commercial" in dialog.licence_note.text()
    qtbot.waitUntil(lambda: doc.status is Status.NEEDS_WEIGHTS, timeout=TIMEOUT)
    assert "codeformer_inpainting.pth" in window.faces.hint.text()
    # Restore still shows its result; the file arrives and Inpaint goes on.
    window.set_task(TaskMode.RESTORE)
    assert doc.status is Status.READY and doc.result is not None
    window.set_task(TaskMode.INPAINT)  # asked again: still missing, offered again
    assert window.session.worker.wait_until_idle(30)
    assert doc.status is Status.NEEDS_WEIGHTS and window._weights_dialog.isVisible()
    write_weights(folder, (RESTORATION, COLORIZATION, INPAINTING))
    window._weights_dialog.close()
    window._on_weights_installed()  # what the dialog does once the file is there
    settle(qtbot, window, doc)
    assert doc.mode is TaskMode.INPAINT and calls.count("analyze", "inpainting") == 1


# -- scheduling, with the scripted engine ---------------------------------------------------------


@pytest.fixture
def scripted(window_factory):  # noqa: F811
    from tests.desktop_support import ScriptedEngine

    engine = ScriptedEngine(faces=2)
    made = window_factory(lambda s: lambda: engine, settings=StudioSettings(upscale=1))
    return made, engine


def test_quick_strokes_are_throttled_and_the_newest_damage_is_rendered(qtbot, scripted):
    from core.damage_mask import Stroke, rasterize
    from tests.desktop_support import synthetic_photo

    window, engine = scripted
    window.set_task(TaskMode.INPAINT)
    doc = window.session.open_photo(synthetic_photo(), "paint.png")
    settle(qtbot, window, doc)
    (analysis,) = engine.calls_of("analyze")
    assert analysis.variant == "inpainting" and analysis.mask is not None
    assert analysis.mask.shape == (80, 96) and not analysis.mask.any()  # an array, even empty
    engine.face_seconds = 0.03  # re-encoding takes a while: strokes pile up meanwhile
    mask = doc.damage
    for i in range(12):
        mask = mask.with_stroke(Stroke(points=((10 + 5 * i, 20), (12 + 5 * i, 40)), radius=2))
        window.brush.set_mask(mask)
        window.brush.mask_changed.emit(mask)  # as a finished stroke does
        if i == 5:  # a face toggled while the damage is being re-encoded
            window.faces.rows()[1].restore.setChecked(False)
        qtbot.wait(15)
    settle(qtbot, window, doc)
    remasks = engine.calls_of("remask")
    assert 1 <= len(remasks) < 12  # throttled and superseded
    final = rasterize(doc.damage)
    assert np.array_equal(remasks[-1].mask, final)
    last_render = engine.calls_of("render")[-1]
    assert np.array_equal(last_render.mask, final) and not last_render.cancelled
    assert last_render.choices[1].enabled is False
    assert np.array_equal(doc.analysis.damage, final)
    assert len(engine.calls_of("analyze")) == 1
    assert not window.fidelity.busy.isVisible()


def test_switching_tasks_while_rendering_leaves_nothing_pending(qtbot, scripted):
    from tests.desktop_support import synthetic_photo

    window, engine = scripted
    doc = window.session.open_photo(synthetic_photo(), "switch.png")
    settle(qtbot, window, doc)
    engine.render_face_seconds = 0.05
    window.fidelity.slider.setValue(80)  # a slow render in flight...
    qtbot.wait(10)
    window.set_task(TaskMode.COLORIZE)  # ...when the task changes
    settle(qtbot, window, doc)
    assert doc.mode is TaskMode.COLORIZE and engine.calls_of("render")[-1].fidelity is None
    window.set_task(TaskMode.RESTORE)
    settle(qtbot, window, doc)
    assert doc.result_fidelity == pytest.approx(0.8)  # the slider's value, rendered on return
    assert not window.fidelity.busy.isVisible()
