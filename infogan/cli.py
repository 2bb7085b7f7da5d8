"""What every command-line entry point shares: one-line errors with exit status 2, and ``--debug``.

Each CLI (``train``, ``generate``, ``evaluate``, ``explore``) builds its parser with :func:`add_debug_flag` and runs
its work through :func:`run`, so bad input and expected faults read the same everywhere.
"""

from __future__ import annotations

import argparse
import errno
from typing import Callable, Optional, TypeVar

from infogan.errors import InputError

T = TypeVar("T")

# The exceptions a user can cause (the package's InputError for bad flags, files and data; the OS's for a path the
# user named): one line, not a traceback. Anything else, a plain ValueError included, is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (InputError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                                                PermissionError)


# The machine's faults a user fixes, not bugs: a full disk or quota, a read-only filesystem.
MACHINE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def whole(low: int, allow: tuple[int, ...] = (), most: Optional[int] = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``most`` (or one of ``allow``), refused at parse time with
    one line."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < low and value not in allow:
            extra = f" (or {' or '.join(map(str, allow))})" if allow else ""
            raise argparse.ArgumentTypeError(f"must be {low} or more{extra}, got {value}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}, got {value:,}")
        return value

    parse.__name__ = "whole number"
    return parse


def add_debug_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")


def run(parser: argparse.ArgumentParser, args: argparse.Namespace, work: Callable[[argparse.Namespace], T],
        errors: tuple[type[BaseException], ...] = ()) -> T:
    """``work(args)``; a user error (:data:`USER_ERRORS` or ``errors``) ends the program with ``PROG: error: MESSAGE``
    on one line and exit status 2, unless ``--debug`` asks for the traceback."""
    try:
        return work(args)
    except (*USER_ERRORS, *errors) as err:
        if getattr(args, "debug", False):
            raise
        parser.exit(2, f"{parser.prog}: error: {one_line(err)}\n")
    except OSError as err:
        if err.errno not in MACHINE_ERRNOS or getattr(args, "debug", False):
            raise
        parser.exit(2, f"{parser.prog}: error: {one_line(err)} (files written before are intact: every file is "
                       f"written through a temporary file and a rename)\n")


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line. An error re-raised from a DataLoader worker carries the worker's traceback
    in its message ("Caught X in DataLoader worker process 0. Original Traceback ..."): its last line is the message."""
    text = str(err)
    if "Original Traceback" in text:
        last = [line for line in text.strip().splitlines() if line.strip()][-1]
        head, _, rest = last.partition(": ")
        text = rest if rest and head.split(".")[-1] == type(err).__name__ else last
    return " ".join(text.split()) or type(err).__name__
