"""Photos from disk: opening files and folders (drop, command line, recent), broken files, the
sample photo, and exports: Save, Save as, Export all (metadata kept, never overwriting silently,
one failure does not stop the others, cancel)."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QPushButton

from desktop import export_dialog
from desktop.document import Status
from desktop.export_dialog import Existing, ExportOptions
from desktop.settings import StudioSettings
from tests.desktop_support import ROOT, ScriptedEngine, run_app_script, window_factory  # noqa: F401

pytestmark = pytest.mark.qt

ARTIST = 0x013B


def write_jpeg(path: Path, seed: int = 0, size=(64, 48)) -> Path:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ARTIST] = "Great-grandmother's album"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(pixels).save(path, quality=90, exif=exif.tobytes(), icc_profile=icc)
    return path


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine(faces=1)


@pytest.fixture
def window(window_factory, engine):  # noqa: F811
    return window_factory(lambda s: lambda: engine, settings=StudioSettings(upscale=1))


def wait_ready(qtbot, window, docs):
    qtbot.waitUntil(lambda: all(d.status is Status.READY for d in docs), timeout=20000)
    assert window.session.worker.wait_until_idle(10)


def wait_exported(qtbot, window, count: int = 1):
    qtbot.waitUntil(lambda: len(window.export_results) >= count, timeout=20000)
    return window.export_results[count - 1]


def test_open_files_and_folders(qtbot, window, tmp_path):
    folder = tmp_path / "album"
    folder.mkdir()
    write_jpeg(folder / "2.jpg", 2)
    write_jpeg(folder / "10.jpg", 10)
    (folder / "notes.txt").write_text("not a photo")
    single = write_jpeg(tmp_path / "single.jpg", 1)
    docs = window.open_paths([folder, single])
    assert [d.name for d in docs] == ["2.jpg", "10.jpg", "single.jpg"]
    wait_ready(qtbot, window, docs)
    assert window.filmstrip.model().rowCount() == 3
    assert docs[0] is window.session.current
    assert window.open_paths([single]) == [docs[2]]  # already open: not opened twice
    assert len(window.session.documents) == 3
    assert str(single) in window.store.recent_files()
    assert [a.text() for a in window.recent_menu.actions()][:2] == ["single.jpg", "album"]


def test_drop_files(qtbot, window, tmp_path):
    photo = write_jpeg(tmp_path / "dropped.jpg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    doc = window.session.current
    assert doc is not None and doc.name == "dropped.jpg"
    wait_ready(qtbot, window, [doc])


def test_broken_file_fails_with_a_clear_message_and_can_be_removed(qtbot, window, tmp_path):
    good = write_jpeg(tmp_path / "good.jpg")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    docs = window.open_paths([broken, good])
    qtbot.waitUntil(lambda: docs[0].status is Status.FAILED, timeout=10000)
    wait_ready(qtbot, window, [docs[1]])
    assert window.message_bar.isVisible()
    assert "broken.jpg" in window.message_bar.text.text()
    assert window.message_bar.action.text() == "Remove photo"
    window.message_bar.action.click()
    assert [d.name for d in window.session.documents] == ["good.jpg"]


def test_sample_photo(qtbot, window):
    docs = window.open_sample()
    assert docs[0].name == "sample_old_photo.jpg"
    wait_ready(qtbot, window, docs)
    assert docs[0].photo.width == 256 and docs[0].photo.height == 300
    assert window.store.recent_files() == []  # the bundled sample is not a recent file
    assert window.saver.own_folder(docs[0]) is None  # never saved into the app's resources


def test_save_keeps_metadata_and_renders_exactly(qtbot, window, engine, tmp_path):
    source = write_jpeg(tmp_path / "grandma.jpg")
    (doc,) = window.open_paths([source])
    wait_ready(qtbot, window, [doc])
    window.actions_.save.trigger()
    result = wait_exported(qtbot, window)
    target = tmp_path / "grandma_restored.jpg"
    assert result.written == (target,) and not result.failed
    with Image.open(target) as saved:
        assert saved.format == "JPEG"
        assert saved.getexif()[ARTIST] == "Great-grandmother's album"
        assert saved.info.get("icc_profile")
        assert saved.size == (64, 48)
    assert engine.calls_of("render")[-1].exact  # exports in full precision
    assert source.read_bytes()[:2] == b"\xff\xd8"  # the original is untouched


def test_save_never_overwrites_silently(qtbot, window, tmp_path, monkeypatch):
    source = write_jpeg(tmp_path / "photo.jpg")
    existing = tmp_path / "photo_restored.jpg"
    existing.write_bytes(b"precious")
    (doc,) = window.open_paths([source])
    wait_ready(qtbot, window, [doc])
    answers = [Existing.CANCEL, Existing.KEEP_BOTH, Existing.REPLACE]
    asked: list[list[Path]] = []

    def ask(parent, paths):
        asked.append(list(paths))
        return answers.pop(0)

    monkeypatch.setattr(export_dialog, "ask_existing", ask)
    assert window.save_current() is None  # cancelled
    assert existing.read_bytes() == b"precious"
    window.save_current()  # keep both
    first = wait_exported(qtbot, window, 1)
    assert first.written == (tmp_path / "photo_restored (2).jpg",)
    assert existing.read_bytes() == b"precious"
    window.save_current()  # replace, after asking
    second = wait_exported(qtbot, window, 2)
    assert second.written == (existing,)
    assert existing.read_bytes()[:2] == b"\xff\xd8"
    assert asked == [[existing]] * 3


def test_save_as_png_and_asks_before_replacing(qtbot, window, tmp_path, monkeypatch):
    (doc,) = window.open_paths([write_jpeg(tmp_path / "a.jpg")])
    wait_ready(qtbot, window, [doc])
    target = tmp_path / "out.png"
    window.save_current_as(target)
    assert wait_exported(qtbot, window).written == (target,)
    with Image.open(target) as saved:
        assert saved.format == "PNG"
    monkeypatch.setattr(export_dialog, "ask_existing", lambda parent, paths: Existing.CANCEL)
    before = target.read_bytes()
    assert window.save_current_as(target) is None
    assert target.read_bytes() == before


def test_export_all_goes_on_after_a_failure(qtbot, window, tmp_path, monkeypatch):
    docs = window.open_paths([write_jpeg(tmp_path / f"{n}.jpg", i) for i, n in enumerate("abc")])
    wait_ready(qtbot, window, docs)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b_fixed.png").mkdir()  # something that cannot be replaced by a file
    monkeypatch.setattr(export_dialog, "ask_existing", lambda parent, paths: Existing.REPLACE)
    options = ExportOptions(
        format_setting="png",
        quality=90,
        folder=out,
        pattern="{name}{suffix}",
        suffix="_fixed",
        keep_metadata=True,
    )
    window.export_all(options)
    assert window.saver.progress_dialog is not None and window.saver.progress_dialog.isVisible()
    result = wait_exported(qtbot, window)
    assert sorted(p.name for p in result.written) == ["a_fixed.png", "c_fixed.png"]
    assert [name for name, _ in result.failed] == ["b.jpg"]
    assert "folder" in result.failed[0][1].message
    assert window.message_bar.isVisible() and "1 failed" in window.message_bar.text.text()
    assert window.saver.progress_dialog is None


def test_exports_at_the_preview_precision_when_the_user_chooses_it(qtbot, window, engine, tmp_path):
    docs = window.open_paths([write_jpeg(tmp_path / f"{n}.jpg", i) for i, n in enumerate("ab")])
    wait_ready(qtbot, window, docs)
    out = tmp_path / "out"
    out.mkdir()
    fast = dataclasses.replace(
        ExportOptions.from_settings(window.session.settings), folder=out, full_precision=False
    )
    assert fast.as_settings(window.session.settings).export_full_precision is False
    before = len(engine.calls_of("render"))
    window.export_all(fast)
    result = wait_exported(qtbot, window)
    assert sorted(p.name for p in result.written) == ["a_restored.jpg", "b_restored.jpg"]
    at_the_slider = window.session.fidelity  # (idle prefetch renders other values)
    exports = [c for c in engine.calls_of("render")[before:] if c.fidelity == at_the_slider]
    assert len(exports) == 2 and not any(call.exact for call in exports)
    # The default stays full precision.
    assert ExportOptions.from_settings(window.session.settings).full_precision


def test_export_all_can_be_cancelled(qtbot, window, engine, tmp_path):
    docs = window.open_paths([write_jpeg(tmp_path / f"p{n}.jpg", n) for n in range(4)])
    wait_ready(qtbot, window, docs)
    engine.render_face_seconds = 0.3
    options = dataclasses.replace(
        ExportOptions.from_settings(window.session.settings), folder=tmp_path / "out"
    )
    (tmp_path / "out").mkdir()
    window.export_all(options)
    qtbot.waitUntil(lambda: engine.calls_of("render")[-1].exact, timeout=5000)
    window.saver.progress_dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    result = wait_exported(qtbot, window)
    assert result.cancelled
    assert len(result.written) < 4
    assert len(list((tmp_path / "out").iterdir())) == len(result.written)  # no partial files


def test_command_line_paths_open_after_the_window_shows(qtbot, tmp_path, engine):
    from desktop.app import create_window

    photo = write_jpeg(tmp_path / "cli.jpg")
    window = create_window(
        [str(photo)], engine_factory_for=lambda s: lambda: engine, check_weights=False
    )
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.session.current is not None, timeout=10000)
        wait_ready(qtbot, window, [window.session.current])
        assert window.session.current.name == "cli.jpg"
    finally:
        window.close()


def test_torch_is_not_imported_before_the_window_is_shown(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from desktop.app import create_window, make_application
        app = make_application()
        window = create_window([], check_weights=True)  # shows the window, then starts work
        shown_without_torch = window.isVisible() and "torch" not in sys.modules
        app.processEvents()
        window.close()
        print("OK" if shown_without_torch else "TORCH-LOADED")
        """
    )
    done = run_app_script(script, tmp_path)
    assert done.stdout.strip().endswith("OK"), done.stdout + done.stderr


def test_model_option_opens_the_window_with_that_model(qtbot, tmp_path, engine):
    from desktop.app import create_window
    from desktop.launcher import window_arguments

    own = tmp_path / "fine tuned.pth"
    photo = write_jpeg(tmp_path / "cli.jpg")
    model, paths = window_arguments(["--model", str(own), str(photo)])
    assert (model, paths) == (str(own), [str(photo)])
    assert window_arguments([f"--model={own}"]) == (str(own), [])
    with pytest.raises(SystemExit, match="--model needs"):
        window_arguments(["--model"])
    built: list[str] = []

    def factory_for(settings):
        built.append(settings.model_file)
        return lambda: engine

    window = create_window(paths, engine_factory_for=factory_for, check_weights=False, model=model)
    qtbot.addWidget(window)
    try:
        assert built == [str(own)], "the engine is built with the user's model file"
        assert window.model_status.text() == "Model: fine tuned.pth"
        qtbot.waitUntil(lambda: window.session.current is not None, timeout=10000)
    finally:
        window.close()
