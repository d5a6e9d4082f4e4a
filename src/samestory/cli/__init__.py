"""The ``samestory`` command.

Commands: ``compare`` and ``cluster`` (no index kept); ``index {add, similar, stories,
duplicates, timeline, serve, check, embed}`` (``--db PATH``, or ``SAMESTORY_DB``); ``eval
{semeval, stories}``; ``dev {train, eval}``. The older top-level ``similar``, ``stories``,
``duplicates``, ``timeline``, ``serve``, ``embed`` and ``train`` and the ``--json`` switch still
work for this release, each with a one-line note on standard error (``cli.deprecated``).

With ``--format json``, standard output carries exactly one JSON object on one line;
progress and logs go to standard error. Bad input gives a one-line error and a
non-zero exit (2), never a traceback (set SAMESTORY_DEBUG=1 to see one). An index
that another process is writing for longer than ``--lock-timeout`` exits 75
(EX_TEMPFAIL: try again later); one deleted or replaced while in use exits 1. Output piped
into a reader that stops early (``| head -1``) ends quietly with 141, as Unix tools do on SIGPIPE.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import cast

from samestory.cli.deprecated import modern
from samestory.cli.flags import index_path
from samestory.cli.parser import build_parser
from samestory.types import IndexMismatch, InputError, StoreBusy, StoreChanged

__all__ = ["EX_SIGPIPE", "EX_TEMPFAIL", "build_parser", "main"]

#: sysexits.h: a temporary failure, worth retrying (the index is busy).
EX_TEMPFAIL = 75
#: What a shell reports for a command ended by SIGPIPE (128 + 13): its reader stopped reading.
EX_SIGPIPE = 141


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` (default: ``sys.argv[1:]``) and return its exit status: 0, 1 (failed),
    2 (bad input or arguments), 3 (index built with another encoder), 75 (index busy), 130 (interrupted),
    141 (standard output's reader stopped reading: nothing is said).
    Argument errors, ``--help`` and ``--version`` end in ``SystemExit`` (argparse)."""
    args = build_parser().parse_args(modern(sys.argv[1:] if argv is None else argv))
    # The library logs (never prints); the command shows its notes on standard error.
    logging.basicConfig(level=logging.INFO, format="samestory: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "onnxruntime", "root"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        index_path(args)
        return cast(int, args.func(args))
    except InputError as exc:
        print(f"samestory: error: {exc}", file=sys.stderr)
        return 2
    except IndexMismatch as exc:
        print(f"samestory: index mismatch: {exc}", file=sys.stderr)
        return 3
    except StoreBusy as exc:
        print(f"samestory: error: {_one_line(exc)}", file=sys.stderr)
        return EX_TEMPFAIL
    except StoreChanged as exc:
        print(f"samestory: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `samestory index stories | head -1`: the reader is gone. Point standard output at
        # /dev/null so that flushing it at exit does not fail again, and end as SIGPIPE would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EX_SIGPIPE
    except (OSError, MemoryError, RuntimeError) as exc:
        if os.environ.get("SAMESTORY_DEBUG"):
            raise
        print(f"samestory: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: still one line, with a way to see more
        if os.environ.get("SAMESTORY_DEBUG"):
            raise
        print(f"samestory: internal error: {type(exc).__name__}: {exc} (SAMESTORY_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1
