"""The README is a front door: short, its links lead somewhere, and its recipes run as
written on the bundled examples. The figure blocks of docs/benchmarks.md are the
benchmarks' own results files (bench/tables.py)."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import EXAMPLES, ROOT

README = ROOT / "README.md"
MAX_LINES = 200
#: The user docs this issue owns (docs/scale.md is kept by its own author).
DOCS = [README, *(ROOT / "docs" / n for n in ("usage.md", "design.md", "benchmarks.md", "guarantees.md"))]
SKIP = re.compile(r"#\s*not run by tests:\s*(?P<why>.*)$")
SAMESTORY = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*samestory\s")
FENCE = re.compile(r"^(?P<fence>`{3,})(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def code_blocks(text: str, langs: set[str]) -> list[str]:
    return [m.group("body") for m in FENCE.finditer(text) if m.group("lang") in langs]


def shell_commands(text: str) -> list[str]:
    """Every command of the ```bash, ```sh and ```console blocks, in order (``$ `` prompts
    mark commands in console blocks; a trailing backslash continues a line)."""
    commands: list[str] = []
    for match in FENCE.finditer(text):
        lang = match.group("lang")
        if lang not in ("bash", "sh", "shell", "console"):
            continue
        pending = ""
        for raw in match.group("body").splitlines():
            line = raw.strip()
            if lang == "console":
                if not line.startswith("$ ") and not pending:
                    continue   # output, not a command
                line = line.removeprefix("$ ")
            if not line or (line.startswith("#") and not pending):
                continue
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            commands.append(pending + line)
            pending = ""
    return commands


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*)$", text, re.MULTILINE)}


def test_the_readme_is_short_and_every_relative_link_leads_somewhere():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines; keep it to {MAX_LINES}, move the rest to docs/"
    broken = []
    for doc in DOCS:
        text = FENCE.sub("", doc.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):   # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            dest = (doc.parent / file_part).resolve() if file_part else doc
            if not dest.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken
    assert any("docs/usage.md" in t for t in LINK.findall("\n".join(lines)))


def test_the_parser_finds_commands_and_their_reasons_to_be_skipped():
    text = ("```bash\nsamestory a  # readable\n# a comment\nsamestory b \\\n  --db x.db\n```\n"
            "```console\n$ samestory c  # not run by tests: needs the network\noutput line\n```\n"
            "```python\nsamestory = 1\n```\n")
    assert shell_commands(text) == ["samestory a  # readable", "samestory b --db x.db",
                                    "samestory c  # not run by tests: needs the network"]
    assert SKIP.search(shell_commands(text)[2]).group("why") == "needs the network"
    assert SAMESTORY.match("SAMESTORY_TOKEN=x samestory index serve") and not SAMESTORY.match("make demo")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A scratch folder to run the README in: ``examples/`` linked in (so every path the
    README names reads the bundled files, and ``news.db`` and the other outputs land here),
    and a ``samestory`` on PATH that is this interpreter's."""
    work = tmp_path_factory.mktemp("readme")
    (work / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    bindir = work / ".bin"
    bindir.mkdir()
    shim = bindir / "samestory"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m samestory.cli "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("SAMESTORY_DB", "SAMESTORY_TOKEN")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    return work, env


def test_the_readme_shell_recipes_run_as_written(workdir):
    work, env = workdir
    commands = shell_commands(README.read_text(encoding="utf-8"))
    ran: list[tuple[str, str]] = []
    for command in commands:
        skip = SKIP.search(command)
        if skip:
            assert skip.group("why").strip(), f"say why a command is not run: {command}"
            continue
        if not SAMESTORY.match(command):
            continue   # make, curl, ...: other programs' commands
        done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, done.stderr
        ran.append((command, done.stdout))
    for needed in ("samestory compare ", "samestory index add ", "samestory index stories", "samestory index similar"):
        assert any(c.startswith(needed) for c, _ in ran), f"the README's `{needed.strip()}` recipe must run as written"
    out = dict(ran)
    compare = next(o for c, o in out.items() if c.startswith("samestory compare ") and "--format json" not in c)
    assert "Same story: YES" in compare
    stories = next(o for c, o in out.items() if c.startswith("samestory index stories"))
    assert "Storm Ingrid" in stories and "Lyon" in stories, stories
    similar = next(o for c, o in out.items() if c.startswith("samestory index similar"))
    assert "Rotterdam" in similar, similar
    if any(c.startswith("samestory index timeline") for c in out):
        assert (work / "timeline.html").stat().st_size > 0


def test_the_readme_python_example_runs_as_written(workdir):
    work, env = workdir
    blocks = code_blocks(README.read_text(encoding="utf-8"), {"python"})
    assert blocks, "the README shows the Python API"
    for block in blocks:
        done = subprocess.run([sys.executable, "-c", block], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, f"{block}\n{done.stderr[-3000:]}"
        assert "Rotterdam" in done.stdout, done.stdout


def load_tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_tables", ROOT / "bench" / "tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tables_fills_results_blocks_and_leaves_the_prose(tmp_path):
    tables = load_tables()
    (tmp_path / "results-speed.txt").write_text("system  ms\nfast    1.0\n```odd```\n")
    doc = ("# Figures\nProse `<!-- results:NAME -->` stays.\n\n<!-- results:speed -->\nold\n<!-- /results -->\n\n"
           "<!-- results:month -->\n<!-- /results -->\nTail prose.\n")
    new, changed = tables.refresh(doc, tmp_path)
    assert changed == ["speed", "month"]
    assert "````text\nsystem  ms\nfast    1.0\n```odd```\n````\n<!-- /results -->" in new
    assert "No results yet: `bench/results-month.txt`" in new
    assert new.startswith("# Figures\nProse `<!-- results:NAME -->` stays.\n") and new.endswith("Tail prose.\n")
    assert "old" not in new
    assert tables.refresh(new, tmp_path) == (new, [])     # refreshing twice changes nothing
    with pytest.raises(ValueError):
        tables.refresh("<!-- results:speed -->\nno end\n", tmp_path)
    doc_path = tmp_path / "doc.md"
    doc_path.write_text(doc)
    assert tables.main(["--doc", str(doc_path), "--bench", str(tmp_path), "--check"]) == 1
    assert tables.main(["--doc", str(doc_path), "--bench", str(tmp_path)]) == 0
    assert doc_path.read_text() == new
    assert tables.main(["--doc", str(doc_path), "--bench", str(tmp_path), "--check"]) == 0


def test_the_benchmark_figures_are_the_results_files():
    tables = load_tables()
    doc = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    _, changed = tables.refresh(doc, ROOT / "bench")
    assert not changed, f"docs/benchmarks.md is behind bench/results-{changed[0]}.txt: run python bench/tables.py"
