"""Downloads against a local 127.0.0.1 server: progress, resume, verification, cleanup, cancel."""

from __future__ import annotations

import hashlib
import itertools
import random
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import DownloadCancelled, DownloadError
from core.weights import WeightsFile, download, part_path, recorded_sha256
from tests.weights_server import FileServer, ServerBehaviour

PAYLOAD = random.Random(7).randbytes(300_000)
CUT = 120_000


def test_entry(payload: bytes = PAYLOAD) -> WeightsFile:
    """A catalogue-like entry for the synthetic file (its address is never used: url= is)."""
    return WeightsFile(
        key="test-file",
        filename="test_weights.bin",
        url="http://127.0.0.1:9/not-used",
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        licence="test",
        licence_url="http://127.0.0.1:9/licence",
        non_commercial=False,
        purpose="synthetic test file",
        kind="detection",
    )


test_entry.__test__ = False  # type: ignore[attr-defined]
ENTRY = test_entry()
UNKNOWN = replace(ENTRY, size=None, sha256=None)


@pytest.fixture
def server() -> Iterator[FileServer]:
    file_server = FileServer(ServerBehaviour(payload=PAYLOAD)).start()
    yield file_server
    file_server.stop()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "weights"


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_no_final(folder: Path, entry: WeightsFile = ENTRY) -> None:
    assert not (folder / entry.filename).exists()


def test_full_download_reports_progress_and_verifies(server: FileServer, folder: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    path = download(ENTRY, folder, url=server.url, progress=lambda d, t: calls.append((d, t)))
    assert path == folder / ENTRY.filename
    assert path.read_bytes() == PAYLOAD
    assert not part_path(ENTRY, folder).exists()
    assert calls[0] == (0, len(PAYLOAD))
    assert calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert len(calls) > 3
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls))
    assert [(r.range, r.status) for r in server.behaviour.requests] == [(None, 200)]


def test_cut_connection_keeps_part_and_next_call_resumes(server: FileServer, folder: Path) -> None:
    server.behaviour.cut_after, server.behaviour.cuts_left = CUT, 1
    with pytest.raises(DownloadError) as error:
        download(ENTRY, folder, url=server.url, retries=0)
    part = part_path(ENTRY, folder)
    assert part.stat().st_size == CUT
    assert str(part) in str(error.value)
    assert "resume" in str(error.value)
    assert_no_final(folder)

    calls: list[tuple[int, int | None]] = []
    path = download(ENTRY, folder, url=server.url, progress=lambda d, t: calls.append((d, t)))
    assert path.read_bytes() == PAYLOAD
    second = server.behaviour.requests[1]
    assert (second.range, second.status) == (f"bytes={CUT}-", 206)
    assert calls[0] == (CUT, len(PAYLOAD))
    assert not part.exists()


def test_resume_follows_a_redirect_with_the_range(server: FileServer, folder: Path) -> None:
    server.behaviour.cut_after, server.behaviour.cuts_left = CUT, 1
    with pytest.raises(DownloadError):
        download(ENTRY, folder, url=server.redirecting_url, retries=0)
    path = download(ENTRY, folder, url=server.redirecting_url)
    assert path.read_bytes() == PAYLOAD
    assert [(r.path.split("/")[1], r.range, r.status) for r in server.behaviour.requests] == [
        ("release", None, 302),
        ("weights", None, 200),
        ("release", f"bytes={CUT}-", 302),
        ("weights", f"bytes={CUT}-", 206),
    ]


def test_one_automatic_retry_resumes_a_cut(server: FileServer, folder: Path) -> None:
    server.behaviour.cut_after, server.behaviour.cuts_left = CUT, 1
    path = download(ENTRY, folder, url=server.url)
    assert path.read_bytes() == PAYLOAD
    assert [r.range for r in server.behaviour.requests] == [None, f"bytes={CUT}-"]


def test_gives_up_after_the_retries(server: FileServer, folder: Path) -> None:
    server.behaviour.cut_after, server.behaviour.cuts_left = 50_000, 10
    with pytest.raises(DownloadError, match="broke off after 100,000 of 300,000 bytes"):
        download(ENTRY, folder, url=server.url, retries=1)
    assert part_path(ENTRY, folder).stat().st_size == 100_000
    assert len(server.behaviour.requests) == 2
    assert_no_final(folder)


def test_corrupted_bytes_delete_the_part_and_raise(server: FileServer, folder: Path) -> None:
    server.behaviour.corrupt = True
    with pytest.raises(DownloadError, match="did not verify") as error:
        download(ENTRY, folder, url=server.url)
    assert server.url in str(error.value)
    assert not part_path(ENTRY, folder).exists()
    assert_no_final(folder)


def test_damaged_part_prefix_is_caught_after_resume(server: FileServer, folder: Path) -> None:
    server.behaviour.cut_after, server.behaviour.cuts_left = CUT, 1
    with pytest.raises(DownloadError):
        download(ENTRY, folder, url=server.url, retries=0)
    part = part_path(ENTRY, folder)
    damaged = bytearray(part.read_bytes())
    damaged[10] ^= 0x01
    part.write_bytes(bytes(damaged))
    with pytest.raises(DownloadError, match="did not verify"):
        download(ENTRY, folder, url=server.url)
    assert server.behaviour.requests[1].range == f"bytes={CUT}-"
    assert not part.exists()
    assert_no_final(folder)


def test_server_ignoring_range_restarts_from_zero(server: FileServer, folder: Path) -> None:
    server.behaviour.cut_after, server.behaviour.cuts_left = CUT, 1
    with pytest.raises(DownloadError):
        download(ENTRY, folder, url=server.url, retries=0)
    server.behaviour.ignore_range = True
    calls: list[tuple[int, int | None]] = []
    path = download(ENTRY, folder, url=server.url, progress=lambda d, t: calls.append((d, t)))
    assert path.read_bytes() == PAYLOAD
    assert (server.behaviour.requests[1].range, server.behaviour.requests[1].status) == (
        f"bytes={CUT}-",
        200,
    )
    assert calls[0] == (0, len(PAYLOAD))


def test_cancel_keeps_the_part_for_resuming(server: FileServer, folder: Path) -> None:
    checks = 0

    def cancel() -> bool:
        nonlocal checks
        checks += 1
        return checks > 2

    with pytest.raises(DownloadCancelled) as error:
        download(ENTRY, folder, url=server.url, cancel=cancel)
    part = part_path(ENTRY, folder)
    kept = part.stat().st_size
    assert 0 < kept < len(PAYLOAD)
    assert str(part) in str(error.value)
    assert_no_final(folder)

    path = download(ENTRY, folder, url=server.url, cancel=lambda: False)
    assert path.read_bytes() == PAYLOAD
    assert server.behaviour.requests[-1].range == f"bytes={kept}-"


def test_offline_error_names_the_address_and_the_folder(folder: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/weights/test_weights.bin"
    with pytest.raises(DownloadError) as error:
        download(ENTRY, folder, url=url, timeout=5)
    message = str(error.value)
    assert url in message
    assert str(folder / ENTRY.filename) in message
    assert "by hand" in message
    assert "codeformer-studio weights import test-file" in message
    assert not part_path(ENTRY, folder).exists()
    assert_no_final(folder)


def test_http_error_names_the_status_and_address(server: FileServer, folder: Path) -> None:
    server.behaviour.missing = True
    with pytest.raises(DownloadError, match="HTTP 404") as error:
        download(ENTRY, folder, url=server.url)
    assert server.url in str(error.value)
    assert_no_final(folder)


def test_a_file_of_another_size_is_refused_before_writing(server: FileServer, folder: Path) -> None:
    other = replace(ENTRY, size=len(PAYLOAD) + 1)
    with pytest.raises(DownloadError, match="offers 300,000 bytes, expected 300,001"):
        download(other, folder, url=server.url)
    assert not part_path(other, folder).exists()
    assert_no_final(folder)


def test_a_verified_file_in_place_needs_no_network(server: FileServer, folder: Path) -> None:
    download(ENTRY, folder, url=server.url)
    offline = f"http://127.0.0.1:{unused_port()}/x"
    assert download(ENTRY, folder, url=offline).read_bytes() == PAYLOAD


def test_a_complete_part_is_verified_without_a_request(server: FileServer, folder: Path) -> None:
    folder.mkdir()
    part_path(ENTRY, folder).write_bytes(PAYLOAD)
    path = download(ENTRY, folder, url=server.url)
    assert path.read_bytes() == PAYLOAD
    assert server.behaviour.requests == []


def test_complete_part_of_unknown_size_is_accepted_on_416(server: FileServer, folder: Path) -> None:
    folder.mkdir()
    part_path(UNKNOWN, folder).write_bytes(PAYLOAD)
    path = download(UNKNOWN, folder, url=server.url)
    assert path.read_bytes() == PAYLOAD
    assert [r.status for r in server.behaviour.requests] == [416]


def test_first_download_records_the_hash_and_later_ones_must_match(
    server: FileServer, folder: Path
) -> None:
    path = download(UNKNOWN, folder, url=server.url)
    assert recorded_sha256(folder, UNKNOWN.filename) == hashlib.sha256(PAYLOAD).hexdigest()
    path.unlink()
    server.behaviour.payload = PAYLOAD[:-1] + b"!"
    with pytest.raises(DownloadError, match="was recorded for the first copy"):
        download(UNKNOWN, folder, url=server.url)
    assert not part_path(UNKNOWN, folder).exists()
    assert_no_final(folder)
