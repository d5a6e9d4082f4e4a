"""Derived files in samestory's cache folder: a damaged one is rebuilt once, with a
warning, and a folder that cannot be written costs time, never a failure.

One cache is prepared for the module (a real ``compare`` run, plus the float ONNX
encoder, cheaper to rebuild than the int8 one) and each test damages a private copy:
files are hard-linked (every writer replaces files, never writes into them), the
SQLite vector cache, which SQLite writes in place, is copied."""
from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT

from samestory.embed import CachedEncoder, onnx_e5
from samestory.embed.backends import HashingEncoder
from samestory.embed.base import write_atomic
from samestory.embed.onnx_e5 import OnnxE5Encoder, check_build, model_path, tokenizer_path
from samestory.text import lang

COMPARE = [sys.executable, "-m", "samestory.cli", "compare", str(EXAMPLES / "wire_storm.html"),
           str(EXAMPLES / "rewrite_storm.txt")]
TEXTS = ["Storm closes Rotterdam port", "Der Sturm schließt den Hafen von Rotterdam"]
ENGLISH = "The port of Rotterdam was closed to all shipping on Tuesday as the storm brought strong winds."


def damage(path: Path, kind: str) -> None:
    """Replace ``path`` by a damaged copy (a new file: the prepared cache's link is untouched)."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes({"truncated": data[:len(data) // 3], "garbage": os.urandom(max(len(data) // 2, 64)),
                      "empty": b""}[kind])


def clear_caches() -> None:
    onnx_e5._load.cache_clear()
    lang._identifier.cache_clear()


def run_compare(cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAMESTORY_CACHE": str(cache)}
    return subprocess.run(COMPARE, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A cache holding every derived file, with what it answered."""
    cache = tmp_path_factory.mktemp("prepared")
    done = run_compare(cache)
    assert done.returncode == 0, done.stderr
    before = os.environ["SAMESTORY_CACHE"]
    os.environ["SAMESTORY_CACHE"] = str(cache)
    try:
        clear_caches()
        vectors = OnnxE5Encoder(quantize=False).encode(TEXTS)
        language = lang.detect(ENGLISH)
        names = {"f32": model_path(None, False).name}
    finally:
        os.environ["SAMESTORY_CACHE"] = before
        clear_caches()
    yield {"path": cache, "compare": done.stdout, "vectors": vectors, "language": language, **names}


@pytest.fixture
def cache(prepared: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the prepared cache, as ``SAMESTORY_CACHE``."""
    folder = tmp_path / "cache"
    shutil.copytree(prepared["path"], folder, copy_function=os.link)  # type: ignore[arg-type]
    for part in folder.glob("vectors.sqlite*"):
        part.unlink()
        shutil.copy(Path(prepared["path"]) / part.name, part)  # type: ignore[arg-type]
    monkeypatch.setenv("SAMESTORY_CACHE", str(folder))
    clear_caches()
    yield folder
    clear_caches()


def the_same_file(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


# The tokenizer file, the SentencePiece model and the ONNX model --------------------------------------------------


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty"])
@pytest.mark.parametrize("part", [".spm.json", ".spm", ".onnx"])
def test_every_damaged_part_of_a_built_encoder_is_seen(cache, prepared, part, kind):
    model = cache / prepared["f32"]
    assert check_build(model) is None
    damage(Path(f"{tokenizer_path(model)}.json") if part == ".spm.json" else
           tokenizer_path(model) if part == ".spm" else model, kind)
    assert (check_build(model) or "").startswith("damaged")


def test_damaged_tokenizer_json_is_rebuilt_by_compare(cache, prepared):
    """The reported case: every ``compare`` failed with JSONDecodeError."""
    model = next(cache.glob("*-int8-*.onnx"))
    tokenizer = Path(f"{tokenizer_path(model)}.json")
    damage(tokenizer, "truncated")
    done = run_compare(cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout == prepared["compare"]
    assert done.stderr.count("building it again") == 1
    assert the_same_file(tokenizer, Path(prepared["path"]) / tokenizer.name)
    assert run_compare(cache).stderr.count("building it again") == 0      # rebuilt once, not on every run


@pytest.mark.parametrize(("part", "kind"), [(".spm", "garbage"), (".onnx", "empty")])
def test_damaged_model_files_are_rebuilt_on_next_use(cache, prepared, part, kind, caplog):
    model = cache / prepared["f32"]
    target = tokenizer_path(model) if part == ".spm" else model
    damage(target, kind)
    with caplog.at_level(logging.WARNING):
        vectors = OnnxE5Encoder(quantize=False).encode(TEXTS)
    np.testing.assert_allclose(vectors, prepared["vectors"], atol=1e-6)
    assert sum("building it again" in r.getMessage() for r in caplog.records) == 1
    assert check_build(model) is None
    assert target.stat().st_size == (Path(prepared["path"]) / target.name).stat().st_size
    assert not [p for p in cache.iterdir() if ".tmp" in p.name]                   # no temp file left behind


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    """Writes go to a temp name in the same folder and are renamed onto the file: a
    writer that dies half-way leaves what was there, never half a file under its name."""
    target = tmp_path / "derived.json"
    target.write_text("old")

    def half_then_die(tmp: Path) -> None:
        tmp.write_text("half a fi")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then_die)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["derived.json"]
    write_atomic(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["derived.json"]


# py3langid's unpacked model ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty"])
def test_damaged_language_model_is_unpacked_again(cache, prepared, kind, caplog):
    npz = next(cache.glob("py3langid-*.npz"))
    damage(npz, kind)
    with caplog.at_level(logging.WARNING):
        assert lang.detect(ENGLISH) == prepared["language"]
    assert sum("unpacking it again" in r.getMessage() for r in caplog.records) == 1
    with np.load(npz) as data:
        assert set(data.files) == {"ptc", "pc", "classes", "nextmove", "row", "output"}
    lang._identifier.cache_clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert lang.detect(ENGLISH) == prepared["language"]
    assert not caplog.records


# The vector cache --------------------------------------------------------------------------------------------------


class Counting:
    """The hashing encoder, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        self.inner = HashingEncoder()
        self.name, self.dim, self.count = self.inner.name, self.inner.dim, 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.count += len(texts)
        return self.inner.encode(texts)


MANY = [f"report number {i} on the storm in Rotterdam" for i in range(1000)]


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty"])
def test_damaged_vector_cache_is_started_anew(tmp_path, kind, caplog):
    path = tmp_path / "vectors.sqlite"
    first = CachedEncoder(Counting(), path=path)
    expected = first.encode(MANY)
    first.close()
    damage(path, kind)
    counting = Counting()
    with caplog.at_level(logging.WARNING):
        again = CachedEncoder(counting, path=path)
        np.testing.assert_array_equal(again.encode(MANY), expected)
    assert counting.count == len(MANY)
    # An empty file is a valid empty SQLite database; the others are damage, set aside once.
    assert sum("started anew" in r.getMessage() for r in caplog.records) == (kind != "empty")
    again.close()
    counting = Counting()
    np.testing.assert_array_equal(CachedEncoder(counting, path=path).encode(MANY), expected)
    assert counting.count == 0                                          # the new file holds them all


# A cache folder that cannot be written ---------------------------------------------------------------------------


def test_cache_folder_that_cannot_be_created_costs_time_not_a_failure(tmp_path, prepared, monkeypatch, caplog):
    """As root no permission stops a write; a folder under a regular file cannot be made by anyone."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SAMESTORY_CACHE", str(blocker / "cache"))
    clear_caches()
    try:
        with caplog.at_level(logging.WARNING):
            np.testing.assert_allclose(OnnxE5Encoder(quantize=False).encode(TEXTS), prepared["vectors"], atol=1e-6)
            OnnxE5Encoder(quantize=False, prefix="query")             # the same model: built once per process
            assert lang.detect(ENGLISH) == prepared["language"]
            counting = Counting()
            vectors = CachedEncoder(counting, path=None)
            first = vectors.encode(TEXTS)
            np.testing.assert_array_equal(vectors.encode(TEXTS), first)
    finally:
        clear_caches()
    assert counting.count == len(TEXTS)                              # kept in memory for the run
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("samestory")]
    assert len(warnings) == 3, warnings                              # one each: encoder, language model, vectors
    assert all("read-only" in w or "cannot be written" in w for w in warnings)
    assert any("temporary folder" in w for w in warnings) and any("unpacked on every start" in w for w in warnings)
    assert blocker.read_text() == "not a folder"


def nobody() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test runs samestory as 'nobody' on a cache folder owned by root")
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' to run samestory as")


def as_nobody(args: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` as 'nobody': this interpreter, or, where 'nobody' cannot reach it (a
    pyenv Python under /root), the system's Python of the same version on this virtualenv's packages."""
    user = nobody()
    env = {**os.environ, "SAMESTORY_CACHE": str(cache), "HOME": "/nonexistent",
           "PYTHONPATH": os.pathsep.join([sysconfig.get_paths()["purelib"], str(ROOT / "src")])}
    for python in dict.fromkeys([sys.executable, f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"]):
        def run(argv: list[str], python: str = python) -> subprocess.CompletedProcess[str]:
            return subprocess.run([python, *argv], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
                                  check=False, user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        try:
            usable = run(["-c", "import samestory.cli, numpy, onnxruntime"]).returncode == 0
        except OSError:
            usable = False
        if usable:
            return run(args)
    pytest.skip("'nobody' can run no Python that has samestory's packages")


@pytest.fixture
def root_owned(prepared: dict[str, object]) -> Iterator[Path]:
    """A copy of the prepared cache owned by root (folder 0755, files 0644), where
    'nobody' can reach it (pytest's own temp folders are 0700)."""
    nobody()
    top = Path(tempfile.mkdtemp(prefix="samestory-ro-"))
    try:
        top.chmod(0o755)
        folder = top / "cache"
        shutil.copytree(prepared["path"], folder, copy_function=os.link)  # type: ignore[arg-type]
        folder.chmod(0o755)
        for part in folder.iterdir():
            part.chmod(0o644)
        yield folder
    finally:
        shutil.rmtree(top)


def test_compare_runs_as_another_user_on_a_cache_it_cannot_write(root_owned, prepared):
    """The reported case: "attempt to write a readonly database"."""
    listing = sorted((p.name, p.stat().st_size) for p in root_owned.iterdir())
    done = as_nobody(COMPARE[1:], root_owned)
    assert done.returncode == 0, done.stderr
    assert done.stdout == prepared["compare"]
    assert "readonly database" in done.stderr and done.stderr.count("cannot be written") == 1
    assert sorted((p.name, p.stat().st_size) for p in root_owned.iterdir()) == listing


def test_vector_cache_is_read_by_a_user_who_cannot_write_it(root_owned):
    path = root_owned / "hashed.sqlite"
    writer = CachedEncoder(HashingEncoder(), path=path)
    writer.encode(["cached text"])
    writer.close()
    path.chmod(0o644)
    script = ("import numpy as np\n"
              "from samestory.embed import CachedEncoder\n"
              "from samestory.embed.backends import HashingEncoder\n"
              "class Counting(HashingEncoder):\n"
              "    count = 0\n"
              "    def encode(self, texts):\n"
              "        self.count += len(texts)\n"
              "        return super().encode(texts)\n"
              "counting = Counting()\n"
              f"out = CachedEncoder(counting, path={str(path)!r}).encode(['cached text', 'new text'])\n"
              "assert np.allclose(out, HashingEncoder().encode(['cached text', 'new text']))\n"
              "print(counting.count)\n")
    done = as_nobody(["-c", script], root_owned)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"                        # 'cached text' came from the file
    assert done.stderr.count("cannot be written") == 1
