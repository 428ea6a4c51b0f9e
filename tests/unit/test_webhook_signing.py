"""Webhook signatures: what a receiver accepts, and the reason it gives for what it refuses."""

import hashlib
import hmac

import pytest

from server.adapters.webhook_signing import WebhookSignatureError, sign, verify

SECRET = b"whsec_test_0123456789"
BODY = b'{"id":"evt_1","type":"upi.intent.approved","data":{"amount_minor":49900}}'
NOW = 1_800_000_000


def _reject(header: str | None, body: bytes = BODY, *, secret: bytes = SECRET, now: float = NOW):
    with pytest.raises(WebhookSignatureError) as caught:
        verify(secret, header, body, now=now)
    return caught.value


def test_header_is_t_and_v1_hmac_over_timestamp_dot_body():
    expected = hmac.new(SECRET, f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, NOW) == f"t={NOW},v1={expected}"


def test_a_fresh_signature_verifies_and_returns_its_timestamp():
    header = sign(SECRET, BODY, NOW - 10)
    assert verify(SECRET, header, BODY, now=NOW) == NOW - 10


def test_a_signature_within_tolerance_either_side_verifies():
    assert verify(SECRET, sign(SECRET, BODY, NOW - 299), BODY, now=NOW) == NOW - 299
    assert verify(SECRET, sign(SECRET, BODY, NOW + 299), BODY, now=NOW) == NOW + 299


def test_a_tampered_body_is_a_signature_mismatch():
    header = sign(SECRET, BODY, NOW)
    error = _reject(header, BODY.replace(b"49900", b"99"))
    assert error.code == "mismatch"
    assert "signature mismatch" in error.reason


def test_a_body_signed_with_another_secret_is_a_signature_mismatch():
    header = sign(b"someone-elses-secret", BODY, NOW)
    assert _reject(header).code == "mismatch"


def test_a_ten_minute_old_timestamp_is_too_old_even_when_correctly_signed():
    header = sign(SECRET, BODY, NOW - 600)
    error = _reject(header)
    assert error.code == "too_old"
    assert "600s" in error.reason and "300s" in error.reason


def test_a_timestamp_far_in_the_future_is_refused():
    error = _reject(sign(SECRET, BODY, NOW + 900))
    assert error.code == "in_future"


def test_a_forged_timestamp_on_an_old_signature_is_a_mismatch_not_fresh():
    old = sign(SECRET, BODY, NOW - 600)
    forged = old.replace(f"t={NOW - 600}", f"t={NOW}")
    assert _reject(forged).code == "mismatch"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_reported_as_missing(header):
    error = _reject(header)
    assert error.code == "missing"
    assert "missing Tote-Signature" in error.reason


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "v1=abcdef",  # no timestamp
        f"t={NOW}",  # no signature
        "t=yesterday,v1=abcdef",
        "t=²,v1=abcdef",  # a unicode digit is not unix seconds
    ],
)
def test_a_malformed_header_is_reported_as_malformed(header):
    error = _reject(header)
    assert error.code == "malformed"
    assert "malformed" in error.reason


def test_reasons_differ_per_failure_so_an_operator_can_act_on_them():
    reasons = {
        _reject(None).reason,
        _reject("nonsense").reason,
        _reject(sign(b"other", BODY, NOW)).reason,
        _reject(sign(SECRET, BODY, NOW - 600)).reason,
        _reject(sign(SECRET, BODY, NOW + 600)).reason,
    }
    assert len(reasons) == 5


def test_any_matching_v1_verifies_so_secrets_can_be_rotated():
    old_secret_sig = sign(b"old-secret", BODY, NOW).split("v1=")[1]
    header = f"{sign(SECRET, BODY, NOW)},v1={old_secret_sig}"
    assert verify(SECRET, header, BODY, now=NOW) == NOW
    assert verify(b"old-secret", header, BODY, now=NOW) == NOW


def test_unknown_schemes_in_the_header_are_ignored():
    header = f"{sign(SECRET, BODY, NOW)},v0=deadbeef"
    assert verify(SECRET, header, BODY, now=NOW) == NOW
