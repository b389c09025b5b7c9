"""The election record's H-1 deadline, in the kabupaten's own time."""

from datetime import date

from services.custody.election import Election


def test_the_h1_deadline_is_midnight_before_voting_day_in_the_kabupatens_own_time():
    election = Election(election="pemilu-2024", name="Pemilu 2024", voting_day=date(2024, 2, 14))
    assert election.h1_deadline("36.04").isoformat() == "2024-02-14T00:00:00+07:00"  # Banten
    assert election.h1_deadline("51.71").isoformat() == "2024-02-14T00:00:00+08:00"  # Bali
    assert election.h1_deadline("91.01").isoformat() == "2024-02-14T00:00:00+09:00"  # Papua
