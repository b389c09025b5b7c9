"""Where each projection stands: its row in `projection_tracking`, written in the same
transaction as its own rows, so a projection applies every event exactly once."""

from services.viewdb import Cursor, ViewDatabase

SCHEMA = """CREATE TABLE IF NOT EXISTS projection_tracking (
        projection TEXT PRIMARY KEY,
        position BIGINT NOT NULL,
        stream_sequence BIGINT NOT NULL,
        applied BIGINT NOT NULL)"""


def start(cursor: Cursor, name: str) -> None:
    """The projection's row, at the start, if it has none."""
    cursor.execute(
        "INSERT INTO projection_tracking (projection, position, stream_sequence, applied) "
        "VALUES (?, 0, 0, 0) ON CONFLICT (projection) DO NOTHING",
        (name,),
    )


def lock_position(cursor: Cursor, name: str) -> int:
    """The last notification id applied; locks the row, so a second projector by mistake waits,
    then sees this one's position."""
    cursor.execute(
        "UPDATE projection_tracking SET applied = applied WHERE projection = ? RETURNING position",
        (name,),
    )
    return cursor.fetchone()[0]


def save_position(
    cursor: Cursor, name: str, position: int, stream_sequence: int, applied: int
) -> None:
    cursor.execute(
        "UPDATE projection_tracking SET position = ?, stream_sequence = ?, "
        "applied = applied + ? WHERE projection = ?",
        (position, stream_sequence, applied, name),
    )


def stream_sequence(db: ViewDatabase, name: str) -> int:
    """The last stream sequence applied (0 for none)."""
    rows = db.query("SELECT stream_sequence FROM projection_tracking WHERE projection = ?", (name,))
    return rows[0][0] if rows else 0


def applied(db: ViewDatabase, name: str) -> int:
    """How many events the projection has applied: each once, however often delivered."""
    return db.query("SELECT applied FROM projection_tracking WHERE projection = ?", (name,))[0][0]
