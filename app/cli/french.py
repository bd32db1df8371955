"""argparse in French: its own messages translated, its errors turned into exit code 2.

argparse looks its messages up through ``gettext`` at the moment it builds a parser,
formats a help text or reports an error; ``in_french`` answers those look-ups from the
table below for as long as the command line is parsed. Every message of argparse has an
entry (a test holds that), so none reaches the user in English.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

MESSAGES = {
    # What a user sees.
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "subcommands": "commandes",
    "show this help message and exit": "afficher cette aide",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s : %(message)s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (possibles : %(choices)s)"
    ),
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "commande inconnue : %(parser_name)r (possibles : %(choices)s)"
    ),
    "the following arguments are required: %s": "à préciser : %s",
    "one of the arguments %s is required": "précisez l'une de ces options : %s",
    "not allowed with argument %s": "incompatible avec %s",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "expected at least one argument": "une valeur au moins est attendue",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "ignored explicit argument %r": "cette option ne prend pas de valeur : %r",
    "unexpected option string: %s": "option inattendue : %s",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    'argument "-" with mode %r': "« - » n'est pas permis avec le mode %r",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    # Mistakes in the parser's own definition (a programming error, never the user's).
    ".__call__() not defined": ".__call__() n'est pas défini",
    "'required' is an invalid argument for positionals": (
        "« required » ne s'applique pas à un argument positionnel"
    ),
    "mutually exclusive arguments must be optional": (
        "des arguments exclusifs l'un de l'autre doivent être des options"
    ),
    "%r is not callable": "%r n'est pas appelable",
    "cannot merge actions - two groups are named %r": (
        "fusion impossible : deux groupes s'appellent %r"
    ),
    "invalid option string %(option)r: must start with a character %(prefix_chars)r": (
        "option %(option)r invalide : elle doit commencer par %(prefix_chars)r"
    ),
    "dest= is required for options like %r": "dest= est nécessaire pour une option comme %r",
    "invalid conflict_resolution value: %r": "valeur de conflict_resolution invalide : %r",
    "cannot have multiple subparser arguments": "un seul groupe de commandes est permis",
    "conflicting subparser: %s": "commande en double : %s",
    "conflicting subparser alias: %s": "alias de commande en double : %s",
}

PLURALS = {
    ("expected %s argument", "expected %s arguments"): (
        "%s valeur est attendue",
        "%s valeurs sont attendues",
    ),
    ("conflicting option string: %s", "conflicting option strings: %s"): (
        "option en double : %s",
        "options en double : %s",
    ),
}


def translate(message: str) -> str:
    return MESSAGES.get(message, message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    french = PLURALS.get((singular, plural))
    if french is None:
        return singular if n == 1 else plural
    return french[0] if n <= 1 else french[1]  # French: 0 and 1 take the singular


@contextmanager
def in_french() -> Iterator[None]:
    """argparse's messages in French while the block runs (the command line is parsed by
    one thread, before any other starts)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = translate, translate_plural  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class UsageError(Exception):
    """The command line is wrong; the message and the usage are already printed."""


class Exited(Exception):
    """``--help`` or ``--version`` was answered."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class FrenchFormatter(argparse.HelpFormatter):
    """French typography: a space before the colon of each heading (« options : »)."""

    def start_section(self, heading: str | None) -> None:
        if heading and heading is not argparse.SUPPRESS:
            heading = f"{heading} "
        super().start_section(heading)


class FrenchParser(argparse.ArgumentParser):
    """A parser whose help is laid out the French way, and whose errors are printed in
    French and end the parse with UsageError (exit code 2) instead of leaving the
    process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", FrenchFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"Erreur : {message}", file=sys.stderr)
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr, end="")
        raise Exited(status)
