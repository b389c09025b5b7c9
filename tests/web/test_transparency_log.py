"""The transparency log on the live stack: the key and the checkpoints for anyone, a witness that
cosigns through the API (kept, published on NATS, shown, reported by `verify`), inclusion proofs
of an event and of a whole box that an auditor checks offline."""

import asyncio
import base64
import json
import time

import msgspec
import nats
import pytest

from services.audit.merkle import verify_consistency
from services.audit.note import COSIGNATURE, Signer, Verifier, parse_checkpoint, signed_by
from services.audit.proofs import ProofBundle, check_bundle
from services.cli import main
from services.commands.witness import Remote, WitnessState, witness_once
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.views.database import open_views
from services.views.ledger import stream_checkpoints
from tests.conftest import LiveLacak, settings_env
from tests.data import ONE_TPS, REGISTERED, SERANG

WITNESS = Signer.generate("bawaslu-uji", COSIGNATURE)


@pytest.fixture
def lacak(tmp_path, nats_server, monkeypatch):
    """The live stack with a witness listed and checkpoints every half second; the CLI's
    environment is the same stack's."""
    env = {
        **settings_env("sqlite", tmp_path, nats_server.url, None),
        "LACAK_WITNESSES": str(WITNESS.verifier),
        "LACAK_CHECKPOINT_SECONDS": "0.5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "data").mkdir(exist_ok=True)
    from services.settings import Settings

    live = LiveLacak(Settings.from_env(env)).start()
    yield live
    live.stop()


def signed_up_to(lacak: LiveLacak, position: int) -> str:
    """The newest checkpoint note, once it covers `position`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = lacak.api.get("/api/v1/ledger/checkpoint", headers={"authorization": ""})
        if answer.status_code == 200 and parse_checkpoint(answer.text).position >= position:
            return answer.text
        time.sleep(0.2)
    raise AssertionError(f"no signed checkpoint reached position {position}")


def record(lacak: LiveLacak, scans: int = 0) -> tuple[str, int]:
    batches = Batches(lacak.settings.store, wilayah=SERANG)
    plans = kit_plan(ONE_TPS)
    if not scans:
        batches.register(plans, at=REGISTERED)
    for n in range(scans):
        batches.scan(
            Scan(
                scan_id=f"uji-{n}",
                label=plans[0].label,
                action="dispatch",
                location="36.04",
                occurred_at=REGISTERED,
            )
        )
    last = batches.recorder.max_notification_id()
    batches.close()
    return plans[0].label, last


def test_anyone_reads_the_key_and_the_signed_checkpoint(lacak):
    _, last = record(lacak)
    note = signed_up_to(lacak, last)
    anonymous = lacak.api.get("/api/v1/ledger/key", headers={"authorization": ""})
    assert anonymous.status_code == 200
    key = Verifier.parse(anonymous.text)
    checkpoint = parse_checkpoint(note)
    assert signed_by(checkpoint, key) and checkpoint.origin == "lacak/pemilu-2024"
    bad = lacak.api.get("/api/v1/ledger/consistency", params={"from": 5, "to": 2})
    assert bad.status_code == 422
    proof = lacak.api.get("/api/v1/ledger/consistency", params={"from": 0, "to": checkpoint.size})
    assert proof.status_code == 200 and proof.json()["proof"] == []
    unsigned = {"from": checkpoint.size - 1, "to": checkpoint.size}  # no leaf hash for free
    assert lacak.api.get("/api/v1/ledger/consistency", params=unsigned).status_code == 422


def test_a_witness_cosigns_each_new_checkpoint_and_verify_names_it(lacak, tmp_path, capsys):
    _, last = record(lacak)
    signed_up_to(lacak, last)
    remote = Remote(lacak.base_url)
    state = WitnessState(log_key=remote.get("/api/v1/ledger/key").decode().strip())
    first = witness_once(remote, WITNESS, state)
    assert first is not None and witness_once(remote, WITNESS, state) is None  # nothing new
    _, later = record(lacak, scans=3)
    signed_up_to(lacak, later)
    second = witness_once(remote, WITNESS, state)  # through a consistency proof
    assert second is not None and second.size > first.size

    shown = parse_checkpoint(lacak.api.get("/api/v1/ledger/checkpoint").text)
    assert any(line.startswith("\u2014 bawaslu-uji ") for line in shown.signatures)
    with lacak.signed_in("bawaslu", timeout=30) as client:
        page = client.get("/audit").text
        assert "bawaslu-uji" in page and "Kunci verifikasi buku besar" in page

    async def published() -> list:
        nc = await nats.connect(lacak.settings.nats_url)
        try:
            return await stream_checkpoints(nc) or []
        finally:
            await nc.close()

    deadline = time.monotonic() + 10  # the ledger's clock publishes what the web kept
    while not any(  # the second one's: the clock publishes them oldest first
        c.size == second.size and len(c.signatures) > 1 for c in asyncio.run(published())
    ):
        assert time.monotonic() < deadline, "the cosignature never reached NATS"
        time.sleep(0.2)

    with pytest.raises(SystemExit) as exit_:
        main(["verify", "--witness", str(WITNESS.verifier)])
    out = capsys.readouterr().out
    assert exit_.value.code == 0, out
    assert f"disaksikan bawaslu-uji s/d posisi {second.position}" in out

    stranger = Signer.generate("bukan-saksi", COSIGNATURE)
    refused = lacak.api.post(
        "/api/v1/ledger/cosignatures",
        json={
            "size": second.size,
            "witness_key": str(stranger.verifier),
            "line": stranger.cosign(second.text, 1),
        },
    )
    assert refused.status_code == 403
    # A good cosignature sent without its line's end is kept as one line of the note.
    again = lacak.api.post(
        "/api/v1/ledger/cosignatures",
        json={
            "size": first.size,
            "witness_key": str(WITNESS.verifier),
            "line": WITNESS.cosign(first.text, 1_707_800_000).rstrip("\n"),
        },
    )
    assert again.status_code == 201 and parse_checkpoint(again.text).size == first.size
    forged = lacak.api.post(
        "/api/v1/ledger/cosignatures",
        json={"size": second.size, "witness_key": str(WITNESS.verifier), "line": "\u2014 x AAAA\n"},
    )
    assert forged.status_code == 422


def test_a_boxs_inclusion_proofs_check_offline_and_a_changed_event_does_not(
    lacak, tmp_path, capsys
):
    label, last = record(lacak)
    note = signed_up_to(lacak, last)
    key = lacak.api.get("/api/v1/ledger/key").text.strip()
    with lacak.signed_in("auditor", timeout=30) as client:
        one = msgspec.json.decode(client.get("/api/v1/ledger/proof/1").content, type=ProofBundle)
        assert not check_bundle(one, Verifier.parse(key)) and one.checkpoint == note
        assert "Bukti inklusi" in client.get(f"/kotak/{label}").text
        answer = client.get(f"/kotak/{label}/bukti")
    assert answer.status_code == 200, answer.text
    bundle = tmp_path / "bukti.json"
    bundle.write_bytes(answer.content)
    assert len(json.loads(answer.content)["events"]) >= 1
    with pytest.raises(SystemExit) as exit_:
        main(["verify-proof", str(bundle), "--log-key", key])
    assert exit_.value.code == 0 and "TERBUKTI" in capsys.readouterr().out

    changed = json.loads(answer.content)
    event = base64.b64decode(changed["events"][0]["event"]).replace(b"kotak_suara", b"kotak_palsu")
    changed["events"][0]["event"] = base64.b64encode(event).decode()
    bundle.write_text(json.dumps(changed))
    with pytest.raises(SystemExit) as exit_:
        main(["verify-proof", str(bundle), "--log-key", key])
    assert exit_.value.code == 1 and "TIDAK TERBUKTI" in capsys.readouterr().out


def test_a_consistency_proof_from_the_api_checks_with_the_rfc_algorithm(lacak):
    _, last = record(lacak)
    old = parse_checkpoint(signed_up_to(lacak, last))
    _, later = record(lacak, scans=2)
    new = parse_checkpoint(signed_up_to(lacak, later))
    answer = lacak.api.get(
        "/api/v1/ledger/consistency", params={"from": old.size, "to": new.size}
    ).json()
    proof = [bytes.fromhex(h) for h in answer["proof"]]
    assert verify_consistency(old.size, new.size, old.root, new.root, proof)
    assert not verify_consistency(old.size, new.size, new.root, new.root, proof)


def test_a_ledger_view_behind_the_stream_does_not_show_a_witness_a_smaller_tree(lacak):
    """A rebuilding (or cut) ledger view: the head served is still the stream's, so a witness
    does not take an honest rebuild for a rollback."""
    _, last = record(lacak)
    head = parse_checkpoint(signed_up_to(lacak, last))
    views = open_views(lacak.settings)
    with views.transaction() as cursor:
        cursor.execute("DELETE FROM ledger_checkpoints WHERE size > 1")
    views.close()
    time.sleep(2.1)  # the web asks the stream again
    served = parse_checkpoint(lacak.api.get("/api/v1/ledger/checkpoint").text)
    assert (served.size >= head.size and served.root == head.root) or served.size > head.size


def test_a_garbled_public_key_file_is_no_key_not_a_server_error(lacak):
    _, last = record(lacak)
    signed_up_to(lacak, last)
    (lacak.settings.ledger_key.with_suffix(".pub")).write_text("bukan kunci\n")
    assert lacak.api.get("/api/v1/ledger/key").status_code == 404
    with lacak.signed_in("auditor", timeout=30) as client:
        page = client.get("/audit")
        assert page.status_code == 200 and "belum dibuat" in page.text
        checked = client.post("/audit/periksa")
        assert checked.status_code == 200 and "TIDAK UTUH" in checked.text
