"""Key pairs and x.509 certificates for OAuth 2.0 client credentials (M2M), made with ``cryptography``.

Oracle's "Certificate Conditions" (docs/netsuite-oauth2-and-payments.md): the key is RSA with
3072 or 4096 bits, or EC on P-256, P-384 or P-521, and the certificate is valid for at most
two years (NetSuite shortens a longer validity). The operator uploads the certificate at
Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup and
enters the certificate id NetSuite shows; the private key never leaves this installation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from .errors import NetSuiteConfigError

KEY_TYPES = {
    "rsa-3072": "RSA 3072 bits",
    "rsa-4096": "RSA 4096 bits",
    "ec-p256": "EC P-256",
    "ec-p384": "EC P-384",
    "ec-p521": "EC P-521",
}
DEFAULT_KEY_TYPE = "rsa-3072"
_CURVES: dict[str, type[ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1]] = {
    "ec-p256": ec.SECP256R1,
    "ec-p384": ec.SECP384R1,
    "ec-p521": ec.SECP521R1,
}
_ALLOWED_CURVES = {"secp256r1": "EC P-256", "secp384r1": "EC P-384", "secp521r1": "EC P-521"}
# Two years is Oracle's ceiling; 730 days stays inside it whatever the leap years.
MAX_VALIDITY = timedelta(days=730)
# The config page warns this long before the certificate expires.
WARN_BEFORE = timedelta(days=61)


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    key: str  # e.g. "RSA 3072 bits"
    not_before: datetime
    not_after: datetime
    sha256: str  # fingerprint, to tell certificates apart on NetSuite's setup page

    def days_left(self, now: datetime | None = None) -> int:
        return (self.not_after - (now or datetime.now(UTC))).days

    def warning(self, now: datetime | None = None) -> str | None:
        """What the operator must be told about this certificate's expiry, or None."""
        now = now or datetime.now(UTC)
        if now >= self.not_after:
            return f"The certificate expired on {self.not_after:%Y-%m-%d}: NetSuite refuses tokens signed with it."
        if self.not_after - now <= WARN_BEFORE:
            return (
                f"The certificate expires on {self.not_after:%Y-%m-%d} ({self.days_left(now)} days): "
                "generate a new one and map it in NetSuite now; the current one keeps working until then."
            )
        return None


def generate(
    key_type: str = DEFAULT_KEY_TYPE, *, common_name: str = "netsuite-sync", now: datetime | None = None
):
    """A new private key and a self-signed certificate for it: ``(private_key_pem, certificate_pem)``.

    The key is PKCS#8 PEM without a passphrase (the add-on encrypts it at rest itself).
    """
    if key_type not in KEY_TYPES:
        raise NetSuiteConfigError(f"key type {key_type!r} is not one of {', '.join(KEY_TYPES)}")
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_type.startswith("rsa-"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    else:
        key = ec.generate_private_key(_CURVES[key_type]())
    start = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(minutes=5)  # clock skew
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "netsuite-sync")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + MAX_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _key_description(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size not in (3072, 4096):
            raise NetSuiteConfigError(
                f"RSA keys must have 3072 or 4096 bits for NetSuite, not {public_key.key_size}"
            )
        return f"RSA {public_key.key_size} bits"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in _ALLOWED_CURVES:
            raise NetSuiteConfigError(
                f"EC keys must use P-256, P-384 or P-521 for NetSuite, not {public_key.curve.name}"
            )
        return _ALLOWED_CURVES[public_key.curve.name]
    raise NetSuiteConfigError("NetSuite accepts only RSA or EC keys")


def describe(certificate_pem: str) -> CertificateInfo:
    """Subject, key, validity and fingerprint of a PEM certificate; refuses what NetSuite would."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise NetSuiteConfigError(f"not a PEM certificate: {exc}") from exc
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        key=_key_description(certificate.public_key()),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        sha256=certificate.fingerprint(hashes.SHA256()).hex(":"),
    )


def matches(private_key_pem: str, certificate_pem: str) -> bool:
    """True when the certificate carries this private key's public half."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    data = b"netsuite-sync key check"
    if isinstance(key, rsa.RSAPrivateKey):
        scheme = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
        signature = key.sign(data, scheme, hashes.SHA256())
        verify = lambda public: public.verify(signature, data, scheme, hashes.SHA256())  # noqa: E731
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
        verify = lambda public: public.verify(signature, data, ec.ECDSA(hashes.SHA256()))  # noqa: E731
    else:
        raise TypeError(f"{type(key).__name__} keys are not supported")  # as sign() with these arguments did
    try:
        verify(certificate.public_key())
    except Exception:  # noqa: BLE001 - InvalidSignature or a key-type mismatch: not this key
        return False
    return True
