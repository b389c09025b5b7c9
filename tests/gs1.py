"""GS1's EPCIS 2.0 reference files (the JSON schema, the standard's examples), read where they are
kept beside the repository (`../shared/epcis/`) rather than copied into it: GS1's notice that goes
with them grants no redistribution in words."""

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
FOLDERS = [
    Path(os.environ["LACAK_GS1_EPCIS"]) if os.environ.get("LACAK_GS1_EPCIS") else None,
    REPOSITORY.parent / "shared" / "epcis",
    Path("/work/shared/epcis"),  # this workplace's copy, for a clone checked out elsewhere
]


def gs1_file(name: str) -> Path:
    """The file; if it is missing, the test fails under CI and is skipped elsewhere."""
    folders = [folder for folder in FOLDERS if folder is not None]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    reason = f"GS1 file {name} is in none of {', '.join(map(str, folders))} (set LACAK_GS1_EPCIS)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason, allow_module_level=True)
