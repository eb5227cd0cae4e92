"""Digital signatures on issued letters: a DEMO certificate, PAdES signing, offline validation."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import stat
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from app.documents.signing import (
    CERT_FILENAME,
    KEY_FILENAME,
    SigningError,
    load_certificate,
    make_dev_certificate,
    sign_pdf,
    validate_pdf_signature,
    validate_pdf_signatures,
)
from tests.conftest import at_frozen_instant

LETTER_LINES = (
    "UY BAN NHAN DAN TINH DEMO",
    "CONG HOA XA HOI CHU NGHIA VIET NAM - Doc lap - Tu do - Hanh phuc",
    "So: 12/UBND-VP",
    "V/v cap giay phep hoat dong bao chi (DEMO)",
)
REASON = "Ký ban hành văn bản (DEMO)"
LOCATION = "Tỉnh Demo, Việt Nam"


def letter_pdf() -> bytes:
    """A one-page letter; page compression off so the content stream is plain text."""
    buf = BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=0, invariant=1)
    pdf.setTitle("Cong van DEMO")
    y = 800
    for line in LETTER_LINES:
        pdf.setFont("Helvetica", 12)
        pdf.drawString(72, y, line)
        y -= 20
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def sign(pdf: bytes, cert_key: tuple[Path, Path], **kwargs) -> bytes:
    cert_path, key_path = cert_key
    kwargs.setdefault("reason", REASON)
    kwargs.setdefault("location", LOCATION)
    return sign_pdf(pdf, cert_path=cert_path, key_path=key_path, **kwargs)


def byte_range(signed: bytes, field: str = "Signature1") -> list[int]:
    (sig,) = [s for s in PdfFileReader(BytesIO(signed)).embedded_signatures if s.field_name == field]
    return [int(n) for n in sig.byte_range]


# One key pair and one signed letter for the module: RSA 3072 key generation and signing each
# take a fraction of a second to a second on a CI machine.
@pytest.fixture(scope="module")
def dev_cert(tmp_path_factory) -> tuple[Path, Path]:
    with at_frozen_instant():
        return make_dev_certificate(tmp_path_factory.mktemp("signer"))


@pytest.fixture(scope="module")
def root(dev_cert):
    return load_certificate(dev_cert[0])


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return letter_pdf()


@pytest.fixture(scope="module")
def signed(dev_cert, unsigned) -> bytes:
    with at_frozen_instant():
        return sign(unsigned, dev_cert, signer_name="Nguyễn Văn DEMO")


# -- the development certificate ------------------------------------------------------------------


def test_dev_certificate_is_a_demo_rsa_signing_certificate(dev_cert):
    cert_path, key_path = dev_cert
    assert (cert_path.name, key_path.name) == (CERT_FILENAME, KEY_FILENAME)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert "DEMO" in cert.subject.rfc4514_string()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "PressDesk DEMO signer"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "DEMO People's Committee"
    assert cert.issuer == cert.subject  # self-signed
    cert.verify_directly_issued_by(cert)

    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment  # nonRepudiation
    assert not usage.value.key_cert_sign and not usage.value.key_encipherment
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False

    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=730) <= lifetime <= dt.timedelta(days=730, minutes=10)
    assert cert.not_valid_before_utc <= dt.datetime.now(dt.timezone.utc)

    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)  # unencrypted
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()


def test_dev_certificate_subject_says_demo_whatever_the_names(tmp_path):
    cert_path, _ = make_dev_certificate(tmp_path, common_name="Chu tich", organisation="UBND tinh", days=1)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "DEMO Chu tich"
    with pytest.raises(ValueError):
        make_dev_certificate(tmp_path, days=0)


def test_dev_key_with_a_passphrase_is_encrypted_and_needs_it(tmp_path, unsigned):
    cert_key = make_dev_certificate(tmp_path, passphrase=b"correct horse")
    key_path = cert_key[1]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_path.read_bytes()
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key_path.read_bytes(), password=None)

    with pytest.raises(SigningError, match="encrypted"):
        sign(unsigned, cert_key)
    with pytest.raises(SigningError, match="cannot load the private key"):
        sign(unsigned, cert_key, passphrase=b"wrong")
    signed = sign(unsigned, cert_key, passphrase=b"correct horse")
    assert validate_pdf_signature(signed, [load_certificate(cert_key[0])])["trusted"] is True


def test_regenerating_keeps_the_key_private(tmp_path):
    _, key_path = make_dev_certificate(tmp_path)
    key_path.chmod(0o644)
    first = key_path.read_bytes()
    _, key_path = make_dev_certificate(tmp_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() != first


# -- signing ---------------------------------------------------------------------------------------


def test_signature_is_pades_invisible_and_appended(signed, unsigned):
    # An incremental update: the letter as rendered is untouched at the start of the signed file.
    assert signed.startswith(unsigned) and len(signed) > len(unsigned)
    (sig,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    assert sig.field_name == "Signature1"
    obj = sig.sig_object
    assert obj["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert obj["/Reason"] == REASON
    assert obj["/Location"] == LOCATION
    assert obj["/Name"] == "Nguyễn Văn DEMO"
    assert sig.md_algorithm == "sha256"
    assert [float(n) for n in sig.sig_field["/Rect"]] == [0, 0, 0, 0]  # invisible widget


def test_signed_letter_is_intact_valid_and_trusted_with_the_dev_root(signed, root):
    report = validate_pdf_signature(signed, [root])
    assert report["intact"] is True
    assert report["valid"] is True
    assert report["trusted"] is True
    assert report["bottom_line"] is True
    assert report["coverage"] == "ENTIRE_FILE"
    assert report["modification_level"] == "NONE"
    assert report["signer"] == "PressDesk DEMO signer"
    assert report["field"] == "Signature1"
    assert report["signature_count"] == 1
    assert report["summary"] == "INTACT:TRUSTED,UNTOUCHED"
    assert report["error"] is None
    signed_at = dt.datetime.fromisoformat(report["signing_time"])
    assert abs(dt.datetime.now(dt.timezone.utc) - signed_at) < dt.timedelta(minutes=10)


def test_trust_roots_can_be_paths_pem_bytes_or_cryptography_certificates(signed, dev_cert):
    cert_path = dev_cert[0]
    pem = cert_path.read_bytes()
    for root in (cert_path, str(cert_path), pem, x509.load_pem_x509_certificate(pem)):
        assert validate_pdf_signature(signed, [root])["trusted"] is True


def test_without_the_trust_root_the_signature_is_valid_but_untrusted(signed, tmp_path):
    report = validate_pdf_signature(signed, [])
    assert (report["intact"], report["valid"], report["trusted"]) == (True, True, False)
    assert report["bottom_line"] is False
    assert report["summary"].startswith("INTACT:UNTRUSTED")

    other_cert, _ = make_dev_certificate(tmp_path, common_name="Another DEMO signer")
    report = validate_pdf_signature(signed, [load_certificate(other_cert)])
    assert (report["intact"], report["valid"], report["trusted"]) == (True, True, False)


def test_one_changed_byte_in_the_page_content_breaks_the_signature(signed, root):
    start, first_len, second_start, second_len = byte_range(signed)
    assert start == 0 and second_start + second_len == len(signed)  # covers the whole file but /Contents
    offset = signed.index(b"(So: 12/UBND-VP)")  # the letter's number, inside the page content stream
    offset += len(b"(So: ")
    assert offset < first_len  # inside the first signed range, not in the /Contents hex
    tampered = signed[:offset] + b"7" + signed[offset + 1:]  # "12" -> "72"
    assert len(tampered) == len(signed)
    assert sum(a != b for a, b in zip(signed, tampered)) == 1

    report = validate_pdf_signature(tampered, [root])
    assert report["intact"] is False
    assert report["valid"] is False
    assert report["trusted"] is False
    assert report["bottom_line"] is False
    assert report["summary"] == "INVALID"
    # What pyHanko says: the signature value over the signed attributes still verifies; it is the
    # digest of the signed bytes that no longer matches.
    assert report["signature_value_ok"] is True
    assert report["error"] is None


def test_bytes_after_eof_leave_the_signed_range_intact_but_not_the_whole_file(signed, root):
    extended = signed + b"\n% appended after the signature\ngarbage garbage\n"
    report = validate_pdf_signature(extended, [root])
    assert (report["intact"], report["valid"], report["trusted"]) == (True, True, True)
    assert report["coverage"] == "ENTIRE_REVISION"  # no longer ENTIRE_FILE
    # pyHanko sees no new revision in bytes that are not a PDF update, so it reports no
    # modification and its overall verdict stays positive: only the coverage tells.
    assert report["modification_level"] == "NONE"
    assert report["bottom_line"] is True
    assert "UNTOUCHED" not in report["summary"]


def test_a_second_signature_is_an_incremental_update_and_both_validate(signed, dev_cert, root):
    twice = sign(signed, dev_cert, field_name="Signature2", reason="Phê duyệt (DEMO)")
    assert twice.startswith(signed)
    first, second = validate_pdf_signatures(twice, [root])
    assert (first["field"], second["field"]) == ("Signature1", "Signature2")
    for report in (first, second):
        assert (report["intact"], report["valid"], report["trusted"]) == (True, True, True)
        assert report["bottom_line"] is True
    assert first["coverage"] == "ENTIRE_REVISION"
    assert first["modification_level"] == "FORM_FILLING"  # only a signature was added after it
    assert first["docmdp_ok"] is True
    assert second["coverage"] == "ENTIRE_FILE"
    assert validate_pdf_signature(twice, [root])["field"] == "Signature2"
    assert validate_pdf_signature(twice, [root])["signature_count"] == 2


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils' pdfsig is not installed")
def test_poppler_accepts_the_signature(signed, tmp_path):
    """A second, independent reader (Poppler, on NSS): the signature verifies; the DEMO issuer is unknown to it."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature Type: ETSI.CAdES.detached" in out
    assert "Signature Validation: Signature is Valid." in out
    assert "Total document signed" in out
    assert "Signer Certificate Common Name: PressDesk DEMO signer" in out


# -- refusals --------------------------------------------------------------------------------------


def test_signing_refuses_a_filled_field_a_non_pdf_and_a_foreign_key(signed, unsigned, dev_cert, tmp_path):
    with pytest.raises(SigningError, match="filled already"):
        sign(signed, dev_cert)
    with pytest.raises(SigningError, match="could not sign the PDF"):
        sign(b"not a PDF at all", dev_cert)
    _, other_key = make_dev_certificate(tmp_path)
    with pytest.raises(SigningError, match="does not belong"):
        sign(unsigned, (dev_cert[0], other_key))
    with pytest.raises(SigningError, match="cannot read"):
        sign(unsigned, (tmp_path / "missing.pem", dev_cert[1]))
    with pytest.raises(SigningError, match="not a PEM or DER certificate"):
        sign(unsigned, (dev_cert[1], dev_cert[1]))


def test_validating_an_unsigned_or_broken_file_reports_instead_of_raising(unsigned, root):
    assert validate_pdf_signatures(unsigned, [root]) == []
    report = validate_pdf_signature(unsigned, [root])
    assert report["signature_count"] == 0 and report["error"] == "the PDF has no signature"
    assert not (report["intact"] or report["valid"] or report["trusted"] or report["bottom_line"])

    report = validate_pdf_signature(b"%PDF-1.7\nnot really", [root])
    assert report["signature_count"] == 0
    assert re.match("unreadable PDF", report["error"])
    assert not (report["intact"] or report["valid"] or report["trusted"])
