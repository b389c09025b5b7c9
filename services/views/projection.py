"""One shape for every projection: its tables, where it stands, and `apply` in one transaction.

A projection writes its own rows and its position (the last notification id and stream sequence
applied, and how many events) in one transaction, so it applies every event exactly once however
often it is delivered. A projection whose tables change shape raises its `version`: the next
setup drops its tables and it is rebuilt from the stream. After each commit its runner publishes
the `Changed` it returned, for the pages that show it.
"""

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import msgspec

import events
from services.views.database import Cursor, ViewDatabase

TRACKING = """CREATE TABLE IF NOT EXISTS projection_tracking (
        projection TEXT PRIMARY KEY,
        position BIGINT NOT NULL,
        stream_sequence BIGINT NOT NULL,
        applied BIGINT NOT NULL)"""
VERSIONS = """CREATE TABLE IF NOT EXISTS projection_versions (
        projection TEXT PRIMARY KEY,
        version INTEGER NOT NULL)"""


class Changed(msgspec.Struct, frozen=True, kw_only=True):
    """What one applied run of events changed: the notice a projection sends after its commit."""

    view: str
    after: int  # the last notification id applied before the run
    upto: int  # the last one applied by it (`after` when nothing was new)
    areas: list[str] = []  # wilayah codes whose rows changed, for the pages that show them


class Projection:
    """A view of the event stream; a subclass names it, lists its tables and writes its rows."""

    name: ClassVar[str]  # also its durable consumer's and its notice's
    version: ClassVar[int] = 1  # of its tables' shape
    schema: ClassVar[tuple[str, ...]]  # the CREATE statements of its tables and indexes
    tables: ClassVar[tuple[str, ...]]  # the tables it owns (and older shapes' to drop)

    def __init__(self, db: ViewDatabase):
        self.db = db

    @staticmethod
    def decode(data: bytes) -> Any:
        """A message's bytes as the projection takes them: the event."""
        return events.decode(data)

    def setup(self) -> None:
        """Create the tables; tables of an older version are dropped, to be rebuilt by replay."""
        self.db.create((TRACKING, VERSIONS, *self.schema))
        with self.db.setup_transaction() as cursor:  # may drop and create: in turn
            cursor.execute(
                "INSERT INTO projection_versions (projection, version) VALUES (?, 0) "
                "ON CONFLICT (projection) DO NOTHING",
                (self.name,),
            )
            cursor.execute(  # locks the row: a second process waits, then sees it done
                "UPDATE projection_versions SET version = version WHERE projection = ? "
                "RETURNING version",
                (self.name,),
            )
            (version,) = cursor.fetchone()
            if version != self.version:
                for table in self.tables:
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in self.schema:
                    cursor.execute(statement)
                cursor.execute("DELETE FROM projection_tracking WHERE projection = ?", (self.name,))
                cursor.execute(
                    "UPDATE projection_versions SET version = ? WHERE projection = ?",
                    (self.version, self.name),
                )
            cursor.execute(
                "INSERT INTO projection_tracking (projection, position, stream_sequence, applied) "
                "VALUES (?, 0, 0, 0) ON CONFLICT (projection) DO NOTHING",
                (self.name,),
            )

    def stream_sequence(self) -> int:
        """The last stream sequence applied (0 for none)."""
        rows = self.db.query(
            "SELECT stream_sequence FROM projection_tracking WHERE projection = ?", (self.name,)
        )
        return rows[0][0] if rows else 0

    def position(self) -> int:
        """The last notification id applied (0 for none)."""
        rows = self.db.query(
            "SELECT position FROM projection_tracking WHERE projection = ?", (self.name,)
        )
        return rows[0][0] if rows else 0

    def applied(self) -> int:
        """How many events the projection has applied: each once, however often delivered."""
        rows = self.db.query(
            "SELECT applied FROM projection_tracking WHERE projection = ?", (self.name,)
        )
        return rows[0][0] if rows else 0

    def apply(self, notifications: Sequence[tuple[int, Any]], stream_sequence: int) -> Changed:
        """Apply the notifications past the stored position, with the new stream sequence, in one
        transaction; what changed."""
        with self.db.transaction() as cursor:
            cursor.execute(  # locks the row: a second projector by mistake waits, then skips
                "UPDATE projection_tracking SET applied = applied WHERE projection = ? "
                "RETURNING position",
                (self.name,),
            )
            (after,) = cursor.fetchone()
            fresh = [(p, e) for p, e in notifications if p > after]
            areas = sorted(self.write(cursor, fresh)) if fresh else []
            upto = fresh[-1][0] if fresh else after
            cursor.execute(
                "UPDATE projection_tracking SET position = ?, stream_sequence = ?, "
                "applied = applied + ? WHERE projection = ?",
                (upto, stream_sequence, len(fresh), self.name),
            )
        return Changed(view=self.name, after=after, upto=upto, areas=areas)

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Any]]) -> Iterable[str]:
        """Write what the fresh (position, event) pairs change in the view's own tables; the
        areas whose rows changed."""
        raise NotImplementedError
