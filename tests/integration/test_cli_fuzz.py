"""The command line against random argument lists: whatever is typed, it answers with an
exit code (0, 1 or 2) and French text, never a traceback nor argparse's English.

The words are drawn from the real command tree (its commands and options), from values
each option might get (good and bad dates, periods, amounts, numbers, paths) and from
hostile strings (U+FFFE, lone surrogates, control characters, the empty string, very long
ones). Nothing here starts a server or the GUI: the GUI (no command), ``demo`` and
``pdp-sandbox`` and ``terminal-sandbox`` are replaced by stubs, so their parsing is fuzzed
but not their run (a sandbox serves until it is stopped).
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.cli
from app.cli import demo, pdp, terminal
from app.cli.parser import build_parser
from app.demo import run_demo

ENGLISH = (
    "usage:",
    "error:",
    "invalid choice",
    "unrecognized arguments",
    "the following arguments are required",
    "expected one argument",
    "not allowed with",
    "is required",
    "Traceback",
)


def _tree(
    parser: argparse.ArgumentParser, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(command path, its parser) for every parser of the tree."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _tree(sub, (*path, name))


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options of a parser, but help and version (which only print)."""
    return [a for a in parser._actions if a.option_strings and a.dest not in ("help", "version")]


def _needed(parser: argparse.ArgumentParser) -> list[list[argparse.Action]]:
    """What a command cannot go without, as choices: each positional, one option of each
    required group, each required option."""
    needed = [
        [action]
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and (not action.option_strings or action.required)
    ]
    needed += [
        group._group_actions for group in parser._mutually_exclusive_groups if group.required
    ]
    return needed


PARSERS = dict(_tree(build_parser(), ()))
LEAVES = {
    path: parser
    for path, parser in PARSERS.items()
    if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
}
COMMANDS = sorted(LEAVES)
OPTIONS = sorted({s for p in PARSERS.values() for a in _options(p) for s in a.option_strings})
NAMES = sorted({name for path in COMMANDS for name in path})
# Values that fit an option, by its metavar: they let commands go further than parsing.
FITTING = {
    "AAAA": ["2025", "2026", "1900", "9998"],
    "AAAA-MM": ["2026-10", "2026-11", "2025-12"],
    "AAAA-MM-JJ": ["2026-01-01", "2026-11-21", "1900-01-01", "9998-12-31"],
    "MONTANT": ["152,40", "0", "12", "1 234,5 €"],
    "N": ["1", "2", "8765"],
    "NUMÉRO": ["F2026-000001", "AV2026-000001", "F2026-999999"],
    "FICHIER": ["copie.sqlite", "faux.zip", "vue.csv", "sortie/vue.xlsx"],
    "DOSSIER": ["un-dossier", "sortie", "sortie/sous/"],
    "TYPE": ["TICKET", "invoice", "DAY_CLOSURE"],
    "ADRESSE": ["central.sqlite", "postgresql+psycopg://u@127.0.0.1:9/x"],
    "CAISSE": ["CAISSE-1", "CAISSE-2"],
    "NOM": ["Gérant", "Marie"],
}
VALUES = [
    "2026-13",
    "2026-13-45",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "99999",
    "0",
    "-1",
    "65536",
    "",
    " ",
    "abc",
    "-3,5",
    "1,234",
    "1e999",
    "NaN",
    "ticket",
    "sqlite:///x",
    "-",
    "--",
    "--db=",
    "--year=2025",
    "--training=oui",
    "x" * 5000,
    "é" * 300,
    "\ufffe",
    "\uffff",
    "\ud800",
    "\udcff",
    "a\x00b",
    "\x1b[31m",
    "nom\nsur deux lignes",
    "日本",
]


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real ledger where ``--db`` points by default, the working folder a temporary one,
    no platform configured, and stubs for what would start a window or a server."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(data))
    for name in ("COMPTOIR_PDP_URL", "COMPTOIR_PDP_TOKEN_URL", "COMPTOIR_CHORUS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(app.cli, "_gui", lambda args: 0)
    monkeypatch.setattr(demo, "run_demo", lambda args: 0)
    monkeypatch.setattr(pdp, "run_sandbox", lambda args: 0)
    monkeypatch.setattr(terminal, "run_sandbox", lambda args: 0)
    data.mkdir()
    path = data / "comptoir.sqlite"
    # A few days of a shop's trading (tickets, invoices, closures) as its real ledger.
    run_demo(path, days=3, kind="real", with_invoices=True).close()
    (tmp_path / "un-dossier").mkdir()
    (tmp_path / "pas-un-journal.sqlite").write_text("ceci n'est pas un journal\n")
    (tmp_path / "faux.zip").write_bytes(b"PK\x03\x04 pas une archive")
    shutil.copyfile(path, tmp_path / "copie.sqlite")
    return path


def _any_value(ledger: Path) -> st.SearchStrategy[str]:
    paths = [str(ledger), str(ledger.parent), "pas-un-journal.sqlite", "absent/x.sqlite"]
    typed = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
    return st.one_of(st.sampled_from(VALUES), st.sampled_from(paths), typed)


def _words(action: argparse.Action, any_value: st.SearchStrategy[str]) -> st.SearchStrategy:
    """The words of one argument: its option string if it has one, then a value unless it
    is a flag; the value fits it more often than not."""
    if action.nargs == 0:
        return st.sampled_from(action.option_strings).map(lambda option: [option])
    fitting = list(action.choices or FITTING.get(str(action.metavar), []))
    value = st.one_of(st.sampled_from(fitting), any_value) if fitting else any_value
    if not action.option_strings:
        return value.map(lambda word: [word])
    return st.tuples(st.sampled_from(action.option_strings), value).map(list)


@st.composite
def _argv(draw: st.DrawFn, ledger: Path) -> list[str]:
    """Global options, a command of the tree with what it needs and some of its own
    options, then noise (any option, command name or value)."""
    any_value = _any_value(ledger)
    command = draw(st.sampled_from(COMMANDS))
    parser = LEAVES[command]
    top = st.sampled_from(_options(PARSERS[()])).flatmap(lambda a: _words(a, any_value))
    before = draw(st.lists(top, max_size=2))
    needed = [
        draw(st.sampled_from(choices).flatmap(lambda a: _words(a, any_value)))
        for choices in _needed(parser)
    ]
    own = st.sampled_from(_options(parser)).flatmap(lambda a: _words(a, any_value))
    options = draw(st.lists(own, max_size=3))
    noise = st.one_of(st.sampled_from(OPTIONS), st.sampled_from(NAMES), any_value)
    after = draw(st.lists(noise, max_size=2))
    head = [word for group in before for word in group]
    tail = [word for group in [*needed, *options] for word in group]
    return [*head, *command, *tail, *after]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_argument_list_gets_an_exit_code_and_french(shop: Path, capsys, data) -> None:
    argv = data.draw(_argv(shop), label="argv")

    code = app.cli.main(argv)  # no exception may escape, SystemExit included

    assert code in (0, 1, 2)
    err = capsys.readouterr().err
    for word in (w for w in argv if len(w.strip()) > 2):  # what was typed, repeated as is
        err = err.replace(word, "")
    for english in ENGLISH:
        assert english not in err, (argv, err)
