"""Files and folders the product writes hold personal data (customers, password hashes, who looked
at whom), so they are readable by their owner only: files 0600, folders the product creates 0700.

The modes are set on each file explicitly rather than through the process umask: the umask is
shared by every thread and library of the process (the app's server, the test runner), changing
it would change what they create too, and it does nothing for a file that already exists with a
wider mode (a store made by an earlier release), which `owner_only` narrows.
"""
from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """`path`, made with any missing parents, each folder made here 0700. Folders that already
    exist keep their mode: a shared data folder is its owner's choice, the files in it are not."""
    path = Path(path)
    missing, folder = [], path
    while not folder.exists() and not folder.is_symlink() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():  # a file where a folder should be: fail here, not at the first write
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made by a concurrent run meanwhile
            continue
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is narrowed by the umask, never widened
    return path


def owner_only(path: Path) -> None:
    """Narrow an existing file to 0600 (a file not there is left alone)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, FILE_MODE)


def private_file(path: Path) -> Path:
    """`path` created empty with mode 0600 when missing, narrowed to 0600 when it exists; its
    contents are left alone."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return Path(path)
