"""The offline check of an RFC 3161 token, one rule at a time."""

from __future__ import annotations

import pytest
from asn1crypto import tsp

from app.ledger.timestamps.token import TokenInvalid, check_response, make_request
from tests.tsa import make_authority, reply, resign

DIGEST = "ab" * 32


@pytest.fixture
def answer(tmp_path) -> bytes:
    return reply(make_authority(tmp_path), make_request(DIGEST).der)


def test_a_sound_token(answer) -> None:
    stamp = check_response(answer, DIGEST)
    assert stamp.digest == DIGEST and stamp.certificates == 2
    assert stamp.tsa == "CN=Comptoir Test TSA"


def test_signed_again_by_another_authority_it_still_holds(answer, tmp_path) -> None:
    assert check_response(resign(answer, tmp_path / "other", eku=True), DIGEST).certificates == 2


def test_a_certificate_without_the_timestamping_purpose(answer, tmp_path) -> None:
    forged = resign(answer, tmp_path / "plain", eku=False)
    with pytest.raises(TokenInvalid, match="usage timeStamping absent"):
        check_response(forged, DIGEST)


def test_a_token_without_its_certificate_cannot_be_checked_offline(answer, tmp_path) -> None:
    forged = resign(answer, tmp_path / "bare", eku=True, certs=False)
    with pytest.raises(TokenInvalid, match="certificat de l'autorité d'horodatage manque"):
        check_response(forged, DIGEST)


def test_another_digest_and_another_nonce(answer) -> None:
    with pytest.raises(TokenInvalid, match="autre empreinte"):
        check_response(answer, "cd" * 32)
    with pytest.raises(TokenInvalid, match="nonce"):
        check_response(answer, DIGEST, nonce=1)


def test_a_refusal_of_the_authority(tmp_path) -> None:
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": ["bad alg"]}).dump()
    refused = bytes([0x30, len(status)]) + status  # a TimeStampResp without its token
    with pytest.raises(TokenInvalid, match=r"refusé la demande \(bad alg\)"):
        check_response(refused, DIGEST)


def test_a_changed_content_is_named(answer) -> None:
    resp = tsp.TimeStampResp.load(answer)
    content = resp["time_stamp_token"]["content"]["encap_content_info"]["content"]
    raw = content.contents
    changed = answer.replace(raw, raw[:-1] + bytes([raw[-1] ^ 1]), 1)
    with pytest.raises(TokenInvalid, match="modifié après sa signature"):
        check_response(changed, DIGEST)
