"""The history benchmark's CEL file: each copy of the lab run is a new set of whole calls."""

from pathlib import Path

from bench.history_import import write_cel_csv
from ringtest.sources.cel_import import import_cel
from ringtest.store import Store
from tests.test_cel_import import TRUTH, settings_in


def test_three_copies_of_the_lab_run_import_as_three_times_its_calls(tmp_path: Path):
    cel = tmp_path / "cel.csv"
    rows = write_cel_csv(cel, 3 * 212)
    settings = settings_in(tmp_path)
    with Store.open(settings.store_url()) as store:
        result = import_cel(cel, settings, store)
        calls = store.calls()
    assert (rows, result.bad_row_count, result.anomalies, result.in_progress) == (636, 0, 0, 0)
    assert len(calls) == result.imported == 3 * len(TRUTH)
    assert len({call.caller for call in calls}) == 3  # a caller per copy
    by_line = sorted(call.line for call in calls)
    assert by_line == sorted(3 * [line for line, *_ in TRUTH.values()])
