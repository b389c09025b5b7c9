"""Kabupaten Serang (Banten, 36.04) as it voted in Pemilu 2024: the tree its gudang serves."""

# Where each fact comes from (REAL = public record, SYNTHETIC = generated here, seeded):
# - REAL totals: DPT 1,226,201, 4,425 TPS, 29 kecamatan, 326 desa (KPU Kab. Serang DPT plenary of
#   20 Jun 2023, bantenraya.co.id; 4,425 TPS in 326 desa again in banten.viva.co.id, 12 Feb 2024).
# - REAL kecamatan codes 36.04.NN (Kepmendagri; github.com/cahyadsn/wilayah db/wilayah.sql and
#   github.com/ilhammajidzaiman/api-wilayah WilayahKecamatanSeeder.php agree).
# - REAL kecamatan names in KPU's spelling (Kepmendagri writes Waringinkurung and Lebak Wangi).
# - REAL desa codes and names, all 326 (Kepmendagri, cahyadsn/wilayah db/wilayah.sql); the numbers
#   have gaps where desa were merged or moved, as in the register.
# - REAL relative size of 16 kecamatan: their TPS in the Pilkada of 27 Nov 2024, 2,355 TPS in all
#   (KPU Kab. Serang quoted by kacanginka.com, 19 Apr 2025); SYNTHETIC for the 13 marked below,
#   chosen to fill the remaining 792 TPS of that Pilkada.
# - SYNTHETIC TPS per kecamatan: the 4,425 Pemilu TPS shared out in proportion to those sizes.
# - SYNTHETIC TPS per desa: one each, the rest shared by seeded random weight within the kecamatan.
# - SYNTHETIC DPT per TPS: seeded, between 150 and 300, summing exactly to the real 1,226,201.

import random
from collections.abc import Callable
from functools import cache

from services.wilayah import Desa, Kecamatan, Tps, Wilayah

CODE = "36.04"
NAME = "Kabupaten Serang"
TPS_TOTAL = 4_425
DPT_TOTAL = 1_226_201
DPT_MAX = 300  # the 2024 legal cap on voters per TPS
DPT_MIN = 150
# REAL: Kab. Serang votes for the DPR in dapil Banten II (with Kota Serang and Kota Cilegon).
# SYNTHETIC: the DPRD Provinsi (two dapil) and DPRD Kab. Serang (six dapil) split, by kecamatan.
DAPIL_DPR = "BANTEN II"
_SEED = 3604

# (kecamatan number, name, TPS in the Pilkada of 27 Nov 2024, desa as "number name")
# fmt: off
_KECAMATAN: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("05", "Kramatwatu", 138, (
        "2001 Kramatwatu", "2002 Margasana", "2003 Pejaten", "2004 Toyomerto", "2005 Harjatani",
        "2006 Serdang", "2007 Terate", "2008 Tonjong", "2009 Pamengkang", "2010 Pegadingan",
        "2011 Lebakwana", "2012 Wanayasa", "2013 Pelamunan", "2014 Teluk Terate", "2015 Margatani",
    )),
    ("06", "Waringin Kurung", 74, (
        "2001 Waringinkurung", "2002 Talaga Luhur", "2003 Binangun", "2004 Melati", "2005 Sasahan",
        "2006 Sukadalem", "2007 Sukabares", "2008 Sambilawang", "2009 Sampir",
        "2010 Cokopsulanjana", "2011 Kemuning",
    )),
    ("07", "Bojonegara", 75, (
        "2001 Bojonegara", "2002 Mangkunegara", "2003 Wanakarta", "2004 Karang Kepuh",
        "2005 Lambangsari", "2006 Kertasana", "2007 Margagiri", "2008 Ukirsari", "2009 Pakuncen",
        "2010 Pangarengan", "2011 Mekar Jaya",
    )),
    ("08", "Pulo Ampel", 61, (  # synthetic weight
        "2001 Pulo Ampel", "2002 Sumuranja", "2003 Mangunreja", "2004 Kedungsoka", "2005 Salira",
        "2006 Argawana", "2007 Banyuwangi", "2008 Margasari", "2009 Pulo Panjang",
    )),
    ("09", "Ciruas", 120, (
        "2001 Ciruas", "2002 Citerep", "2003 Pulo", "2004 Kadikaran", "2005 Kepandean",
        "2006 Gosara", "2009 Bumijaya", "2010 Penggalang", "2011 Pamong", "2012 Cigelam",
        "2013 Singamerta", "2014 Ranjeng", "2015 Beberan", "2016 Kaserangan", "2017 Pelawad",
    )),
    ("11", "Kragilan", 111, (
        "2001 Kragilan", "2002 Silebu", "2003 Pematang", "2004 Dukuh", "2005 Undar Andir",
        "2006 Sukajadi", "2007 Sentul", "2008 Jeruk Tipis", "2011 Kendayakan", "2012 Tegalmaja",
        "2013 Cisait", "2014 Kramatjati",
    )),
    ("12", "Pontang", 68, (  # synthetic weight
        "2001 Pontang", "2002 Sukanegara", "2003 Linduk", "2004 Pulokencana", "2006 Kelapian",
        "2008 Kubang Puji", "2009 Domas", "2010 Singarajan", "2011 Kaserangan", "2012 Wanayasa",
        "2013 Sukajaya",
    )),
    ("13", "Tirtayasa", 77, (
        "2001 Tirtayasa", "2002 Samparwadi", "2003 Kemanisan", "2004 Pontang Legon", "2005 Kebon",
        "2006 Sujung", "2007 Lontar", "2008 Susukan", "2009 Wargasara", "2010 Laban",
        "2011 Tengkurak", "2012 Alang-alang", "2013 Kebuyutan", "2014 Puser",
    )),
    ("14", "Tanara", 63, (  # synthetic weight
        "2001 Tanara", "2002 Cerukcuk", "2003 Tenjoayu", "2004 Sukamanah", "2005 Lempuyang",
        "2006 Siremen", "2007 Bendung", "2008 Pedaleman", "2009 Cibodas",
    )),
    ("15", "Cikande", 160, (
        "2001 Cikande", "2002 Leuwi Limus", "2003 Nambo Udik", "2004 Parigi", "2005 Koper",
        "2006 Bakung", "2007 Julang", "2008 Sukatani", "2009 Situterate", "2010 Kamurang",
        "2011 Gembor Udik", "2012 Songgom Jaya", "2013 Cikande Permai",
    )),
    ("16", "Kibin", 87, (
        "2001 Kibin", "2002 Ketos", "2003 Cijeruk", "2004 Nagara", "2005 Nambo Ilir",
        "2006 Barengkok", "2007 Sukamaju", "2008 Tambak", "2009 Ciagel",
    )),
    ("17", "Carenang", 62, (  # synthetic weight
        "2001 Carenang", "2002 Pamanuk", "2003 Mandaya", "2004 Teras", "2006 Ragas Masigit",
        "2007 Walikukun", "2009 Panenjoan", "2010 Mekarsari",
    )),
    ("18", "Binuang", 56, (  # synthetic weight
        "2001 Binuang", "2002 Cakung", "2003 Renged", "2004 Gembor", "2005 Warakas",
        "2006 Sukamampir", "2007 Lamaran",
    )),
    ("19", "Petir", 87, (
        "2001 Petir", "2002 Cirangkong", "2003 Tambiluk", "2004 Sindangsari", "2005 Padasuka",
        "2006 Seuat", "2007 Nagara Padang", "2008 Kadugenep", "2009 Cireundeu", "2010 Sanding",
        "2011 Kampung Baru", "2012 Mekar Baru", "2013 Seuat Jaya", "2014 Kubang Jaya",
        "2015 Bojong Nangka",
    )),
    ("20", "Tunjung Teja", 60, (  # synthetic weight
        "2001 Tunjung Teja", "2002 Sukasari", "2003 Panunggulan", "2004 Malanggah", "2005 Kemuning",
        "2006 Bojong Menteng", "2007 Bojong Catang", "2008 Bojong Pandan", "2009 Pancaregang",
    )),
    ("22", "Baros", 98, (
        "2001 Baros", "2002 Tejamari", "2003 Panyirapan", "2004 Sidamukti", "2005 Sukacai",
        "2006 Tamansari", "2007 Sindangmandi", "2008 Cisalam", "2009 Sukamanah", "2010 Sukamenak",
        "2011 Curug Agung", "2012 Padasuka", "2013 Sinarmukti", "2014 Suka Indah",
    )),
    ("23", "Cikeusal", 117, (
        "2001 Cikeusal", "2002 Dahu", "2003 Katulisan", "2004 Sukamaju", "2005 Cilayang",
        "2006 Sukamenak", "2007 Cimaung", "2008 Panyabrangan", "2009 Gandayasa",
        "2010 Bantar Panjang", "2011 Sukaratu", "2012 Harundang", "2013 Sukarame", "2014 Panosogan",
        "2015 Mongpok", "2016 Sukaraja", "2017 Cilayang Guha",
    )),
    ("24", "Pamarayan", 65, (  # synthetic weight
        "2001 Pamarayan", "2002 Damping", "2003 Wirana", "2004 Keboncau", "2005 Pudar",
        "2006 Binong", "2007 Sangiang", "2008 Kampungbaru", "2010 Pasirlimus", "2018 Pasir Kembang",
    )),
    ("25", "Kopo", 74, (
        "2001 Kopo", "2002 Garut", "2003 Nanggung", "2004 Cidahu", "2005 Nyompok", "2006 Gabus",
        "2007 Carenang Udik", "2008 Rancasumur", "2009 Babakanjaya", "2010 Mekarbaru",
    )),
    ("26", "Jawilan", 86, (
        "2001 Jawilan", "2002 Bojot", "2003 Cemplang", "2004 Pagintungan", "2005 Pasirbuyut",
        "2006 Majasari", "2007 Parakan", "2008 Kareo", "2009 Junti",
    )),
    ("27", "Ciomas", 66, (  # synthetic weight
        "2001 Ujungtebu", "2002 Siketug", "2003 Lebak", "2004 Pondok Kahuru", "2005 Sukabares",
        "2006 Sukarena", "2007 Sukadana", "2008 Cemplang", "2009 Cisitu", "2010 Citaman",
        "2011 Panyaungan Jaya",
    )),
    ("28", "Pabuaran", 58, (  # synthetic weight
        "2001 Pabuaran", "2006 Kadubeureum", "2007 Tanjungsari", "2009 Pancanegara",
        "2010 Sindangsari", "2012 Sindangheula", "2013 Pasanggrahan", "2015 Talaga Warna",
    )),
    ("29", "Padarincang", 103, (
        "2001 Padarincang", "2002 Bugel", "2003 Cibojong", "2004 Citasuk", "2005 Cisaat",
        "2006 Ciomas", "2007 Barugbug", "2008 Batu Kuwung", "2009 Kramatlaban", "2010 Kalumpang",
        "2011 Kadubeureum", "2012 Cipayung", "2013 Curug Goong", "2014 Kadu Kempong",
    )),
    ("30", "Anyar", 67, (  # synthetic weight
        "2001 Anyar", "2002 Sindang Mandi", "2003 Cikoneng", "2004 Tanjung Manis", "2005 Bandulu",
        "2006 Bunihara", "2007 Kosambironyok", "2008 Banjarsari", "2009 Mekarsari",
        "2010 Sindangkarya", "2011 Tambang Ayam", "2012 Grogol Indah",
    )),
    ("31", "Cinangka", 87, (
        "2001 Cinangka", "2002 Bantarwaru", "2003 Pasauran", "2004 Bulakan", "2005 Karang Suraga",
        "2006 Umbul Tanjung", "2007 Kubang Baros", "2008 Rancasanggal", "2009 Cikolelet",
        "2010 Sindanglaya", "2011 Kamasan", "2012 Bantarwangi", "2013 Mekarsari", "2014 Baros Jaya",
    )),
    ("32", "Mancak", 69, (
        "2001 Mancak", "2002 Ciwarna", "2003 Angsana", "2004 Talaga", "2005 Cikedung",
        "2006 Sigedong", "2007 Sangiang", "2008 Pasirwaru", "2009 Waringin", "2010 Winong",
        "2011 Batukuda", "2012 Labuan", "2013 Bale Kambang", "2014 Bale Kencana",
    )),
    ("33", "Gunungsari", 52, (  # synthetic weight
        "2001 Gunungsari", "2002 Ciherang", "2003 Tamiang", "2004 Sukalaba", "2005 Kadu Agung",
        "2006 Luwuk", "2007 Curug Sulanjana",
    )),
    ("34", "Bandung", 55, (  # synthetic weight
        "2001 Bandung", "2002 Mander", "2003 Panamping", "2004 Pangawinan", "2005 Malabar",
        "2006 Blokang", "2007 Babakan", "2008 Pringwulung",
    )),
    ("35", "Lebakwangi", 59, (  # synthetic weight
        "2001 Kamaruton", "2002 Teras Bendung", "2003 Lebak Wangi", "2004 Lebak Kepuh",
        "2005 Kencana Harapan", "2006 Pegandikan", "2007 Purwadadi", "2008 Bolang", "2009 Tirem",
        "2010 Kebonratu",
    )),
)
# fmt: on


@cache
def kabupaten_serang() -> Wilayah:
    """The same Kabupaten Serang on every call: Kemendagri codes, seeded TPS and DPT figures."""
    rng = random.Random(_SEED)
    kecamatan: list[Kecamatan] = []
    desa: list[Desa] = []
    tps_per_desa: list[int] = []
    sizes = share_out(TPS_TOTAL, [size for _, _, size, _ in _KECAMATAN])
    for (number, name, _, villages), tps_count in zip(_KECAMATAN, sizes, strict=True):
        kecamatan_code = f"{CODE}.{number}"
        kecamatan.append(Kecamatan(code=kecamatan_code, name=name))
        weights = [rng.uniform(0.5, 1.5) for _ in villages]
        extra = share_out(tps_count - len(villages), weights)  # every desa has at least one TPS
        for village, more in zip(villages, extra, strict=True):
            desa_number, desa_name = village.split(" ", 1)
            code = f"{kecamatan_code}.{desa_number}"
            desa.append(Desa(code=code, name=desa_name, kecamatan=kecamatan_code))
            tps_per_desa.append(1 + more)
    order = {k.code: i for i, k in enumerate(kecamatan)}
    tps = numbered_tps(
        desa,
        tps_per_desa,
        _voters(rng, TPS_TOTAL),
        lambda d: (
            DAPIL_DPR,
            f"BANTEN {3 + order[d.kecamatan] * 2 // len(kecamatan)}",
            f"SERANG {1 + order[d.kecamatan] * 6 // len(kecamatan)}",
        ),
    )
    return Wilayah(
        code=CODE, name=NAME, kecamatan=tuple(kecamatan), desa=tuple(desa), tps=tuple(tps)
    )


def numbered_tps(
    desa: list[Desa],
    per_desa: list[int],
    voters: list[int],
    dapil: Callable[[Desa], tuple[str, str, str]],
) -> list[Tps]:
    """Each desa's TPS numbered from 1, with their DPT in order and their desa's dapil
    (DPR, DPRD Provinsi, DPRD Kab/Kota)."""
    dpt = iter(voters)
    return [
        Tps(
            code=f"{d.code.replace('.', '')}{n:03d}",
            number=n,
            desa=d.code,
            dpt=next(dpt),
            dapil_dpr=dpr,
            dapil_dprd_prov=prov,
            dapil_dprd_kab=kab,
        )
        for d, count in zip(desa, per_desa, strict=True)
        for dpr, prov, kab in [dapil(d)]
        for n in range(1, count + 1)
    ]


def share_out(total: int, weights: list[float]) -> list[int]:
    """Split total into whole parts in proportion to weights, by largest remainder."""
    weight_sum = sum(weights)
    exact = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _voters(rng: random.Random, count: int) -> list[int]:
    """DPT for count TPS: mostly just under the cap, a few small ones, summing to DPT_TOTAL."""
    assert DPT_MIN * count <= DPT_TOTAL <= DPT_MAX * count
    mean_gap = DPT_MAX - DPT_TOTAL / count  # how far below the cap a TPS is on average
    dpt = [max(DPT_MIN, DPT_MAX - round(rng.expovariate(1 / mean_gap))) for _ in range(count)]
    order = list(range(count))
    rng.shuffle(order)
    missing = DPT_TOTAL - sum(dpt)
    step = 1 if missing > 0 else -1
    while missing:  # walk the TPS in a seeded order, one voter at a time, until the total fits
        for i in order:
            if missing and DPT_MIN <= dpt[i] + step <= DPT_MAX:
                dpt[i] += step
                missing -= step
    return dpt
