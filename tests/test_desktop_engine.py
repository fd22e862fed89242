"""The window with the real Engine: a tiny synthetic checkpoint of the official layout and the
sample photo's landmarks injected (no detector weights). Proves the whole path: open, analyse,
render at the slider's fidelity, face toggles, export, missing weights."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.choices import FaceChoice
from core.net.config import RESTORATION, tiny_config
from core.synthetic import write_checkpoint
from desktop.document import Status
from desktop.settings import StudioSettings
from tests.desktop_support import (  # noqa: F401
    SAMPLE,
    real_engine_factory_for,
    sample_faces,
    shown_rgb,
    window_factory,
)

pytestmark = pytest.mark.qt


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    write_checkpoint(folder / RESTORATION.checkpoint_file, tiny_config(RESTORATION))
    return folder


@pytest.fixture
def window(window_factory, weights):  # noqa: F811
    settings = StudioSettings(upscale=2, paste_mask="square", fidelity=0.5)
    return window_factory(real_engine_factory_for(weights, sample_faces()), settings=settings)


def ready_sample(qtbot, window):
    (doc,) = window.open_sample()
    qtbot.waitUntil(lambda: doc.status in (Status.READY, Status.FAILED), timeout=60000)
    assert doc.status is Status.READY, doc.problem
    assert window.session.worker.wait_until_idle(60)
    assert doc.result is not None
    return doc


def face_region(doc, image_rgb):
    x1, y1, x2, y2 = (round(v * doc.upscale) for v in doc.faces[0].box)
    return image_rgb[y1:y2, x1:x2].astype(np.int16)


def test_open_analyse_render_and_slider(qtbot, window, weights):
    doc = ready_sample(qtbot, window)
    assert len(doc.faces) == 1
    assert (doc.result.width(), doc.result.height()) == (512, 600)  # upscale 2
    assert window.compare.main.sceneRect().width() == 512
    assert window.device_status.text() == "Device: CPU fp32"
    at_half = shown_rgb(doc)
    for position in (10, 40, 70, 100):
        window.fidelity.slider.setValue(position)
        qtbot.wait(5)
    qtbot.wait(window.fidelity._throttle.interval_ms + 20)
    assert window.session.worker.wait_until_idle(60)
    assert doc.result_fidelity == pytest.approx(1.0)
    assert "Showing fidelity 1.00" in window.fidelity.shown.text()
    at_one = shown_rgb(doc)
    assert np.abs(face_region(doc, at_one) - face_region(doc, at_half)).max() > 0
    # Far from the face, the photo is the upscaled original whatever the fidelity.
    assert np.array_equal(at_one[-20:, :40], at_half[-20:, :40])
    # A new value of the same analysis comes as the face's region only, laid over the result
    # on screen: together they are exactly the whole render.
    assert doc.result_patches and window.compare.main.patch_count() == len(doc.result_patches)
    patch = doc.result_patches[0]
    assert patch.image.width() * patch.image.height() < 0.5 * 512 * 600
    engine = real_engine_factory_for(weights, sample_faces())(window.session.settings)()
    whole = engine.render(doc.analysis, 1.0).image
    assert np.array_equal(at_one, whole)


def test_face_toggle_leaves_the_face_unrestored(qtbot, window):
    doc = ready_sample(qtbot, window)
    restored = shown_rgb(doc)
    window.faces.rows()[0].restore.setChecked(False)
    assert window.session.worker.wait_until_idle(60)
    assert doc.face_options[0] == FaceChoice(enabled=False)
    plain = shown_rgb(doc)
    background = doc.analysis.background
    assert np.array_equal(plain, background)
    assert not np.array_equal(restored, background)


def test_a_photo_set_aside_for_memory_comes_back_the_same(qtbot, window, tmp_path):
    doc = ready_sample(qtbot, window)
    window.faces.rows()[0].restore.setChecked(False)  # a face choice that must survive
    assert window.session.worker.wait_until_idle(60)
    shown = shown_rgb(doc)
    window.session._analysis_budget = doc.analysis.nbytes()  # room for one photo only
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(SAMPLE.read_bytes())
    (other,) = window.open_paths([copy])
    qtbot.waitUntil(lambda: other.analysis is not None, timeout=60000)
    assert window.session.worker.wait_until_idle(60)
    assert doc.task.set_aside and doc.analysis is None and doc.face_count == 1
    window.session.set_current(doc)
    qtbot.waitUntil(lambda: doc.analysis is not None, timeout=60000)
    assert window.session.worker.wait_until_idle(60)
    assert doc.face_options[0] == FaceChoice(enabled=False)
    again = shown_rgb(doc)
    assert np.array_equal(again, shown)  # analysed again: the very same picture
    assert other.task.set_aside


def test_export_with_the_real_engine(qtbot, window, tmp_path):
    doc = ready_sample(qtbot, window)
    target = tmp_path / "hopper.png"
    window.save_current_as(target)
    qtbot.waitUntil(lambda: bool(window.export_results), timeout=60000)
    assert window.export_results[0].written == (target,)
    with Image.open(target) as saved:
        exported = np.asarray(saved.convert("RGB"))
    shown = shown_rgb(doc)
    assert exported.shape == shown.shape
    assert np.array_equal(exported, shown)  # fp32 engine: the export is the picture shown


def test_missing_weights_open_the_first_run_dialog(qtbot, window_factory, tmp_path):  # noqa: F811
    empty = tmp_path / "no-weights"
    window = window_factory(
        real_engine_factory_for(empty, sample_faces()), weights_folder=empty, check_weights=True
    )
    qtbot.waitUntil(
        lambda: window._weights_dialog is not None and window._weights_dialog.isVisible(),
        timeout=30000,
    )
    assert [f.filename for f in window._weights_dialog.files] == ["codeformer.pth"]
    assert window._weights_dialog.licence_note.isVisible()


def test_a_16_bit_photo_is_shown_and_exported_in_16_bits(qtbot, window, tmp_path):
    import cv2

    with Image.open(SAMPLE) as sample:
        rgb8 = np.asarray(sample.convert("RGB"))
    rgb16 = rgb8.astype(np.uint16) * 257 + 3  # not a plain 8-bit copy
    source = tmp_path / "deep.png"
    cv2.imwrite(str(source), cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    (doc,) = window.open_paths([source])
    qtbot.waitUntil(lambda: doc.status in (Status.READY, Status.FAILED), timeout=60000)
    assert doc.status is Status.READY, doc.problem
    assert doc.photo.bit_depth == 16
    assert window.session.worker.wait_until_idle(60)
    assert doc.result is not None and doc.result.width() == 2 * rgb16.shape[1]
    target = tmp_path / "deep_restored.png"
    window.save_current_as(target)
    qtbot.waitUntil(lambda: bool(window.export_results), timeout=60000)
    assert window.export_results[0].written == (target,)
    saved = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
    assert saved.dtype == np.uint16 and saved.shape[:2] == (2 * rgb16.shape[0], 2 * rgb16.shape[1])
