"""The report as HTML (the file beside the PDF, and the email body) and as text.

The HTML is the complete, accessible version of the report: everything the PDF
says, in reading order, for screen readers and for people who enlarge text. It
has a language (`lang='en'`), one `h1` and an `h2` per section, tables with a
caption, column headers (`<th scope='col'>`) and row headers (`<th scope='row'>`),
and alt text on every chart. Made from `headline` and `sources_table`, the same
tables as the PDF's pages. `tests/analysis/test_report_html.py` reads it in a
real headless Chromium.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import pandas as pd

from analysis.announced_name import ANNOUNCED_NAME_NOTE
from analysis.ivr_lines import ivr_lines_caption, ivr_lines_text
from analysis.report_data import ReportData
from analysis.report_tables import (
    callback_states_text,
    callbacks_text,
    calls_text,
    coverage_note,
    headline,
    mystery_sentence,
    sources_table,
    standards_text,
)

STYLE = """
body { font-family: sans-serif; color: #111; max-width: 70em; margin: 1em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; text-align: center; }
th { background: #e8e8e8; }
th[scope='row'] { text-align: left; }
td:first-child { text-align: left; font-weight: bold; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
"""


def table_html(table: pd.DataFrame, caption: str = "", row_headers: bool = False) -> str:
    """A DataFrame of display text as an HTML table, every value escaped.

    caption: the table's caption (none when empty). row_headers: the first column
    names each row, so it is marked up as row headers.
    """
    head = "".join(f"<th scope='col'>{escape(str(column))}</th>" for column in table.columns)

    def cells(row: tuple) -> str:
        first, rest = (row[:1], row[1:]) if row_headers else ((), row)
        named = "".join(f"<th scope='row'>{escape(str(value))}</th>" for value in first)
        return named + "".join(f"<td>{escape(str(value))}</td>" for value in rest)

    body = "".join(f"<tr>{cells(row)}</tr>" for row in table.itertuples(index=False, name=None))
    titled = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{titled}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(data: ReportData, images: Mapping[str, str]) -> str:
    """The whole report: title, standards, the headline table, each chart, then a section
    per department with calls.

    images: the charts' alt text to their src (a file name, or ``cid:...`` in email).
    """
    figures = "".join(
        f"<figure><img src='{escape(src)}' alt='{escape(alt)}'>"
        f"<figcaption>{escape(alt)}</figcaption></figure>"
        for alt, src in images.items()
    )
    notes = [
        standards_text(data),
        callback_states_text(data),
        calls_text(data),
        coverage_note(data),
    ]
    departments = "".join(
        _department_html(data.of_department(name)) for name in data.departments_with_calls()
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(data.title)}</title><style>{STYLE}</style></head><body>"
        f"<main><h1>{escape(data.title)}</h1>"
        + "".join(f"<p>{escape(note)}</p>" for note in notes if note)
        + "<h2>Summary by department</h2>"
        + table_html(headline(data), f"Every department, {data.when}", row_headers=True)
        + "<p>The 95% range is where the true share of calls answered in time lies, given how "
        "few calls there were. The PDF attached to the email has the same figures.</p>"
        f"<p>{escape(ANNOUNCED_NAME_NOTE)}</p>"
        + _ivr_lines_html(data)
        + f"<h2>Charts</h2>{figures}{departments}</main></body></html>"
    )


def _ivr_lines_html(data: ReportData) -> str:
    """Lines answered by a menu, navigated to a person (none: no section)."""
    if data.ivr_lines.empty:
        return ""
    return "<h2>Lines through a menu</h2>" + table_html(
        ivr_lines_text(data.ivr_lines),
        ivr_lines_caption(data.when),
    )


def summary_text(data: ReportData) -> str:
    """The summary as plain text, for mail readers that do not show HTML."""
    notes = [
        standards_text(data),
        callback_states_text(data),
        calls_text(data),
        coverage_note(data),
    ]
    lines = [data.title, "", *(note for note in notes if note), ""]
    for row in headline(data).to_dict("records"):
        lines.append(" | ".join(f"{key}: {value}" for key, value in row.items()))
    lines += ["", ANNOUNCED_NAME_NOTE, "The full report is attached as a PDF."]
    return "\n".join(lines)


def _department_html(data: ReportData) -> str:
    [department] = data.departments()
    return (
        f"<h2>{escape(department)}</h2>"
        + table_html(
            sources_table(data), f"{department}: real calls and mystery calls", row_headers=True
        )
        + f"<p>{escape(mystery_sentence(data))}</p><p>{escape(callbacks_text(data))}</p>"
    )
