"""Which input paths are regular files, decided from their metadata before any is opened.

Why before opening: opening a FIFO for reading blocks until a writer comes
(a load that hangs for good), a directory or a broken symlink fails deep in
the reader with a traceback, and a device reads forever. A symlink inside a
bundle may point to another file of the same bundle, never outside it: a
bundle is one folder an operator hands over, and a link out of it would
load a file nobody handed over.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..errors import Problem

__all__ = ["irregular_bundle_files", "irregular_file"]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def irregular_file(path: Path, shown: str | None = None) -> Problem | None:
    """The problem with *path* if it is not a regular file (a symlink is followed), else None."""
    name = shown or str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return Problem(name, 0, "", f"is a symbolic link to nowhere ({os.readlink(path)})")
        return Problem(name, 0, "", "does not exist")
    except OSError as exc:
        return Problem(name, 0, "", f"cannot be examined ({exc.strerror})")
    if not stat.S_ISREG(mode):
        return Problem(name, 0, "", f"is {_kind(mode)}, not a regular file")
    return None


def irregular_bundle_files(folder: Path, paths: Iterable[Path]) -> list[Problem]:
    """A located problem for each of *paths* (files of the bundle *folder*) that is not a regular file
    of that folder: directories, FIFOs, devices, and symlinks pointing nowhere or out of the bundle."""
    problems: list[Problem] = []
    root = folder.resolve()
    for path in sorted(paths):
        if path.is_symlink():
            target = Path(os.path.realpath(path))
            if target.exists() and not target.is_relative_to(root):
                problems.append(Problem(path.name, 0, "", f"is a symbolic link out of the bundle ({target})"))
                continue
        problem = irregular_file(path, path.name)
        if problem is not None:
            problems.append(problem)
    return problems
