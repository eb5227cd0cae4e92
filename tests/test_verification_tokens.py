"""Permit tokens: they round-trip, resist every one-character change, survive key rotation,
verify offline from the published key set, carry nothing personal and never raise on garbage."""
from __future__ import annotations

import base64
import json
import os
import stat
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from app.verification.tokens import (
    TOKEN_BYTES,
    TOKEN_LENGTH,
    KeyRing,
    TokenClaims,
    generate_key,
    verify_with_key_set,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
VALID_FROM, VALID_UNTIL = date(2027, 3, 1), date(2027, 3, 15)


def _decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


@pytest.fixture(scope="module")
def key_ring(tmp_path_factory):
    directory = tmp_path_factory.mktemp("permit-keys")
    generate_key(directory)
    return KeyRing.from_directory(directory)


@pytest.fixture(scope="module")
def token(key_ring):
    return key_ring.sign(4242, VALID_FROM, VALID_UNTIL)


def test_round_trip(key_ring, token):
    claims = key_ring.verify(token)
    assert claims == TokenClaims(permit_id=4242, valid_from=VALID_FROM, valid_until=VALID_UNTIL,
                                 key_id=key_ring.current_key_id)
    assert len(token) == TOKEN_LENGTH == 103
    assert set(token) <= set(ALPHABET)


def test_extreme_values_round_trip(key_ring):
    for permit_id, valid_from, valid_until in [(1, date(2000, 1, 1), date(2000, 1, 1)),
                                               (2**32 - 1, date(2179, 6, 6), date(2179, 6, 6))]:
        claims = key_ring.verify(key_ring.sign(permit_id, valid_from, valid_until))
        assert (claims.permit_id, claims.valid_from, claims.valid_until) == (permit_id, valid_from, valid_until)


def test_every_one_character_change_is_refused(key_ring, token):
    # Every position, every other character of the alphabet: 103 x 63 altered tokens. This
    # includes the last character, whose two spare bits would decode to the same bytes if
    # non-canonical spellings were accepted.
    for position in range(len(token)):
        for replacement in ALPHABET:
            if replacement == token[position]:
                continue
            altered = token[:position] + replacement + token[position + 1:]
            assert key_ring.verify(altered) is None, (position, replacement)


def test_truncated_extended_and_padded_tokens_are_refused(key_ring, token):
    for altered in [token[:-1], token[1:], token + "A", "A" + token, token + "=", token + "\n",
                    " " + token, token[:50], token + token, token.upper(), token[::-1]]:
        assert key_ring.verify(altered) is None, altered


def test_a_token_from_an_unknown_key_is_refused(key_ring, tmp_path):
    generate_key(tmp_path)
    stranger = KeyRing.from_directory(tmp_path)
    assert stranger.current_key_id != key_ring.current_key_id
    assert key_ring.verify(stranger.sign(4242, VALID_FROM, VALID_UNTIL)) is None


def test_swapping_the_key_id_for_another_known_key_is_refused(tmp_path):
    first = generate_key(tmp_path)
    old_token = KeyRing.from_directory(tmp_path).sign(7, VALID_FROM, VALID_UNTIL)
    second = generate_key(tmp_path)
    ring = KeyRing.from_directory(tmp_path)
    raw = bytearray(_decode(old_token))
    assert raw[1:5] == first.encode()
    raw[1:5] = second.encode()
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert ring.verify(old_token) is not None
    assert ring.verify(forged) is None


def test_rotation_keeps_old_tokens_verifiable(tmp_path):
    key_a = generate_key(tmp_path)
    token_a = KeyRing.from_directory(tmp_path).sign(1, VALID_FROM, VALID_UNTIL)
    key_b = generate_key(tmp_path)
    assert key_b != key_a
    assert (tmp_path / "current").read_text().strip() == key_b

    ring = KeyRing.from_directory(tmp_path)
    assert ring.current_key_id == key_b
    assert ring.verify(token_a).key_id == key_a
    token_b = ring.sign(2, VALID_FROM, VALID_UNTIL)
    assert ring.verify(token_b).key_id == key_b
    assert _decode(token_b)[1:5] == key_b.encode()

    # The published key set alone verifies both, also after a JSON round trip.
    key_set = json.loads(json.dumps(ring.public_key_set()))
    assert [key["kid"] for key in key_set["keys"]] == sorted([key_a, key_b])
    for key in key_set["keys"]:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["use"] == "sig"
        assert len(_decode(key["x"])) == 32
        assert "d" not in key  # never a private half
    assert verify_with_key_set(token_a, key_set).permit_id == 1
    assert verify_with_key_set(token_b, key_set).permit_id == 2

    # A key set published before the rotation knows nothing of B.
    only_a = {"keys": [key for key in key_set["keys"] if key["kid"] == key_a]}
    assert verify_with_key_set(token_a, only_a) is not None
    assert verify_with_key_set(token_b, only_a) is None


def test_a_retired_key_kept_as_public_half_still_verifies(tmp_path):
    key_a = generate_key(tmp_path)
    token_a = KeyRing.from_directory(tmp_path).sign(1, VALID_FROM, VALID_UNTIL)
    generate_key(tmp_path)
    # Retire A: keep only its public half, destroy the private one.
    private_a = serialization.load_pem_private_key((tmp_path / f"{key_a}.pem").read_bytes(), password=None)
    (tmp_path / f"{key_a}.pub.pem").write_bytes(private_a.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / f"{key_a}.pem").unlink()
    ring = KeyRing.from_directory(tmp_path)
    assert ring.verify(token_a).key_id == key_a
    assert ring.current_key_id != key_a


def test_without_a_current_file_the_newest_private_key_signs(tmp_path):
    key_a = generate_key(tmp_path)
    key_b = generate_key(tmp_path)
    (tmp_path / "current").unlink()
    os.utime(tmp_path / f"{key_a}.pem", (1_000_000, 1_000_000))
    os.utime(tmp_path / f"{key_b}.pem", (2_000_000, 2_000_000))
    assert KeyRing.from_directory(tmp_path).current_key_id == key_b


def test_a_current_file_naming_a_missing_key_is_an_error(tmp_path):
    generate_key(tmp_path)
    (tmp_path / "current").write_text("zzzz\n")
    with pytest.raises(ValueError, match="zzzz"):
        KeyRing.from_directory(tmp_path)


def test_an_empty_key_directory_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="generate_key"):
        KeyRing.from_directory(tmp_path)


def test_private_key_files_are_0600_and_others_are_refused(tmp_path):
    directory = tmp_path / "keys"
    old_umask = os.umask(0o022)
    try:
        kid = generate_key(directory)
    finally:
        os.umask(old_umask)
    key_file = directory / f"{kid}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    key_file.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        KeyRing.from_directory(directory)


def test_the_token_carries_nothing_personal(key_ring):
    token = key_ring.sign(4242, VALID_FROM, VALID_UNTIL)
    raw = _decode(token)
    assert len(raw) == TOKEN_BYTES == 77
    # version, key id, permit id, two dates and the signature: nothing else fits.
    assert raw[0] == 1
    assert raw[1:5] == key_ring.current_key_id.encode()
    assert int.from_bytes(raw[5:9], "big") == 4242
    assert int.from_bytes(raw[9:11], "big") == (VALID_FROM - date(2000, 1, 1)).days
    assert int.from_bytes(raw[11:13], "big") == (VALID_UNTIL - date(2000, 1, 1)).days
    for personal in ["Nguyễn Thị Hoa", "Nguyen", "Hoa", "B1234567", "Reuters"]:
        assert personal.encode() not in raw
        # The text is the base64 of those bytes; a short name ("hoa") turns up in random base64 now and
        # then (about once in a few hundred keys), so only the longer ones are looked for in it.
        if len(personal) >= 6:
            assert personal.lower() not in token.lower()


def test_a_verify_only_ring_cannot_sign(key_ring, token):
    ring = KeyRing.from_key_set(key_ring.public_key_set())
    assert ring.verify(token) is not None
    with pytest.raises(RuntimeError):
        ring.sign(1, VALID_FROM, VALID_UNTIL)


@pytest.mark.parametrize("permit_id, valid_from, valid_until", [
    (0, VALID_FROM, VALID_UNTIL),
    (-1, VALID_FROM, VALID_UNTIL),
    (2**32, VALID_FROM, VALID_UNTIL),
    (True, VALID_FROM, VALID_UNTIL),
    ("12", VALID_FROM, VALID_UNTIL),
    (1, VALID_UNTIL, VALID_FROM),
    (1, date(1999, 12, 31), VALID_UNTIL),
    (1, VALID_FROM, date(2179, 6, 7)),
])
def test_sign_refuses_values_it_cannot_carry(key_ring, permit_id, valid_from, valid_until):
    with pytest.raises(ValueError):
        key_ring.sign(permit_id, valid_from, valid_until)


@pytest.mark.parametrize("key_set", [
    None, [], {}, {"keys": None}, {"keys": ["x"]}, {"keys": []},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "abcd", "x": "not base64!"}]},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "abcd", "x": "AAAA"}]},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "way too long", "x": "A" * 43}]},
    {"keys": [{"kty": "RSA", "kid": "rsa1", "n": "AQAB", "e": "AQAB"}]},
])
def test_a_malformed_key_set_is_an_error_not_a_verdict(token, key_set):
    with pytest.raises(ValueError):
        verify_with_key_set(token, key_set)


def test_a_key_set_may_hold_other_key_types(key_ring, token):
    key_set = key_ring.public_key_set()
    key_set["keys"].insert(0, {"kty": "RSA", "kid": "rsa1", "n": "AQAB", "e": "AQAB"})
    assert verify_with_key_set(token, key_set) is not None


@pytest.mark.parametrize("garbage", [
    "", " ", "=", "A", "A" * 102, "A" * 103, "A" * 104, "A" * 10_000_000, "\x00" * 103,
    "Ａ" * 103, "Nguyễn Thị Hoa", "ẞ" * 103, "\ud800", "🛂" * 103, "/v/", "../../etc/passwd",
    None, 42, b"A" * 103, ["A" * 103], object(),
])
def test_garbage_is_refused_without_an_exception(key_ring, garbage):
    assert key_ring.verify(garbage) is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_is_refused(key_ring, text):
    assert key_ring.verify(text) is None
    assert verify_with_key_set(text, key_ring.public_key_set()) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET + "=+/ ", min_size=TOKEN_LENGTH - 2, max_size=TOKEN_LENGTH + 2))
def test_random_token_shaped_text_is_refused(key_ring, text):
    assert key_ring.verify(text) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=TOKEN_BYTES, max_size=TOKEN_BYTES))
def test_random_bytes_of_the_right_length_are_refused(key_ring, raw):
    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert len(text) == TOKEN_LENGTH
    assert key_ring.verify(text) is None


def test_validity_on():
    claims = TokenClaims(permit_id=1, valid_from=VALID_FROM, valid_until=VALID_UNTIL, key_id="abcd")
    assert claims.validity_on(date(2027, 2, 28)) == "not_yet_valid"
    assert claims.validity_on(VALID_FROM) == "valid"
    assert claims.validity_on(VALID_UNTIL) == "valid"
    assert claims.validity_on(date(2027, 3, 16)) == "expired"
