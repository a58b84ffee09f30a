"""What every command line of the project shares: a mistake ends in one line on standard error
and an exit code (2 for what was typed, 1 for what the machine refused), never a usage block or
a traceback, so a scheduler's log or a person's terminal shows the reason and nothing else."""
from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NoReturn, TypeVar

from crm360.private_files import private_folder

Store = TypeVar("Store")


class Parser(argparse.ArgumentParser):
    """argparse, with its mistakes in one line (its own are the usage block and then the message).
    Sub-commands made with `add_subparsers` get the same class."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+): ", r"\1: ", one_line(message))  # "--seed: ...", as typed
        self.exit(2, f"{self.prog}: {message} (`{self.prog} --help` lists the options)\n")


class CommandError(Exception):
    """Something the command cannot do as asked, with the one line that says why."""


# Characters a terminal obeys rather than shows: C0 and C1 controls (ESC starts colour, title and
# cursor sequences, BEL ends some), DEL, and the Unicode marks that reorder the text around them;
# and the stand-ins for bytes that were not UTF-8 (Python's surrogate escapes), shown as those bytes.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\udc80-\udcff]")


def _escaped(character: str) -> str:
    if "\udc80" <= character <= "\udcff":
        return f"\\x{ord(character) - 0xDC00:02x}"
    return ascii(character)[1:-1]


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def printable(text: object) -> str:
    """`text` with every control character shown escaped (`\\x1b`, `\\n`) instead of obeyed: file
    names and file contents reach an operator's terminal, and must not recolour, retitle or
    rewrite it. Text already printable comes back as it was, so escaping twice changes nothing."""
    return _CONTROL.sub(lambda found: _escaped(found.group()), str(text))


def excerpt(text: str, limit: int = 80) -> str:
    """The first characters of raw text from a file, escaped once and at most `limit` long as
    printed (a binary file's first line can run to thousands of bytes): enough to recognise
    what the file holds. An escape is never cut in half."""
    shown, length = [], 0
    for character in text:
        piece = printable(character)
        if length + len(piece) > limit:
            return "".join(shown) + "…"
        shown.append(piece)
        length += len(piece)
    return "".join(shown)


def fail(name: str, error: object) -> int:
    """Print the one line for a command that cannot go on; returns the exit code 1."""
    print(f"{name}: {printable(one_line(error))}", file=sys.stderr)
    return 1


def os_reason(error: OSError) -> str:
    """An operating-system error as a person reads it ("Permission denied"), without errno noise."""
    if isinstance(error, FileExistsError) and error.filename:  # a folder to make, where a file is
        return f"{error.filename} is a file, not a folder"
    if isinstance(error, NotADirectoryError) and error.filename:
        return f"a part of {error.filename} is a file, not a folder"
    return error.strerror or str(error)


def folder(path: Path, what: str) -> Path:
    """The folder at `path`, made if need be (for its owner only: what the commands write there
    holds personal data); CommandError if it is a file or cannot be made."""
    if path.exists() and not path.is_dir():
        raise CommandError(f"{what} {path} is a file, not a folder")
    try:
        private_folder(path)
    except OSError as error:
        raise CommandError(f"{what} {path} cannot be made: {os_reason(error)}") from error
    return path


def existing_folder(path: Path, what: str, hint: str = "") -> Path:
    """`path` if it is a folder that exists; CommandError (with `hint`, what to do) if not."""
    if not path.is_dir():
        state = "is a file, not a folder" if path.exists() else "does not exist"
        raise CommandError(f"{what} {path} {state}" + (f"; {hint}" if hint else ""))
    return path


def writable_file(path: Path, what: str) -> Path:
    """`path` if a file can be written there: its folder exists and may be written to, and it is
    not a folder itself; CommandError saying which is wrong. Checked before the work is done and
    recorded, so an audit entry never stands for a file that could not be written."""
    where = path.parent
    if path.is_dir():
        raise CommandError(f"{what} {path} is a folder: name the file to write")
    # A link or a device would be replaced by a file of personal data (/dev/stdout, a link to a
    # store): only a plain file, new or old, is written.
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise CommandError(f"{what} {path} is a link or a device, not a plain file: name a file to write")
    if path.is_file() and _is_database(path):
        raise CommandError(f"{what} {path} is a database (a store of the app's, or a copy): name another file")
    if not where.is_dir():
        state = "is a file, not a folder" if where.exists() else "does not exist"
        raise CommandError(f"{what} {path}: the folder {where} {state}")
    if not os.access(where, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"{what} {path}: {where} cannot be written to (permission denied)")
    return path


def _is_database(path: Path) -> bool:
    """A SQLite store or a DuckDB file, by its first bytes (whatever its name)."""
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return False
    return head.startswith(b"SQLite format 3\x00") or head[8:12] == b"DUCK"


def whole_number(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number at least `least`."""
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"“{text}” is not a whole number") from None
        if number < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {number}")
        return number
    return parse


def moment(text: str) -> datetime:
    """An argparse type: `YYYY-MM-DD` (noon that day) or `YYYY-MM-DDTHH:MM`."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    if parsed.tzinfo is not None:
        raise argparse.ArgumentTypeError(f"“{text}”: give the local time without a time zone")
    return parsed.replace(hour=12) if len(text) == 10 else parsed


def open_store(make: Callable[[Path], Store], path: Path, what: str) -> Store:
    """One of the app's SQLite stores (users, campaigns, the audit log), or CommandError naming the
    file and what is wrong with it."""
    if path.is_dir():
        raise CommandError(f"{what} {path} is a folder: name the file")
    try:
        return make(path)
    except sqlite3.OperationalError as error:  # before DatabaseError, of which it is one
        raise CommandError(f"{what} {path} cannot be opened: {error}") from error
    except sqlite3.DatabaseError as error:
        raise CommandError(f"{what} {path} is not a SQLite file ({error})") from error
    except OSError as error:
        raise CommandError(f"{what} {path} cannot be made: {os_reason(error)}") from error
