"""Older spellings of the command line, kept working for one release with a one-line note.

``samestory stories ...`` runs ``samestory index stories ...``, ``samestory train ...`` runs
``samestory dev train ...``; each says so on standard error, once, as
``samestory: note: 'samestory stories' is now 'samestory index stories'``.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

#: Top-level commands of release 0.1 and what they are now.
OLD_COMMANDS: dict[str, tuple[str, ...]] = {
    "similar": ("index", "similar"),
    "stories": ("index", "stories"),
    "duplicates": ("index", "duplicates"),
    "timeline": ("index", "timeline"),
    "serve": ("index", "serve"),
    "embed": ("index", "embed"),
    "train": ("dev", "train"),
}


def note(old: str, new: str) -> None:
    """Say on standard error, in one line, that ``old`` is now spelled ``new``."""
    sys.stderr.write(f"samestory: note: '{old}' is now '{new}'\n")


def modern(argv: Sequence[str]) -> list[str]:
    """``argv`` with an old top-level command replaced by its new spelling (and a note said);
    any other ``argv`` unchanged.

    Args:
        argv: the arguments after the program name.

    Returns:
        The arguments the parser reads.
    """
    argv = list(argv)
    if argv and argv[0] in OLD_COMMANDS:
        new = OLD_COMMANDS[argv[0]]
        note(f"samestory {argv[0]}", "samestory " + " ".join(new))
        return [*new, *argv[1:]]
    return argv
