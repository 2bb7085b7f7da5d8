"""Writing files so that nothing is lost: a reader (or a crash) never meets half a file.

Every file the package writes (checkpoints, GIFs, PNGs, JSON, the classifier cache) goes to a temporary file in the
destination's own folder, is flushed to disk, and is then renamed over the destination with ``os.replace``: one
atomic step on the same filesystem. Not through ``$TMPDIR``: when it is another filesystem (a tmpfs ``/tmp``, a
network scratch folder) the final move is a copy over the old file, which a kill mid-copy leaves truncated (Lightning's
own atomic save writes through ``mkstemp()`` in ``$TMPDIR``). A failed write removes its temporary file and leaves the
old destination as it was. Plain Python, no torch.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_with(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path`` (atomic on one
    filesystem). The folder is created if missing. Returns ``path``."""
    path = Path(path)
    for folder in (path.parent, *path.parent.parents):
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"cannot write {path}: {folder} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600): give it the mode the old file had, or what open() would have given
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        os.replace(tmp, path)
    except BaseException:  # a full disk, a signal, a bug: never leave the temporary file behind
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _default_mode() -> int:
    """The mode a file created with open() gets: 0666 less the process's umask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`write_with`."""
    return write_with(path, lambda f: f.write(data))
