"""Photos as evidence of a finding: images only, size-limited, kept by their SHA-256 in a table
beside the event store (its SQLite file, or its PostgreSQL database), so every web replica
finds them and a rebuild of the views loses none. A finding's event names its photos by hash:
the ledger vouches for the hash, the hash for the bytes."""

import hashlib

from services import bahasa
from services.errors import DomainError
from services.settings import Settings
from services.views.database import ViewDatabase, beside_the_store, chunked_in

MAX_BYTES = 5 * 1024 * 1024  # a phone's photo, not a video
SCHEMA = """CREATE TABLE IF NOT EXISTS evidence_photos (
    sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, size INTEGER NOT NULL,
    data {blob} NOT NULL)"""
# What an image's first bytes say it is; nothing else is taken, whatever its name or header.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class PhotoRefused(DomainError):
    """Not an image Lacak keeps, or too large: nothing is kept."""


def media_type_of(data: bytes) -> str | None:
    """JPEG, PNG or WebP by their signatures; None for anything else."""
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked(data: bytes) -> str:
    """The image's media type, or PhotoRefused saying why."""
    if len(data) > MAX_BYTES:
        raise PhotoRefused(bahasa.PHOTO_TOO_LARGE.format(mb=MAX_BYTES // (1024 * 1024)))
    media_type = media_type_of(data)
    if media_type is None:
        raise PhotoRefused(bahasa.PHOTO_NOT_AN_IMAGE)
    return media_type


class Photos:
    """The evidence photos of the settings' store."""

    def __init__(self, settings: Settings):
        self.db: ViewDatabase = beside_the_store(settings)
        self.db.create([SCHEMA.format(blob="BYTEA" if settings.postgres else "BLOB")])

    def keep(self, data: bytes) -> str:
        """Keep an image (once, whoever sends it again); its SHA-256."""
        media_type = checked(data)
        digest = hashlib.sha256(data).hexdigest()
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO evidence_photos (sha256, media_type, size, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",
                (digest, media_type, len(data), data),
            )
        return digest

    def get(self, digest: str) -> tuple[str, bytes] | None:
        """(media type, bytes) of a kept photo, or None."""
        rows = self.db.query(
            "SELECT media_type, data FROM evidence_photos WHERE sha256 = ?", (digest,)
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def missing(self, digests: list[str]) -> list[str]:
        """Those of the hashes that name no kept photo."""
        kept = {
            row[0]
            for marks, chunk in chunked_in(digests)
            for row in self.db.query(
                f"SELECT sha256 FROM evidence_photos WHERE sha256 IN ({marks})", chunk
            )
        }
        return [digest for digest in digests if digest not in kept]

    def close(self) -> None:
        self.db.close()
