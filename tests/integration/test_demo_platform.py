"""A demo ledger talks only to the plateforme de démonstration (or a sandbox on this
computer) and the terminal simulator: every other address is refused, in French; and the
command line opens the demo in its window."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.demo import DemoServices, run_demo
from app.einvoice.pdp.delivery import drain_once
from app.einvoice.pdp.demo_platform import attached
from app.einvoice.pdp.directory import look_up_customer
from app.einvoice.pdp.ereporting.report import send_report
from app.einvoice.pdp.sandbox import SandboxPlatform
from app.einvoice.pdp.training import TrainingNotSent
from app.einvoice.pdp.worker import configured_client
from app.errors import InvalidInput
from app.ledger.store import Ledger

REMOTE = "https://pdp.example.com/v1"
REFUSAL = "Boutique de démonstration : rien n'est jamais envoyé à une plateforme réelle"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPTOIR_DATA_DIR", str(path.parent / "data"))
        patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        run_demo(path, days=1, with_invoices=True).close()
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(demo_file.parent / "data"))
    copy = tmp_path / "demo.sqlite"
    copy.write_bytes(demo_file.read_bytes())
    with Ledger.open(copy, kind="demo", operator="système") as ledger:
        yield ledger


def _remote_platform(monkeypatch) -> None:
    monkeypatch.setenv("COMPTOIR_PDP_URL", REMOTE)
    monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", "https://pdp.example.com/token")
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "shop")
    monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")


def test_a_demo_ledger_refuses_a_platform_that_is_not_on_this_computer(demo, monkeypatch):
    _remote_platform(monkeypatch)
    with pytest.raises(TrainingNotSent, match=REFUSAL) as refused:
        configured_client(demo)
    assert REMOTE in refused.value.message
    with pytest.raises(TrainingNotSent, match=REFUSAL):
        look_up_customer(demo, 1)


def test_a_demo_ledger_keeps_no_address_of_a_real_platform(demo):
    from app.einvoice.pdp.config import save_addresses

    with pytest.raises(InvalidInput, match=REFUSAL), demo.transaction() as session:
        save_addresses(session, REMOTE, "https://pdp.example.com/token", operator="Gérant")
    with demo.transaction() as session:  # a sandbox on this computer is welcome
        save_addresses(
            session, "http://127.0.0.1:8765", "http://127.0.0.1:8765/token", operator="Gérant"
        )


def test_a_demo_ledger_keeps_no_real_card_terminal(demo):
    from app.sales.terminal.settings import save_terminal_config

    with pytest.raises(InvalidInput, match="seul le terminal simulé"), demo.transaction() as s:
        save_terminal_config(
            s, host="192.168.1.50", port=8888, terminal_id="1", till_number="01", operator="Gérant"
        )  # fmt: skip


def test_nothing_leaves_a_demo_ledger_for_a_client_that_is_not_a_sandbox(demo):
    from app.einvoice.pdp.client import HttpFlowClient
    from app.einvoice.pdp.config import PlatformSettings
    from app.einvoice.pdp.ereporting.sent import due_periods

    client = HttpFlowClient(PlatformSettings(REMOTE, "https://pdp.example.com/token", "a", "b"))
    with demo.reader() as session:
        [period, *_] = due_periods(session)
    with pytest.raises(TrainingNotSent, match=REFUSAL):
        send_report(demo, client, period, operator="Gérant")
    with pytest.raises(TrainingNotSent, match=REFUSAL):
        drain_once(demo, {"pdp": client})
    client.close()


def test_a_local_sandbox_serves_the_demo_from_the_command_line_side(demo, monkeypatch):
    """Without its window, a demo ledger may use a ``comptoir pdp-sandbox`` of this
    computer: its invoices, queued when the demo was made, go there."""
    with SandboxPlatform() as sandbox:
        monkeypatch.setenv("COMPTOIR_PDP_URL", sandbox.url)
        monkeypatch.setenv("COMPTOIR_PDP_TOKEN_URL", sandbox.token_url)
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_ID", "comptoir")
        monkeypatch.setenv("COMPTOIR_PDP_CLIENT_SECRET", "secret")
        client = configured_client(demo)
        assert client is not None
        try:
            stats = drain_once(demo, {"pdp": client})
        finally:
            client.close()
        assert stats.sent == len(sandbox.deposits) > 0


def test_the_demo_services_start_attach_and_stop(demo, monkeypatch):
    _remote_platform(monkeypatch)  # the window's own platform wins over the environment
    services = DemoServices(demo).start("Gérant")
    try:
        assert attached(demo) is services.platform
        client = configured_client(demo)
        assert client is not None and client.settings.base_url == services.platform.url
        client.close()
        assert len(services.platform.flows()) == 2  # the suppliers' invoices, waiting
    finally:
        services.stop()
    assert attached(demo) is None
    with pytest.raises(TrainingNotSent):
        configured_client(demo)


def test_the_demo_command_says_how_to_open_it(tmp_path: Path, capsys) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["--db", str(db), "demo", "--days", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"Pour l'essayer dans la fenêtre : comptoir --db {db}" in out
    assert "plateforme de démonstration" in out


def test_the_window_opens_a_demo_ledger_as_a_demo(tmp_path: Path, monkeypatch, demo_file):
    import app.ui.app_start as app_start

    opened = []
    monkeypatch.setattr(app_start, "run", lambda path, *, kind: opened.append(kind) or 0)
    assert main(["--db", str(demo_file)]) == 0
    real = tmp_path / "real.sqlite"
    Ledger.open(real).close()
    assert main(["--db", str(real)]) == 0
    assert opened == ["demo", "real"]


def test_the_commands_work_on_a_demo_ledger(demo_file: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(demo_file.parent / "data"))
    copy = tmp_path / "demo.sqlite"
    copy.write_bytes(demo_file.read_bytes())
    assert main(["--db", str(copy), "backup", "create"]) == 0
    assert "Sauvegarde écrite" in capsys.readouterr().out
    assert main(["--db", str(copy), "terminal", "pending"]) == 0
    assert main(["--db", str(copy), "verify"]) == 0
    with Ledger.open(copy, kind=None, readonly=True) as ledger:
        assert ledger.kind == "demo"


def test_a_demo_closure_sends_the_due_e_reporting_to_the_demo_platform(demo):
    from app.einvoice.pdp.autoreport import send_due_after_closure
    from app.ledger.records import RecordType

    services = DemoServices(demo).start("Gérant")
    try:
        said = send_due_after_closure(demo, RecordType.DAY_CLOSURE, "2026-01-01", "Gérant")
        assert said is not None and said.startswith("E-reporting transmis après la clôture")
        assert services.platform.reports
    finally:
        services.stop()
