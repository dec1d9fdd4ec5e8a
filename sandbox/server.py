"""Serve a sandbox WSGI app on a loopback port, in a thread or in the foreground.

Tests, the benchmark and ``make demo`` all reach the sandboxes over real HTTP, so
the clients under test cannot tell them from the real services.

The server is a small WSGI server of our own rather than Werkzeug's development
server, for two behaviours of the real services that matter to a sync: connections
stay open between requests (HTTP/1.1 keep-alive; Werkzeug's server closes every
connection, so each request would pay a TCP handshake NetSuite does not charge),
and an app can drop a connection on purpose (fault injection) by raising
``ConnectionAbortedError``: the socket is closed with no response written.
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

LOOPBACK = "127.0.0.1"


class SandboxRequestHandler(BaseHTTPRequestHandler):
    """One connection: requests in a loop until the client closes or the app drops it."""

    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    # Headers and body leave in two writes: with Nagle's algorithm the body would wait for
    # the client's delayed ACK of the headers (~40 ms a response), a delay no real service has.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass  # thousands of sync calls would drown the output

    def _dispatch(self) -> None:
        target, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        # The whole body is read before the app runs, so an answer given without reading
        # it cannot leave bytes on the connection that corrupt the next request.
        body = self.rfile.read(length) if length > 0 else b""
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(target, encoding="latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(length) if length else "",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value

        response: dict = {}

        def start_response(status, headers, exc_info=None):
            response["status"], response["headers"] = status, headers
            return lambda data: response.setdefault("early", []).append(data)

        try:
            chunks = self.server.app(environ, start_response)
            try:
                payload = b"".join([*response.get("early", []), *chunks])
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except ConnectionAbortedError:
            self._drop()
            return
        code, _, reason = response["status"].partition(" ")
        self.send_response_only(int(code), reason)
        names = {name.lower() for name, _ in response["headers"]}
        for name, value in response["headers"]:
            self.send_header(name, value)
        if "date" not in names:
            self.send_header("Date", formatdate(usegmt=True))
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # the client went away


class SandboxServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many parallel callers: a small backlog drops connections under load.
    request_queue_size = 256

    def __init__(self, port: int, app):
        self.app = app
        super().__init__((LOOPBACK, port), SandboxRequestHandler)

    @property
    def server_port(self) -> int:
        return self.server_address[1]


@dataclass
class RunningServer:
    server: SandboxServer
    thread: threading.Thread | None = field(default=None)

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def serve_in_thread(app, port: int = 0) -> RunningServer:
    """Start ``app`` on 127.0.0.1 (port 0 picks a free one) in a daemon thread."""
    server = SandboxServer(port, app)
    # A short poll interval keeps stop() (and so every test teardown) quick.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"sandbox-{server.server_port}",
        daemon=True,
    )
    thread.start()
    return RunningServer(server=server, thread=thread)


def serve_forever(app, port: int) -> None:
    """Serve ``app`` in the foreground until interrupted (the sandboxes' ``__main__``)."""
    server = SandboxServer(port, app)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
