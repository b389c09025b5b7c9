"""What people read, in Bahasa Indonesia: the services' messages in one catalogue, and numbers
and times as Indonesians write them. Pages keep their own words in their templates."""

from datetime import datetime

from services.wilayah import WIB


def thousands(n: int) -> str:
    """Indonesian digit grouping: 22125 -> 22.125."""
    return f"{n:,}".replace(",", ".")


def percent(value: float) -> str:
    """Indonesian decimal comma: 17.4 -> 17,4%."""
    return f"{value:.1f}%".replace(".", ",")


def local_time(at: str | datetime) -> str:
    """`2024-02-12T02:00:00+00:00` -> `12-02-2024 09:00 WIB` (Kabupaten Serang's time)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.astimezone(WIB).strftime("%d-%m-%Y %H:%M %Z")


def duration(seconds: float) -> str:
    """How long, as said: 42 -> `42 detik`, 200 -> `3 menit`, 7500 -> `2 jam 5 menit`."""
    if round(seconds) < 60:
        return f"{round(seconds)} detik"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} menit"
    return f"{hours} jam" + (f" {minutes} menit" if minutes else "")


DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")  # fmt: skip


def long_date(at: str | datetime) -> str:
    """`2024-02-12T02:00:00+00:00` -> `Senin, 12 Februari 2024`, as a Berita Acara writes it."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    local = at.astimezone(WIB)
    return f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year}"


# --- Custody: refusals of a command ------------------------------------------------------------

UNKNOWN_LABEL = "Label {label!r} tidak dikenal: tidak ada kotak dengan label ini."
UNKNOWN_LOCATION = "Lokasi {location!r} tidak dikenal: bukan kode wilayah yang terdaftar."
IMPOSSIBLE_TIME = "Waktu {at} tidak mungkin benar: periksa jam perangkat."
UNKNOWN_ANOMALY = "Anomali {anomaly_id!r} tidak dikenal."
MISSING_DETAIL = "Data kurang: {detail} wajib diisi untuk tindakan ini."
PACK_QUANTITY = "jumlah surat suara yang dikemas (quantity)"
SEAL_NUMBERS = "nomor segel (seals)"
ACCOUNT_COUNTS = "jumlah surat suara terpakai, rusak dan sisa"
UNKNOWN_SCAN_EVENT = "Kotak {label!r} tidak punya pindai dengan nomor urut {version}."
LABEL_TAKEN = "Label {label!r} sudah terdaftar."
LABEL_MISREAD = "Label {raw!r} salah baca atau salah ketik ({reason}); pindai ulang."
LABEL_SHAPE = "bentuknya bukan 9999-XXXX-X"
LABEL_LETTER = "ada huruf yang tidak dipakai di label"
LABEL_CHECK = "karakter pemeriksa tidak cocok"
NO_MASTER_DATA = "Belum ada data wilayah: impor berkas TPS dulu (lacak import)."
CONFLICT = "Kotak {key!r} sedang dipindai di perangkat lain; coba lagi."
GUDANG_BUSY = "Gudang {key} sedang dicatat di perangkat lain; coba lagi."
FINDING_BUSY = "Temuan {key} sedang ditangani di perangkat lain; coba lagi."

# --- Custody: what a scan's answer says ---------------------------------------------------------

ACTION_MESSAGES = {
    "pack": "Kotak {label} dicatat dikemas di {place}.",
    "seal": "Kotak {label} dicatat disegel di {place}.",
    "dispatch": "Kotak {label} dicatat keluar dari {place}.",
    "receive": "Kotak {label} dicatat diterima di {place}.",
    "account": "Kotak {label}: perhitungan surat suara dicatat di {place}.",
}
ANOMALY_MESSAGES = {
    "wrong_destination": "SALAH TUJUAN: tujuan berikutnya {expected}, bukan {found}.",
    "skipped_hop": "LOMPAT TAHAP: kotak ini belum pernah diterima di {expected}.",
    "receipt_without_dispatch": "TANPA PENGIRIMAN: tidak ada pindai keluar dari {expected}.",
    "seal_missing": "SEGEL HILANG: kotak seharusnya bersegel {expected}.",
    "seal_mismatch": "SEGEL TIDAK COCOK: seharusnya {expected}, ditemukan {found}.",
    "count_short": "JUMLAH KURANG: seharusnya {expected}, terhitung {found}.",
    "count_over": "JUMLAH LEBIH: seharusnya {expected}, terhitung {found}.",
    "damaged": "KONDISI {found}: kotak tidak dalam keadaan {expected}.",
    "wrong_dapil": "SALAH DAPIL (tertukar): surat suara {found}, seharusnya {expected}.",
    "accounting_mismatch": "HITUNGAN TIDAK COCOK: diterima {expected}, "
    "terpakai + rusak + sisa = {found}.",
    "late": "TERLAMBAT: belum sampai di TPS pada batas {expected}; terakhir di {found}.",
    "void_scanned": "KOTAK DIBATALKAN ({expected}): jangan dipakai; dipindai di {found}.",
    "impossible_move": "TIDAK MUNGKIN: kotak tercatat di {expected}, tetapi dikirim dari {found}.",
    "clock_backwards": "WAKTU MUNDUR: dipindai {found}, sebelum {expected}; periksa jam perangkat.",
}
# A warning, not an anomaly: the dispatch is recorded as it happened and raises nothing.
UNSEALED_DISPATCH = "BELUM DISEGEL: kotak suara keluar dari {place} tanpa segel."
# Variants of a message, where what was expected reads better another way:
NEVER_SEALED = "SEGEL TIDAK COCOK: kotak ini tidak pernah disegel, ditemukan segel {found}."
WRONG_DAPIL_UNNAMED = "SALAH DAPIL (tertukar): surat suara dapil lain, seharusnya {expected}."
BOUND_FOR = " (kotak untuk {tps})"
# A double read: the first scan stands; when it was recorded, in the place's own time.
REPEAT_MESSAGES = {
    "pack": "Kotak {label} sudah dikemas di {place} pukul {time}; pindai ulang tidak dihitung.",
    "seal": "Kotak {label} sudah disegel di {place} pukul {time}; pindai ulang tidak dihitung.",
    "dispatch": "Kotak {label} sudah dicatat keluar dari {place} pukul {time}; "
    "pindai ulang tidak dihitung.",
    "receive": "Kotak {label} sudah diterima di {place} pukul {time}; pindai ulang tidak dihitung.",
    "account": "Kotak {label} sudah dihitung di {place} pukul {time}; pindai ulang tidak dihitung.",
}
VOID_NOTE = "pindai dibatalkan: {reason}"
REPLACED_REASON = "diganti {label}"
REPLACED_REASON_NOTE = "diganti {label}: {note}"

# --- Custody: the kit, the anomalies and the actions by name ------------------------------------

ITEM_NAMES = {"kotak_suara": "Kotak suara", "bilik_suara": "Bilik suara (4)", "tinta": "Tinta (2)"}
BALLOT_NAMES = {
    "PPWP": "Presiden dan Wakil Presiden",
    "DPR": "DPR RI",
    "DPD": "DPD",
    "DPRD_PROV": "DPRD Provinsi",
    "DPRD_KAB": "DPRD Kabupaten/Kota",
}
REASON_NAMES = {
    "kurang": "kurang",
    "rusak": "rusak",
    "basah": "basah",
    "tertukar": "tertukar (dapil lain)",
    "segel_rusak": "segel rusak/lepas",
    "salah_tujuan": "salah tujuan",
}
KIND_NAMES = {
    "wrong_destination": "Salah tujuan",
    "skipped_hop": "Lompat tahap",
    "receipt_without_dispatch": "Tanpa pengiriman",
    "seal_missing": "Segel hilang",
    "seal_mismatch": "Segel tidak cocok",
    "count_short": "Jumlah kurang",
    "count_over": "Jumlah lebih",
    "damaged": "Rusak / basah",
    "wrong_dapil": "Salah dapil",
    "accounting_mismatch": "Hitungan tidak cocok",
    "late": "Terlambat",
    "void_scanned": "Kotak batal dipindai",
    "impossible_move": "Tidak mungkin",
    "clock_backwards": "Waktu mundur",
}
ACTION_NAMES = {
    "pack": "Dikemas",
    "seal": "Disegel",
    "dispatch": "Dikirim",
    "receive": "Diterima",
    "account": "Dihitung (KPPS)",
}

# --- Custody: what each event is called on a timeline, in the log and its details -----------

EVENT_WORDS = {
    "BatchRegistered": "didaftarkan",
    "BatchPacked": "dikemas",
    "BatchSealed": "disegel",
    "BatchDispatched": "dikirim",
    "BatchReceived": "diterima",
    "BallotsAccounted": "surat suara dihitung (KPPS)",
    "AnomalyRaised": "anomali",
    "AnomalyAcknowledged": "anomali ditangani",
    "AnomalyResolved": "anomali selesai",
    "ScanVoided": "pindai dibatalkan",
    "BatchVoided": "kotak dibatalkan",
    "ScanRepeated": "pindai ulang (tidak dihitung)",
}
# The gudang's events before packing (services/gudang), as the event log names them.
GUDANG_EVENT_WORDS = {
    "ProcurementPlanned": "rencana pengadaan",
    "SupplierContracted": "kontrak penyedia",
    "DeliveryAnnounced": "pemberitahuan pengiriman",
    "DeliveryReceived": "pengiriman diterima di gudang",
    "SortingTallied": "sortir-lipat dihitung",
    "ReplacementRequested": "penggantian diminta",
    "SheetsDestroyed": "surat suara rusak dimusnahkan",
    "BoxesAssembled": "kotak suara dirakit",
}

# --- Audit: what `verify` found ----------------------------------------------------------------

FINDINGS = {
    "removed": "peristiwa ini hilang",
    "removed_shifted": "peristiwa ini hilang, sisanya digeser",
    "inserted": "peristiwa ini disisipkan",
    "inserted_shifted": "peristiwa disisipkan, sisanya digeser",
    "reordered": "ditukar dengan posisi {position}",
    "changed": "isi peristiwa ini diubah",
    "checkpoint_gone": "pohon berukuran {size} yang ditandatangani tidak tercapai lagi: "
    "peristiwa hilang",
    "checkpoint_differs": "akar pohon Merkle berukuran {size} tidak cocok dengan titik periksa "
    "bertanda tangan: peristiwa sampai posisi ini diubah, dihapus atau disisipkan",
    "ledger_short": "buku besar di basis data berhenti di posisi {position}, padahal titik "
    "periksa bertanda tangan sampai posisi {signed}: tabelnya dikosongkan atau dipotong",
    "unsigned": "tidak ada titik periksa bertanda tangan yang sah: keutuhan tidak bisa dibuktikan",
    "stalled": "peristiwa sesudah posisi {position} belum ditandatangani, padahal titik periksa "
    "terakhir {seconds:.0f} detik lalu (seharusnya paling lambat tiap {every:g} detik): "
    "penandatanganan berhenti atau ditahan",
    "fork": "dua pohon berbeda berukuran {size} sama-sama ditandatangani: log bercabang",
    "bad_signature": "tanda tangan titik periksa berukuran {size} tidak sah untuk kunci {key}",
    "other_log": "titik periksa berukuran {size} milik log {origin}, bukan log {expected}",
    "extra": "sesudah posisi terakhir buku besar (belum tercatat, atau disisipkan)",
}

NEEDS_POSTGRES = (
    "{command} memakai PostgreSQL dari setelan: atur PERSISTENCE_MODULE=eventsourcing.postgres "
    "dan POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DBNAME, POSTGRES_USER (lihat README)."
)
CLUSTER_ARGUMENTS = "--replicas paling sedikit 1; --simulate hanya bersama --demo."
NO_ACCESS_EXPORT = (
    "Log akses tidak diekspor (isinya data pribadi): periksa --akses di mesin Lacak, terhadap "
    "titik periksa bertanda tangan dari NATS atau berkas --checkpoints."
)
ANCHOR_STREAM = "aliran NATS LACAK_LEDGER (di luar basis data)"
ANCHOR_VIEWS = (
    "basis data tampilan, karena NATS tidak menjawab: tanda tangannya tetap diperiksa, tetapi "
    "titik periksa terbaru bisa saja dihapus dari sana"
)
NO_CHECKPOINT_YET = "Buku besar belum menandatangani titik periksa apa pun."
NO_SUCH_TREES = (
    "Tidak ada bukti dari pohon {old} ke {new}: keduanya harus ukuran titik periksa bertanda "
    "tangan (atau 0), yang pertama tidak lebih besar."
)
UNKNOWN_WITNESS = (
    "Saksi {name} tidak terdaftar: kunci verifikasinya harus ada di LACAK_WITNESSES server."
)
NOT_YET_SIGNED = (
    "Peristiwa posisi {position} belum tercakup titik periksa bertanda tangan; coba lagi dalam "
    "{seconds:g} detik."
)
NOT_IN_LEDGER = "Tidak ada peristiwa posisi {position} di buku besar."

NO_LOG_KEY = (
    "Kunci verifikasi buku besar tidak diketahui: berikan --log-key (dicetak oleh `lacak "
    "ledger-key` di server, tampil di /audit), atau --checkpoints berkas yang memuatnya."
)

FINDING_KINDS = {
    "changed": "diubah",
    "removed": "hilang",
    "inserted": "disisipkan",
    "reordered": "ditukar urutannya",
    "checkpoint": "titik periksa",
    "extra": "tambahan",
    "ledger": "buku besar",
    "unsigned": "tanpa tanda tangan",
}

# --- Master data: why an import is refused -----------------------------------------------------

IMPORT_REFUSED = "Berkas ditolak seluruhnya:\n{faults}{more}"
IMPORT_MORE_FAULTS = "\n... dan {count} kesalahan lain"
FAULT_LINE = "baris {line}: {fault}"
FAULT_NOT_UTF8 = (
    "bukan UTF-8 (kolom ke-{column}): simpan berkas sebagai CSV UTF-8 (Excel: CSV UTF-8)"
)
FAULT_MISSING_COLUMNS = (
    "kolom tidak ada: {columns} (judul harus dipisah koma, atau titik koma seperti Excel)"
)
FAULT_COLUMN_COUNT = "jumlah kolom tidak sama dengan judul ({count})"
FAULT_NO_TPS = "berkas tidak berisi satu TPS pun"
FAULT_SHAPE = "{column} {value!r} tidak berbentuk {example}"
FAULT_EMPTY = "{column} kosong"
FAULT_TEXT = "{column} lebih dari {limit} huruf atau berisi karakter kendali"
FAULT_KECAMATAN_OUTSIDE = "kecamatan {kecamatan} bukan di kabupaten {kabupaten}"
FAULT_DESA_OUTSIDE = "desa {desa} bukan di kecamatan {kecamatan}"
FAULT_TPS_NUMBER = "nomor_tps {number!r} bukan angka 1 sampai 999"
FAULT_TPS_CODE = "kode_tps {code!r} tidak sesuai kode desa dan nomor TPS"
FAULT_DPT_NUMBER = "dpt {dpt!r} bukan angka"
FAULT_DPT_NEGATIVE = "dpt {dpt} negatif: jumlah pemilih tidak bisa kurang dari 0"
FAULT_DPT_LIMIT = "dpt {dpt} melebihi batas {limit} pemilih per TPS"
FAULT_OTHER_KABUPATEN = "kabupaten {kabupaten} lain: satu berkas untuk satu kabupaten"
FAULT_RENAMED = "{level} {code} bernama lain di baris sebelumnya"
FAULT_DUPLICATE_TPS = "TPS {code} sudah ada di baris {line}"

# --- Accounts: roles, what they may do, and refusals -------------------------------------------

ROLE_NAMES = {
    "admin": "Admin",
    "gudang": "Petugas gudang",
    "ppk": "PPK",
    "pps": "PPS",
    "kpps": "KPPS",
    "monitor": "Monitor KPU",
    "auditor": "Auditor",
    "bawaslu": "Pengawas Bawaslu",
}
CAPABILITY_NAMES = {
    "view": "melihat papan",
    "scan": "memindai",
    "stock": "mencatat pekerjaan gudang",
    "supervise": "mencatat temuan pengawasan",
    "handle": "menangani anomali",
    "correct": "membatalkan atau mengoreksi pindai",
    "audit": "mengaudit dan mengekspor",
    "admin": "mengelola akun dan perangkat",
}
ROLE_MAY_NOT = "Peran {role} tidak boleh {capability}."
OUTSIDE_SCOPE = "Lokasi {location} di luar wilayah tugas Anda ({scope})."
LEVEL_NAMES = {
    "nasional": "nasional",
    "provinsi": "provinsi",
    "kabupaten": "kabupaten/kota",
    "kecamatan": "kecamatan",
    "desa": "desa/kelurahan",
    "tps": "TPS",
}
WRONG_SCAN_LEVEL = "{role} memindai di tingkat {level}, bukan di {location}."
AREA_OUTSIDE_SCOPE = "Wilayah {area} di luar wilayah Anda ({scope})."
BAD_SCOPE = (
    "Wilayah {scope!r} tidak sah: kosong (nasional), kode provinsi (36), kabupaten "
    "(36.04), kecamatan (36.04.05), desa (36.04.05.2001) atau TPS (13 angka)."
)
OFFICER_NEEDS_SCOPE = "{role} bertugas di tingkat {level}: isi wilayah tugasnya, bukan nasional."
SCOPE_BELOW_LEVEL = (
    "{role} bertugas di tingkat {level}: wilayahnya satu {level} atau lebih luas, bukan {scope}."
)
UNKNOWN_SCOPE = "Wilayah {scope} tidak dikenal: tidak ada di data wilayah."
NO_MASTER_DATA_FOR_SCOPE = (
    "Data wilayah belum diimpor: wilayah {scope} tidak bisa diperiksa (lacak import dulu)."
)
BAD_USERNAME = "Nama pengguna: 3-40 huruf kecil, angka, titik, garis bawah atau tanda hubung."
UNKNOWN_ROLE = "Peran {role!r} tidak dikenal."
USER_EXISTS = "Nama pengguna {username!r} sudah dipakai."
UNKNOWN_USER = "Tidak ada pengguna {username!r}."
UNKNOWN_DEVICE = "Tidak ada perangkat {device!r}."
PASSWORD_TOO_SHORT = "Kata sandi paling sedikit {length} karakter."
PASSWORD_TOO_LONG = "Kata sandi terlalu panjang (paling banyak 256 karakter)."
DEVICE_OUTSIDE_USER = "Wilayah perangkat {scope} di luar wilayah {username} ({user_scope})."
ADDRESS_LOCKED = "Terlalu banyak percobaan gagal dari alamat ini. Coba lagi dalam {minutes} menit."
NAME_LOCKED = "Terlalu banyak percobaan gagal. Coba lagi dalam {minutes} menit."
NAME_UNDER_ATTACK = (
    "Nama ini sedang dicoba berulang kali dari banyak tempat; coba lagi beberapa detik lagi."
)
WRONG_LOGIN = "Nama pengguna atau kata sandi salah."
ACCOUNT_INACTIVE = "Akun ini dinonaktifkan. Hubungi admin."

# --- Accounts: the access log in words ---------------------------------------------------------

LOGIN_FAILURE_WORDS = {
    "unknown_user": "nama tidak dikenal",
    "wrong_password": "kata sandi salah",
    "inactive": "akun nonaktif",
    "locked": "terkunci setelah gagal berulang",
}
ACCESS_WORDS = {
    "UserCreated": "akun dibuat",
    "UserChanged": "akun diubah",
    "PasswordChanged": "kata sandi diganti",
    "DeviceIssued": "perangkat diterbitkan",
    "DeviceRevoked": "perangkat dicabut",
    "LoginSucceeded": "masuk",
    "LoginFailed": "gagal masuk",
    "LoggedOut": "keluar",
    "SubscriptionAdded": "langganan pemberitahuan dibuat",
    "SubscriptionEnded": "langganan pemberitahuan diakhiri",
}

# --- Pages and the API: refusals and answers ---------------------------------------------------

SIGN_IN = "Silakan masuk dulu."
SIGN_IN_AGAIN = "Silakan masuk dulu (sesi tidak ada atau sudah habis)."
ONE_AREA_ONLY = "Parameter area hanya boleh satu."
LOGIN_FORM_STALE = "Formulir masuk sudah kedaluwarsa atau bukan dari halaman ini; coba lagi."
DEVICE_MAY_NOT = "Token perangkat hanya untuk melihat dan memindai; masuk dengan akun untuk ini."
CSRF_REFUSED = "Token CSRF tidak ada atau tidak cocok: muat ulang halaman lalu coba lagi."
NOT_JSON = "Isi permintaan bukan JSON yang sah ({error})."
UNKNOWN_AREA = "Wilayah {code} tidak dikenal."
UNKNOWN_PLACE_CODE = "Kode wilayah {code!r} tidak dikenal."
UNKNOWN_KECAMATAN = "Kecamatan {code!r} tidak dikenal."
NOT_A_TPS = "{code} bukan kode TPS (13 angka)."
IS_A_TPS = "{code} adalah TPS: lihat /tps/{code}."
WHOLE_KABUPATEN_ONLY = (
    "Grafik dan layar dinding ada untuk kabupaten, kecamatan dan desa, bukan TPS."
)
NOT_ON_TIME_BOARD = "Wilayah {code!r} tidak ada di papan waktu."
NOT_A_POSITION = "{name}: posisi peristiwa adalah bilangan bulat positif."
NO_SUCH_MOMENT = "Tanggal atau jam {value!r} tidak ada."
TIME_FORMAT = "tulis seperti 2024-02-12T10:00 (WIB) atau 2024-02-12T10:00+07:00"
UNREADABLE_TIME = "{name}: waktu {value!r} tidak bisa dibaca; " + TIME_FORMAT + "."
TIME_EXAMPLE = "Waktu tidak dikenali: tulis seperti 2024-02-10 atau 2024-02-10T08:00+07:00."
UNKNOWN_SURAT_JALAN = "Surat jalan {number!r} tidak dikenal."
QUEUE_SIZE = "Antrean pindai harus berisi 1 sampai {most} pindai."
UNKNOWN_QUEUE_WORDS = "Jenis atau status anomali tidak dikenal: {words}."
UNKNOWN_EVENT_TYPE = "Jenis peristiwa {event!r} tidak dikenal."
UNKNOWN_ANOMALY_KIND = "Jenis anomali {kind!r} tidak dikenal."
UNKNOWN_REPLACEMENT = "Pilihan kotak pengganti tidak dikenal."
NAME_THE_OFFICER = "Isi nama petugas yang menangani."
OFFICER_TOO_LONG = "Nama petugas terlalu panjang (paling banyak {most} huruf)."
NOTE_TOO_LONG = "Catatan terlalu panjang (paling banyak {most} huruf)."
BAD_DEVICE_DAYS = "Masa berlaku token: 1 sampai {most} hari, atau kosong (sampai dicabut)."
USER_CREATED = "Pengguna {username} dibuat."
USER_CHANGED = "Pengguna {username} diubah."
DEVICE_REVOKED = "Perangkat {device} dicabut."
ERROR_MEANINGS = {
    403: "Tidak berhak: peran, wilayah, atau saksi yang tidak terdaftar",
    404: "Tidak dikenal: label, anomali, wilayah atau pindai yang tidak ada",
    409: "Bentrok dengan perubahan lain pada kotak yang sama; ulangi",
    413: "Terlalu besar: foto paling besar 5 MB",
    422: "Bentuknya benar tetapi tidak mungkin benar: salah baca, lokasi atau waktu yang "
    "mustahil, ukuran pohon yang tidak ada, tanda tangan yang tidak cocok",
    503: "Data induk wilayah belum dimuat",
}

# --- The API's validation errors ----------------------------------------------------------------

NEEDS_TIMEZONE = "harus tanggal dan jam dengan zona waktu, misalnya 2024-02-10T08:15:00+07:00"
BAD_DATETIME = (
    "waktu tidak sah: tulis tanggal, jam dan zona waktu seperti 2024-02-10T08:15:00+07:00"
)
FIELD_REQUIRED = "kolom `{}` wajib diisi"
FIELD_UNKNOWN = "kolom `{}` tidak dikenal"
TEXT_TOO_LONG = "teks paling panjang {} huruf"
TEXT_TOO_SHORT = "teks paling sedikit {} huruf"
NUMBER_TOO_SMALL = "angka paling kecil {}"
NUMBER_TOO_BIG = "angka paling besar {}"
LIST_TOO_LONG = "paling banyak {} isian"
LIST_TOO_SHORT = "paling sedikit {} isian"
BAD_SHAPE = "bentuknya tidak sah (huruf, angka dan tanda . - _ : saja)"
UNKNOWN_VALUE = "nilai '{}' tidak dikenal"
WRONG_TYPE = "harus {}, bukan {}"
WRONG_TYPE_ONLY = "harus {}"
REQUEST_INVALID = "Permintaan {} {} tidak sah"
ERROR_TITLES = {
    400: "Permintaan tidak sah",
    401: "Perlu masuk",
    403: "Tidak diizinkan",
    404: "Tidak ditemukan",
    405: "Cara akses tidak diizinkan",
    409: "Bentrok",
    413: "Terlalu besar",
    422: "Tidak bisa diterima",
    429: "Terlalu sering",
    503: "Belum siap",
}

UNKNOWN_WILAYAH = (
    "Wilayah {wilayah} tidak dikenal: tulis `nasional`, kode provinsi (36) atau kode "
    "kabupaten/kota (36.04)."
)

# The gudang before packing (services/gudang).
DELIVERY_TAKEN = "Pengiriman {delivery} sudah diberitahukan: pakai nomor lain"
UNKNOWN_REQUEST = "Permintaan penggantian {request} tidak dikenal"
DELIVERY_RECEIVED_ALREADY = "Pengiriman {delivery} sudah diterima dan dihitung"
UNKNOWN_DELIVERY = "Pengiriman {delivery} tidak dikenal"
RECEIPT_NEEDS_PEOPLE = "Berita Acara penerimaan perlu nama kurir penyedia dan petugas KPU"
BAD_RECEIVED_LINE = "Jumlah diterima harus 0 atau lebih, dan yang rusak tidak melebihinya"
BAD_TALLY = "Jumlah sortir dan rusak harus 0 atau lebih"
EMPTY_TALLY = "Isi jumlah lembar yang disortir atau yang rusak"
REQUEST_TAKEN = "Permintaan penggantian {request} sudah ada: pakai nomor lain"
DESTRUCTION_TAKEN = "Berita Acara pemusnahan {record} sudah dicatat"
DESTRUCTION_NEEDS_WITNESS = "Pemusnahan perlu nama petugas dan sedikitnya satu saksi"
UNKNOWN_DESTRUCTION = "Berita Acara pemusnahan {record} tidak dikenal"
BAD_ASSEMBLY = "Jumlah kotak suara yang dirakit harus lebih dari 0"
BAD_STOCK_LINES = "Isi sedikitnya satu barang, masing-masing dengan jumlah lebih dari 0"
NOT_A_GUDANG = "{code} bukan kabupaten/kota yang dilayani"
CSV_NOT_UTF8 = "Berkas surat jalan harus CSV dengan teks UTF-8"
CSV_COLUMNS = "Berkas surat jalan perlu kolom {columns}"
CSV_NOT_A_NUMBER = "baris {line}: jumlah {value!r} bukan bilangan bulat"
CSV_BAD_CELL = "baris {line}: kolom {column} tidak sah ({value!r})"
CSV_ZERO_QUANTITY = "jumlah harus lebih dari 0"
CSV_TOO_MANY_LINES = "Surat jalan paling banyak {most} baris barang: bagi menjadi beberapa berkas"
NOTICE_BAD_DELIVERY = (
    "Nomor pengiriman {delivery!r} tidak sah: 1 sampai 64 huruf, angka, atau . - _ / : "
    "tanpa spasi (misalnya SJ/001/2024)"
)
NOTICE_BAD_STAGE = "Tahap {stage} tidak sah: 1 sampai 99"
NOTICE_LONG_SUPPLIER = "Nama penyedia paling banyak {most} huruf"
NOTICE_LONG_CONTRACT = "Nomor kontrak paling banyak {most} huruf"
MISMATCH_NAMES = {
    "kurang": "kurang",
    "lebih": "lebih",
    "tertukar": "dapil tertukar",
    "rusak": "rusak saat tiba",
    "tidak_diberitahukan": "tanpa pemberitahuan",
}
FLAG_DELIVERY = "Pengiriman {delivery} (tahap {stage}): {kinds}"
FLAG_NOT_PLANNED = "{kind}: {n} lembar bukan untuk kabupaten/kota ini (tertukar)"
FLAG_OVER_PACKED = "{kind}: dikemas {n} melebihi stok"
FLAG_UNREPORTED = "{kind}: {n} rusak belum dimintakan gantinya"
FLAG_AWAITING = "{kind}: {n} menunggu pengganti dari penyedia"
FLAG_OVER_DESTROYED = "{kind}: dimusnahkan {n} melebihi yang tercatat rusak"
FLAG_OVER_SORTED = "{kind}: disortir {n} melebihi yang diterima"
DAMAGE_CAUSES = {
    "noda_tinta": "noda tinta",
    "sobek": "sobek",
    "salah_cetak": "salah cetak",
    "basah": "basah",
    "lain": "lainnya",
}
MORE_FLAGS = "dan {n} lainnya: lihat halaman gudang tiap kabupaten/kota"
BAD_KIND = (
    "Jenis barang tidak mungkin: {kind} (surat suara perlu jenisnya, dan dapilnya untuk DPR dan "
    "DPRD; barang lain tanpa keduanya)"
)

# Bawaslu's findings (services/findings).
UNKNOWN_FINDING = "Temuan {number} tidak dikenal"
FINDING_TAKEN = "Temuan {number} sudah dicatat"
FINDING_NEEDS_TEXT = "Temuan perlu uraian dan nama pengawas yang mencatatnya"
REPORTER_ONLY_FOR_REPORTS = "Kontak pelapor hanya untuk laporan warga"
CONTACT_MISSING = "(kontak pelapor tidak ditemukan di basis data)"
CONTACT_ALTERED = "{text} (DIUBAH: tidak cocok dengan yang dicatat saat laporan masuk)"
FINDING_CLOSED = "Temuan {number} sudah ditutup Bawaslu"
FINDING_ACKNOWLEDGED_ALREADY = "Temuan {number} sudah ditangani"
ANSWER_NEEDS_ACTION = "Tindak lanjut perlu uraian apa yang dilakukan dan nama yang menjawab"
FINDING_NOT_ANSWERED = "Temuan {number} belum dijawab KPU: belum bisa ditutup"
REJECTION_NEEDS_REASON = "Jawaban yang tidak diterima perlu alasannya"
SUPERVISION_KINDS = {
    "tanpa_saksi": "serah terima tanpa saksi",
    "segel": "segel rusak atau diganti",
    "tidak_dijaga": "kotak tidak dijaga",
    "jumlah_salah": "jumlah salah",
    "terlambat": "terlambat",
    "rusak": "rusak",
    "lain": "lainnya",
}
SUPERVISION_STATUS = {
    "filed": "menunggu KPU",
    "acknowledged": "ditangani KPU",
    "answered": "dijawab KPU",
    "closed": "ditutup",
}
SOURCES = {"temuan": "temuan pengawas", "laporan": "laporan warga"}
UNKNOWN_FINDING_STATUS = (
    "Status temuan {status!r} tidak dikenal (open, filed, acknowledged, answered, closed)"
)
SUPERVISION_EVENT_WORDS = {
    "FindingFiled": "temuan dicatat",
    "FindingAcknowledged": "temuan ditangani KPU",
    "FindingAnswered": "temuan dijawab KPU",
    "FindingClosed": "temuan ditutup Bawaslu",
}
PHOTO_TOO_LARGE = "Foto lebih dari {mb} MB: kirim yang lebih kecil"
PHOTO_NOT_AN_IMAGE = "Hanya foto (JPEG, PNG atau WebP) yang bisa dilampirkan"
PHOTOS_TOO_MANY = "Paling banyak {most} foto untuk satu temuan"
PHOTOS_UNKNOWN = "Foto belum diunggah: {digests}"
UNKNOWN_PHOTO = "Foto tidak ditemukan"

# --- Notices (pemberitahuan) -------------------------------------------------------------------

NOTICE_KINDS = {
    "anomali": "Anomali baru",
    "anomali_lama": "Anomali terbuka lebih dari {minutes} menit",
    "temuan": "Temuan/laporan Bawaslu baru",
    "temuan_dijawab": "KPU menanggapi temuan",
    "temuan_ditutup": "Temuan ditutup Bawaslu",
    "temuan_lewat": "Temuan lewat batas jawab",
    "selisih_gudang": "Penerimaan gudang berselisih",
}
CHANNELS = {
    "halaman": "halaman Pemberitahuan",
    "webhook": "webhook (POST bertanda tangan HMAC)",
    "email": "e-mail",
}
SUBSCRIPTION_NO_KINDS = "Pilih paling sedikit satu jenis pemberitahuan."
SUBSCRIPTION_BAD_URL = "Alamat webhook harus URL http:// atau https:// yang lengkap."
SUBSCRIPTION_BAD_EMAIL = "Alamat e-mail {address!r} tidak sah."
SUBSCRIBED = "Langganan dibuat."
SUBSCRIPTION_ENDED = "Langganan {subscription} diakhiri."
WEBHOOK_ROLES = (
    "Webhook hanya untuk admin, monitor KPU, auditor dan Bawaslu; {role} bisa memakai halaman "
    "Pemberitahuan atau e-mail."
)
SUBSCRIPTION_BAD_CHANNEL = "Saluran pemberitahuan harus halaman, webhook atau email."
SUBSCRIPTION_UNKNOWN = "Langganan {subscription} tidak ada."
SUBSCRIPTION_NOT_YOURS = "Langganan {subscription} milik akun lain."
SUBSCRIPTION_TOO_MANY = "Paling banyak {most} langganan aktif per akun."
NOTICE_ANOMALY = "Anomali {kind} pada kotak {label} di {place}"
NOTICE_STALE = "Anomali {kind} pada kotak {label} masih terbuka sejak {since}"
NOTICE_FILED = "{source} {number} ({kind}) di {place}: {text}"
NOTICE_ACKNOWLEDGED = "KPU menerima temuan {number} ({by})"
NOTICE_ANSWERED = "KPU menjawab temuan {number}: {action}"
NOTICE_CLOSED = "Bawaslu menutup temuan {number}: jawaban {verdict}"
NOTICE_OVERDUE = "Temuan {number} di {place} lewat batas jawab ({due})"
NOTICE_MISMATCH = "Penerimaan {delivery} di gudang {kabupaten} berselisih pada {lines} baris"
NOTICE_DIGEST_SUBJECT = "[Lacak] {count} pemberitahuan"
NOTICE_ONE_SUBJECT = "[Lacak] {title}"
