"""Serve a sandbox WSGI app on a loopback port, in a thread or in the foreground.

Tests, the benchmark and ``make demo`` all reach the sandboxes over real HTTP, so
the clients under test cannot tell them from the real services.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LOOPBACK = "127.0.0.1"


class QuietRequestHandler(WSGIRequestHandler):
    """No access-log line per request: thousands of sync calls would drown the output."""

    def log_request(self, code="-", size="-") -> None:
        pass


@dataclass
class RunningServer:
    server: BaseWSGIServer
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
    """Start ``app`` on 127.0.0.1 (port 0 picks a free one) in a daemon thread.

    The server is threaded so concurrency limits and parallel callers behave
    as they would against the real service.
    """
    server = make_server(LOOPBACK, port, app, threaded=True, request_handler=QuietRequestHandler)
    # Many parallel callers: the default backlog of 5 drops connections under load.
    server.socket.listen(256)
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
    server = make_server(LOOPBACK, port, app, threaded=True, request_handler=QuietRequestHandler)
    server.socket.listen(256)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
