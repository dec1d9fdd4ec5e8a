"""``flask netsuite ...``: the add-on's command line, a thin shell over the engine.

Exit codes: 0 when every record succeeded, 1 when some failed (see the log),
2 on a configuration, authentication or connection error.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from addon import settings
from addon.certificate_cli import certificate_group
from addon.sync import entities

EXIT_OK, EXIT_SOME_FAILED, EXIT_CONFIG = 0, 1, 2


class _NetSuiteGroup(AppGroup):
    """The add-on's commands, and one per registered operation (built when asked for, so an
    operation registered after import has its command too).

    Command arguments are one entrance for control characters: refused before any command runs."""

    def parse_args(self, ctx, args):
        from addon.untrusted import first_control

        hostile = first_control(args)
        if hostile is not None:
            raise click.UsageError(f"an argument holds a control character: {hostile!r}")
        return super().parse_args(ctx, args)

    def list_commands(self, ctx) -> list[str]:
        return sorted({*super().list_commands(ctx), *_operation_commands()})

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _operation_commands():
            from addon.sync.operations import operation

            command = operation_command(operation(cmd_name))
        return command


def _operation_commands() -> set[str]:
    from addon.sync.operations import OPERATIONS

    return {op.command for op in OPERATIONS.values() if op.cli is None}


netsuite_cli = _NetSuiteGroup("netsuite", help="NetSuite accounting add-on.")
netsuite_cli.add_command(certificate_group)


SCOPE_OPTION = click.option(
    "--scope",
    type=click.Choice(["new", "all"]),
    default="new",
    show_default=True,
    help="Records already in NetSuite this change would rewrite: keep them as posted (new) "
    "or let the next export update them (all).",
)


def _apply_change(change, scope: str, **impact_args) -> None:
    """Count what a change rewrites in NetSuite, make it, then keep posted records as they are
    unless ``scope`` is 'all' (the same choice the pages offer)."""
    from addon.billing import BillingError
    from addon.extension import session
    from addon.sync.context import SyncContext
    from addon.sync.impact import preview

    try:
        impact = preview(SyncContext.from_settings(), **impact_args)
    except BillingError as exc:
        click.echo(f"error: not changed, the records it touches could not be counted: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    change()
    if not impact.total:
        return
    if scope == "all":
        click.echo(f"{impact.summary()} The next export updates them.")
    else:
        kept = impact.keep_posted()
        session().commit()
        click.echo(f"new records only: {kept} record(s) already in NetSuite keep what was posted")


@netsuite_cli.group("config", help="Show or change module settings.")
def config_group():
    pass


@config_group.command("show")
def config_show():
    """Every setting with its effective value and where it comes from (secrets masked)."""
    width = max(len(spec.key) for spec in settings.specs())
    for spec in settings.specs():
        click.echo(
            f"{spec.key:<{width}}  {settings.display_value(spec.key)!s:<30}  [{settings.source(spec.key)}]"
        )


# Unknown options pass through, so `config set netsuite_concurrency -3` is refused in words.
@config_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@SCOPE_OPTION
def config_set(key: str, value: str, scope: str):
    """Save KEY = VALUE (validated as the config page does; secrets encrypted).

    Lists are comma-separated; partners and payment methods are checked against billing's lists.
    """
    from addon import validation

    try:
        item = settings.spec(key)
        options = validation.billing_options(item.options) if item.options and value.strip() else None
        typed = item.validate(value, options)
        from addon.sync.impact import SETTING_ENTITIES

        if key in SETTING_ENTITIES and typed != settings.get(key):
            _apply_change(lambda: settings.put(key, typed), scope, settings={key: typed})
        else:
            settings.put(key, typed)
    except validation.OptionsUnavailable as exc:
        raise click.ClickException(f"{item.label}: not saved, {exc}") from exc
    except settings.SettingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{key} = {settings.display_value(key)}")


@config_group.command("unset")
@click.argument("key")
def config_unset(key: str):
    """Forget the saved value of KEY (the environment or default applies again)."""
    try:
        settings.clear(key)
    except settings.SettingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{key} = {settings.display_value(key)} [{settings.source(key)}]")


@netsuite_cli.group("db", help="The add-on's own database migrations.")
def db_group():
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    from addon import migrate

    migrate.upgrade(revision)


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str):
    from addon import migrate

    migrate.downgrade(revision)


@db_group.command("current")
def db_current():
    from addon import migrate

    migrate.current()


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str):
    from addon import migrate

    migrate.revision(message)


# --- connections ------------------------------------------------------------------------


@netsuite_cli.command("test-connection")
# 'splynx' is what the billing connection was called before billing systems were backends.
@click.option("--system", type=click.Choice(["netsuite", "billing", "splynx", "both"]), default="both")
def test_connection(system: str):
    """Check both systems' credentials; one line each, exit 2 on any failure."""
    from addon.sync.connections import SYSTEMS, check_connection, system_named

    systems = SYSTEMS if system == "both" else (system_named(system) or system,)
    failed = False
    for name in systems:
        ok, line = check_connection(name)
        click.echo(f"{name}: {line}")
        failed |= not ok
    raise SystemExit(EXIT_CONFIG if failed else EXIT_OK)


# --- operations: one command per engine operation, generated from the registry -----------


def exit_code_for(run) -> int:
    if run.status == "failed":
        return EXIT_CONFIG
    return EXIT_SOME_FAILED if (run.counts or {}).get("failed") else EXIT_OK


def run_with_progress_bar(name: str, *, dry_run: bool = False, params: dict | None = None, file=None):
    """Run an operation here and now with a tqdm bar; returns the finished run. A refusal to
    overlap a running one, or a run the database lost, exits 2 with its reason."""
    from tqdm import tqdm

    from addon.runs import AlreadyRunning, RunLost, dispatcher
    from addon.sync.operations import operation
    from addon.sync.progress import phase_label

    op = operation(name)
    bar = tqdm(total=None, desc=op.label, unit=" records", file=file, leave=True)

    def show(ledger) -> None:
        run = ledger.run
        bar.total = run.total
        bar.n = run.done or 0
        if run.phase:
            bar.set_description(phase_label(run), refresh=False)
        bar.set_postfix(dict(sorted((run.counts or {}).items())), refresh=False)
        bar.refresh()

    try:
        return dispatcher().submit(
            op.name, trigger="cli", dry_run=dry_run, params=params, wait=True, progress=show
        )
    except (AlreadyRunning, RunLost) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    finally:
        bar.close()


def _run_from_cli(name: str, dry_run: bool, params: dict) -> None:
    from addon.sync.report import format_run

    run = run_with_progress_bar(name, dry_run=dry_run, params=params)
    click.echo(format_run(run))
    raise SystemExit(exit_code_for(run))


def operation_command(op) -> click.Command:
    """``flask netsuite <op>``: its parameters as options, ``--dry-run`` if it has one, and the
    switches of the operations that run as a variant of it (``import-payments --all``)."""
    from addon.sync.operations import OPERATIONS

    switches = {
        other.cli.option: other for other in OPERATIONS.values() if other.cli and other.cli.of == op.name
    }
    params: list[click.Parameter] = [
        click.Option(
            [param.cli_option, param.name], is_flag=param.flag, required=param.required, help=param.help
        )
        for param in op.params
    ]
    params += [
        click.Option([option, f"switch_{other.name}"], is_flag=True, help=other.cli.help)
        for option, other in switches.items()
        if other.cli is not None
    ]
    if op.dry_run or any(other.dry_run for other in switches.values()):
        params.append(
            click.Option(["--dry-run"], is_flag=True, help="Report what would change; write nothing.")
        )

    def run(dry_run: bool = False, **values) -> None:
        chosen = [
            name.removeprefix("switch_") for name, on in values.items() if name.startswith("switch_") and on
        ]
        if len(chosen) > 1:
            raise click.UsageError("choose one of " + ", ".join(switches))
        name = chosen[0] if chosen else op.name
        wanted = {p.name: values[p.name] for p in op.params if values.get(p.name) not in (None, False)}
        _run_from_cli(name, dry_run, wanted)

    return click.Command(op.command, callback=with_appcontext(run), params=params, help=op.description)


@netsuite_cli.command(
    "run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_command(ctx, name: str, args: tuple[str, ...]):
    """Run any operation by its name (export_invoices or export-invoices), with its own options:
    the same command as ``flask netsuite <operation>``, for scripts that hold the name."""
    from addon.sync.operations import OPERATIONS

    op = next((o for o in OPERATIONS.values() if name in (o.name, o.command)), None)
    if op is None:
        known = ", ".join(sorted(o.name for o in OPERATIONS.values()))
        raise click.UsageError(f"no operation {name!r}; the operations are: {known}")
    command = operation_command(op)
    with command.make_context(op.command, list(args), parent=ctx) as sub:
        return command.invoke(sub)


# --- mappings, pairing and problems, for scripted deployments ------------------------------


@netsuite_cli.command("map")
@click.argument("kind")
@click.argument("billing_id")
@click.argument("netsuite_id")
@SCOPE_OPTION
def map_command(kind: str, billing_id: str, netsuite_id: str, scope: str):
    """Map a billing value to a NetSuite one.

    KIND is category, payment_method, tax_rate, or a default (default_bank_account,
    default_class, default_department, default_location, default_terms; BILLING_ID '-').
    """
    from addon.sync.mappings import MappingError, save_mapping

    key = "" if billing_id == "-" else billing_id
    try:
        _apply_change(
            lambda: save_mapping(kind, key, netsuite_id), scope, mappings={(kind, key): str(netsuite_id)}
        )
    except MappingError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    click.echo(f"{kind} {billing_id} -> {netsuite_id}")


@netsuite_cli.command("pair-customer")
@click.argument("billing_id")
@click.argument("netsuite_id")
def pair_customer_command(billing_id: str, netsuite_id: str):
    """Link billing customer BILLING_ID to the existing NetSuite customer NETSUITE_ID."""
    from addon.sync.matching import PairingError, pair_customer

    try:
        pair_customer(billing_id, netsuite_id)
    except PairingError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    click.echo(f"customer {billing_id} paired with NetSuite customer {netsuite_id}")


@netsuite_cli.command("problems")
def problems_command():
    """Open problems, biggest first: what blocks which records and what fixes it."""
    from addon.sync.problems import open_problems

    problems = open_problems()
    if not problems:
        click.echo("no open problems")
        return
    for problem in problems:
        click.echo(f"{problem.count:>6}  {problem.title}")
        if problem.fix_hint:
            click.echo(f"        fix: {problem.fix_hint}")


@netsuite_cli.command("confirm-amount")
@click.argument("entity", type=click.Choice([kind.name for kind in entities.amount_held()]))
@click.argument("billing_id")
def confirm_amount_command(entity: str, billing_id: str):
    """Confirm the amount of a document held as far above the usual range; the next export sends it."""
    from addon.billing import BillingError
    from addon.sync.context import SyncContext
    from addon.sync.sanity import ConfirmError, confirm_amount

    try:
        total = confirm_amount(SyncContext.from_settings(), entity, billing_id, confirmed_by="cli")
    except (ConfirmError, BillingError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc
    click.echo(
        f"{entities.get(entity).noun} {billing_id}: total {total:.2f} confirmed; the next export sends it"
    )
