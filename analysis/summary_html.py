"""The report's summary as HTML (the file beside the PDF, and the email body) and as text.

Both are made from `headline`, the same table as the PDF's summary page.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import pandas as pd

from analysis.report_data import ReportData, headline, standards_text

STYLE = """
body { font-family: sans-serif; color: #111; max-width: 70em; margin: 1em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; text-align: center; }
th { background: #e8e8e8; }
td:first-child { text-align: left; font-weight: bold; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
"""


def table_html(table: pd.DataFrame) -> str:
    """A DataFrame of display text as an HTML table, every value escaped."""
    head = "".join(f"<th scope='col'>{escape(str(column))}</th>" for column in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in row) + "</tr>"
        for row in table.itertuples(index=False, name=None)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(data: ReportData, images: Mapping[str, str]) -> str:
    """The summary page: title, standards, headline table, then each chart.

    images: the charts' alt text to their src (a file name, or ``cid:...`` in email).
    """
    figures = "".join(
        f"<img src='{escape(src)}' alt='{escape(alt)}'>" for alt, src in images.items()
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(data.title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(data.title)}</h1><p>{escape(standards_text(data))}</p>"
        f"{table_html(headline(data))}"
        "<p>The 95% range is where the true share of calls answered in time lies, given how "
        "few calls there were. The full report with a page per department is attached.</p>"
        f"{figures}</body></html>"
    )


def summary_text(data: ReportData) -> str:
    """The summary as plain text, for mail readers that do not show HTML."""
    lines = [data.title, "", standards_text(data), ""]
    for row in headline(data).to_dict("records"):
        lines.append(" | ".join(f"{key}: {value}" for key, value in row.items()))
    lines += ["", "The full report is attached as a PDF."]
    return "\n".join(lines)
