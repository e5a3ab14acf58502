"""Keyed pseudonyms for caller numbers: HMAC-SHA256 under a secret key kept in a file.

The same number always gets the same pseudonym under one key, so a repeat caller
is still counted as a repeat; without the key the number cannot be recovered
(nor confirmed by trying every number: that needs the key too). A pseudonym is
``anon:`` and the first `PSEUDONYM_HEX_DIGITS` hex digits of the HMAC, so nobody
mistakes it for a number and it is never pseudonymised twice.

The key is `KEY_BYTES` random bytes, written as hex into the key file, created
with mode 0600 at first use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ringtest.core.errors import ConfigError
from ringtest.core.private_files import KEY_FILE_MODE, make_private_directory

PSEUDONYM_PREFIX = "anon:"
PSEUDONYM_HEX_DIGITS = 16
"""64 bits: two of a council's few million callers share one with odds under 1 in 10^6."""
KEY_BYTES = 32


def pseudonym(key: bytes, caller: str) -> str:
    """`caller`'s pseudonym under `key`: ``anon:`` and 16 hex digits."""
    digest = hmac.new(key, caller.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]


def is_pseudonym(caller: str) -> bool:
    """True when `caller` is already a pseudonym, not a number."""
    return caller.startswith(PSEUDONYM_PREFIX)


def read_key(path: Path) -> bytes | None:
    """The key in `path`, None when there is no key file yet."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"privacy.key_file {path} cannot be read ({getattr(error, 'strerror', error)}): "
            "make it readable by ringtest's user"
        ) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"privacy.key_file {path} is not a ringtest pseudonym key ({KEY_BYTES * 2} hex "
            "digits): restore the key file from backup (a new key gives every number a new "
            "pseudonym)"
        )
    return key


def key_for_pseudonyms(path: Path) -> bytes:
    """The key in `path`, created (mode 0600, random) when there is none yet."""
    key = read_key(path)
    if key is not None:
        return key
    try:
        make_private_directory(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        return key_for_pseudonyms(path)  # another process created it first: use theirs
    except OSError as error:
        raise ConfigError(
            f"privacy.key_file {path} cannot be created ({error.strerror}): "
            "make its directory writable or set privacy.key_file"
        ) from None
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(secrets.token_hex(KEY_BYTES) + "\n")
    return key_for_pseudonyms(path)
