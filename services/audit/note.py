"""Signed checkpoints in the C2SP formats others can read: signed-note, tlog-checkpoint and
tlog-cosignature (cosignature/v1), with Ed25519 keys.

A checkpoint is the note

    <origin>
    <tree size>
    <root, base64>
    position <the notification id of the last event in the tree>
    time <when the ledger signed it, RFC 3339 UTC>

followed by a blank line and one signature line per signer, "— <name> <base64>": the log's own
(key hash and Ed25519 signature over the note's text) and each witness's cosignature (key hash,
the time it cosigned, and its signature over "cosignature/v1\\ntime <t>\\n" and the text). The
two Lacak lines after the root are tlog-checkpoint extension lines: a reader that does not know
them still checks the size and root.

Keys are kept as the signed-note key strings: `PRIVATE+KEY+<name>+<hash>+<base64>` in a file only
its owner reads, and the verifier key `<name>+<hash>+<base64>` that is published.
"""

import base64
import hashlib
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01  # signed-note's signature type of a log's Ed25519 key
COSIGNATURE = 0x04  # tlog-cosignature's, of a witness's
DASH = "\u2014"  # the em dash that begins every signature line


class NoteError(ValueError):
    """A note, key or signature line that is not in the format."""


def key_hash(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def check_name(name: str) -> str:
    if not name or any(c in name for c in "+ \n\t") or not name.isprintable():
        raise NoteError(f"nama kunci {name!r} tidak sah: tanpa spasi dan tanpa '+'")
    return name


class Verifier(msgspec.Struct, frozen=True):
    """A published key: whose, which type, and its 32 bytes."""

    name: str
    kind: int
    public: bytes

    @property
    def hash(self) -> bytes:
        return key_hash(self.name, self.kind, self.public)

    def __str__(self) -> str:
        key = base64.b64encode(bytes([self.kind]) + self.public).decode()
        return f"{self.name}+{self.hash.hex()}+{key}"

    @classmethod
    def parse(cls, text: str) -> "Verifier":
        try:
            name, hashed, key = text.strip().split("+", 2)
            data = base64.b64decode(key, validate=True)
        except ValueError:
            raise NoteError(f"kunci verifikasi {text.strip()[:60]!r} tidak dikenali") from None
        if len(data) != 33 or data[0] not in (ED25519, COSIGNATURE):
            raise NoteError(f"kunci verifikasi {name!r} bukan kunci Ed25519")
        verifier = cls(check_name(name), data[0], data[1:])
        if verifier.hash.hex() != hashed:
            raise NoteError(f"hash kunci verifikasi {name!r} tidak cocok")
        return verifier

    def check(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """A private key that signs notes (a log's) or cosigns them (a witness's)."""

    def __init__(self, name: str, kind: int, private: Ed25519PrivateKey):
        self.name, self.kind, self.private = check_name(name), kind, private
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, kind, public)

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> "Signer":
        return cls(name, kind, Ed25519PrivateKey.generate())

    def __str__(self) -> str:
        seed = self.private.private_bytes_raw()
        key = base64.b64encode(bytes([self.kind]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.hash.hex()}+{key}"

    @classmethod
    def parse(cls, text: str) -> "Signer":
        try:
            private, key_word, name, _, key = text.strip().split("+", 4)
            data = base64.b64decode(key, validate=True)
        except ValueError:
            raise NoteError("berkas kunci tidak dikenali: PRIVATE+KEY+nama+hash+kunci") from None
        if (private, key_word) != ("PRIVATE", "KEY") or len(data) != 33:
            raise NoteError("berkas kunci tidak dikenali: PRIVATE+KEY+nama+hash+kunci")
        return cls(name, data[0], Ed25519PrivateKey.from_private_bytes(data[1:]))

    def sign(self, text: str) -> str:
        """The signature line of a note's text."""
        signature = self.private.sign(text.encode())
        return signature_line(self.name, self.verifier.hash + signature)

    def cosign(self, text: str, at: int) -> str:
        """A witness's cosignature line of a checkpoint's text, at Unix time `at`."""
        signature = self.private.sign(cosigned_message(text, at))
        return signature_line(self.name, self.verifier.hash + at.to_bytes(8, "big") + signature)


def load_or_create(path: Path, name: str, kind: int = ED25519) -> Signer:
    """The key in `path`; a new one there, readable by its owner only, when there is none. Its
    verifier key is written beside it (`public_key_file`), for the processes that only check."""
    if path.exists():
        signer = Signer.parse(path.read_text())
    else:
        signer = Signer.generate(name, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(f"{signer}\n")
    public = public_key_file(path)
    if not public.exists() or public.read_text().strip() != str(signer.verifier):
        public.write_text(f"{signer.verifier}\n")
    return signer


def public_key_file(path: Path) -> Path:
    """Where a key's verifier key is kept: `ledger.key` -> `ledger.pub`."""
    return path.with_suffix(".pub")


def signature_line(name: str, data: bytes) -> str:
    return f"{DASH} {name} {base64.b64encode(data).decode()}\n"


def cosigned_message(text: str, at: int) -> bytes:
    return f"cosignature/v1\ntime {at}\n{text}".encode()


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A checkpoint as its note says it: the text that was signed and the signature lines."""

    origin: str
    size: int
    root: bytes
    position: int
    time: datetime
    text: str
    signatures: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return self.text + "\n" + "".join(self.signatures)

    def with_signatures(self, lines: Iterable[str]) -> "Checkpoint":
        known = list(self.signatures)
        known += [line for line in lines if line not in known]
        return msgspec.structs.replace(self, signatures=tuple(known))


def checkpoint_text(origin: str, size: int, root: bytes, position: int, at: datetime) -> str:
    moment = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f"{origin}\n{size}\n{base64.b64encode(root).decode()}\nposition {position}\ntime {moment}\n"
    )


def sign_checkpoint(
    signer: Signer, origin: str, size: int, root: bytes, position: int, at: datetime
) -> Checkpoint:
    """A checkpoint of the tree of `size` with `root`, its last event at `position`, signed."""
    text = checkpoint_text(origin, size, root, position, at)
    return parse_checkpoint(text + "\n" + signer.sign(text))


def parse_checkpoint(note: str) -> Checkpoint:
    """A note as a checkpoint; its signatures are not checked here (`signed_by`, `cosigned_by`)."""
    text, blank, rest = note.partition("\n\n")
    if not blank:
        raise NoteError("catatan tanpa baris kosong sebelum tanda tangan")
    text += "\n"
    lines = text.split("\n")[:-1]
    try:
        origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
        extensions = dict(line.split(" ", 1) for line in lines[3:])
        position = int(extensions["position"])
        at = datetime.fromisoformat(extensions["time"])
    except (IndexError, KeyError, ValueError):
        raise NoteError("catatan bukan titik periksa buku besar Lacak") from None
    if not origin or size < 0 or len(root) != 32 or str(size) != lines[1]:
        raise NoteError("catatan bukan titik periksa buku besar Lacak")
    signatures = tuple(f"{line}\n" for line in rest.split("\n") if line)
    if any(not line.startswith(f"{DASH} ") for line in signatures):
        raise NoteError("baris tanda tangan harus diawali '\u2014 '")
    return Checkpoint(
        origin=origin, size=size, root=root, position=position, time=at, text=text,
        signatures=signatures,
    )  # fmt: skip


def signature_data(line: str, name: str) -> bytes | None:
    try:
        _, signer, data = line.rstrip("\n").split(" ")
        return base64.b64decode(data, validate=True) if signer == name else None
    except ValueError:
        return None


def signed_by(checkpoint: Checkpoint, log: Verifier) -> bool:
    """Whether the log's key signed this checkpoint's text."""
    for line in checkpoint.signatures:
        data = signature_data(line, log.name)
        if data and data[:4] == log.hash and log.check(data[4:], checkpoint.text.encode()):
            return True
    return False


def cosigned_by(checkpoint: Checkpoint, witness: Verifier) -> int | None:
    """The Unix time the witness cosigned this checkpoint at; None if it did not."""
    for line in checkpoint.signatures:
        data = signature_data(line, witness.name)
        if not data or len(data) != 76 or data[:4] != witness.hash:
            continue
        at = int.from_bytes(data[4:12], "big")
        if witness.check(data[12:], cosigned_message(checkpoint.text, at)):
            return at
    return None
