"""Ways to take a service away in the middle of a run and give it back.

``TcpProxy`` stands between the add-on and a TCP service (Redis here): ``cut()`` closes every
open connection and refuses new ones, ``restore()`` accepts again. ``DatabaseOutage`` does the
same to the database the test already uses: on SQLite another connection holds an exclusive
lock past the driver's busy timeout; on PostgreSQL the database refuses connections and this process's sessions are ended.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class TcpProxy:
    """A loopback TCP proxy to ``target`` that can be cut and restored."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.available = threading.Event()
        self.available.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.available.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.available.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.available.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


class DatabaseOutage:
    """Takes the test database away from this process until ``end()`` (see module doc)."""

    def __init__(self, database_url: str):
        self.url = make_url(database_url)
        self.started = threading.Event()
        self._holder: sqlite3.Connection | None = None

    def begin(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            # Held until end(): every statement of the run fails as 'database is locked'
            # once pysqlite's busy timeout runs out.
            self._holder = sqlite3.connect(
                self.url.database, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._holder.execute("BEGIN EXCLUSIVE")
        else:
            # The database refuses new connections until end(), and ours are cut: a pool
            # that reconnects (pre-ping) finds no database, as in a real outage.
            self._allow_connections(False)
            self._terminate_our_sessions()
        self.started.set()

    def end(self) -> None:
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None
        elif self.started.is_set():
            self._allow_connections(True)

    def _allow_connections(self, allowed: bool) -> None:
        # From the maintenance database: the test database may refuse us meanwhile.
        admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                text(f'ALTER DATABASE "{self.url.database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
        admin.dispose()

    def _terminate_our_sessions(self) -> None:
        # Only this process's connections: other suites may share the server.
        ports = {
            c.laddr.port
            for c in psutil.Process().net_connections(kind="tcp")
            if c.raddr and c.raddr.port == (self.url.port or 5432)
        }
        admin = create_engine(self.url.set(database="postgres"))
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid() AND client_port = ANY(:ports)"
                ),
                {"ports": sorted(ports), "name": self.url.database},
            )
        admin.dispose()


def when_writes_reach(state, writes: int, action) -> threading.Thread:
    """Run ``action()`` in a thread once the NetSuite sandbox has taken ``writes`` writes."""

    def watch() -> None:
        while state.counters.writes < writes:
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
