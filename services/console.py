"""What the command line draws for a person waiting: a progress bar on standard error."""

import sys
from pathlib import Path

from services.bahasa import thousands

WIDTH = 30


def progress(label: str, done: int, total: int) -> None:
    """`Memeriksa [#####.....] 1.000/2.000`, redrawn in place on a terminal; a new line when done.
    Written to a file or a pipe (a log), only the line that says it is done."""
    finished = done >= total
    if not sys.stderr.isatty():
        if finished:
            print(f"{label}: {thousands(done)}/{thousands(total)}", file=sys.stderr)
        return
    filled = WIDTH * done // total if total else WIDTH
    bar = "#" * filled + "." * (WIDTH - filled)
    end = "\n" if finished else ""
    print(f"\r{label} [{bar}] {thousands(done)}/{thousands(total)}", end=end, file=sys.stderr)


class Refused(Exception):
    """A command that cannot be done as asked: its message says why and what to do, in Bahasa;
    the command line prints it and exits 2, never with a traceback."""


def read_bytes(path: Path, what: str) -> bytes:
    """A file's bytes, or Refused naming the file and why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise Refused(f"{what} {path} tidak bisa dibaca: {error.strerror or error}.") from None


def writable(path: Path) -> Path:
    """A file that can be written: its folder exists (nothing is created by surprise)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise Refused(f"Folder {folder} tidak ada: buat dulu, atau tulis ke folder lain.")
    if path.is_dir():
        raise Refused(f"{path} adalah folder: beri nama berkas, misalnya {path / 'hasil.json'}.")
    return path
