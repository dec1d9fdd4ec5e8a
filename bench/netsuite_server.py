"""The NetSuite sandbox in its own process, plus the counters endpoint the benchmark reads.

``python -m bench.netsuite_server --port P --latency L --concurrency C --credentials-out F``
serves the sandbox exactly as ``python -m sandbox.netsuite`` does, and also answers
``GET /__sandbox/stats`` (the counters: requests by kind, writes, 429s, peak in-flight) and
``POST /__sandbox/reset`` (zero them). Those two paths are answered before the sandbox
sees the request, so reading the counters never takes a concurrency slot nor counts as a
NetSuite request. Once ``sandbox/netsuite`` serves the same two paths itself, the harness
can start ``python -m sandbox.netsuite`` instead and this module can go.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from werkzeug.wrappers import Response

from sandbox.netsuite import SandboxState, create_app
from sandbox.server import LOOPBACK, serve_forever

STATS_PATH = "/__sandbox/stats"
RESET_PATH = "/__sandbox/reset"


def with_counters(app, state: SandboxState):
    """Wrap the sandbox WSGI app with the two benchmark paths."""

    def wsgi(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == STATS_PATH and method == "GET":
            body = {**state.counters.snapshot(), "concurrency_limit": state.concurrency_limit}
            response = Response(json.dumps(body), content_type="application/json")
        elif path == RESET_PATH and method == "POST":
            state.reset_counters()
            response = Response(status=204)
        else:
            return app(environ, start_response)
        return response(environ, start_response)

    return wsgi


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.netsuite_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    parser.add_argument("--concurrency", type=int, default=5, help="account limit (429 beyond)")
    parser.add_argument("--credentials-out", type=Path, required=True)
    args = parser.parse_args(argv)

    state = SandboxState(latency=args.latency, concurrency_limit=args.concurrency)
    token = state.default_token
    credentials = {
        "base_url": f"http://{LOOPBACK}:{args.port}",
        "account_id": state.account_id,
        "consumer_key": state.consumer_key,
        "consumer_secret": state.consumer_secret,
        "token_id": token.token_id,
        "token_secret": token.token_secret,
    }
    args.credentials_out.write_text(json.dumps(credentials))
    serve_forever(with_counters(create_app(state), state), args.port)


if __name__ == "__main__":
    main()
