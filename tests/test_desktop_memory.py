"""The session keeps the analyses of all open photos within a memory budget: the ones shown
longest ago are set aside and made again, with the same face choices, when shown again."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from core.choices import FaceChoice
from desktop.document import Status
from desktop.filmstrip import status_text
from desktop.session import Session
from tests.desktop_support import ScriptedEngine, make_session, run_app_script, synthetic_photo

pytestmark = pytest.mark.qt

PHOTO = synthetic_photo()
ONE_ANALYSIS = PHOTO.rgb8().nbytes + 2 * 16 * 16 * 3  # background + two scripted face crops


@pytest.fixture
def session(qtbot):
    made: list[Session] = []

    def make(engine: ScriptedEngine, budget: int) -> Session:
        made.append(make_session(engine, analysis_budget=budget))
        return made[-1]

    yield make
    for s in made:
        s.shutdown()


def open_and_wait(qtbot, session: Session, name: str):
    doc = session.open_photo(synthetic_photo(), name)
    qtbot.waitUntil(lambda: doc.status is Status.READY and doc.analysis is not None, timeout=15000)
    assert session.worker.wait_until_idle(10)
    return doc


def test_analyses_beyond_the_budget_are_set_aside_oldest_first(qtbot, session) -> None:
    engine = ScriptedEngine(faces=2)
    s = session(engine, budget=2 * ONE_ANALYSIS)
    first, second, third = (open_and_wait(qtbot, s, f"{n}.png") for n in ("a", "b", "c"))
    assert s.current is third
    assert first.analysis is None and first.task.set_aside  # shown longest ago
    assert second.analysis is not None and third.analysis is not None
    assert s.analyses_nbytes() == 2 * ONE_ANALYSIS
    # What the user saw of it stays: the result, the face count in the filmstrip.
    assert first.result is not None and first.status is Status.READY
    assert first.face_count == 2 and status_text(first) == "Ready · 2 faces"


def test_a_photo_set_aside_is_analysed_again_when_shown_with_its_face_choices(
    qtbot, session
) -> None:
    engine = ScriptedEngine(faces=2)
    s = session(engine, budget=ONE_ANALYSIS)  # room for the photo on screen only
    first = open_and_wait(qtbot, s, "a.png")
    s.set_face_options(first, 1, FaceChoice(enabled=False))
    assert s.worker.wait_until_idle(10)
    shown = first.result
    second = open_and_wait(qtbot, s, "b.png")
    assert first.task.set_aside and second.analysis is not None
    analyses = len(engine.calls_of("analyze"))

    s.set_current(first)
    assert first.result is shown  # the last result stays on screen meanwhile
    qtbot.waitUntil(lambda: first.analysis is not None, timeout=15000)
    assert s.worker.wait_until_idle(10)
    assert len(engine.calls_of("analyze")) == analyses + 1
    assert not first.task.set_aside
    assert first.face_options[1] == FaceChoice(enabled=False)
    last_render = engine.calls_of("render")[-1]
    assert last_render.choices is not None and not last_render.choices[1].enabled
    assert second.task.set_aside  # now it is the one shown longest ago


def test_the_photo_on_screen_keeps_its_analysis_even_over_the_budget(qtbot, session) -> None:
    engine = ScriptedEngine(faces=1)
    s = session(engine, budget=1)
    doc = open_and_wait(qtbot, s, "a.png")
    s.set_fidelity(0.8)
    assert s.worker.wait_until_idle(10)
    assert doc.analysis is not None and doc.result_fidelity == pytest.approx(0.8)
    assert len(engine.calls_of("analyze")) == 1


def test_within_the_budget_nothing_is_set_aside(qtbot, session) -> None:
    engine = ScriptedEngine(faces=1)
    s = session(engine, budget=100 * ONE_ANALYSIS)
    docs = [open_and_wait(qtbot, s, f"{n}.png") for n in range(3)]
    s.set_current(docs[0])
    assert s.worker.wait_until_idle(10)
    assert all(d.analysis is not None and not d.task.set_aside for d in docs)
    assert len(engine.calls_of("analyze")) == 3


def test_exporting_a_photo_set_aside_analyses_it_for_the_export(qtbot, session, tmp_path):
    engine = ScriptedEngine(faces=1)
    s = session(engine, budget=ONE_ANALYSIS)
    first = open_and_wait(qtbot, s, "a.png")
    open_and_wait(qtbot, s, "b.png")
    assert first.task.set_aside
    target = s.export_target(first, tmp_path / "a-restored.png")
    assert target.analysis is None  # the worker analyses it (and keeps nothing afterwards)
    assert target.photo is first.photo


SLIDER_SESSION = """
import os, sys, time
from desktop.app import create_window, make_application
from desktop.settings import SettingsStore, StudioSettings

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

app = make_application()
store = SettingsStore()
store.save(StudioSettings(model_file=sys.argv[1], prefetch=False, upscale=2))
window = create_window([sys.argv[2]], store=store)
session = window.session

def wait_shown(value=None):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        app.processEvents()
        doc = session.current
        if doc is not None and doc.result is not None and not doc.render_pending:
            if value is None or abs(doc.result_fidelity - value) < 1e-6:
                return doc
        time.sleep(0.002)
    raise SystemExit("no result in time")

doc = wait_shown()
assert doc.face_count == 2, doc.face_count
marks = []
for i in range(40):
    value = round(0.01 + ((i * 7) % 97) * 0.01, 2)
    session.set_fidelity(value)
    wait_shown(value)
    marks.append(rss_mb())
print("RSS", " ".join(f"{m:.0f}" for m in marks))
session.shutdown()
window.close()
print("OK")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_stays_flat_over_a_long_slider_session(tmp_path):
    """The real window, worker and engine (a tiny network of the official layout, faces found by
    the built-in detector) through 40 new fidelities of a 2x-upscaled photo: once the render
    cache is full (16 results), the process does not grow."""
    from core.net.config import RESTORATION, tiny_config
    from core.synthetic import write_checkpoint
    from tests.faces_support import read_rgb

    model = write_checkpoint(tmp_path / "mine.pth", tiny_config(RESTORATION))
    canvas = np.full((700, 1100, 3), 120, np.uint8)
    canvas[0:512, 0:512] = read_rgb("astronaut.png")
    canvas[100:700, 560:1072] = read_rgb("grace_hopper.jpg")
    photo = tmp_path / "pair.png"
    cv2.imwrite(str(photo), canvas[..., ::-1])
    script = SLIDER_SESSION.replace("sys.argv[1]", repr(str(model)))
    script = script.replace("sys.argv[2]", repr(str(photo)))
    done = run_app_script(script, tmp_path)
    assert done.stdout.strip().endswith("OK"), done.stdout + done.stderr
    marks = [float(v) for v in done.stdout.split("RSS", 1)[1].split("\n", 1)[0].split()]
    settled, last = marks[19], max(marks[20:])
    assert last - settled < 64, f"grew {last - settled:.0f} MB over 20 values: {marks}"
