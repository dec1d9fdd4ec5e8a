"""Run the NetSuite sandbox in the foreground: ``python -m sandbox.netsuite --port 8801``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sandbox.server import serve_forever

from . import Faults, SandboxState, create_app, generate_client_keypair
from .profile import PROFILES
from .seed import add_isp_extras


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.netsuite", description=__doc__)
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--account-id", default="1234567_SB1")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every request takes (its processing included)"
    )
    parser.add_argument(
        "--write-latency",
        type=float,
        default=None,
        help="seconds every record write takes (overrides --latency)",
    )
    parser.add_argument("--concurrency", type=int, default=5, help="account concurrency limit (429 beyond)")
    parser.add_argument("--fail-5xx", type=float, default=0.0, help="fraction of requests answered with 500")
    parser.add_argument(
        "--drop", type=float, default=0.0, help="fraction of connections dropped after commit"
    )
    parser.add_argument("--slow", type=float, default=0.0, help="fraction of responses delayed")
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0, help="fault RNG seed")
    parser.add_argument("--customers", type=int, default=0, help="pre-existing customers to seed")
    parser.add_argument(
        "--isp-extras", action="store_true", help="add the voice item and 7.5%% VAT code the demo ISP needs"
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="suitetax-oneworld",
        help="which account to be: SuiteTax or legacy tax, OneWorld or not (sandbox/netsuite/profile.py)",
    )
    parser.add_argument(
        "--upsert-location", choices=("id", "eid"), default="id", help="what Location holds after PUT eid:"
    )
    parser.add_argument(
        "--no-address-book", action="store_true", help="refuse SuiteQL on customers' address books"
    )
    parser.add_argument("--credentials-out", type=Path, help="write credentials (incl. OAuth2 key) as JSON")
    args = parser.parse_args(argv)

    private_pem, public_pem = generate_client_keypair()
    state = SandboxState(
        account_id=args.account_id,
        latency=args.latency,
        write_latency=args.write_latency,
        concurrency_limit=args.concurrency,
        faults=Faults(
            error_5xx=args.fail_5xx,
            drop=args.drop,
            slow=args.slow,
            slow_seconds=args.slow_seconds,
            seed=args.seed,
        ),
        seed_customers=args.customers,
        profile=PROFILES[args.profile].with_(
            upsert_location=args.upsert_location, address_book=not args.no_address_book
        ),
    )
    state.oauth2.public_key_pem = public_pem
    if args.isp_extras:
        add_isp_extras(state.store)
    token = state.default_token
    credentials = {
        "base_url": f"http://127.0.0.1:{args.port}",
        "account_id": state.account_id,
        "consumer_key": state.consumer_key,
        "consumer_secret": state.consumer_secret,
        "token_id": token.token_id,
        "token_secret": token.token_secret,
        "client_id": state.oauth2.client_id,
        "certificate_id": state.oauth2.certificate_id,
        "private_key_pem": private_pem.decode(),
    }
    if args.credentials_out:
        args.credentials_out.write_text(json.dumps(credentials, indent=2))
    shown = {key: value for key, value in credentials.items() if key != "private_key_pem"}
    print(json.dumps(shown, indent=2), flush=True)
    serve_forever(create_app(state), args.port)


if __name__ == "__main__":
    main()
