"""The session keeps the analyses of all open photos within a memory budget: the ones shown
longest ago are set aside and made again, with the same face choices, when shown again."""

from __future__ import annotations

import pytest

from desktop.document import Status
from desktop.filmstrip import status_text
from desktop.jobs import FaceOptions
from desktop.session import Session
from tests.desktop_support import ScriptedEngine, make_session, synthetic_photo

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
    s.set_face_options(first, 1, FaceOptions(enabled=False))
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
    assert first.face_options[1] == FaceOptions(enabled=False)
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
