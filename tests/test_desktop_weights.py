"""First run and weights: the dialog lists files, sizes and licences; downloads in a thread
from a local 127.0.0.1 server with progress and Cancel; says plainly what to do when offline;
imports a file the user has. The window opens it when the engine reports missing weights."""

from __future__ import annotations

import hashlib
import random
import socket
from dataclasses import replace

import pytest

from core.weights import CATALOGUE, WeightsFile
from desktop.weights_dialog import WeightsDialog
from tests.desktop_support import ScriptedEngine, synthetic_photo, window_factory  # noqa: F401
from tests.weights_server import FileServer, ServerBehaviour

pytestmark = pytest.mark.qt

PAYLOAD = random.Random(3).randbytes(3_000_000)


def entry_for(url: str, payload: bytes = PAYLOAD) -> WeightsFile:
    return WeightsFile(
        key="test-detector",
        filename="test_detector.pth",
        url=url,
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        licence="MIT License (test)",
        licence_url="http://127.0.0.1:9/licence",
        non_commercial=False,
        purpose="synthetic test file",
        kind="detection",
    )


@pytest.fixture
def server():
    file_server = FileServer(ServerBehaviour(payload=PAYLOAD)).start()
    yield file_server
    file_server.stop()


@pytest.fixture
def dialog_for(qtbot, tmp_path):
    def make(files, folder=None):
        dialog = WeightsDialog(files, folder or tmp_path / "weights")
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


def test_lists_files_sizes_and_the_non_commercial_licence(dialog_for):
    codeformer = next(e for e in CATALOGUE if e.key == "codeformer")
    dialog = dialog_for([codeformer])
    row = dialog.table.topLevelItem(0)
    assert row.text(0) == "codeformer.pth"
    assert row.text(2) == "376.6 MB"
    assert "non-commercial" in row.text(3).lower()
    assert row.text(4) == "Missing"
    assert dialog.licence_note.isVisible()
    assert "Non-commercial use only" in dialog.licence_note.text()
    assert dialog.download_button.isEnabled()


def test_download_with_progress_installs_the_file(dialog_for, server, qtbot, tmp_path):
    entry = entry_for(server.url)
    dialog = dialog_for([entry])
    values: list[int] = []
    dialog.progress.valueChanged.connect(values.append)
    with qtbot.waitSignal(dialog.installed, timeout=20000):
        dialog.start_download()
        assert dialog.cancel_button.isVisible()
    assert (tmp_path / "weights" / entry.filename).read_bytes() == PAYLOAD
    assert values and max(values) == 1000
    assert dialog.table.topLevelItem(0).text(4) == "Installed"
    qtbot.waitUntil(lambda: not dialog.cancel_button.isVisible())
    assert not dialog.download_button.isEnabled()


def test_cancel_stops_the_download_and_keeps_the_part(dialog_for, server, qtbot, tmp_path):
    entry = entry_for(server.url)
    dialog = dialog_for([entry])
    dialog.start_download()
    dialog.cancel_download()
    assert dialog.wait_for_download(20000)
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text().lower(), timeout=5000)
    assert not (tmp_path / "weights" / entry.filename).exists()
    assert dialog.download_button.isEnabled()


def test_offline_says_where_to_put_the_files(dialog_for, qtbot, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    entry = entry_for(f"http://127.0.0.1:{port}/weights/test_detector.pth")
    dialog = dialog_for([entry])
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.offline.isVisible(), timeout=20000)
    text = dialog.offline.text()
    assert "offline" in text
    assert str(tmp_path / "weights") in text
    assert entry.url in text
    assert dialog.table.topLevelItem(0).text(4) == "Failed"


def test_choose_a_file_i_already_have(dialog_for, qtbot, tmp_path):
    source = tmp_path / "downloads" / "my_copy.pth"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    entry = entry_for("http://127.0.0.1:9/never")
    dialog = dialog_for([entry])
    with qtbot.waitSignal(dialog.installed, timeout=20000):
        dialog.import_file(source, entry)
    assert (tmp_path / "weights" / entry.filename).read_bytes() == PAYLOAD
    bad = tmp_path / "downloads" / "wrong.pth"
    bad.write_bytes(b"not the file")
    other = replace(entry, key="other", filename="other.pth")
    dialog2 = dialog_for([other])
    dialog2.import_file(bad, other)
    qtbot.waitUntil(lambda: dialog2.offline.isVisible(), timeout=20000)
    assert "cannot be used" in dialog2.offline.text()


def test_window_opens_the_dialog_when_weights_are_missing(window_factory, qtbot, tmp_path):  # noqa: F811
    entry = entry_for("http://127.0.0.1:9/never")
    engine = ScriptedEngine(missing=(entry,))
    window = window_factory(
        lambda s: lambda: engine, weights_folder=tmp_path / "weights", check_weights=True
    )
    qtbot.waitUntil(
        lambda: window._weights_dialog is not None and window._weights_dialog.isVisible(),
        timeout=15000,
    )
    dialog = window._weights_dialog
    assert [f.filename for f in dialog.files] == ["test_detector.pth"]
    assert dialog.isModal() is False
    dialog.close()
    # Later, opening a photo that needs them shows a message bar with the fix, not a new dialog.
    doc = window.session.open_photo(synthetic_photo(), "x.png")
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=15000)
    assert window.message_bar.action.text() in ("Get weights…",)
    assert doc.status.value == "needs weights"
    window.message_bar.action.click()
    assert window._weights_dialog.isVisible()
