"""`lacak witness`: run by Bawaslu or any auditor on their own machine. It fetches the ledger's
newest signed checkpoint, checks it is signed by the ledger's key and consistent with the last
one it cosigned (a consistency proof, RFC 9162), cosigns it and sends the cosignature back; the
web keeps it and publishes it on NATS. Two different trees of one size (a fork) or a smaller
tree than one already cosigned (a rollback) raise an alarm: the witness refuses, says why, keeps
the evidence in its state file and exits 3.

The state file (beside the key unless --state says) holds the last checkpoint it cosigned and
the ledger key it pinned the first time. It speaks the web's JSON API with the standard library
alone, so a witness machine needs nothing but Lacak."""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from services.audit.merkle import verify_consistency
from services.audit.note import (
    COSIGNATURE,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    load_or_create,
    parse_checkpoint,
    signed_by,
)
from services.console import Refused

ALARM_EXIT = 3


class WitnessState(msgspec.Struct, kw_only=True):
    log_key: str  # the ledger's key, pinned on first use or given
    origin: str | None = None  # the log's name, pinned with its first checkpoint
    note: str | None = None  # the last checkpoint cosigned
    alarm: str | None = None  # why it stopped, with the evidence
    evidence: list[str] = []


class Alarm(Exception):
    """A fork or a rollback: the witness stops cosigning. It carries the checkpoint that raised
    it, as it was received."""

    def __init__(self, message: str, evidence: Checkpoint):
        super().__init__(message)
        self.evidence = evidence


class Remote:
    """The Lacak web the witness watches."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url, self.timeout = url.rstrip("/"), timeout

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=self.timeout) as response:
            return response.read()

    def post(self, path: str, body: dict[str, object]) -> bytes:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return response.read()


def check_next(
    state: WitnessState, log_key: Verifier, new: Checkpoint, proof: list[bytes] | None
) -> bool:
    """Whether `new` is to be cosigned (False: nothing new); Alarm for a fork or a rollback."""
    if not signed_by(new, log_key):
        raise NoteError(f"titik periksa berukuran {new.size} tidak ditandatangani {log_key.name}")
    if state.origin is not None and new.origin != state.origin:
        raise NoteError(f"titik periksa log {new.origin!r}, bukan {state.origin!r} yang disaksikan")
    if state.note is None:
        return True
    old = parse_checkpoint(state.note)
    if new.size < old.size:
        raise Alarm(
            f"ROLLBACK: buku besar kini menunjukkan pohon berukuran {new.size}, padahal saksi "
            f"sudah menandatangani ukuran {old.size}",
            new,
        )
    if new.size == old.size:
        if new.root != old.root:
            raise Alarm(f"FORK: dua pohon berbeda berukuran {new.size} ditandatangani", new)
        return False
    if proof is None or not verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise Alarm(
            f"FORK: pohon berukuran {new.size} tidak memperpanjang pohon berukuran {old.size} "
            "yang sudah ditandatangani saksi (bukti konsistensi gagal)",
            new,
        )
    return True


def witness_once(remote: Remote, signer: Signer, state: WitnessState) -> Checkpoint | None:
    """One round: the newest checkpoint, checked and cosigned; None when nothing is new."""
    log_key = Verifier.parse(state.log_key)
    new = parse_checkpoint(remote.get("/api/v1/ledger/checkpoint").decode())
    proof = None
    if state.note is not None:
        old = parse_checkpoint(state.note)
        if new.size > old.size:
            answer = json.loads(
                remote.get(f"/api/v1/ledger/consistency?from={old.size}&to={new.size}")
            )
            proof = [bytes.fromhex(h) for h in answer["proof"]]
    if not check_next(state, log_key, new, proof):
        return None
    line = signer.cosign(new.text, int(time.time()))
    remote.post(
        "/api/v1/ledger/cosignatures",
        {"size": new.size, "witness_key": str(signer.verifier), "line": line},
    )
    state.note, state.origin = new.note, new.origin
    return new


def run_witness(args: argparse.Namespace) -> None:
    signer = load_or_create(args.key, args.name, COSIGNATURE)
    if signer.kind != COSIGNATURE:
        raise Refused(f"Kunci {args.key} bukan kunci saksi (kosignatur).")
    if args.print_key:  # the key alone, for a script
        print(signer.verifier)
        return
    print(f"Kunci saksi {signer.verifier} (daftarkan di LACAK_WITNESSES server).")
    state_path = args.state or args.key.with_suffix(".state.json")
    remote = Remote(args.url)
    state = load_state(state_path, args.log_key, remote)
    if state.alarm:
        raise Refused(f"Saksi berhenti sejak alarm: {state.alarm}. Bukti di {state_path}.")
    while True:
        try:
            made = witness_once(remote, signer, state)
        except Alarm as alarm:
            state.alarm = str(alarm)
            state.evidence = [state.note or "", alarm.evidence.note]
            save_state(state_path, state)
            print(f"ALARM: {alarm}. Saksi tidak menandatangani; bukti di {state_path}.")
            sys.exit(ALARM_EXIT)
        except urllib.error.HTTPError as error:  # the server's own words, not just its status
            said = said_by(error)
            if args.once:
                raise Refused(f"{args.url}: {said}") from None
            print(f"{datetime.now(UTC):%H:%M:%S} {args.url}: {said}; dicoba lagi", flush=True)
        except (
            urllib.error.URLError,
            OSError,
            NoteError,
            ValueError,
            KeyError,
            TypeError,
        ) as error:
            if args.once:
                raise Refused(f"{args.url}: {error}") from None
            print(f"{datetime.now(UTC):%H:%M:%S} {args.url}: {error}; dicoba lagi", flush=True)
        else:
            save_state(state_path, state)
            if made is not None:
                print(
                    f"{datetime.now(UTC):%H:%M:%S} ditandatangani: pohon {made.size} "
                    f"(posisi {made.position})",
                    flush=True,
                )
        if args.once:
            return
        time.sleep(args.interval)


def said_by(error: urllib.error.HTTPError) -> str:
    try:
        return f"{error.code}: {json.loads(error.read())['detail']}"
    except (ValueError, KeyError, TypeError, OSError):
        return str(error)


def load_state(path: Path, log_key: str | None, remote: Remote) -> WitnessState:
    if path.exists():
        state = msgspec.json.decode(path.read_bytes(), type=WitnessState)
        if log_key and log_key != state.log_key:
            raise Refused(
                f"Kunci buku besar {log_key} berbeda dengan yang disematkan di {path} "
                f"({state.log_key}): pakai berkas keadaan lain untuk log lain."
            )
        return state
    if not log_key:  # trust on first use, said plainly
        try:
            log_key = remote.get("/api/v1/ledger/key").decode().strip()
        except (urllib.error.URLError, OSError) as error:
            raise Refused(f"{remote.url} tidak bisa dihubungi: {error}") from None
        print(
            f"PERHATIAN: kunci buku besar diambil dari {remote.url} sendiri dan disematkan: "
            f"{log_key}. Bandingkan dengan kunci yang diumumkan KPU; lain kali beri --log-key."
        )
    try:
        Verifier.parse(log_key)
    except NoteError as error:
        raise Refused(f"Kunci buku besar: {error}.") from None
    return WitnessState(log_key=log_key)


def save_state(path: Path, state: WitnessState) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.format(msgspec.json.encode(state)))
    temporary.replace(path)
