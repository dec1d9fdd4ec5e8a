"""``make demo``: both sandboxes, a generated ISP, a full sync, then the admin pages.

Everything runs on the embedded defaults: SQLite in the demo folder, jobs
in-process, the sandboxes on loopback threads. The add-on is configured
exactly as an operator would configure it for real accounts.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from decimal import Decimal
from pathlib import Path

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


def write_cli_env(path: Path, variables: dict[str, str]) -> None:
    """The demo's settings where ``flask`` finds them (a ``.flaskenv``, read through python-dotenv),
    so ``flask netsuite ...`` works on the demo's database and secrets without extra variables."""
    lines = ["# Written by `make demo`: the flask CLI uses the demo. Delete this file to stop that."]
    lines += [f"{name}={value}" for name, value in variables.items()]
    path.write_text("\n".join(lines) + "\n")


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, preferred))
            return preferred
        except OSError:
            probe.bind((LOOPBACK, 0))
            return probe.getsockname()[1]


DEMO_TOKEN_SECONDS = 20


def start_sandboxes(customers: int, seed: int, latency: float, concurrency: int):
    from addon.netsuite.certificates import generate as generate_certificate
    from sandbox.netsuite import PROFILES, SandboxState
    from sandbox.netsuite import create_app as netsuite_app
    from sandbox.netsuite.seed import add_isp_extras
    from sandbox.server import serve_in_thread
    from sandbox.splynx import build_state
    from sandbox.splynx import create_app as splynx_app

    # A SuiteTax + OneWorld account: what REST needs for tax (docs/netsuite-accounts.md).
    netsuite_state = SandboxState(
        latency=latency,
        concurrency_limit=concurrency,
        seed_customers=5,
        profile=PROFILES["suitetax-oneworld"],
    )
    add_isp_extras(netsuite_state.store)
    netsuite = serve_in_thread(netsuite_app(netsuite_state), free_port(8801))
    splynx_state = build_state(customers, seed, bad_inputs=True, messiness=0.25, quirks=1.0)
    splynx = serve_in_thread(splynx_app(splynx_state), free_port(8802))
    key = next(iter(splynx_state.auth.keys.values()))
    # OAuth 2.0 client credentials, as a new integration must use: a key pair made by the add-on,
    # its certificate mapped in the sandbox, and access tokens short-lived enough to be renewed
    # during the demo's sync.
    private_key, certificate = generate_certificate("ec-p256", common_name="netsuite-sync demo")
    netsuite_state.oauth2.public_key_pem = certificate.encode()
    netsuite_state.oauth2.access_token_ttl = DEMO_TOKEN_SECONDS
    return {
        "netsuite_account_id": netsuite_state.account_id,
        "netsuite_auth_mode": "oauth2",
        "netsuite_client_id": netsuite_state.oauth2.client_id,
        "netsuite_certificate_id": netsuite_state.oauth2.certificate_id,
        "netsuite_private_key": private_key,
        "netsuite_base_url": netsuite.url,
        "netsuite_concurrency": max(1, concurrency - 1),
        # The generated ISP bills in the account's base currency, as an accountant would set it.
        "display_currency": "USD",
        "splynx_url": splynx.url,
        "splynx_api_key": key.key,
        "splynx_api_secret": key.secret,
    }, splynx_state


def token_requests(values: dict) -> int:
    """How many tokens the sandbox issued, from its harness counters."""
    import json
    from urllib.request import urlopen

    with urlopen(values["netsuite_base_url"] + "/__sandbox/stats") as answer:  # noqa: S310 (loopback)
        return json.load(answer)["requests"].get("POST token", 0)


def admin_credentials(folder: Path) -> tuple[str, str]:
    """One demo admin whose password is kept in the demo folder across restarts."""
    stored = folder / "admin-password"
    if not stored.exists():
        stored.write_text(secrets.token_urlsafe(12))
        stored.chmod(0o600)
    return "admin", stored.read_text().strip()


def map_remaining_by_name(echo) -> None:
    """What an accountant does after 'Load mappings' and 'Auto-map categories'.

    Choose the subsidiary new customers belong to (the parent company) and the
    rounding item, map the categories auto-map left open onto the item whose name
    begins with theirs, tax rates by percentage, and payment methods onto the bank accounts.
    """
    from sqlalchemy import select

    from addon import settings
    from addon.extension import session
    from addon.models import ListCache
    from addon.sync.context import SyncContext
    from addon.sync.mappings import mapping_rows, save_mapping

    subsidiaries = (
        session()
        .scalars(select(ListCache).where(ListCache.kind == "subsidiary").order_by(ListCache.id))
        .all()
    )
    if subsidiaries and not settings.get("subsidiary"):
        settings.put("subsidiary", subsidiaries[0].netsuite_id)
        echo(f"new customers go to subsidiary {subsidiaries[0].name!r}")
    items = session().scalars(select(ListCache).where(ListCache.kind == "item")).all()
    rounding = next((item for item in items if item.name.lower() == "rounding"), None)
    if rounding is not None:
        settings.put("rounding_item", rounding.netsuite_id)
    for row in mapping_rows("category"):
        match = next(
            (i for i in items if row.unmapped and i.name.lower().startswith(row.billing_name.lower())), None
        )
        if match is not None:
            save_mapping("category", row.billing_id, match.netsuite_id, billing_name=row.billing_name)
    billing = SyncContext.from_settings().billing
    tax_codes = session().scalars(select(ListCache).where(ListCache.kind == "tax_code")).all()
    for tax in billing.tax_rates():
        rate = Decimal(str(tax.rate)).normalize()
        code = next(
            (
                c
                for c in tax_codes
                if f"{rate:f}%" in c.name  # normalize() writes 20 as 2E+1
                or Decimal(str((c.extra or {}).get("rate", "-1")).rstrip("%") or "-1").normalize() == rate
            ),
            None,
        )
        if code is not None:
            save_mapping("tax_rate", str(tax.id), code.netsuite_id)
    banks = (
        session()
        .scalars(select(ListCache).where(ListCache.kind == "bank_account").order_by(ListCache.id))
        .all()
    )
    if banks:
        save_mapping("default_bank_account", "", banks[0].netsuite_id)
        for index, method in enumerate(billing.payment_methods()):
            save_mapping("payment_method", str(method.id), banks[index % len(banks)].netsuite_id)
    echo("mapped tax rates by percentage and payment methods onto NetSuite bank accounts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path("instance/demo"))
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.01, help="NetSuite sandbox latency per request")
    parser.add_argument("--concurrency", type=int, default=5, help="NetSuite sandbox concurrency limit")
    parser.add_argument("--port", type=int, default=5000, help="port of the admin pages")
    parser.add_argument(
        "--env-file",
        type=Path,
        default=ROOT / ".flaskenv",
        help="where to write the settings the flask CLI reads (default: .flaskenv in the project)",
    )
    parser.add_argument("--no-serve", action="store_true", help="stop after the sync (for tests and CI)")
    args = parser.parse_args(argv)

    if not args.no_serve and port_taken(args.port):
        # Said before the sync, not after it: choosing another port is the user's call.
        print(
            f"Port {args.port} is already in use on {LOOPBACK} (another demo or program listens there).\n"
            f"Stop it, or choose another port: make demo PORT=5050 (python -m demo --port 5050).",
            file=sys.stderr,
        )
        return 2
    folder = args.dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo.sqlite"
    database.unlink(missing_ok=True)  # every demo starts from a fresh ISP
    cli_env = {
        "FLASK_APP": "wsgi:create_app",
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": f"sqlite:///{database}",
        "SESSION_COOKIE_SECURE": "0",  # plain http on 127.0.0.1
    }
    os.environ.update(cli_env)
    os.environ.pop("REDIS_URL", None)
    write_cli_env(args.env_file, cli_env)

    def echo(line: str = "") -> None:
        print(line, flush=True)

    echo(f"Starting the NetSuite and Splynx sandboxes with a generated ISP of {args.customers} customers…")
    values, splynx_state = start_sandboxes(args.customers, args.seed, args.latency, args.concurrency)
    # Reconcile the whole generated history: 18 months up to the dataset's reference date.
    period_end = splynx_state.dataset.reference_date
    period = {
        "date_from": period_end.replace(year=period_end.year - 2).isoformat(),
        "date_to": period_end.isoformat(),
    }

    from flask_migrate import upgrade

    from addon import settings
    from addon.cli import exit_code_for, run_with_progress_bar
    from addon.sync.report import format_result, format_run
    from portal.auth import create_admin
    from wsgi import create_app

    app = create_app()
    with app.app_context():
        upgrade()
        username, password = admin_credentials(folder)
        create_admin(username, password)
        settings.put_many(values)
        worst = 0
        for step, params in (("load_mappings", {}), ("automap_categories", {})):
            run = run_with_progress_bar(step, dry_run=False, params=params)
            echo(format_run(run))
            worst = max(worst, exit_code_for(run))
        map_remaining_by_name(echo)
        run = run_with_progress_bar("sync", dry_run=False, params={})
        echo(format_run(run))
        echo(
            f"  OAuth 2.0 access tokens issued (each lives {DEMO_TOKEN_SECONDS} s): {token_requests(values)}"
        )
        echo("(failed and skipped records are the generator's deliberately bad inputs; see Problems)")
        reconciliation = run_with_progress_bar("reconcile", dry_run=False, params=period)
        echo("Reconciliation:")
        echo(format_result("reconcile", reconciliation.result or {}))
        if exit_code_for(run) == 2 or reconciliation.status == "failed":
            echo("the demo sync could not run: see the message above")
            return 2
        from demo.live import show_live_sync

        show_live_sync(app, splynx_state, echo)

    echo(f"The flask CLI now uses this demo ({args.env_file.name}): try `flask netsuite problems`.")
    if args.no_serve:
        return 0
    port = args.port
    echo()
    echo(f"Admin pages: http://{LOOPBACK}:{port}/netsuite/")
    echo(f"Log in as:   {username} / {password}")
    echo("Stop with Ctrl+C.")
    from werkzeug.serving import run_simple

    run_simple(LOOPBACK, port, app, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
