"""``python -m sandbox.splynx --customers 1000 --seed 1 --port 8802``: a populated Splynx sandbox."""

from __future__ import annotations

import argparse
import json
import time

from sandbox.server import LOOPBACK, serve_forever

from . import SplynxState, build_state, create_app
from .persist import SqliteFile


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.splynx", description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument(
        "--messiness", type=float, default=1.0, help="scale of incomplete customer records (1 = test default)"
    )
    parser.add_argument("--bad-inputs", action="store_true", help="append the deliberately hostile records")
    parser.add_argument(
        "--quirks",
        type=float,
        default=0.0,
        help="scale of real-installation shapes (multi-value contacts...)",
    )
    parser.add_argument("--api-key", help="fixed API key (random when omitted)")
    parser.add_argument("--api-secret", help="fixed API secret (random when omitted)")
    parser.add_argument("--credentials-out", help="write {url, api_key, api_secret} to this JSON file")
    parser.add_argument("--db", help="SQLite file: loaded when it holds data, else filled; kept up to date")
    parser.add_argument("--string-ids", action="store_true", help="print ids as strings like older servers")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    persist = SqliteFile(args.db) if args.db else None
    state = SplynxState(string_ids=args.string_ids)
    if persist is None or not persist.load(state):
        state = build_state(
            args.customers,
            args.seed,
            api_key=args.api_key,
            api_secret=args.api_secret,
            bad_inputs=args.bad_inputs,
            messiness=args.messiness,
            quirks=args.quirks,
            string_ids=args.string_ids,
        )
        if persist is not None:
            persist.save(state, state.tables)
    key = next(iter(state.auth.keys.values()))
    url = f"http://{LOOPBACK}:{args.port}"
    credentials = {"url": url, "api_url": f"{url}/api/2.0/", "api_key": key.key, "api_secret": key.secret}
    if args.credentials_out:
        with open(args.credentials_out, "w", encoding="utf-8") as handle:
            json.dump(credentials, handle, indent=2)
    counts = ", ".join(f"{len(rows)} {name}" for name, rows in state.tables.items() if rows)
    print(f"Splynx sandbox: {counts} (built in {time.perf_counter() - started:.2f}s)")
    print(f"URL:        {url}  (API under /api/2.0/)")
    print(f"API key:    {key.key}")
    print(f"API secret: {key.secret}", flush=True)
    serve_forever(create_app(state, persist), args.port)


if __name__ == "__main__":
    main()
