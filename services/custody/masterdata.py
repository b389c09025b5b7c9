"""Master data of an election as KPU staff hand it over: one CSV row per TPS.

Columns (a header row, comma-separated, UTF-8):

| column | example | rule |
|---|---|---|
| `kode_kabupaten`, `nama_kabupaten` | `36.04`, `Kabupaten Serang` | one kabupaten per file |
| `kode_kecamatan`, `nama_kecamatan` | `36.04.05`, `Kramatwatu` | inside the kabupaten |
| `kode_desa`, `nama_desa` | `36.04.05.2001`, `Kramatwatu` | inside the kecamatan |
| `nomor_tps` | `1` | 1 to 999 |
| `kode_tps` | `3604052001001` | the desa code without dots and the TPS number, 13 digits; once |
| `dpt` | `277` | voters on the final list, 0 to the limit (300 in 2024) |
| `dapil_dpr`, `dapil_dprd_prov`, `dapil_dprd_kab` | `BANTEN II` | `dapil_dprd_kab` may be empty |

A file with any fault is refused whole, with one line-numbered message per fault.
"""

import csv
import hashlib
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid5

import msgspec

from events import KabupatenIndexed, MasterDataImported, WilayahListed
from services import bahasa
from services.custody.batch import LABEL_NAMESPACE
from services.errors import DomainError
from services.store.application import StoreApplication
from services.wilayah import Desa, Kecamatan, Tps, Wilayah

COLUMNS = (
    "kode_kabupaten",
    "nama_kabupaten",
    "kode_kecamatan",
    "nama_kecamatan",
    "kode_desa",
    "nama_desa",
    "nomor_tps",
    "kode_tps",
    "dpt",
    "dapil_dpr",
    "dapil_dprd_prov",
    "dapil_dprd_kab",
)
KABUPATEN = re.compile(r"[0-9]{2}\.[0-9]{2}")
KECAMATAN = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}")
DESA = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
NUMBER = re.compile(r"[0-9]{1,6}")
MAX_TEXT = 100  # characters of a name or a dapil
DPT_LIMIT_2024 = 300
MAX_FAULTS = 50


class ImportRefusedError(DomainError):
    """The file is refused whole; nothing of it is kept."""

    def __init__(self, faults: list[str]):
        more = ""
        if len(faults) > MAX_FAULTS:
            more = bahasa.IMPORT_MORE_FAULTS.format(count=len(faults) - MAX_FAULTS)
        super().__init__(
            bahasa.IMPORT_REFUSED.format(faults="\n".join(faults[:MAX_FAULTS]), more=more)
        )
        self.faults = faults


def delimiter_of(text: str) -> str:
    """`,` as the format says, or `;` as Excel saves a CSV with Indonesian settings (its header
    has semicolons and no commas)."""
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def fault_line(line: int, fault: str) -> str:
    return bahasa.FAULT_LINE.format(line=line, fault=fault)


def csv_records(
    rows: csv.DictReader, columns: Sequence[str], faults: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each record of a CSV file with the physical line it ends on, and its `columns`' cells
    stripped. A record with a cell more than the header or without one of `columns` adds its
    fault to `faults` and is passed over; a file the csv module cannot read on adds its fault
    and ends there."""
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            faults.append(fault_line(rows.line_num, str(error)))
            return
        line = rows.line_num  # the physical line where this record ends
        if None in raw or any(raw[c] is None for c in columns):
            faults.append(fault_line(line, bahasa.FAULT_COLUMN_COUNT.format(count=len(columns))))
            continue
        yield line, {c: raw[c].strip() for c in columns}


def renamed(level: str, code: str) -> str:
    return bahasa.FAULT_RENAMED.format(level=level, code=code)


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_tps_csv(data: bytes, dpt_limit: int = DPT_LIMIT_2024) -> Wilayah:
    """The kabupaten the file describes, or ImportRefusedError naming every faulty line."""
    [wilayah] = parse_tps_file(data, dpt_limit, many=False)
    return wilayah


def parse_tps_file(
    data: bytes, dpt_limit: int = DPT_LIMIT_2024, many: bool = True
) -> list[Wilayah]:
    """Every kabupaten/kota the file describes (a province's file, the nation's), in the order
    of their codes; or ImportRefusedError naming every faulty line. With `many` False a second
    kabupaten is a fault."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        fault = bahasa.FAULT_NOT_UTF8.format(column=column)
        raise ImportRefusedError([fault_line(line, fault)]) from None
    rows = csv.DictReader(io.StringIO(text), delimiter=delimiter_of(text))
    try:
        missing = [c for c in COLUMNS if c not in (rows.fieldnames or [])]
    except csv.Error as error:
        raise ImportRefusedError([fault_line(1, str(error))]) from None
    if missing:
        raise ImportRefusedError(
            [fault_line(1, bahasa.FAULT_MISSING_COLUMNS.format(columns=", ".join(missing)))]
        )
    faults: list[str] = []
    kabupaten: dict[str, str] = {}
    kecamatan: dict[str, str] = {}
    desa: dict[str, tuple[str, str]] = {}
    tps: dict[str, Tps] = {}
    first_line: dict[str, int] = {}  # where each TPS was first listed
    for line, row in csv_records(rows, COLUMNS, faults):
        if not kabupaten and KABUPATEN.fullmatch(row["kode_kabupaten"]):
            kabupaten[row["kode_kabupaten"]] = row["nama_kabupaten"]  # the file's, from line 2
        if many and KABUPATEN.fullmatch(row["kode_kabupaten"]):
            kabupaten.setdefault(row["kode_kabupaten"], row["nama_kabupaten"])
        row_faults = _row_faults(row, dpt_limit)
        if not row_faults:
            row_faults = _consistency_faults(row, kabupaten, kecamatan, desa, first_line)
        if row_faults:
            faults += [fault_line(line, fault) for fault in row_faults]
            continue
        kecamatan.setdefault(row["kode_kecamatan"], row["nama_kecamatan"])
        desa.setdefault(row["kode_desa"], (row["nama_desa"], row["kode_kecamatan"]))
        first_line[row["kode_tps"]] = line
        tps[row["kode_tps"]] = Tps(  # the texts every TPS of a desa repeats, held once
            code=row["kode_tps"],
            number=int(row["nomor_tps"]),
            desa=sys.intern(row["kode_desa"]),
            dpt=int(row["dpt"]),
            dapil_dpr=sys.intern(row["dapil_dpr"]),
            dapil_dprd_prov=sys.intern(row["dapil_dprd_prov"]),
            dapil_dprd_kab=sys.intern(row["dapil_dprd_kab"]),
        )
    if not faults and not tps:
        faults.append(fault_line(2, bahasa.FAULT_NO_TPS))
    if faults:
        raise ImportRefusedError(faults)
    kecamatan_of: dict[str, list[Kecamatan]] = {code: [] for code in kabupaten}
    for c, n in sorted(kecamatan.items()):
        kecamatan_of[c[:5]].append(Kecamatan(code=c, name=n))
    desa_of: dict[str, list[Desa]] = {code: [] for code in kabupaten}
    for c, (n, k) in sorted(desa.items()):
        desa_of[c[:5]].append(Desa(code=c, name=n, kecamatan=k))
    tps_of: dict[str, list[Tps]] = {code: [] for code in kabupaten}
    for c in sorted(tps):
        tps_of[f"{c[:2]}.{c[2:4]}"].append(tps[c])
    return [
        Wilayah(
            code=code,
            name=name,
            kecamatan=tuple(kecamatan_of[code]),
            desa=tuple(desa_of[code]),
            tps=tuple(tps_of[code]),
        )
        for code, name in sorted(kabupaten.items())
    ]


def _row_faults(row: dict[str, str], dpt_limit: int) -> list[str]:
    faults = []
    shapes = (
        ("kode_kabupaten", KABUPATEN, "36.04"),
        ("kode_kecamatan", KECAMATAN, "36.04.05"),
        ("kode_desa", DESA, "36.04.05.2001"),
    )
    for column, shape, example in shapes:
        if not shape.fullmatch(row[column]):
            faults.append(
                bahasa.FAULT_SHAPE.format(column=column, value=row[column], example=example)
            )
    for column in ("nama_kabupaten", "nama_kecamatan", "nama_desa", "dapil_dpr", "dapil_dprd_prov"):
        if not row[column]:
            faults.append(bahasa.FAULT_EMPTY.format(column=column))
    for column in (
        "nama_kabupaten",
        "nama_kecamatan",
        "nama_desa",
        "dapil_dpr",
        "dapil_dprd_prov",
        "dapil_dprd_kab",
    ):
        if len(row[column]) > MAX_TEXT or not row[column].isprintable():
            faults.append(bahasa.FAULT_TEXT.format(column=column, limit=MAX_TEXT))
    if faults:
        return faults
    if not row["kode_kecamatan"].startswith(row["kode_kabupaten"] + "."):
        faults.append(
            bahasa.FAULT_KECAMATAN_OUTSIDE.format(
                kecamatan=row["kode_kecamatan"], kabupaten=row["kode_kabupaten"]
            )
        )
    if not row["kode_desa"].startswith(row["kode_kecamatan"] + "."):
        faults.append(
            bahasa.FAULT_DESA_OUTSIDE.format(desa=row["kode_desa"], kecamatan=row["kode_kecamatan"])
        )
    number, dpt = row["nomor_tps"], row["dpt"]
    if not NUMBER.fullmatch(number) or not 1 <= int(number) <= 999:
        faults.append(bahasa.FAULT_TPS_NUMBER.format(number=number))
    elif row["kode_tps"] != f"{row['kode_desa'].replace('.', '')}{int(number):03d}":
        faults.append(bahasa.FAULT_TPS_CODE.format(code=row["kode_tps"]))
    if dpt.startswith("-") and NUMBER.fullmatch(dpt[1:]):
        faults.append(bahasa.FAULT_DPT_NEGATIVE.format(dpt=dpt))
    elif not NUMBER.fullmatch(dpt):
        faults.append(bahasa.FAULT_DPT_NUMBER.format(dpt=dpt))
    elif int(dpt) > dpt_limit:
        faults.append(bahasa.FAULT_DPT_LIMIT.format(dpt=dpt, limit=dpt_limit))
    return faults


def _consistency_faults(
    row: dict[str, str],
    kabupaten: dict[str, str],
    kecamatan: dict[str, str],
    desa: dict[str, tuple[str, str]],
    first_line: dict[str, int],
) -> list[str]:
    faults = []
    if kabupaten and row["kode_kabupaten"] not in kabupaten:
        faults.append(bahasa.FAULT_OTHER_KABUPATEN.format(kabupaten=row["kode_kabupaten"]))
    elif kabupaten.get(row["kode_kabupaten"]) != row["nama_kabupaten"]:
        faults.append(renamed("kabupaten", row["kode_kabupaten"]))
    if kecamatan.get(row["kode_kecamatan"], row["nama_kecamatan"]) != row["nama_kecamatan"]:
        faults.append(renamed("kecamatan", row["kode_kecamatan"]))
    if desa.get(row["kode_desa"], (row["nama_desa"],))[0] != row["nama_desa"]:
        faults.append(renamed("desa", row["kode_desa"]))
    if row["kode_tps"] in first_line:
        faults.append(
            bahasa.FAULT_DUPLICATE_TPS.format(
                code=row["kode_tps"], line=first_line[row["kode_tps"]]
            )
        )
    return faults


def tps_csv(wilayah: Wilayah) -> bytes:
    """The kabupaten in the import format (the demo writes Kabupaten Serang this way)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for t in wilayah.tps:
        d = wilayah.desa_by_code[t.desa]
        k = wilayah.kecamatan_by_code[d.kecamatan]
        writer.writerow(
            (
                wilayah.code,
                wilayah.name,
                k.code,
                k.name,
                d.code,
                d.name,
                t.number,
                t.code,
                t.dpt,
                t.dapil_dpr,
                t.dapil_dprd_prov,
                t.dapil_dprd_kab,
            )
        )
    return out.getvalue().encode()


TPS_PER_PART = 500


class ImportSummary(msgspec.Struct, frozen=True, kw_only=True):
    election: str
    kabupaten: str
    kabupaten_name: str
    file_sha256: str
    kecamatan: int
    desa: int
    tps: int
    dpt: int


def master_data_id(election: str, kabupaten: str) -> UUID:
    return uuid5(LABEL_NAMESPACE, f"wilayah/{election}/{kabupaten}")


def index_id(election: str) -> UUID:
    """The election's index of the kabupaten/kota imported for it."""
    return uuid5(LABEL_NAMESPACE, f"wilayah-index/{election}")


def import_events(
    wilayah: Wilayah,
    *,
    election: str,
    file_name: str,
    file_sha256: str,
    imported_by: str,
    last_version: int,
    at: datetime,
) -> list[MasterDataImported | WilayahListed]:
    """An accepted file as events: who, when, the checksum and counts, then the tree in parts."""
    common = {
        "originator_id": master_data_id(election, wilayah.code),
        "kabupaten": wilayah.code,
        "occurred_at": at,
        "recorded_at": at,
    }
    imported = MasterDataImported(
        **common,
        originator_version=last_version + 1,
        election=election,
        kabupaten_name=wilayah.name,
        file_name=file_name,
        file_sha256=file_sha256,
        imported_by=imported_by,
        kecamatan_count=len(wilayah.kecamatan),
        desa_count=len(wilayah.desa),
        tps_count=len(wilayah.tps),
        dpt_total=sum(t.dpt for t in wilayah.tps),
    )
    parts: list[MasterDataImported | WilayahListed] = [imported]
    for start in range(0, len(wilayah.tps), TPS_PER_PART):
        parts.append(
            WilayahListed(
                **common,
                originator_version=last_version + len(parts) + 1,
                kecamatan=list(wilayah.kecamatan) if start == 0 else [],
                desa=list(wilayah.desa) if start == 0 else [],
                tps=list(wilayah.tps[start : start + TPS_PER_PART]),
            )
        )
    return parts


def wilayah_from(events: Iterable[object]) -> Wilayah | None:
    """The kabupaten as its latest import left it (None before any)."""
    wilayah: Wilayah | None = None
    for event in events:
        if isinstance(event, MasterDataImported):
            wilayah = Wilayah(
                code=event.kabupaten, name=event.kabupaten_name, kecamatan=(), desa=(), tps=()
            )
        elif isinstance(event, WilayahListed) and wilayah is not None:
            wilayah = msgspec.structs.replace(
                wilayah,
                kecamatan=wilayah.kecamatan + tuple(event.kecamatan),
                desa=wilayah.desa + tuple(event.desa),
                tps=wilayah.tps + tuple(event.tps),
            )
    return wilayah


class MasterData:
    """An election's master data in the custody store: a TPS file imported whole or refused
    whole, and a kabupaten's tree as its latest import left it."""

    def __init__(
        self, store: StoreApplication, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ):
        self.store = store
        self.clock = clock

    def import_file(
        self, election: str, file_name: str, data: bytes, imported_by: str
    ) -> ImportSummary:
        """Check the whole file, one kabupaten's, then keep it as events in one transaction, or
        refuse it whole."""
        return self._keep(parse_tps_csv(data), election, file_name, checksum(data), imported_by)

    def import_many(
        self,
        election: str,
        file_name: str,
        data: bytes,
        imported_by: str,
        progress: Callable[[int, int], None] = lambda done, total: None,
    ) -> list[ImportSummary]:
        """A file of any number of kabupaten/kota (a province's, the nation's): checked whole
        and refused whole, then each kabupaten kept in a transaction of its own (a second
        run after a failure imports every one again, as a new import does)."""
        trees = parse_tps_file(data)
        sha256 = checksum(data)
        kept = []
        for done, wilayah in enumerate(trees, 1):
            kept.append(self._keep(wilayah, election, file_name, sha256, imported_by))
            progress(done, len(trees))
        return kept

    def _keep(
        self, wilayah: Wilayah, election: str, file_name: str, sha256: str, imported_by: str
    ) -> ImportSummary:
        at = self.clock()
        last = self.store.last_version(master_data_id(election, wilayah.code))
        new_events: list[object] = list(
            import_events(
                wilayah,
                election=election,
                file_name=file_name,
                file_sha256=sha256,
                imported_by=imported_by,
                last_version=last,
                at=at,
            )
        )
        if not last:  # the election's first import of it: in the index too
            new_events.append(
                KabupatenIndexed(
                    originator_id=index_id(election),
                    originator_version=self.store.last_version(index_id(election)) + 1,
                    kabupaten=wilayah.code,
                    occurred_at=at,
                    recorded_at=at,
                    election=election,
                    kabupaten_name=wilayah.name,
                )
            )
        self.store.append(*new_events)  # a concurrent import of the same kabupaten: IntegrityError
        return ImportSummary(
            election=election,
            kabupaten=wilayah.code,
            kabupaten_name=wilayah.name,
            file_sha256=sha256,
            kecamatan=len(wilayah.kecamatan),
            desa=len(wilayah.desa),
            tps=len(wilayah.tps),
            dpt=sum(t.dpt for t in wilayah.tps),
        )

    def wilayah(self, election: str, kabupaten: str) -> Wilayah | None:
        """The kabupaten's tree as last imported for the election, or None."""
        return wilayah_from(self.store.events.get(master_data_id(election, kabupaten)))

    def kabupaten(self, election: str) -> dict[str, str]:
        """Every kabupaten/kota imported for the election: code -> name, by code."""
        indexed = self.store.events.get(index_id(election))
        return dict(sorted((e.kabupaten, e.kabupaten_name) for e in indexed))
