"""A citizen's contact on a report (laporan), kept beside the event store and never in it.

The event store is append-only, and auditors receive its events byte for byte (inclusion proofs,
the export), so a person's phone number written into an event would be readable by every
auditor and KPU monitor, and could never be erased. The finding's event carries a reference
instead: the SHA-256 of a random salt and the contact. The row kept here holds the salt and
the contact, so a contact changed in the database afterwards no longer matches its reference
and is shown as altered; the salt keeps the reference from being guessed back from the few
phone numbers there are."""

import hashlib
import secrets

import msgspec

from services.settings import Settings
from services.views.database import ViewDatabase, beside_the_store

SCHEMA = """CREATE TABLE IF NOT EXISTS reporter_contacts (
    ref TEXT PRIMARY KEY, salt TEXT NOT NULL, contact TEXT NOT NULL)"""


class Contact(msgspec.Struct, frozen=True):
    text: str
    intact: bool  # does it still match the reference the finding's event carries?


def reference(salt: str, contact: str) -> str:
    return hashlib.sha256(f"{salt}\n{contact}".encode()).hexdigest()


class Contacts:
    """The citizens' contacts kept in `db`, the database beside the store (its connections
    shared with the photos in the web: `Contacts(photos.db)`)."""

    def __init__(self, db: ViewDatabase):
        self.db = db
        self.db.create([SCHEMA])

    @classmethod
    def of(cls, settings: Settings) -> "Contacts":
        """On connections of their own (closed by `close`)."""
        return cls(beside_the_store(settings))

    def keep(self, contact: str) -> str:
        """Keep a contact; the reference its finding's event carries."""
        salt = secrets.token_hex(16)
        ref = reference(salt, contact)
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO reporter_contacts (ref, salt, contact) VALUES (?, ?, ?)",
                (ref, salt, contact),
            )
        return ref

    def read(self, ref: str) -> Contact | None:
        """The contact a reference names, and whether it is still the one filed; None if none
        is kept under it."""
        rows = self.db.query("SELECT salt, contact FROM reporter_contacts WHERE ref = ?", (ref,))
        if not rows:
            return None
        salt, contact = rows[0]
        return Contact(contact, intact=reference(salt, contact) == ref)

    def close(self) -> None:
        self.db.close()
