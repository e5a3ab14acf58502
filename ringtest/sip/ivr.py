"""The keys a citizen presses to get through a phone menu (IVR), read from text.

A line answered by a menu is tested by navigating it as a citizen would: its
``ivr`` text says what to do once the call is answered, in order, as words split
by spaces:

* ``w<seconds>`` waits that long (``w2``, ``w1.5``): to hear the prompt out;
* any run of keys presses them (``1``, ``0#``, ``*2``), each an RFC 4733 event.

``"w2 1"`` waits 2 s after the answer, then presses 1. The text is read once,
up front, into a `KeyPlan`; a mistake is a `ValueError` whose text reads after the
text itself (``'w2 x' ...``), so the campaign file and ``ringtest call`` name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IVR_EXAMPLE = "w2 1"
KEYS = "0123456789*#ABCD"
"""The DTMF keys (RFC 4733 events 0-15); A-D exist on few phones but on every PBX."""
KEY_SECONDS = 0.16
"""seconds each key's RFC 4733 event lasts (pjsua's default, set explicitly)."""
MAX_WAIT_SECONDS = 120.0
"""A single wait longer than this is a typo, not a menu."""

_WAIT = re.compile(r"^w(\d+(?:\.\d+)?)$", re.IGNORECASE)
_KEYS = re.compile(rf"^[{re.escape(KEYS)}]+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class KeyPress:
    """Press `keys` (one or more DTMF keys) `after_seconds` (float) after the answer."""

    after_seconds: float
    keys: str


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """What to press and when, from an ``ivr`` text; `presses` in time order."""

    text: str
    presses: tuple[KeyPress, ...]

    @property
    def last_press_seconds(self) -> float:
        """float seconds after the answer at which the last keys are pressed."""
        return self.presses[-1].after_seconds


def parse_ivr(text: str) -> KeyPlan:
    """The `KeyPlan` of ``ivr`` text like ``"w2 1"``; ValueError when it is not one."""
    words = text.split()
    if not words:
        raise ValueError(f"'{text}' presses no key: write it like '{IVR_EXAMPLE}'")
    presses: list[KeyPress] = []
    after_seconds = 0.0
    for word in words:
        wait = _WAIT.match(word)
        if wait is not None:
            seconds = float(wait.group(1))
            if seconds > MAX_WAIT_SECONDS:
                raise ValueError(
                    f"'{text}' waits {seconds:g} s at '{word}': wait at most "
                    f"{MAX_WAIT_SECONDS:g} s between keys"
                )
            after_seconds += seconds
        elif _KEYS.match(word):
            presses.append(KeyPress(after_seconds, word.upper()))
        else:
            raise ValueError(
                f"'{text}' has '{word}', neither a wait nor keys: use w<seconds> to wait "
                f"and the keys {KEYS} to press, e.g. '{IVR_EXAMPLE}'"
            )
    if not presses:
        raise ValueError(f"'{text}' presses no key: write it like '{IVR_EXAMPLE}'")
    return KeyPlan(text=" ".join(words), presses=tuple(presses))
