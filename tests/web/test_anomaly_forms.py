"""The row form of the exceptions queue: what is refused, and the row it leaves."""

from datetime import UTC, datetime

from services.demo.serang import kabupaten_serang
from services.views.anomalies.reducer import AnomalyRow
from web.anomalies import ActionFormIn, QueueFilter, acted_on, parse_filter, read_action_form

AT = datetime(2024, 2, 12, 3, 0, tzinfo=UTC)
ROW = AnomalyRow(
    anomaly_id="A-4",
    position=4,
    changed=4,
    batch_id="b",
    label="A",
    destination="3604052001001",
    kecamatan="36.04.05",
    kind="count_short",
    expected="297",
    found="250",
    location="36.04.05",
    scan_id="s",
    occurred_at="2024-02-12T02:00:00+00:00",
    recorded_at="2024-02-12T02:00:01+00:00",
)


def test_a_form_without_an_officer_or_with_a_novel_for_a_note_is_refused_in_bahasa():
    assert read_action_form(ActionFormIn(by=" ", note="x")).errors == (
        "Isi nama petugas yang menangani.",
    )
    too_long = read_action_form(ActionFormIn(by="Budi", note="x" * 2001))
    assert too_long.errors == ("Catatan terlalu panjang (paling banyak 2000 huruf).",)
    assert read_action_form(ActionFormIn(by=" Budi ", note=" cek ")) == read_action_form(
        ActionFormIn(by="Budi", note="cek")
    )


def test_resolving_leaves_the_acknowledgement_and_a_resolved_row_is_not_changed_again():
    form = read_action_form(ActionFormIn(by="Budi", note="dicek"))
    acknowledged = acted_on(ROW, "acknowledge", form, AT)
    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", "Budi")
    assert (
        acted_on(acknowledged, "acknowledge", read_action_form(ActionFormIn(by="Sari")), AT)
        == acknowledged
    )
    resolved = acted_on(acknowledged, "resolve", read_action_form(ActionFormIn(by="Sari")), AT)
    assert (resolved.status, resolved.resolved_by, resolved.acknowledged_by) == (
        "resolved",
        "Sari",
        "Budi",
    )
    assert acted_on(resolved, "resolve", form, AT) == resolved


def test_the_queue_filter_admits_by_kind_kecamatan_and_status_and_reads_its_query():
    wilayah = kabupaten_serang()
    chosen = parse_filter("count_short,damaged", "36.04.05", "open,acknowledged", wilayah)
    assert chosen.admits(ROW) and not QueueFilter(kinds=("late",)).admits(ROW)
    assert not QueueFilter(kecamatan="36.04.01").admits(ROW)
    assert not QueueFilter(statuses=("resolved",)).admits(ROW)
    assert chosen.query() == "kind=count_short,damaged&kecamatan=36.04.05&status=open,acknowledged"
    assert parse_filter("", "", "", wilayah) == QueueFilter()  # open ones, of every kind and place
