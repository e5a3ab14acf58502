"""The report's "announced our name" column: of the audited mystery calls a person
answered, the share whose greeting said our name, with its Wilson 95 % interval; unsure
verdicts counted apart, a department with nothing judged shown "-", never 0 %.

Real stores: SQLite with the lab's departments (the report, its files and the public
page), and SQLite and PostgreSQL for the figures themselves (`both_databases`).
"""

from __future__ import annotations

import csv
import math
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis import charts
from analysis.compliance import compliance_rows
from analysis.periods import Period
from analysis.public_page import ANNOUNCED_NAME_COLUMN, write_public_page
from analysis.report import write_report
from analysis.report_data import gather_report
from analysis.report_tables import headline, sources_table
from analysis.stored import stored_tally
from analysis.summary_html import summary_text
from ringtest.config.report import PublishSettings
from ringtest.core.observations import Source
from ringtest.core.records import (
    AnsweredBy,
    GreetingAudit,
    Heard,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.core.standards import MetricRules
from ringtest.store import Store
from tests.analysis.conftest import AFTER_WEEK_47, WEEK_47_MONDAY
from tests.store.conftest import (  # noqa: F401  (fixtures: both databases)
    postgres_admin,
    postgres_schema_url,
    postgres_url,
    store_url,
)

WEEK_47_SINCE = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
WEEK_47_UNTIL = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
NINE_OF_TEN = [Heard.YES] * 9 + [Heard.NO]


def ring_test(
    n: int, department: str, answered_by: AnsweredBy = AnsweredBy.PERSON
) -> RingTestResult:
    """Ring test n to `department`, placed in week 47, answered by `answered_by` in 2 rings."""
    return RingTestResult(
        test_id=f"named-{n}", target="2001", account="ringtester", department=department,
        placed_at=WEEK_47_MONDAY + timedelta(days=2, minutes=10 * n),
        outcome=RingTestOutcome.ANSWERED, answered_by=answered_by, pdd_seconds=0.1,
        ring_seconds=6.0, tta_seconds=None, rings=2, within_standard=True, sip_code=200,
        reason="OK",
    )  # fmt: skip


def audited(store: Store, department: str, verdicts: list[Heard | None], first: int = 0) -> None:
    """Person-answered ring tests to `department`, one per verdict, each audited with that
    `announced_name` (None: the test has no audit)."""
    for n, verdict in enumerate(verdicts, start=first):
        test = ring_test(n, department)
        store.save_ring_test(test)
        if verdict is not None:
            store.save_greeting_audit(
                GreetingAudit(
                    test_id=test.test_id,
                    transcript="good morning council tax" if verdict is Heard.YES else "hello",
                    announced_name=verdict,
                    greeted=Heard.YES,
                    audited_at=test.placed_at + timedelta(minutes=2),
                )
            )


def ring_test_row(store: Store, department: str) -> dict:
    """The week-47 ring-test row of `department` from the database's sums."""
    rules = MetricRules()
    tally = stored_tally(store, rules, WEEK_47_SINCE, WEEK_47_UNTIL, source=Source.RING_TEST)
    rows = compliance_rows(tally, None, rules, Period.ALL, since=WEEK_47_SINCE, until=WEEK_47_UNTIL)
    [row] = rows[rows["department"] == department].to_dict("records")
    return row


@pytest.fixture
def both_databases(store_url: str) -> Iterator[Store]:  # noqa: F811
    """An empty store on SQLite, then on PostgreSQL."""
    with Store.open(store_url) as opened:
        yield opened


def test_department_that_named_itself_on_nine_of_ten_answered_tests_shows_90_percent(
    both_databases: Store,
):
    audited(both_databases, "Council Tax", NINE_OF_TEN)
    row = ring_test_row(both_databases, "Council Tax")
    assert (row["announced_name"], row["name_not_announced"]) == (9, 1)
    assert row["announced_name_unsure"] == 0
    assert row["announced_name_pct"] == pytest.approx(90.0)


def test_the_share_has_the_wilson_interval_of_nine_in_ten(both_databases: Store):
    audited(both_databases, "Council Tax", NINE_OF_TEN)
    row = ring_test_row(both_databases, "Council Tax")
    # Wilson score interval, 95 %, 9 successes in 10 (Newcombe 1998): 0.5958 to 0.9821
    assert row["announced_name_wilson_low_pct"] == pytest.approx(59.58, abs=0.01)
    assert row["announced_name_wilson_high_pct"] == pytest.approx(98.21, abs=0.01)


def test_unsure_verdicts_are_counted_apart_in_neither_the_share_nor_its_denominator(
    both_databases: Store,
):
    audited(both_databases, "Council Tax", [*NINE_OF_TEN, Heard.UNSURE, Heard.UNSURE])
    row = ring_test_row(both_databases, "Council Tax")
    assert (row["announced_name"], row["name_not_announced"]) == (9, 1)
    assert row["announced_name_unsure"] == 2
    assert row["announced_name_pct"] == pytest.approx(90.0)


def test_only_audited_tests_a_person_answered_count(both_databases: Store):
    audited(both_databases, "Council Tax", [Heard.YES, None, Heard.NO])
    voicemail = ring_test(9, "Council Tax", AnsweredBy.VOICEMAIL)
    both_databases.save_ring_test(voicemail)
    both_databases.save_greeting_audit(
        GreetingAudit(voicemail.test_id, "council tax", Heard.YES, Heard.NO, voicemail.placed_at)
    )
    row = ring_test_row(both_databases, "Council Tax")
    assert row["offered"] == 4
    assert (row["announced_name"], row["name_not_announced"]) == (1, 1)
    assert row["announced_name_pct"] == pytest.approx(50.0)


def test_a_department_with_only_unsure_verdicts_has_no_share_not_0_percent(
    both_databases: Store,
):
    audited(both_databases, "Council Tax", [Heard.UNSURE])
    row = ring_test_row(both_databases, "Council Tax")
    assert row["announced_name_unsure"] == 1
    assert math.isnan(row["announced_name_pct"])
    assert math.isnan(row["announced_name_wilson_low_pct"])


@pytest.fixture
def week_47_named(council):
    """The council's week 47, with Council Tax's mystery calls naming it 9 times in 10
    (and once unsure); Housing's two mystery calls are not audited."""
    settings, store = council
    audited(store, "Council Tax", [*NINE_OF_TEN, Heard.UNSURE])
    return settings, store


def report_of(settings, store, department: str | None = None):
    return gather_report(
        settings, store, WEEK_47_SINCE, WEEK_47_UNTIL, "Week 47", "week 2026-W47",
        department, now=AFTER_WEEK_47,
    )  # fmt: skip


def test_the_summary_table_shows_the_share_beside_the_mystery_calls(week_47_named):
    table = headline(report_of(*week_47_named)).set_index("Department")
    named = table["Mystery calls that announced our name"]
    assert named["Council Tax"] == "90% (9 of 10; unsure: 1)"
    assert table.loc["Council Tax", "Announced our name: 95% range"] == "60-98%"
    # Housing's mystery calls were not audited, Planning had none: no share, never 0 %
    assert named["Housing"] == "-"
    assert named["Planning"] == "-"
    assert table.loc["Housing", "Announced our name: 95% range"] == "-"
    columns = list(table.columns)
    assert columns.index("Mystery calls that announced our name") == (
        columns.index("Mystery calls within standard") + 1
    )


def test_a_department_page_shows_it_for_mystery_calls_only(week_47_named):
    settings, store = week_47_named
    table = sources_table(report_of(settings, store, "Council Tax")).set_index("")
    assert table.loc["Mystery test calls", "Announced our name"] == "90% (9 of 10; unsure: 1)"
    assert table.loc["Real calls", "Announced our name"] == "-"


def test_the_csv_html_and_email_text_carry_the_column(week_47_named, tmp_path: Path):
    data = report_of(*week_47_named)
    files = write_report(data, tmp_path / "report")
    with files.csv.open(encoding="utf-8") as rows:
        [tax] = [
            row
            for row in csv.DictReader(rows)
            if (row["source"], row["department"]) == ("ring test", "Council Tax")
        ]
    assert (tax["announced_name"], tax["name_not_announced"], tax["announced_name_unsure"]) == (
        "9", "1", "1",
    )  # fmt: skip
    assert float(tax["announced_name_pct"]) == pytest.approx(90.0)
    assert float(tax["announced_name_wilson_low_pct"]) == pytest.approx(59.58, abs=0.01)
    with files.weekly_csv.open(encoding="utf-8") as rows:
        assert "announced_name_pct" in next(csv.reader(rows))
    html = files.html.read_text(encoding="utf-8")
    assert "<th scope='col'>Mystery calls that announced our name</th>" in html
    assert "<td>90% (9 of 10; unsure: 1)</td>" in html
    assert "counted apart as unsure, not in the share" in html
    assert "Mystery calls that announced our name: 90% (9 of 10; unsure: 1)" in summary_text(data)


def test_the_pdf_and_the_compliance_chart_carry_it(week_47_named, tmp_path: Path):
    data = report_of(*week_47_named)
    files = write_report(data, tmp_path / "report")
    text = subprocess.run(
        ["pdftotext", "-layout", str(files.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "90% (9 of 10; unsure: 1)" in text
    assert "counted apart as unsure, not in the share" in " ".join(text.split())
    figure, ax = charts.new_figure()
    charts.compliance_bars(ax, data.rows, data.standard_rings, data.target_percent, data.when)
    labels = [label.get_text() for label in ax.texts]
    assert "100% of 11 test calls; announced our name: 90%" in labels
    assert "50% of 2 test calls" in labels  # Housing's: not audited, so no share


def public_page(settings, store, out: Path, show: bool | None) -> str:
    publish = PublishSettings(min_count=1) if show is None else PublishSettings(
        min_count=1, show_announced_name=show
    )  # fmt: skip
    settings = settings.model_copy(update={"publish": publish})
    page = write_public_page(settings, store, out, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    return page.read_text(encoding="utf-8")


def test_the_public_page_shows_the_share_only_when_the_setting_asks(week_47_named, tmp_path: Path):
    settings, store = week_47_named
    shown = public_page(settings, store, tmp_path / "shown", show=True)
    assert f"<th scope='col'>{ANNOUNCED_NAME_COLUMN}</th>" in shown
    assert "<td>90% (9 of 10; unsure: 1)</td>" in shown
    assert "id='announced-name'" in shown
    assert "good morning" not in shown  # counts only: never a transcript
    hidden = public_page(settings, store, tmp_path / "hidden", show=False)
    assert ANNOUNCED_NAME_COLUMN not in hidden
    assert "9 of 10" not in hidden
    assert "id='announced-name'" not in hidden


def test_by_default_the_public_page_does_not_show_it(week_47_named, tmp_path: Path):
    assert PublishSettings().show_announced_name is False
    settings, store = week_47_named
    page = public_page(settings, store, tmp_path / "default", show=None)
    assert ANNOUNCED_NAME_COLUMN not in page
