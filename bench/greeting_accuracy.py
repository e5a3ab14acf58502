"""Who-answered accuracy on the labelled greeting corpus: a confusion matrix per split.

Every clip of `bench.greeting_corpus` (people by offline TTS, Asterisk's IVR and
voicemail prompts, under telephone conditions) goes through
`ringtest.sip.greeting.classify_greeting`. Per split (``tune``, on which the
thresholds were set, and ``heldout``, other voices, texts and prompts never
tuned on): the confusion matrix (rows truth, columns verdict), *right* (verdict
= truth), *unsure* (an unsure verdict on a clip with an answer: counted apart,
never as a person) and *wrong* (any other verdict). Goals on the held-out set:
>= 95 % right, <= 2 % wrong, every IVR prompt of >= 5 s of speech called ivr,
every voicemail with a beep called voicemail. `BEFORE` holds the classifier's
figures before this corpus existed, measured on the same table.

Run: ``.venv/bin/python -m bench.greeting_accuracy`` (needs sox, espeak-ng, flite
and apt-get download for the Asterisk sound packages; audio is cached).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.greeting_corpus import RATE_HZ, Clip, Corpus, load_clips
from bench.results import machine_line, table, write_section
from ringtest.core.records import AnsweredBy
from ringtest.sip.greeting import classify_greeting

SECTION = "greeting-accuracy"
VERDICTS = (AnsweredBy.PERSON, AnsweredBy.VOICEMAIL, AnsweredBy.IVR, AnsweredBy.UNSURE)
GOAL_RIGHT_PCT = 95.0
GOAL_WRONG_PCT = 2.0
LONG_PROMPT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Score:
    """One split's figures: clip counts and percentages of all its clips."""

    clips: int
    right_pct: float
    unsure_pct: float
    wrong_pct: float
    long_prompts_ivr: tuple[int, int]
    """(called ivr, all) over IVR clips whose prompt is >= LONG_PROMPT_SECONDS."""
    voicemails_found: tuple[int, int]
    """(called voicemail, all) over voicemail clips (every one ends in a beep)."""


BEFORE = {
    "tune": Score(139, 50.4, 19.4, 30.2, (6, 30), (28, 36)),
    "heldout": Score(210, 41.4, 22.9, 35.7, (11, 47), (38, 48)),
}
"""The classifier at commit d0b03be (before this benchmark) on this corpus."""


def verdicts(corpus: Corpus, clips: Sequence[Clip]) -> list[AnsweredBy]:
    """The classifier's verdict on each clip, in order."""
    return [classify_greeting(corpus.audio(clip), RATE_HZ).answered_by for clip in clips]


def confusion(clips: Sequence[Clip], answers: Sequence[AnsweredBy]) -> Counter:
    """(truth, verdict) -> clips."""
    return Counter((clip.truth, answer) for clip, answer in zip(clips, answers, strict=True))


def score(corpus: Corpus, clips: Sequence[Clip], answers: Sequence[AnsweredBy]) -> Score:
    """Right, unsure and wrong percentages and the two must-hold counts."""
    right = sum(clip.truth is answer for clip, answer in zip(clips, answers, strict=True))
    unsure = sum(
        answer is AnsweredBy.UNSURE and clip.truth is not AnsweredBy.UNSURE
        for clip, answer in zip(clips, answers, strict=True)
    )
    long_prompts = [
        answer
        for clip, answer in zip(clips, answers, strict=True)
        if clip.truth is AnsweredBy.IVR and corpus.speech_seconds(clip) >= LONG_PROMPT_SECONDS
    ]
    voicemails = [
        answer
        for clip, answer in zip(clips, answers, strict=True)
        if clip.truth is AnsweredBy.VOICEMAIL
    ]
    total = len(clips)
    return Score(
        clips=total,
        right_pct=round(100 * right / total, 1),
        unsure_pct=round(100 * unsure / total, 1),
        wrong_pct=round(100 * (total - right - unsure) / total, 1),
        long_prompts_ivr=(long_prompts.count(AnsweredBy.IVR), len(long_prompts)),
        voicemails_found=(voicemails.count(AnsweredBy.VOICEMAIL), len(voicemails)),
    )


def meets_goals(result: Score) -> bool:
    """True when a split's figures meet every goal of issue 15."""
    return (
        result.right_pct >= GOAL_RIGHT_PCT
        and result.wrong_pct <= GOAL_WRONG_PCT
        and result.long_prompts_ivr[0] == result.long_prompts_ivr[1]
        and result.voicemails_found[0] == result.voicemails_found[1]
    )


def matrix_table(matrix: Counter) -> str:
    truths = [truth for truth in VERDICTS if any(matrix[truth, v] for v in VERDICTS)]
    rows = [[f"**{truth}**", *(matrix[truth, verdict] for verdict in VERDICTS)] for truth in truths]
    return table(["truth \\ verdict", *(str(verdict) for verdict in VERDICTS)], rows)


def score_row(label: str, result: Score) -> list[object]:
    return [
        label,
        result.clips,
        f"{result.right_pct:.1f}",
        f"{result.unsure_pct:.1f}",
        f"{result.wrong_pct:.1f}",
        "{}/{}".format(*result.long_prompts_ivr),
        "{}/{}".format(*result.voicemails_found),
    ]


def main() -> None:
    """Classify every clip and rewrite this benchmark's section of bench/RESULTS.md."""
    corpus = Corpus()
    clips = load_clips()
    started = time.monotonic()
    sections = []
    rows = []
    for split in ("tune", "heldout"):
        chosen = [clip for clip in clips if clip.split == split]
        answers = verdicts(corpus, chosen)
        result = score(corpus, chosen, answers)
        rows.append(score_row(f"{split}, before (d0b03be)", BEFORE[split]))
        rows.append(score_row(f"{split}, now", result))
        goals = "meets every goal" if meets_goals(result) else "misses a goal"
        sections.append(f"**{split}** ({goals}):\n\n{matrix_table(confusion(chosen, answers))}")
    seconds = time.monotonic() - started
    header = ["split", "clips", "right %", "unsure %", "wrong %", "IVR >= 5 s -> ivr", "VM found"]
    write_section(
        SECTION,
        "\n\n".join(
            [
                "## Who answered: the greeting corpus",
                "Command: `.venv/bin/python -m bench.greeting_accuracy` "
                f"(corpus `bench/greeting_corpus.csv`, audio cached). Machine: {machine_line()}. "
                f"{len(clips)} clips classified in {seconds:.0f} s. Goals on held-out: "
                f">= {GOAL_RIGHT_PCT:.0f} % right, <= {GOAL_WRONG_PCT:.0f} % wrong (unsure apart), "
                "every IVR prompt of >= 5 s of speech -> ivr, every voicemail beep -> voicemail.",
                table(header, rows),
                *sections,
            ]
        ),
    )


if __name__ == "__main__":
    main()
