"""What every encoder is (the ``Encoder`` protocol), where derived files live
(``cache_dir``) and how they are written (``save_derived``: atomically, and never
fatal when the folder is read-only). Imports nothing from samestory, so any module
may import it."""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""


def cache_dir() -> Path:
    """``$SAMESTORY_CACHE`` or ``~/.cache/samestory``: vectors, the built ONNX encoder,
    the gazetteer, the language model; all derived, safe to delete."""
    return Path(os.environ.get("SAMESTORY_CACHE") or Path.home() / ".cache" / "samestory")


def temp_name(path: Path) -> Path:
    """A name beside ``path`` that no other process or thread uses (same folder, so
    ``os.replace`` onto ``path`` is atomic; same last suffix, for writers that add one)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` into a fresh name in ``path``'s folder, then ``os.replace`` it onto
    ``path``: a concurrent reader sees the old file or the new one, never half of one.

    Raises:
        OSError: the folder cannot be created or written; nothing is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_once(key: str, message: str, *args: object, logger: logging.Logger = log) -> None:
    """Log ``message`` as a warning (to ``logger``) the first time ``key`` is seen in this process."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning(message, *args)


def save_derived(path: Path, write: Callable[[Path], object], cost: str) -> bool:
    """Keep a derived file in the cache folder (``write_atomic``). A folder that cannot
    be written is not an error: the caller goes on with what it holds in memory, and
    one warning per file says so and what it costs (``cost``: "PHRASE every run").

    Returns:
        Whether the file was written.
    """
    try:
        write_atomic(path, write)
    except OSError as exc:
        warn_once(f"read-only:{path}", "samestory's cache folder is read-only (%s): %s is not kept, so %s; "
                  "make %s writable or point SAMESTORY_CACHE to a writable folder", exc, path.name, cost, path.parent)
        return False
    return True


@lru_cache(maxsize=1)
def scratch_dir() -> Path:
    """A private temporary folder for files the cache folder cannot hold (a read-only
    cache): made on first use, deleted when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="samestory-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
