"""The greeting audit's accuracy on the people of the greeting corpus.

Every person clip of `bench.greeting_corpus` is a greeting spoken by offline TTS on
a line of one department (`department`), which it names or not ("Good morning,
Housing" on the Housing line, "Hello?" anywhere, another department's name). It
goes through `ringtest.sip.greeting_audit.audit_greeting` with that department as
the line's announce phrase. Per split: right (the verdict matches whether the name
was said), unsure (counted apart), wrong, and *false yes* (yes when the name was
not said). Goals (issue 15): >= 90 % right on `announced_name`, <= 5 % false yes.
`greeted` is scored the same way against `GREETING_PHRASES`. Transcripts are not
made here: no verdict reads them, and they take most of the decoding time.

Run: ``.venv/bin/python -m bench.greeting_audit`` (after or with
``bench.greeting_accuracy``: the audio is cached).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from bench.greeting_corpus import RATE_HZ, Clip, Corpus, load_clips
from bench.results import machine_line, table, write_section
from ringtest.core.records import AnsweredBy, Heard
from ringtest.core.standards import GREETING_PHRASES
from ringtest.sip.greeting_audit import audit_greeting, phrase_words

SECTION = "greeting-audit"
GOAL_RIGHT_PCT = 90.0
GOAL_FALSE_YES_PCT = 5.0
TUNE_EXPERIMENTS = [
    ["as before: threshold 1e-50, default beam 1e-48, first 6 s, zero-stuffing", "61.7", "3.3"],
    ["resampled by sox `rate -v` instead", "63.3", "3.3"],
    ["hiss added above 4 kHz (20 or 30 dB below speech), or level normalised", "60.0-61.7", "3.3"],
    ["10 s or the whole 15 s instead of 6 s", "60.0", "3.3"],
    ["threshold 1e-20 / 1e-35 / 1e-65 / 1e-100 in the default beam", "48.3-63.3", "0.0-3.3"],
    [
        "threshold per phone of the phrase (1e-5 to 1e-12 each), default beam",
        "46.7-61.7",
        "0.0-3.3",
    ],
    ["beam 1e-80, threshold 1e-50, features set afresh per clip (chosen)", "65.0", "3.3"],
    ["beam 1e-80, threshold 1e-65 or 1e-70", "80.0", "5.0"],
    ["beam 1e-80, threshold 1e-90; beam 1e-120, threshold 1e-90", "78.3-81.7", "8.3-10.0"],
    ["beam 1e-100, threshold 1e-(40 + 4 per phone)", "83.3", "6.7"],
    ["beam 1e-80, threshold 1e-65, band-limited to 300-3400 Hz", "71.7", "5.0"],
    ["beam 1e-80, threshold 1e-70, whole 15 s", "70.0", "6.7"],
]
"""announced_name on the tune people (right %, false yes %) of each setting tried.
Thresholds looser than 1e-50 were not kept: from 1e-55 on, flite's clear "Good
morning, Housing" is heard as "Planning" on the Planning line, and from 1e-60 its
"Hello?" as "Housing" (tests/sip/test_greeting_audit.py)."""


def said(phrases: Sequence[str], text: str) -> bool:
    """Whether one of `phrases` is in `text`, word for word."""
    words = f" {' '.join(phrase_words(text))} "
    return any(f" {' '.join(phrase_words(phrase))} " in words for phrase in phrases)


def greeted_in(clip: Clip) -> bool:
    """Whether the person in `clip` greets: in the greeting, or the "Hello?" said again."""
    return said(GREETING_PHRASES, clip.material) or clip.then == "hello-again"


def rates(truths: Sequence[bool], verdicts: Sequence[Heard]) -> tuple[float, float, float]:
    """(right %, unsure %, false yes %) of `verdicts` against `truths`."""
    pairs = list(zip(truths, verdicts, strict=True))
    right = sum(
        (verdict is Heard.YES) == truth for truth, verdict in pairs if verdict is not Heard.UNSURE
    )
    unsure = sum(verdict is Heard.UNSURE for _, verdict in pairs)
    false_yes = sum(verdict is Heard.YES and not truth for truth, verdict in pairs)
    return tuple(round(100 * count / len(pairs), 1) for count in (right, unsure, false_yes))


def audited(corpus: Corpus, clips: Sequence[Clip]) -> list[tuple[str, Heard, Heard]]:
    return [
        audit_greeting(corpus.audio(clip), RATE_HZ, [clip.department], transcribe=False)
        for clip in clips
    ]


def main() -> None:
    """Audit every person clip and rewrite this benchmark's section of bench/RESULTS.md."""
    corpus = Corpus()
    people = [clip for clip in load_clips() if clip.truth is AnsweredBy.PERSON]
    started = time.monotonic()
    rows = []
    for split in ("tune", "heldout"):
        chosen = [clip for clip in people if clip.split == split]
        results = audited(corpus, chosen)
        for source in ("all", *sorted({clip.source for clip in chosen})):
            picked = [i for i, clip in enumerate(chosen) if source in ("all", clip.source)]
            clips = [chosen[i] for i in picked]
            named = [said([clip.department], clip.material) for clip in clips]
            greeted = [greeted_in(clip) for clip in clips]
            for judgement, truths, verdicts in (
                ("announced_name", named, [results[i][1] for i in picked]),
                ("greeted", greeted, [results[i][2] for i in picked]),
            ):
                right, unsure, false_yes = rates(truths, verdicts)
                row = [split, source, judgement, len(clips), sum(truths), right, unsure, false_yes]
                rows.append(row)
    seconds = time.monotonic() - started
    write_section(
        SECTION,
        "\n\n".join(
            [
                "## The greeting audit: announced our name, greeted the caller",
                "Command: `.venv/bin/python -m bench.greeting_audit` (the person clips of "
                f"`bench/greeting_corpus.csv`). Machine: {machine_line()}. {len(people)} clips "
                f"audited in {seconds:.0f} s (pocketsphinx 5, keyphrase threshold and beam set "
                f"on tune; load average {os.getloadavg()[0]:.2f} at the end). "
                f"Goals: >= {GOAL_RIGHT_PCT:.0f} % right on announced_name, <= "
                f"{GOAL_FALSE_YES_PCT:.0f} % false yes.",
                table(
                    [
                        "split",
                        "voices",
                        "judgement",
                        "clips",
                        "said",
                        "right %",
                        "unsure %",
                        "false yes %",
                    ],
                    rows,
                ),
                "Settings tried on the tune people only (announced_name). The shipped "
                "general language model does not recognise espeak-ng's voices even at "
                '16 kHz ("Benefits, hello." heard as "and it it the less"), so only '
                "spotting against a phone loop is usable; looser thresholds gain names "
                'but from 1e-55 on hear "Planning" in flite\'s clear "Good morning, '
                'Housing" (and from 1e-60 "Housing" in its "Hello?"). A JSGF '
                "grammar of the phrases in a loop of phones did not finish one clip in "
                "300 s. Recognisers whose model is fetched apart (vosk, whisper, "
                "DeepSpeech) are not allowed. Rows other than the chosen one were "
                "measured before each clip's features were set afresh (they may differ "
                "by a clip: one tune clip changed verdict with the order of audits).",
                table(["setting", "right %", "false yes %"], TUNE_EXPERIMENTS),
            ]
        ),
    )


if __name__ == "__main__":
    main()
