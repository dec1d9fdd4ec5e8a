"""OAuth 2.0 (M2M) certificates: Oracle's conditions, expiry warnings, and a rotation with no failed run.

The rotation goes through the config page over HTTP and the sandbox's token endpoint: the new
certificate is mapped in the sandbox next to the old one, and only a token NetSuite grants for
it makes the new key the one in use.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from addon import settings
from addon.netsuite import NetSuiteConfigError
from addon.netsuite import certificates as certs
from addon.sync import certificate_rotation
from addon.sync.operations import run_operation
from sandbox.netsuite.auth import check_certificate_conditions

OPERATION = "load_netsuite_customers"


@pytest.mark.parametrize("key_type", ["rsa-3072", "ec-p256", "ec-p384", "ec-p521"])
def test_generated_certificates_meet_oracles_conditions(key_type):
    private_pem, certificate_pem = certs.generate(key_type)
    info = certs.describe(certificate_pem)
    assert info.key == certs.KEY_TYPES[key_type]
    assert info.not_after - info.not_before <= timedelta(days=730)  # at most two years
    assert certs.matches(private_pem, certificate_pem)
    assert not certs.matches(certs.generate("ec-p256")[0], certificate_pem)
    check_certificate_conditions(certificate_pem.encode())  # what the sandbox's M2M setup accepts


def test_a_key_netsuite_would_refuse_is_refused():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "too-small")])
    now = datetime.now(UTC)
    weak = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    from cryptography.hazmat.primitives.serialization import Encoding

    with pytest.raises(NetSuiteConfigError, match="3072 or 4096"):
        certs.describe(weak.public_bytes(Encoding.PEM).decode())
    with pytest.raises(NetSuiteConfigError):
        certs.generate("rsa-2048")


def test_expiry_is_warned_two_months_ahead():
    info = certs.describe(certs.generate("ec-p256")[1])
    assert info.warning(info.not_after - timedelta(days=90)) is None
    assert "expires on" in info.warning(info.not_after - timedelta(days=59))
    assert "expired" in info.warning(info.not_after + timedelta(days=1))


def _oauth2(env):
    env.settings(
        netsuite_auth_mode="oauth2",
        netsuite_client_id=env.netsuite.client_id,
        netsuite_certificate_id=env.netsuite.certificate_id,
        netsuite_private_key=env.netsuite.private_key_pem.decode(),
    )


def _post(client, auth, path, **data):
    return client.post(path, data={"csrf_token": auth.csrf_token("/netsuite/config"), **data})


def test_rotation_through_the_config_page_never_fails_a_run(configured, client, auth):
    _oauth2(configured)
    state = configured.netsuite.state
    old_id = configured.netsuite.certificate_id
    auth.login()

    assert _post(client, auth, "/netsuite/config/certificate/generate", key_type="ec-p384").status_code == 302
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert "EC P-384" in page and "PRIVATE KEY" not in page
    download = client.get("/netsuite/config/certificate/pending.pem")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    pem = download.get_data(as_text=True)
    assert pem.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE" not in pem
    # Between generating and activating, the old key still signs.
    assert run_operation(OPERATION).status == "succeeded"

    new_id = state.oauth2.add_certificate(pem.encode())  # the operator maps it in NetSuite

    refused = _post(client, auth, "/netsuite/config/certificate/activate", certificate_id="not-the-id")
    assert refused.status_code == 302
    assert "Not activated" in client.get("/netsuite/config").get_data(as_text=True)
    assert settings.get("netsuite_certificate_id") == old_id
    assert run_operation(OPERATION).status == "succeeded"

    _post(client, auth, "/netsuite/config/certificate/activate", certificate_id=new_id)
    assert settings.get("netsuite_certificate_id") == new_id
    assert settings.get("netsuite_private_key") != configured.netsuite.private_key_pem.decode()
    state.oauth2.revoked.add(old_id)  # the operator revokes the old certificate in NetSuite
    assert run_operation(OPERATION).status == "succeeded"
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert "Certificate in use" in page and "EC P-384" in page
    assert certificate_rotation.state().pending is None


def test_the_page_warns_about_a_certificate_that_expires_soon(configured, client, auth):
    _oauth2(configured)
    key, pem = certs.generate("ec-p256", now=datetime.now(UTC) - timedelta(days=700))
    settings.put("netsuite_private_key", key)
    certificate_rotation._write(certificate_rotation.ACTIVE_CERTIFICATE, pem)
    from addon.extension import session

    session().commit()
    auth.login()
    page = client.get("/netsuite/config").get_data(as_text=True)
    assert re.search(r"expires on \d{4}-\d{2}-\d{2} \(\d+ days\)", page)


def test_cli_generates_shows_and_activates(configured, runner, tmp_path):
    _oauth2(configured)
    out = tmp_path / "cert.pem"
    generated = runner.invoke(
        args=["netsuite", "certificate", "generate", "--key-type", "ec-p256", "--out", str(out)]
    )
    assert generated.exit_code == 0, generated.output
    assert "PRIVATE" not in generated.output and out.read_text().startswith("-----BEGIN CERTIFICATE-----")
    shown = runner.invoke(args=["netsuite", "certificate", "show"])
    assert "pending: EC P-256" in shown.output

    wrong = runner.invoke(args=["netsuite", "certificate", "activate", "nope"])
    assert wrong.exit_code == 2 and "refused" in wrong.output
    new_id = configured.netsuite.state.oauth2.add_certificate(out.read_bytes())
    done = runner.invoke(args=["netsuite", "certificate", "activate", new_id])
    assert done.exit_code == 0, done.output
    assert "in use: EC P-256" in runner.invoke(args=["netsuite", "certificate", "show"]).output
    assert run_operation(OPERATION).status == "succeeded"


def test_the_config_page_describes_m2m_setup_before_tba(client, auth):
    auth.login()
    page = client.get("/netsuite/config").get_data(as_text=True)
    m2m = page.index("OAuth 2.0 Client Credentials (M2M) Setup")
    assert m2m < page.index("Token-based authentication (existing integrations)")
    for step in ("Client Credentials (Machine to Machine) Grant", "REST Web Services", "Certificate ID"):
        assert step in page
    assert 'action="/netsuite/config/certificate/generate"' in page
