"""Refresh the figure blocks of docs/benchmarks.md from the benchmarks' last outputs.

A block is the text between ``<!-- results:NAME -->`` and ``<!-- /results -->``; it is
replaced by the contents of ``bench/results-NAME.txt`` in a code block (or, while that
file does not exist yet, by a line saying so). Everything outside the markers is left
as it is, so the narrative around the figures stays hand-written.

    python bench/tables.py            # rewrite docs/benchmarks.md, print the blocks that changed
    python bench/tables.py --check    # exit 1 if a block differs from its results file
    python bench/tables.py --print    # print the refreshed document instead of writing it
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Markers count only on lines of their own, so prose may quote them in backticks.
OPEN = re.compile(r"^<!-- results:([A-Za-z0-9_-]+) -->$", re.MULTILINE)
CLOSE = re.compile(r"^<!-- /results -->$", re.MULTILINE)
BLOCK = re.compile(r"(?P<open>^<!-- results:(?P<name>[A-Za-z0-9_-]+) -->\n)(?P<body>.*?)(?P<close>^<!-- /results -->$)",
                   re.DOTALL | re.MULTILINE)


def render(name: str, bench: Path) -> str:
    """The body of block ``name``: ``bench/results-NAME.txt`` fenced as text, ending in a newline.

    Args:
        name: the block's name (``stories`` reads ``results-stories.txt``).
        bench: the folder holding the results files.

    Returns:
        The Markdown that goes between the markers.
    """
    path = bench / f"results-{name}.txt"
    if not path.exists():
        return f"No results yet: `bench/{path.name}` is written when the benchmark runs.\n"
    text = path.read_text(encoding="utf-8").strip("\n")
    fence = "```"
    while fence in text:   # a results file that holds a fence itself gets a longer one
        fence += "`"
    return f"{fence}text\n{text}\n{fence}\n"


def refresh(doc: str, bench: Path) -> tuple[str, list[str]]:
    """``doc`` with every results block replaced by its file's contents.

    Args:
        doc: the Markdown document.
        bench: the folder holding ``results-*.txt``.

    Returns:
        The new document and the names of the blocks whose text changed.

    Raises:
        ValueError: a marker opens a block that never closes, or a block appears twice.
    """
    opened = OPEN.findall(doc)
    names = [m.group("name") for m in BLOCK.finditer(doc)]
    if len(opened) != len(names) or len(CLOSE.findall(doc)) != len(names):
        raise ValueError("a <!-- results:NAME --> marker without its <!-- /results --> (or the other way round)")
    if len(set(names)) != len(names):
        raise ValueError(f"a results block appears twice: {sorted(n for n in set(names) if names.count(n) > 1)}")
    changed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        body = render(match.group("name"), bench)
        if body != match.group("body"):
            changed.append(match.group("name"))
        return match.group("open") + body + match.group("close")

    return BLOCK.sub(replace, doc), changed


def main(argv: list[str] | None = None) -> int:
    """Refresh (or, with ``--check``, verify) the document; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--bench", type=Path, default=ROOT / "bench", help="folder of the results-*.txt files")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if a block is out of date; write nothing")
    mode.add_argument("--print", action="store_true", help="print the refreshed document; write nothing")
    args = parser.parse_args(argv)
    doc = args.doc.read_text(encoding="utf-8")
    try:
        new, changed = refresh(doc, args.bench)
    except ValueError as exc:
        print(f"tables: {args.doc}: {exc}", file=sys.stderr)
        return 2
    unused = sorted(p.name for p in args.bench.glob("results-*.txt")
                    if p.name[len("results-"):-len(".txt")] not in OPEN.findall(doc))
    if unused:
        print(f"tables: note: no block in {args.doc.name} for {', '.join(unused)}", file=sys.stderr)
    if args.print:
        sys.stdout.write(new)
        return 0
    if args.check:
        for name in changed:
            print(f"tables: {args.doc.name}: block {name!r} differs from bench/results-{name}.txt", file=sys.stderr)
        return 1 if changed else 0
    if changed:
        args.doc.write_text(new, encoding="utf-8")
    print(f"{args.doc.name}: {len(changed)} block(s) refreshed{': ' + ', '.join(changed) if changed else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
