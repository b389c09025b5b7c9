"""One shape for every projection: its tables, where it stands, and `apply` in one transaction.

A projection writes its own rows and its position (the last notification id and stream sequence
applied, and how many events) in one transaction, so it applies every event exactly once however
often it is delivered. A projection whose tables change shape raises its `version`: the next
setup drops its tables and it is rebuilt from the stream. After each commit its runner publishes
the `Changed` it returned, for the pages that show it.

A view too big for one projector is split by province (`partition`): each part is a projector
of its own, with its own position (`board-31-32`) and a consumer of its provinces' subjects only,
writing its own rows of the shared tables (the board's rows are an area's, and every event of a
batch is its destination's province's). A part cannot tell a hole in the stream from another
province's event, so it applies what the store holds up to each message it is sent (see
projector.py).
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
CAUGHT_UP = """CREATE TABLE IF NOT EXISTS projection_caught_up (
        projection TEXT PRIMARY KEY,
        position BIGINT NOT NULL)"""
VERSIONS = """CREATE TABLE IF NOT EXISTS projection_versions (
        projection TEXT PRIMARY KEY,
        version INTEGER NOT NULL)"""


class Changed(msgspec.Struct, frozen=True, kw_only=True):
    """What one applied run of events changed: the notice a projection sends after its commit."""

    view: str
    after: int  # the last notification id applied before the run
    upto: int  # the last one applied by it (`after` when nothing was new)
    areas: list[str] = []  # wilayah codes whose rows changed, for the pages that show them


def tracking_name(view: str, provinces: Iterable[str]) -> str:
    """A projector's row of positions, durable consumer and lease: `board`, or `board-31-32`."""
    return "-".join((view, *sorted(set(provinces))))


class PartitionError(Exception):
    """A view projected whole and in parts at once would count its events twice."""


class Projection:
    """A view of the event stream; a subclass names it, lists its tables and writes its rows."""

    name: ClassVar[str]  # also its durable consumer's and its notice's
    version: ClassVar[int] = 1  # of its tables' shape
    schema: ClassVar[tuple[str, ...]]  # the CREATE statements of its tables and indexes
    tables: ClassVar[tuple[str, ...]]  # the tables it owns (and older shapes' to drop)
    partitionable: ClassVar[bool] = False  # may it be split by province?

    def __init__(self, db: ViewDatabase):
        self.db = db
        self.provinces: frozenset[str] = frozenset()  # a partition's; none: the whole view

    def partition(self, provinces: Iterable[str]) -> "Projection":
        """This projector as the part of the view for these provinces (`["31", "32"]`)."""
        if not self.partitionable:
            raise PartitionError(f"proyeksi {self.name} tidak bisa dibagi per provinsi")
        self.provinces = frozenset(provinces)
        return self

    @property
    def tracking(self) -> str:
        """Its row of positions and its durable consumer: the view's name, or a partition's
        (`board-31-32`)."""
        return tracking_name(self.name, self.provinces)

    def takes(self, event: Any) -> bool:
        """Is the event its to apply: every event, or one of its provinces' (by its subject)?"""
        if not self.provinces:
            return True
        kabupaten = events.subject(event).split(".")[2]
        return kabupaten == "_" or kabupaten[:2] in self.provinces

    @staticmethod
    def decode(data: bytes) -> Any:
        """A message's bytes as the projection takes them: the event."""
        return events.decode(data)

    def setup(self) -> None:
        """Create the tables; tables of an older version are dropped, to be rebuilt by replay."""
        self.db.create((TRACKING, CAUGHT_UP, VERSIONS, *self.schema))
        parts = f"{self.name}-%"
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
                for table in ("projection_tracking", "projection_caught_up"):
                    cursor.execute(  # the whole view's positions and its partitions'
                        f"DELETE FROM {table} WHERE projection = ? OR projection LIKE ?",
                        (self.name, parts),
                    )
                cursor.execute(
                    "UPDATE projection_versions SET version = ? WHERE projection = ?",
                    (self.version, self.name),
                )
            cursor.execute(
                "INSERT INTO projection_tracking (projection, position, stream_sequence, applied) "
                "VALUES (?, 0, 0, 0) ON CONFLICT (projection) DO NOTHING",
                (self.tracking,),
            )

    def check_alone(self) -> None:
        """Before a projector starts: PartitionError if the view has been applied whole while
        this is a part, or in parts while this is the whole, or by a part over one of this
        part's provinces (any of them would count events twice). Readers need not ask."""
        rows = self.db.query(
            "SELECT projection FROM projection_tracking WHERE applied > 0 "
            "AND (projection = ? OR projection LIKE ?)",
            (self.name, f"{self.name}-%"),
        )
        other = {name for (name,) in rows} - {self.tracking}
        if other and (not self.provinces or self.name in other):
            raise PartitionError(
                f"proyeksi {self.tracking} tidak bisa berjalan: {', '.join(sorted(other))} "
                "sudah menerapkan peristiwa (utuh dan per provinsi sekaligus menghitung dua "
                "kali; bangun ulang dulu)"
            )
        overlap = [name for name in other if self.provinces & set(name.split("-")[1:])]
        if overlap:
            raise PartitionError(
                f"proyeksi {self.tracking} tumpang tindih dengan {', '.join(overlap)}"
            )

    def stream_sequence(self) -> int:
        """The last stream sequence applied (0 for none)."""
        rows = self.db.query(
            "SELECT stream_sequence FROM projection_tracking WHERE projection = ?", (self.tracking,)
        )
        return rows[0][0] if rows else 0

    def position(self) -> int:
        """The last notification id applied (0 for none)."""
        rows = self.db.query(
            "SELECT position FROM projection_tracking WHERE projection = ?", (self.tracking,)
        )
        return rows[0][0] if rows else 0

    def applied(self) -> int:
        """How many events the projection has applied: each once, however often delivered."""
        rows = self.db.query(
            "SELECT applied FROM projection_tracking WHERE projection = ?", (self.tracking,)
        )
        return rows[0][0] if rows else 0

    def caught_up(self, position: int) -> None:
        """A part with nothing of its provinces pending up to the stream's last notification:
        noted apart from its own position (which only an applied event moves), so that how far
        it has come, for readiness, is the stream's end when its province is quiet."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_caught_up (projection, position) VALUES (?, ?) "
                "ON CONFLICT (projection) DO UPDATE SET position = excluded.position "
                "WHERE projection_caught_up.position < excluded.position",
                (self.tracking, position),
            )

    def least_position(self) -> int:
        """How far every projector of the view has come: the whole view's position, or the
        least of its parts' (each its own position or where it was last caught up, the
        further) when it runs in parts; for the readiness check."""
        rows = self.db.query(
            "SELECT t.projection, t.position, COALESCE(c.position, 0) FROM projection_tracking t "
            "LEFT JOIN projection_caught_up c ON c.projection = t.projection "
            "WHERE t.projection = ? OR t.projection LIKE ?",
            (self.name, f"{self.name}-%"),
        )
        parts = [max(own, caught) for name, own, caught in rows if name != self.name]
        whole = [own for name, own, _ in rows if name == self.name]
        return min(parts) if parts else (whole[0] if whole else 0)

    def apply(self, notifications: Sequence[tuple[int, Any]], stream_sequence: int) -> Changed:
        """Apply the notifications past the stored position (a partition: those of its
        provinces; it moves past the others), with the new stream sequence, in one transaction;
        what changed."""
        with self.db.transaction() as cursor:
            cursor.execute(  # locks the row: a second projector by mistake waits, then skips
                "UPDATE projection_tracking SET applied = applied WHERE projection = ? "
                "RETURNING position",
                (self.tracking,),
            )
            (after,) = cursor.fetchone()
            past = [(p, e) for p, e in notifications if p > after]
            fresh = [(p, e) for p, e in past if self.takes(e)]
            areas = sorted(self.write(cursor, fresh)) if fresh else []
            upto = past[-1][0] if past else after
            cursor.execute(
                "UPDATE projection_tracking SET position = ?, stream_sequence = ?, "
                "applied = applied + ? WHERE projection = ?",
                (upto, stream_sequence, len(fresh), self.tracking),
            )
        return Changed(view=self.name, after=after, upto=upto, areas=areas)

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Any]]) -> Iterable[str]:
        """Write what the fresh (position, event) pairs change in the view's own tables; the
        areas whose rows changed."""
        raise NotImplementedError
