"""What the command line draws for a person waiting: a progress bar on standard error."""

import sys

from services.bahasa import thousands

WIDTH = 30


def progress(label: str, done: int, total: int) -> None:
    """`Memeriksa [#####.....] 1.000/2.000`, redrawn in place; a new line when done."""
    filled = WIDTH * done // total if total else WIDTH
    end = "\n" if done >= total else ""
    bar = "#" * filled + "." * (WIDTH - filled)
    print(f"\r{label} [{bar}] {thousands(done)}/{thousands(total)}", end=end, file=sys.stderr)
