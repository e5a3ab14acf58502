"""The greeting corpus: a table whose held-out half shares nothing with the tuning
half, audio made as the table says, and the classifier's bar on a slice of it.

The slice is every `SLICE_STEP`-th held-out clip (people, IVR menus, hold music,
voicemail, silence; every codec). The full held-out set met every goal of issue 15
(bench/RESULTS.md), so the slice is held to the same bar.
"""

import numpy as np
import pytest

from bench.greeting_accuracy import GOAL_RIGHT_PCT, GOAL_WRONG_PCT, meets_goals, score, verdicts
from bench.greeting_corpus import RATE_HZ, Corpus, load_clips
from ringtest.core.records import AnsweredBy

SLICE_STEP = 7
CLIPS = load_clips()


@pytest.fixture(scope="module")
def corpus():
    return Corpus()


def by_split(split):
    return [clip for clip in CLIPS if clip.split == split]


def test_the_held_out_clips_share_no_voice_text_or_prompt_with_the_tuning_clips():
    tune, heldout = by_split("tune"), by_split("heldout")
    assert {clip.voice for clip in tune if clip.voice}.isdisjoint(clip.voice for clip in heldout)
    tuned_material = {clip.material for clip in tune if clip.source != "silence"}
    assert tuned_material.isdisjoint(clip.material for clip in heldout if clip.source != "silence")
    for split in (tune, heldout):
        assert {clip.truth for clip in split} == {
            AnsweredBy.PERSON,
            AnsweredBy.VOICEMAIL,
            AnsweredBy.IVR,
            AnsweredBy.UNSURE,
        }
        assert {clip.codec for clip in split} == {"pcm", "ulaw", "alaw", "gsm"}


def test_a_clip_is_15_s_at_its_level_and_a_codec_changes_it(corpus):
    person = next(clip for clip in by_split("tune") if clip.then == "wait" and clip.codec == "pcm")
    samples = corpus.audio(person)
    assert len(samples) == 15 * RATE_HZ
    frames = samples[: len(samples) // 160 * 160].astype(float).reshape(-1, 160)
    rms = np.sqrt((frames**2).mean(axis=1))
    active = rms[rms >= rms.max() / 31.6]
    level_dbfs = 20 * np.log10(np.sqrt((active**2).mean()) / 32768)
    assert level_dbfs == pytest.approx(person.level_dbfs, abs=1.5)
    coded = corpus._codec("gsm", samples)
    assert len(coded) == len(samples)
    assert not np.array_equal(coded, samples)
    assert corpus.audio(person).tobytes() == samples.tobytes(), "a cached clip is read back"


def test_the_classifier_meets_the_held_out_goals_on_a_slice(corpus):
    chosen = by_split("heldout")[::SLICE_STEP]
    answers = verdicts(corpus, chosen)
    result = score(corpus, chosen, answers)
    assert result.right_pct >= GOAL_RIGHT_PCT, list(zip(chosen, answers, strict=True))
    assert result.wrong_pct <= GOAL_WRONG_PCT
    assert meets_goals(result)
    assert result.long_prompts_ivr[1] > 0 and result.voicemails_found[1] > 0
