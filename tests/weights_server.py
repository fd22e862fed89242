"""A local HTTP file server on 127.0.0.1 for download tests: Range, cut connections, bad bytes.

Never reaches beyond the loopback interface. Each request is logged (path, Range header, status)
so tests can prove what the client asked for.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(kw_only=True)
class Served:
    """What one request asked for and got."""

    path: str
    range: str | None
    status: int


@dataclass(kw_only=True)
class ServerBehaviour:
    """How the server answers. Tests change it between downloads.

    `cut_after`: with `cuts_left > 0`, a response's body stops after this many bytes and the
    connection is closed (then `cuts_left` drops by one). `corrupt`: one byte in the middle of the
    file is flipped. `ignore_range`: every answer is a 200 with the whole file. `missing`: 404.
    """

    payload: bytes
    cut_after: int = 0
    cuts_left: int = 0
    corrupt: bool = False
    ignore_range: bool = False
    missing: bool = False
    requests: list[Served] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _FileHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        wanted = self.headers.get("Range")
        if self.path.startswith("/release/"):  # like GitHub: releases redirect to storage
            self._log(wanted, 302)
            self.send_response(302)
            self.send_header("Location", "/weights/" + self.path.rsplit("/", 1)[-1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if behaviour.missing:
            self._log(wanted, 404)
            self.send_error(404, "Not Found")
            return
        data = bytearray(behaviour.payload)
        if behaviour.corrupt:
            data[len(data) // 2] ^= 0xFF
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
        if match and not behaviour.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                self._log(wanted, 416)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._log(wanted, 206)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self._log(wanted, 200)
            self.send_response(200)
        body = bytes(data[start:])
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour.cuts_left > 0:
            behaviour.cuts_left -= 1
            self.wfile.write(body[: behaviour.cut_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _log(self, wanted: str | None, status: int) -> None:
        with self.server.lock:
            self.server.behaviour.requests.append(
                Served(path=self.path, range=wanted, status=status)
            )


class _FileHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: ServerBehaviour) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.lock = threading.Lock()


class FileServer:
    """Serves `behaviour.payload` at `url` from a background thread until `stop()`."""

    def __init__(self, behaviour: ServerBehaviour) -> None:
        self.behaviour = behaviour
        self._server = _FileHTTPServer(behaviour)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def redirecting_url(self) -> str:
        """An address that answers 302 to `url`, as GitHub release addresses do."""
        return self.url.replace("/weights/", "/release/")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/weights/test_weights.bin"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
