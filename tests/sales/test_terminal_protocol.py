"""Caisse-AP over IP against the terminal simulator: every answer a terminal can give."""

from __future__ import annotations

import threading

import pytest

from app.errors import InvalidInput
from app.sales.terminal.protocol import (
    Exchange,
    TerminalCancelled,
    TerminalConfig,
    TerminalError,
    TerminalLost,
    check_reachable,
    decode,
    encode,
    payment_request,
)
from app.sales.terminal.sandbox import TerminalSandbox


@pytest.fixture
def sandbox():
    running = TerminalSandbox(0).start()
    yield running
    running.stop()


def _config(sandbox: TerminalSandbox, **extra) -> TerminalConfig:
    return TerminalConfig("127.0.0.1", sandbox.port, "123456789012", "03", **extra)


def test_fields_are_tag_length_value_with_the_version_first() -> None:
    config = TerminalConfig("127.0.0.1", 8888, "123456789012", "03")
    request = payment_request(config, 1250)
    assert request == b"CZ0040300CJ012123456789012CA00203CB0041250CD0010CE003978BA0010"
    assert decode(request)[0] == ("CZ", "0300")
    assert dict(decode(payment_request(config, 5, credit=True)))["CB"] == "05"
    assert dict(decode(payment_request(config, 5, credit=True)))["CD"] == "1"
    assert decode(encode([("AE", "10"), ("AC", "X" * 120)])) == [("AE", "10"), ("AC", "X" * 120)]
    with pytest.raises(ValueError):
        decode(b"AE00210AC0061234")  # the rest of the message has not arrived yet


@pytest.mark.parametrize(
    ("host", "port", "terminal_id", "till"),
    [("", 8888, "1", "01"), ("a b", 8888, "1", "01"), ("h", 0, "1", "01"),
     ("h", 8888, "12a", "01"), ("h", 8888, "1" * 13, "01"), ("h", 8888, "1", "1")],
)  # fmt: skip
def test_bad_settings_are_refused_in_french(host, port, terminal_id, till) -> None:
    with pytest.raises(InvalidInput, match="Terminal de paiement"):
        TerminalConfig(host, port, terminal_id, till)


def test_an_approved_payment_has_an_authorisation_number(sandbox) -> None:
    answer = Exchange(_config(sandbox)).pay(1250)
    assert answer.approved and answer.result == "10" and answer.reason == ""
    assert answer.authorisation == "100001"
    assert answer.card.endswith("0042")
    assert dict(answer.fields)["CA"] == "03"  # the terminal echoes the till's fields
    assert [(t.kind, t.amount_cents, t.outcome) for t in sandbox.transactions] == [
        ("debit", 1250, "approve")
    ]


def test_a_refund_is_a_credit_transaction(sandbox) -> None:
    answer = Exchange(_config(sandbox)).pay(700, credit=True)
    assert answer.approved
    assert sandbox.transactions[-1].kind == "credit"


@pytest.mark.parametrize(
    ("cents", "code", "reason"),
    [(1291, "04", "paiement refusé"), (1292, "08", "délai dépassé sur le terminal")],
)
def test_a_refusal_says_why(sandbox, cents, code, reason) -> None:
    answer = Exchange(_config(sandbox)).pay(cents)
    assert not answer.approved and answer.result == "01" and answer.reason_code == code
    assert reason in answer.reason
    assert answer.authorisation == ""


def test_modes_chosen_when_starting_apply_to_any_amount() -> None:
    refusing = TerminalSandbox(0, mode="refuse").start()
    try:
        assert Exchange(TerminalConfig("127.0.0.1", refusing.port)).pay(1000).reason_code == "04"
    finally:
        refusing.stop()
    with pytest.raises(InvalidInput, match="Mode inconnu"):
        TerminalSandbox(0, mode="maybe")


def test_a_dropped_connection_is_an_unknown_outcome(sandbox) -> None:
    with pytest.raises(TerminalLost, match=r"connexion coupée.*n'est pas enregistré"):
        Exchange(_config(sandbox)).pay(1293)


def test_a_terminal_that_never_answers_times_out(sandbox) -> None:
    with pytest.raises(TerminalLost, match="pas de réponse en 0 s"):
        Exchange(_config(sandbox, timeout=0.3)).pay(1294)


def test_the_cashier_can_stop_waiting(sandbox) -> None:
    exchange = Exchange(_config(sandbox))
    threading.Timer(0.3, exchange.cancel).start()
    with pytest.raises(TerminalCancelled, match="attente annulée"):
        exchange.pay(1294)


def test_an_unreachable_terminal_is_said_before_anything_is_sent(sandbox) -> None:
    port = sandbox.port
    sandbox.stop()
    config = TerminalConfig("127.0.0.1", port)
    with pytest.raises(TerminalError, match="injoignable") as raised:
        Exchange(config).pay(1000)
    assert not isinstance(raised.value, TerminalLost)
    with pytest.raises(TerminalError, match="injoignable"):
        check_reachable(config)


def test_the_connection_test_charges_nothing(sandbox) -> None:
    check_reachable(_config(sandbox))
    assert sandbox.transactions == []


def test_a_malformed_request_is_not_understood(sandbox) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", sandbox.port)) as sock:
        sock.sendall(encode([("CZ", "0300"), ("CE", "978")]))
        answer = dict(decode(sock.recv(4096)))
    assert answer["AE"] == "01" and answer["AF"] == "09"
