"""`lacak demo --wilayah`: a demo of more than Kabupaten Serang imports the rest beside it, serves
the province they share, gives KPU RI and KPU Provinsi accounts, and simulates every kabupaten."""

from itertools import islice

from services.custody.atlas import Atlas
from services.custody.batches import Batches
from services.demo.seed import seed_demo
from services.demo.simulation import served_script
from services.wilayah import Wilayah


def test_a_second_kabupaten_makes_the_demo_a_province_that_moves_in_both(sqlite_settings):
    settings, data_dir = sqlite_settings, sqlite_settings.data_dir
    settings.make_folders()
    alone, _, _ = seed_demo(settings, data_dir, simulate=False)
    assert isinstance(alone, Wilayah) and alone.code == "36.04"  # `lacak demo` as it was

    served, logins, token = seed_demo(settings, data_dir, simulate=True, wilayah="36.73")
    assert isinstance(served, Atlas) and served.code == "36"  # Banten, what the two share
    assert served.kabupaten() == {"36.04": "Kabupaten Serang", "36.73": "Kota Serang"}
    assert token
    scopes = {name: scope for _, name, _, scope in logins}
    assert scopes["demo-kpu-ri"] == "" and scopes["demo-kpu-provinsi"] == "36"
    assert scopes["demo-monitor"] == "36.04" and scopes["demo-ppk"].startswith("36.04.")
    assert (data_dir / "tps-3673.csv").exists()  # the file the demo imported, to look at

    scans = list(islice(served_script(served), 400))
    kabupaten = [scripted.label[:4] for scripted in scans]
    assert kabupaten[:4] == ["3604", "3673", "3604", "3673"]  # both move at once
    batches = Batches(settings.store)
    try:  # every scan is of a batch the demo registered
        for label in {scripted.label for scripted in scans}:
            assert batches.batch(label).label == label
    finally:
        batches.close()

    again, relogins, _ = seed_demo(settings, data_dir, simulate=False, wilayah="36.73")
    assert again.code == "36" and relogins == logins  # a restart changes nothing
