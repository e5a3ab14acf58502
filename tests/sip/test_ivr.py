"""Reading ``ivr`` text into the keys to press, and the one-line errors for bad text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.sip.ivr import KeyPlan, KeyPress, parse_ivr

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "presses"),
    [
        ("w2 1", (KeyPress(2.0, "1"),)),
        ("1", (KeyPress(0.0, "1"),)),
        ("w1.5 3 w2 0#", (KeyPress(1.5, "3"), KeyPress(3.5, "0#"))),
        ("  W2   *2a ", (KeyPress(2.0, "*2A"),)),
    ],
)
def test_ivr_text_reads_as_keys_pressed_seconds_after_the_answer(text, presses):
    plan = parse_ivr(text)
    assert plan.presses == presses
    assert plan.last_press_seconds == presses[-1].after_seconds
    assert plan == KeyPlan(" ".join(text.split()), presses)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "w2 x",
            "'w2 x' has 'x', neither a wait nor keys: use w<seconds> to wait and the keys "
            "0123456789*#ABCD to press, e.g. 'w2 1'",
        ),
        ("w2", "'w2' presses no key: write it like 'w2 1'"),
        ("", "'' presses no key: write it like 'w2 1'"),
        ("w500 1", "'w500 1' waits 500 s at 'w500': wait at most 120 s between keys"),
        (
            "w-1 1",
            "'w-1 1' has 'w-1', neither a wait nor keys: use w<seconds> to wait and the keys "
            "0123456789*#ABCD to press, e.g. 'w2 1'",
        ),
    ],
)
def test_bad_ivr_text_is_one_line_saying_the_fix(text, message):
    with pytest.raises(ValueError) as raised:
        parse_ivr(text)
    assert str(raised.value) == message


def test_ringtest_call_with_bad_ivr_keys_is_one_line_naming_the_target(tmp_path):
    env = {**os.environ, "RINGTEST_DB": f"sqlite:///{tmp_path / 'x.db'}"}
    env.pop("RINGTEST_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(REPO / "examples" / "lab.toml")]
        + ["call", "2000", "--ivr", "w2 one"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "ringtest: ring test target '2000' ivr 'w2 one' has 'one', neither a wait nor keys: "
        "use w<seconds> to wait and the keys 0123456789*#ABCD to press, e.g. 'w2 1'"
    ]
    assert not (tmp_path / "x.db").exists(), "refused before a database is made"
