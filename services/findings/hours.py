"""How long KPU has to answer a finding of each kind: a setting read with the others."""

# Hours KPU has to answer, by kind (unverified: a setting, LACAK_FINDING_HOURS).
RESPONSE_HOURS: dict[str, int] = {
    "tanpa_saksi": 24,
    "segel": 24,
    "tidak_dijaga": 12,
    "jumlah_salah": 48,
    "terlambat": 24,
    "rusak": 48,
    "lain": 72,
}


def response_hours(setting: str) -> dict[str, int]:
    """`tanpa_saksi=6,lain=96` over the defaults; a kind or number that is not one: ValueError."""
    hours = dict(RESPONSE_HOURS)
    for part in filter(None, (p.strip() for p in setting.split(","))):
        kind, _, value = part.partition("=")
        if kind.strip() not in hours or not value.strip().isdigit() or int(value) <= 0:
            raise ValueError(f"LACAK_FINDING_HOURS: {part!r}")
        hours[kind.strip()] = int(value)
    return hours
