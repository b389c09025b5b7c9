"""What people read, in Bahasa Indonesia: the services' messages in one catalogue, and numbers
and times as Indonesians write them. Pages keep their own words in their templates."""

from datetime import datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


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


# --- Custody: refusals of a command ------------------------------------------------------------

UNKNOWN_LABEL = "Label {label!r} tidak dikenal: tidak ada kotak dengan label ini."
UNKNOWN_LOCATION = "Lokasi {location!r} tidak dikenal: bukan kode wilayah yang terdaftar."
IMPOSSIBLE_TIME = "Waktu pindai {at} tidak mungkin benar: periksa jam perangkat."
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
CONFLICT = "Kotak {label!r} sedang dipindai di perangkat lain; coba lagi."

# --- Custody: what a scan's answer says ---------------------------------------------------------

ACTION_MESSAGES = {
    "pack": "Kotak {label} dicatat dikemas di {place}.",
    "seal": "Kotak {label} dicatat disegel di {place}.",
    "dispatch": "Kotak {label} dicatat keluar dari {place}.",
    "receive": "Kotak {label} dicatat diterima di {place}.",
    "account": "Kotak {label}: perhitungan surat suara dicatat di {place}.",
}
ANOMALY_MESSAGES = {
    "wrong_destination": "SALAH TUJUAN: kotak ini untuk {expected}, bukan {found}.",
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
}
VOID_NOTE = "pindai dibatalkan: {reason}"
REPLACED_REASON = "diganti {label}"
REPLACED_REASON_NOTE = "diganti {label}: {note}"

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
}

# --- Audit: what `verify` found ----------------------------------------------------------------

FINDINGS = {
    "removed": "peristiwa ini hilang",
    "removed_shifted": "peristiwa ini hilang, sisanya digeser",
    "inserted": "peristiwa ini disisipkan",
    "inserted_shifted": "peristiwa disisipkan, sisanya digeser",
    "reordered": "ditukar dengan posisi {position}",
    "changed": "isi peristiwa ini diubah",
    "checkpoint_gone": "posisi titik periksa tidak ada lagi",
    "checkpoint_differs": "rantai hash tidak cocok dengan titik periksa",
    "extra": "sesudah posisi terakhir buku besar (belum tercatat, atau disisipkan)",
}

# --- Master data: why an import is refused -----------------------------------------------------

IMPORT_REFUSED = "Berkas ditolak seluruhnya:\n{faults}{more}"
IMPORT_MORE_FAULTS = "\n... dan {count} kesalahan lain"
FAULT_LINE = "baris {line}: {fault}"
FAULT_NOT_UTF8 = "berkas bukan UTF-8 (byte ke-{offset})"
FAULT_MISSING_COLUMNS = "kolom tidak ada: {columns}"
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
FAULT_DPT_LIMIT = "dpt {dpt} melebihi batas {limit} pemilih per TPS"
FAULT_OTHER_KABUPATEN = "kabupaten {kabupaten} lain: satu berkas untuk satu kabupaten"
FAULT_RENAMED = "{level} {code} bernama lain di baris sebelumnya"
FAULT_DUPLICATE_TPS = "TPS {code} sudah ada di baris sebelumnya"

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
    "handle": "menangani anomali",
    "correct": "membatalkan atau mengoreksi pindai",
    "audit": "mengaudit dan mengekspor",
    "admin": "mengelola akun dan perangkat",
}
ROLE_MAY_NOT = "Peran {role} tidak boleh {capability}."
OUTSIDE_SCOPE = "Lokasi {location} di luar wilayah tugas Anda ({scope})."
WRONG_SCAN_LEVEL = "{role} memindai di tingkat {level}, bukan di {location}."
AREA_OUTSIDE_SCOPE = "Wilayah {area} di luar wilayah Anda ({scope})."
BAD_SCOPE = (
    "Wilayah {scope!r} tidak sah: kosong (nasional), kode provinsi (36), kabupaten "
    "(36.04), kecamatan (36.04.05), desa (36.04.05.2001) atau TPS (13 angka)."
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
}

# --- Pages and the API: refusals and answers ---------------------------------------------------

SIGN_IN = "Silakan masuk dulu."
SIGN_IN_AGAIN = "Silakan masuk dulu (sesi tidak ada atau sudah habis)."
ONE_AREA_ONLY = "Parameter area hanya boleh satu."
CSRF_REFUSED = "Token CSRF tidak ada atau tidak cocok: muat ulang halaman lalu coba lagi."
NOT_JSON = "Isi permintaan bukan JSON yang sah ({error})."
UNKNOWN_AREA = "Wilayah {code} tidak dikenal."
UNKNOWN_PLACE_CODE = "Kode wilayah {code!r} tidak dikenal."
UNKNOWN_KECAMATAN = "Kecamatan {code!r} tidak dikenal."
NOT_A_TPS = "{code} bukan kode TPS (13 angka)."
IS_A_TPS = "{code} adalah TPS: lihat /tps/{code}."
WHOLE_KABUPATEN_ONLY = "Grafik dan layar dinding hanya untuk seluruh kabupaten."
NOT_ON_TIME_BOARD = "Wilayah {code!r} tidak ada di papan waktu."
NOT_A_POSITION = "{name}: posisi peristiwa adalah bilangan bulat positif."
NO_SUCH_MOMENT = "Tanggal atau jam {value!r} tidak ada."
UNREADABLE_TIME = "{name}: waktu {value!r} tidak bisa dibaca."
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
USER_CREATED = "Pengguna {username} dibuat."
USER_CHANGED = "Pengguna {username} diubah."
DEVICE_REVOKED = "Perangkat {device} dicabut."
ERROR_MEANINGS = {
    404: "Tidak dikenal: label, anomali, wilayah atau pindai yang tidak ada",
    409: "Bentrok dengan perubahan lain pada kotak yang sama; ulangi",
    422: "Bentuknya benar tetapi tidak mungkin benar: salah baca, lokasi atau waktu yang mustahil",
    503: "Data induk wilayah belum dimuat",
}
