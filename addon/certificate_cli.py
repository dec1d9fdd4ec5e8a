"""``flask netsuite certificate ...``: the OAuth 2.0 (M2M) key pair and certificate.

``generate`` makes a new key pair as the pending one and prints (or writes) the certificate
to upload to NetSuite; ``activate`` switches to it once NetSuite grants a token with the
certificate id it gave; ``show`` tells both certificates' expiry. The private key is never
printed.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from addon.netsuite import NetSuiteConfigError
from addon.netsuite.certificates import DEFAULT_KEY_TYPE, KEY_TYPES, CertificateInfo

EXIT_CONFIG = 2

certificate_group = AppGroup("certificate", help="OAuth 2.0 client-credentials key pair and certificate.")


def _describe(title: str, info: CertificateInfo | None) -> None:
    if info is None:
        click.echo(f"{title}: none")
        return
    click.echo(
        f"{title}: {info.key}, {info.subject}, valid {info.not_before:%Y-%m-%d} to {info.not_after:%Y-%m-%d}"
    )
    click.echo(f"  SHA-256 {info.sha256}")
    if info.warning():
        click.echo(f"  warning: {info.warning()}")


@certificate_group.command("generate")
@click.option("--key-type", type=click.Choice(list(KEY_TYPES)), default=DEFAULT_KEY_TYPE, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the certificate PEM here.")
def certificate_generate(key_type: str, out: str | None):
    """A new key pair (kept as the pending one) and the certificate to upload to NetSuite."""
    from addon.sync import certificate_rotation

    info = certificate_rotation.generate_pending(key_type)
    pem = certificate_rotation.certificate_pem("pending")
    _describe("new certificate (pending)", info)
    if out:
        Path(out).write_text(pem)
        click.echo(f"certificate written to {out}")
    else:
        click.echo(pem, nl=False)
    click.echo(
        "Upload it at Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup, "
        "then run: flask netsuite certificate activate <certificate id>",
        err=True,
    )


@certificate_group.command("activate")
@click.argument("certificate_id")
def certificate_activate(certificate_id: str):
    """Use the pending key under CERTIFICATE_ID, once NetSuite grants a token with it."""
    from addon.sync import certificate_rotation

    try:
        click.echo(certificate_rotation.activate(certificate_id))
    except (certificate_rotation.RotationError, NetSuiteConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from exc


@certificate_group.command("show")
@click.option("--pem", type=click.Choice(["active", "pending"]), help="Print that certificate's PEM.")
def certificate_show(pem: str | None):
    """The certificate in use and the pending one: key, validity, expiry warning."""
    from addon.sync import certificate_rotation

    if pem:
        try:
            click.echo(certificate_rotation.certificate_pem(pem), nl=False)
        except certificate_rotation.RotationError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(EXIT_CONFIG) from exc
        return
    current = certificate_rotation.state()
    if current.active is None and current.key_configured:
        click.echo("in use: a private key is configured, but its certificate was not generated here")
    else:
        _describe("in use", current.active)
    _describe("pending", current.pending)
