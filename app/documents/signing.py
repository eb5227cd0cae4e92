"""Digital signatures on official letters (PAdES, via pyHanko).

Decree 30/2020/ND-CP gives a digitally signed electronic document the force of
its paper original, so a letter PDF that PressDesk issues is signed with the
authority's certificate.  This module does three things, all offline:

* ``make_dev_certificate`` writes a self-signed DEMO certificate and key for
  development and tests (never for real letters: the subject says DEMO);
* ``sign_pdf`` adds an invisible PAdES baseline-B signature to a PDF as an
  incremental update (the letter's own layout carries the visible signer block);
* ``validate_pdf_signature`` checks the signatures of a PDF against explicit
  trust roots, with fetching of certificates, CRLs and OCSP responses switched
  off, and reports intact / valid / trusted / coverage per signature.

Development keys are RSA 3072: every PDF reader and validator accepts RSA
for PAdES (ECDSA support is patchier in older readers and validators), the
signing certificates that CAs issue to authorities are usually RSA too, so
the development path is the production one, and 3072 bits is NIST's size for
use past 2030.  ``sign_pdf`` accepts any key pyHanko does (RSA, ECDSA, ...).

pyHanko drives its signing and validation through ``asyncio.run``: call these
functions from ordinary (synchronous) code, not from inside a running event
loop.
"""

from __future__ import annotations

import datetime as dt
import os
from io import BytesIO
from pathlib import Path
from typing import Iterable

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature as _pyhanko_validate
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from app.clock import utcnow

CERT_FILENAME = "signer-cert.pem"
KEY_FILENAME = "signer-key.pem"
RSA_KEY_SIZE = 3072

class SigningError(Exception):
    """The PDF could not be signed (bad key material, passphrase or PDF)."""


# --------------------------------------------------------------------------
# Development certificate
# --------------------------------------------------------------------------


def make_dev_certificate(
    directory: Path,
    common_name: str = "PressDesk DEMO signer",
    organisation: str = "DEMO People's Committee",
    days: int = 730,
    *,
    passphrase: bytes | None = None,
) -> tuple[Path, Path]:
    """Write a self-signed DEMO signing certificate and its RSA 3072 key.

    Creates ``directory`` if needed and writes ``signer-cert.pem`` (0o644) and
    ``signer-key.pem`` (0o600; PKCS#8, encrypted when ``passphrase`` is given).
    Existing files are overwritten.  The subject always says DEMO: if neither
    ``common_name`` nor ``organisation`` contains it, the common name gets a
    "DEMO " prefix.  Returns ``(cert_path, key_path)``.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if "DEMO" not in common_name and "DEMO" not in organisation:
        common_name = f"DEMO {common_name}"

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / CERT_FILENAME
    key_path = directory / KEY_FILENAME

    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = utcnow().replace(microsecond=0)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # A little slack for clocks that lag behind the one that signed.
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # a.k.a. nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )

    encryption: serialization.KeySerializationEncryption
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase)
    else:
        encryption = serialization.NoEncryption()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(cert_path, 0o644)
    return cert_path, key_path


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only, from the start."""
    if path.exists():
        os.chmod(path, 0o600)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)  # in case the file existed with other bits, or a umask


def load_certificate(path: Path | str) -> asn1_x509.Certificate:
    """Load a PEM or DER certificate as the asn1crypto object pyHanko uses."""
    return load_cert_from_pemder(str(path))


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


def sign_pdf(
    pdf_bytes: bytes,
    *,
    cert_path: Path | str,
    key_path: Path | str,
    passphrase: bytes | None = None,
    reason: str,
    location: str,
    field_name: str = "Signature1",
    signer_name: str | None = None,
) -> bytes:
    """Sign ``pdf_bytes`` with an invisible PAdES (baseline-B) signature.

    The signature is appended as an incremental update, so a PDF that is
    already signed keeps its earlier signatures valid; use a new
    ``field_name`` for each signature.  No timestamp server, OCSP or CRL is
    contacted.  ``reason`` and ``location`` are shown by PDF readers;
    ``signer_name`` sets the signature's /Name (readers otherwise use the
    certificate's common name).  Raises ``SigningError`` on unreadable key
    material, a wrong passphrase, an existing field of that name that is
    already signed, or input that is not a PDF.
    """
    signer = _load_signer(Path(cert_path), Path(key_path), passphrase)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=signer_name,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
        out = signers.sign_pdf(writer, meta, signer=signer)
    except (PdfError, ValueError) as exc:
        raise SigningError(f"could not sign the PDF: {exc}") from exc
    return out.getvalue()


def _load_signer(cert_path: Path, key_path: Path, passphrase: bytes | None) -> signers.SimpleSigner:
    """Load the certificate and key (PEM or DER) into a pyHanko signer.

    The same as ``SimpleSigner.load``, except that a failure raises
    ``SigningError`` saying what went wrong (``load`` logs it and returns
    None), and a key that does not belong to the certificate is refused
    instead of producing signatures that never validate.
    """
    try:
        cert_bytes = cert_path.read_bytes()
        key_bytes = key_path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing certificate or key: {exc}") from exc
    try:
        if cert_bytes.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(cert_bytes)
        else:
            cert = x509.load_der_x509_certificate(cert_bytes)
    except ValueError as exc:
        raise SigningError(f"{cert_path} is not a PEM or DER certificate: {exc}") from exc
    load_key = (
        serialization.load_pem_private_key
        if key_bytes.lstrip().startswith(b"-----BEGIN")
        else serialization.load_der_private_key
    )
    try:
        key = load_key(key_bytes, password=passphrase or None)
    except TypeError as exc:  # encrypted without a passphrase, or the reverse
        raise SigningError(f"{key_path}: {exc}") from exc
    except ValueError as exc:  # wrong passphrase, or not a key
        raise SigningError(f"{key_path}: cannot load the private key: {exc}") from exc

    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise SigningError(f"the key in {key_path} does not belong to the certificate in {cert_path}")

    signing_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signing_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=signing_key,
        cert_registry=SimpleCertificateStore(),
    )


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _validation_context(trust_roots: list[asn1_x509.Certificate]) -> ValidationContext:
    # An explicit (possibly empty) list: None would make pyHanko fall back to
    # the operating system's TLS trust store, which it deprecates and which is
    # not our trust policy.  allow_fetching=False: no OCSP, CRL or AIA fetches.
    return ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)


def _as_asn1_cert(cert) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if isinstance(cert, (str, Path)):
        return load_certificate(cert)
    if isinstance(cert, bytes):
        if cert.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(cert).public_bytes(serialization.Encoding.DER)
        return asn1_x509.Certificate.load(cert)
    raise TypeError(f"unsupported trust root: {type(cert).__name__}")


def _cert_name(cert: asn1_x509.Certificate | None) -> str:
    if cert is None:
        return ""
    return cert.subject.native.get("common_name") or cert.subject.human_friendly


def _failed(field: str | None, message: str) -> dict:
    return {
        "field": field,
        "intact": False,
        "valid": False,
        "signature_value_ok": False,
        "trusted": False,
        "signer": "",
        "coverage": "UNCLEAR",
        "modification_level": None,
        "docmdp_ok": None,
        "bottom_line": False,
        "signing_time": None,
        "summary": "INVALID",
        "error": message,
    }


def validate_pdf_signatures(pdf_bytes: bytes, trust_roots: Iterable) -> list[dict]:
    """Validate every signature in ``pdf_bytes``, in file order; one dict each.

    ``trust_roots`` are the certificates to trust: asn1crypto or
    ``cryptography`` certificates, PEM/DER bytes, or paths to PEM/DER files.
    An empty list trusts nothing.  Nothing is fetched over the network.

    Each dict has:

    ``field``
        the signature field's name;
    ``intact``
        the signed byte range still hashes to the digest that was signed;
    ``valid``
        ``intact`` and the signature value checks out against the signer's
        public key.  (pyHanko's own ``valid`` flag covers the signature value
        only and stays True when the signed bytes were changed; it is
        reported as ``signature_value_ok``.)
    ``trusted``
        valid, and the signer's certificate chains to one of ``trust_roots``
        and allows non-repudiation;
    ``signer``
        the common name of the signer's certificate;
    ``coverage``
        ``ENTIRE_FILE`` (nothing after the signature), ``ENTIRE_REVISION``
        (bytes or incremental updates were appended after it: a later
        signature, or anything else), ``CONTIGUOUS_BLOCK_FROM_START`` or
        ``UNCLEAR`` (both suspicious);
    ``modification_level`` / ``docmdp_ok``
        pyHanko's reading of what was appended (``NONE``, ``LTA_UPDATES``,
        ``FORM_FILLING``, ``ANNOTATIONS``, ``OTHER``) and whether the
        document's modification policy allows it;
    ``bottom_line``
        pyHanko's overall verdict (trusted, and any appended changes allowed);
        note that it stays True when junk that is no PDF revision is appended
        after %%EOF, which only shows in ``coverage``;
    ``signing_time``
        the time the signer claims (ISO 8601; no timestamp authority vouches
        for it);
    ``summary``
        pyHanko's one-line summary, e.g. ``INTACT:TRUSTED,UNTOUCHED``;
    ``error``
        a message when validation could not run, else None.

    A PDF without signatures yields ``[]``; one that cannot be parsed yields
    a single report with ``field`` None, ``error`` set and every verdict False.
    """
    roots = [_as_asn1_cert(c) for c in trust_roots]
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes))
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return [_failed(None, f"unreadable PDF: {exc}")]

    reports = []
    for sig in embedded:
        try:
            status = _pyhanko_validate(
                sig, _validation_context(roots), key_usage_settings=_key_usage_settings()
            )
        except (PdfError, ValueError, KeyError, TypeError) as exc:
            reports.append(_failed(sig.field_name, f"{type(exc).__name__}: {exc}"))
            continue
        reported = status.signer_reported_dt
        level = status.modification_level
        reports.append(
            {
                "field": sig.field_name,
                "intact": bool(status.intact),
                "valid": bool(status.intact and status.valid),
                "signature_value_ok": bool(status.valid),
                "trusted": bool(status.trusted),
                "signer": _cert_name(status.signing_cert),
                "coverage": status.coverage.name if status.coverage is not None else "UNCLEAR",
                "modification_level": level.name if level is not None else None,
                "docmdp_ok": status.docmdp_ok,
                "bottom_line": bool(status.bottom_line),
                "signing_time": reported.isoformat() if reported else None,
                "summary": status.summary(),
                "error": None,
            }
        )
    return reports


def validate_pdf_signature(pdf_bytes: bytes, trust_roots: Iterable) -> dict:
    """Validate the LAST signature in ``pdf_bytes``; see ``validate_pdf_signatures``.

    The dict also has ``signature_count``.  A PDF without signatures, or one
    that cannot be parsed, gives every verdict False with ``error`` set
    rather than raising.
    """
    reports = validate_pdf_signatures(pdf_bytes, trust_roots)
    if not reports:
        return {**_failed(None, "the PDF has no signature"), "signature_count": 0}
    count = 0 if reports[0]["field"] is None and reports[0]["error"] else len(reports)
    return {**reports[-1], "signature_count": count}


def _key_usage_settings() -> KeyUsageConstraints:
    # PAdES signer certificates must allow non-repudiation (pyHanko's default
    # too, spelt out here so the policy is visible).
    return KeyUsageConstraints(key_usage={"non_repudiation"})
