"""Downloading a catalogue file: resumable, verified, atomic and cancellable (urllib only).

Only an explicit call to `download` touches the network. Bytes arrive in `<filename>.part` in the
weights folder; a later call resumes it with an HTTP `Range` request (a server that ignores Range
gets a fresh start). When the transfer is complete the bytes are checked (size, SHA-256 or the
hash recorded at first use) and renamed into place with `os.replace`, so a file under the final
name is always whole and verified. Bytes that do not verify are deleted.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DownloadCancelled, DownloadError
from core.weights.catalogue import WeightsFile
from core.weights.hashing import Cancel, Fingerprint, Progress, fingerprint, update_from_file
from core.weights.verification import mismatch, trust_first_use

if TYPE_CHECKING:
    from hashlib import _Hash

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
USER_AGENT = "CodeFormer-Studio/0.1"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIABLE = re.compile(r"bytes\s+\*/(\d+)")


class _Interrupted(Exception):
    """The connection broke mid-transfer; the `.part` keeps what arrived."""

    def __init__(self, reason: str, done: int, total: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.done = done
        self.total = total


class _Restart(Exception):
    """The server's answer does not continue the `.part`: start again from byte 0."""


def part_path(entry: WeightsFile, folder: str | Path) -> Path:
    """Where the bytes of an unfinished download of `entry` are kept."""
    return Path(folder) / (entry.filename + ".part")


def download(
    entry: WeightsFile,
    folder: str | Path,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    timeout: float = 30.0,
    url: str | None = None,
    retries: int = 1,
) -> Path:
    """Download `entry` into `folder` and return `folder / entry.filename`, verified.

    `progress(done_bytes, total_bytes_or_None)` is called as bytes arrive; `cancel()` is checked
    between chunks and raises DownloadCancelled (the `.part` is kept for resuming). `url`
    replaces the catalogue address (tests use a local server). After a broken connection the
    transfer resumes automatically up to `retries` times; after that a DownloadError says to run
    the download again, which resumes from the `.part`. A file already in place that verifies is
    returned without any network access.

    Raises DownloadError (offline, refused, HTTP error, cut off, or bytes that did not verify:
    the message names the address and where to put a file downloaded by hand) or
    DownloadCancelled.
    """
    folder = Path(folder)
    source = url or entry.url
    final = folder / entry.filename
    if final.is_file() and _already_there(entry, folder, final, cancel):
        log.info("%s is already in %s and verifies", entry.filename, folder)
        return final
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the weights folder {folder}: {exc}") from exc
    part = part_path(entry, folder)
    attempt = 0
    while True:
        try:
            digest = _fetch(entry, source, part, progress, cancel, timeout)
            break
        except _Interrupted as exc:
            if attempt >= retries:
                raise DownloadError(_interrupted_message(entry, folder, source, exc)) from exc
            attempt += 1
            log.warning(
                "download of %s broke off after %s bytes (%s); resuming (retry %s of %s)",
                entry.filename,
                exc.done,
                exc.reason,
                attempt,
                retries,
            )
    _install(entry, folder, part, digest, source)
    return final


def _already_there(entry: WeightsFile, folder: Path, final: Path, cancel: Cancel | None) -> bool:
    found = fingerprint(final, cancel=cancel)
    problem = mismatch(entry, folder, found)
    if problem:
        log.warning("%s does not verify (%s); downloading it again", final, problem)
        return False
    trust_first_use(entry, folder, found)
    return True


def _fetch(
    entry: WeightsFile,
    url: str,
    part: Path,
    progress: Progress | None,
    cancel: Cancel | None,
    timeout: float,
) -> str:
    """Bring `part` to the full file and return the SHA-256 of its bytes."""
    try:
        return _fetch_once(entry, url, part, progress, cancel, timeout)
    except _Restart as exc:
        log.info("%s; starting %s again from byte 0", exc, entry.filename)
        part.unlink(missing_ok=True)
    try:
        return _fetch_once(entry, url, part, progress, cancel, timeout)
    except _Restart as exc:
        part.unlink(missing_ok=True)
        reason = f"the server does not answer like a file server ({exc})"
        raise DownloadError(_unreachable_message(entry, part.parent, url, reason)) from exc


def _fetch_once(
    entry: WeightsFile,
    url: str,
    part: Path,
    progress: Progress | None,
    cancel: Cancel | None,
    timeout: float,
) -> str:
    offset = part.stat().st_size if part.is_file() else 0
    if entry.size is not None and offset > entry.size:
        raise _Restart(f"{part} is longer than {entry.filename}")
    hasher = hashlib.sha256()
    if offset:
        update_from_file(hasher, part, cancel=cancel)
        if offset == entry.size:
            return hasher.hexdigest()
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 416 and offset:
                match = _UNSATISFIABLE.fullmatch(exc.headers.get("Content-Range", "").strip())
                if match and int(match.group(1)) == offset:
                    return hasher.hexdigest()  # the .part already holds every byte
                raise _Restart("the server cannot continue the partial file") from exc
            reason = f"the server answered HTTP {exc.code} {exc.reason}"
        raise DownloadError(_unreachable_message(entry, part.parent, url, reason)) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = _describe(exc, timeout)
        raise DownloadError(_unreachable_message(entry, part.parent, url, reason)) from exc
    with response:
        total = _expected_total(entry, url, part, response, offset)
        if response.status == 200 and offset:
            log.info("%s ignored the Range request; starting again from byte 0", url)
            offset = 0
            hasher = hashlib.sha256()
        _receive(entry, url, part, response, hasher, offset, total, progress, cancel)
    return hasher.hexdigest()


def _expected_total(
    entry: WeightsFile,
    url: str,
    part: Path,
    response: http.client.HTTPResponse,
    offset: int,
) -> int | None:
    """The size of the whole file as the server announces it (None when it does not say)."""
    total: int | None
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if not match or int(match.group(1)) != offset:
            raise _Restart(f"{url} answered with another byte range than asked for")
        total = None if match.group(3) == "*" else int(match.group(3))
    elif response.status == 200:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
    else:
        raise DownloadError(
            _unreachable_message(
                entry, part.parent, url, f"unexpected answer HTTP {response.status}"
            )
        )
    if total is not None and entry.size is not None and total != entry.size:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"The bytes offered at {url} did not verify as {entry.filename}: the server offers "
            f"{total:,} bytes, expected {entry.size:,}. Nothing was kept. The file at that "
            "address is not the one this app knows."
        )
    return total if total is not None else entry.size


def _receive(
    entry: WeightsFile,
    url: str,
    part: Path,
    response: http.client.HTTPResponse,
    hasher: _Hash,
    offset: int,
    total: int | None,
    progress: Progress | None,
    cancel: Cancel | None,
) -> None:
    """Append the body to `part` (truncated first when `offset` is 0), hashing as it goes."""
    done = offset
    with part.open("ab" if offset else "wb") as handle:
        if progress is not None:
            progress(done, total)
        while True:
            if cancel is not None and cancel():
                raise DownloadCancelled(
                    f"The download of {entry.filename} was cancelled; the {done:,} bytes that "
                    f"arrived are kept in {part} and the next download resumes from there."
                )
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _Interrupted(_describe(exc, None), done, total) from exc
            if not chunk:
                break
            if total is not None and done + len(chunk) > total:
                handle.close()
                part.unlink(missing_ok=True)
                raise DownloadError(
                    f"The bytes downloaded from {url} did not verify as {entry.filename}: the "
                    f"server sent more than {total:,} bytes. The partial file was deleted."
                )
            try:
                handle.write(chunk)
            except OSError as exc:
                raise DownloadError(f"cannot write {part}: {exc}") from exc
            hasher.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        handle.flush()
        os.fsync(handle.fileno())
    if total is not None and done < total:
        raise _Interrupted("the connection closed early", done, total)


def _install(entry: WeightsFile, folder: Path, part: Path, digest: str, url: str) -> None:
    """Check the finished `.part` and rename it into place; delete it if it does not verify."""
    found = Fingerprint(size=part.stat().st_size, sha256=digest)
    problem = mismatch(entry, folder, found)
    if problem:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"The bytes downloaded from {url} did not verify as {entry.filename}: {problem}. "
            "The partial file was deleted; download it again. If this repeats, the file at "
            "that address is not the one this app knows."
        )
    os.replace(part, folder / entry.filename)
    trust_first_use(entry, folder, found)
    log.info("downloaded %s (%s bytes) into %s", entry.filename, found.size, folder)


def _describe(exc: BaseException, timeout: float | None) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return "the server's name could not be resolved (is this computer offline?)"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s" if timeout else "the connection timed out"
    if isinstance(reason, ConnectionResetError):
        return "the connection was reset"
    return str(reason) or type(reason).__name__


def _unreachable_message(entry: WeightsFile, folder: Path, url: str, reason: str) -> str:
    return (
        f"Could not download {entry.filename} from {url}: {reason}. "
        f"You may download it by hand and put it at {folder / entry.filename}, "
        f"or import it with `codeformer-studio weights import {entry.key} FILE`."
    )


def _interrupted_message(entry: WeightsFile, folder: Path, url: str, exc: _Interrupted) -> str:
    of_total = f" of {exc.total:,}" if exc.total is not None else ""
    return (
        f"The download of {entry.filename} from {url} broke off after {exc.done:,}{of_total} "
        f"bytes ({exc.reason}). What arrived is kept in {part_path(entry, folder)}; run "
        f"`codeformer-studio weights download {entry.key}` again to resume, or download it by "
        f"hand and put it at {folder / entry.filename}."
    )


__all__ = ["download", "part_path"]
