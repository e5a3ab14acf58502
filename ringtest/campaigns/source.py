"""Reading campaign files: YAML in, a validated `CampaignDefinition` out, or one line per mistake.

PyYAML composes the file into nodes that remember their line; the same nodes are
constructed into plain data for pydantic. Every pydantic error has a location
(``("targets", 2, "number")``) that is walked down the node tree to the line it
came from, so each mistake reads ``FILE:LINE: what is wrong: the fix``. A
location that is missing from the file (a required key) points at the mapping
that lacks it.

After the schema, `resolve` checks what needs the settings (the SIP account,
the default windows from the opening hours) and what spans fields (target
names are unique, windows do not overlap, the frequency fits the windows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ringtest.campaigns.model import (
    DAY_NAMES,
    CampaignDefinition,
    CampaignFile,
    Target,
    Window,
    campaign_from_file,
)
from ringtest.campaigns.plan import fits, gap_seconds, usable_seconds
from ringtest.config import Settings
from ringtest.config.messages import COMMON_PROBLEMS, FileKind, Loc, describe
from ringtest.core.errors import CampaignError

_ITEM_LABELS = {"targets": "target", "windows": "window", "tags": "tag", "caller_ids": "caller ID"}
_MAX_VALUE_CHARS = 60
MAX_NESTING = 16
"""Deepest nesting of lists and mappings read; a campaign uses 4 (targets, caller_ids)."""


def load_campaign(path: Path, settings: Settings) -> CampaignDefinition:
    """The validated campaign in `path`, resolved against `settings`.

    Raises `CampaignError` with one ``FILE:LINE: ...`` line per problem found.
    """
    label = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CampaignError(
            f"{label}: cannot be read ({error.strerror}): check the path and its permissions"
        ) from None
    node, data = _compose(_text(raw, label), label)
    problems = [f"{label}:{line}: {text}" for line, text in _duplicate_keys(node)]
    if problems:
        raise CampaignError(problems)
    context = {"default_region": settings.phone.default_region}
    try:
        written = CampaignFile.model_validate(data, context=context)
    except ValidationError as error:
        raise CampaignError(
            [
                f"{label}:{_line_of(node, tuple(d['loc']))}: {describe(d, CAMPAIGN_FILE)}"
                for d in error.errors()
            ]
        ) from None
    definition = campaign_from_file(
        written, settings, source_path=str(path.resolve()), sha256=hashlib.sha256(raw).hexdigest()
    )
    problems = [
        f"{label}:{_line_of(node, loc)}: {text}" for loc, text in cross_checks(definition, settings)
    ]
    if problems:
        raise CampaignError(problems)
    return definition


def load_campaigns(paths: Iterable[Path], settings: Settings) -> list[CampaignDefinition]:
    """Every file's campaign; one `CampaignError` listing every file's problems."""
    definitions, problems = [], []
    for path in paths:
        try:
            definitions.append(load_campaign(path, settings))
        except CampaignError as error:
            problems.extend(error.problems)
    names = [definition.campaign.name for definition in definitions]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append(f"campaign name '{name}' is used by two files: give each its own name")
    if problems:
        raise CampaignError(problems)
    return definitions


def cross_checks(definition: CampaignDefinition, settings: Settings) -> list[tuple[Loc, str]]:
    """Problems that span fields or need the settings, each with the location to blame."""
    campaign = definition.campaign
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for index, target in enumerate(campaign.targets):
        if target.name in seen:
            problems.append(
                (
                    ("targets", index, "name"),
                    f"target name '{target.name}' is used twice: give each target its own name",
                )
            )
        seen.add(target.name)
    problems.extend(_unconfigured_departments(campaign.targets, settings))
    problems.extend(_overlapping_windows(campaign.windows or ()))
    accounts = [account.name for account in settings.sip.accounts]
    if campaign.account is not None and campaign.account not in accounts:
        problems.append(
            (
                ("account",),
                f"account '{campaign.account}' is not in [[sip.accounts]]: use one "
                f"of {', '.join(accounts) or 'none configured'}, or add it to ringtest.toml",
            )
        )
    elif not accounts:
        problems.append(
            (
                (),
                "no SIP account is configured to place ring tests from: add one under "
                "[[sip.accounts]] in ringtest.toml",
            )
        )
    if not problems:
        problems.extend(_frequency_fits(definition))
    return problems


def _unconfigured_departments(
    targets: Sequence[Target], settings: Settings
) -> list[tuple[Loc, str]]:
    """Targets whose `department` no `[[lines]]` entry has (a typo would report their tests
    in a row of their own); none when no line is configured (ring tests only). A target
    without a department is reported under its name, as documented."""
    configured = list(dict.fromkeys(line.department for line in settings.lines))
    if not configured:
        return []
    return [
        (
            ("targets", index, "department"),
            f"department '{target.department}' of target '{target.name}' is not the "
            f"department of any [[lines]] entry: use one of {', '.join(configured)}",
        )
        for index, target in enumerate(targets)
        if target.department and target.department not in configured
    ]


def _overlapping_windows(windows: Sequence[Window]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for later_index, later in enumerate(windows):
        for earlier in windows[:later_index]:
            day = next(
                (
                    day
                    for day in later.days
                    if day in earlier.days and _ranges_overlap(earlier.ranges, later.ranges)
                ),
                None,
            )
            if day is not None:
                problems.append(
                    (
                        ("windows", later_index),
                        f"window '{later.text}' overlaps window "
                        f"'{earlier.text}' on {DAY_NAMES[day]}: merge them or move one",
                    )
                )
                break
    return problems


def _ranges_overlap(first: Sequence[tuple[int, int]], second: Sequence[tuple[int, int]]) -> bool:
    return any(a < d and c < b for a, b in first for c, d in second)


def _frequency_fits(definition: CampaignDefinition) -> list[tuple[Loc, str]]:
    """A full week's windows must hold the tests `min_gap` apart (holidays aside)."""
    campaign = definition.campaign
    frequency = campaign.frequency
    gap = gap_seconds(definition)
    usable_by_day = {day: usable_seconds(definition, day) for day in range(7)}
    if frequency.per == "week":
        usable = {"a week": sum(usable_by_day.values())}
    else:
        usable = {DAY_NAMES[day]: seconds for day, seconds in usable_by_day.items() if seconds}
    if not any(usable.values()):
        return [(("windows",), "windows leave no time to place a test: widen them")]
    for period, seconds in usable.items():
        if not fits(frequency.tests, seconds, gap):
            needed = (frequency.tests - 1) * gap // 60
            return [
                (
                    ("frequency",),
                    f"frequency '{frequency.tests} per {frequency.per}' does not "
                    f"fit: {frequency.tests} tests {gap // 60} min apart need {needed} min of "
                    f"window, {period} has {seconds // 60} min: lower the frequency or min_gap, "
                    "or widen the windows",
                )
            ]
    return []


class _CampaignLoader(yaml.SafeLoader):
    """SafeLoader that refuses what no campaign needs and what costs without bound.

    An alias repeats a node without repeating its text, so nested aliases (the
    "billion laughs") make a few hundred bytes into billions of values; nesting
    deeper than `MAX_NESTING` would exhaust the composer's recursion.
    """

    def __init__(self, text: str, label: str) -> None:
        super().__init__(text)
        self.label = label
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise CampaignError(
                f"{self.label}:{line}: alias '*{event.anchor}' repeats another part of the "
                "file: campaign files do not take YAML anchors and aliases, write the value out"
            )
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self.depth >= MAX_NESTING:
            raise CampaignError(
                f"{self.label}:{line}: is nested more than {MAX_NESTING} lists or mappings "
                "deep: a campaign needs 4 at most, check the brackets and indentation there"
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _text(raw: bytes, label: str) -> str:
    """The file's text, read as UTF-8 (a BOM allowed); a binary file or bytes that are not
    UTF-8 are one line naming where."""
    if b"\0" in raw:
        raise CampaignError(
            f"{label}: is not a text file (it holds NUL bytes): give the campaign's YAML file, "
            "saved as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise CampaignError(
            f"{label}:{line}: is not UTF-8 (byte 0x{raw[error.start]:02X} at column {column}): "
            "save the file as UTF-8"
        ) from None


def _compose(text: str, label: str) -> tuple[yaml.Node | None, Any]:
    """The file's node tree and its plain data; a YAML syntax error is one line."""
    loader = _CampaignLoader(text, label)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise CampaignError(
            f"{label}:{line}: is not valid YAML ({error.problem}): check the indentation, "
            "colons and quotes there"
        ) from None
    except yaml.YAMLError as error:
        raise CampaignError(f"{label}:1: is not valid YAML ({error}): save it as UTF-8") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CampaignError(
            f"{label}:1: is not a campaign: write 'key: value' lines (name, targets, "
            "frequency, start, ...), see schedules/README.md"
        )
    return node, data


def _duplicate_keys(node: yaml.Node | None) -> Iterable[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                yield (
                    key.start_mark.line + 1,
                    f"key '{key.value}' is given twice: keep one (YAML would silently "
                    "use the last)",
                )
            seen.add(key.value)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _line_of(node: yaml.Node | None, loc: Loc) -> int:
    """1-based line of the node at `loc`; the nearest enclosing node when it is missing."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next((pair for pair in node.value if pair[0].value == part), None)
            if match is None:
                break
            key, node = match
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _label(loc: Loc) -> str:
    """How a location is named in a message: ``window``, ``target 'Housing' number``."""
    if not loc:
        return "the campaign"
    if isinstance(loc[-1], int) and isinstance(loc[-2], str):
        return _ITEM_LABELS.get(loc[-2], str(loc[-2]))
    return str(loc[-1]) if isinstance(loc[-1], str) else str(loc[-2])


def _model_at(loc: Loc) -> type[BaseModel]:
    return Target if "targets" in loc else CampaignFile


def _unknown_key(loc: Loc) -> str:
    known = ", ".join(_model_at(loc[:-1]).model_fields)
    return f"unknown key '{loc[-1]}': check the spelling (known: {known})"


def _missing(loc: Loc) -> str:
    where = f"{_label(loc[:-1])} has" if loc[:-1] else "the campaign has"
    return f"{where} no '{loc[-1]}': add it, see schedules/README.md"


def _value(loc: Loc, value: Any) -> str | None:
    if isinstance(value, dict | list) or value is None:
        return None
    text = repr(value) if isinstance(value, str) else f"'{value}'"
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 4] + "...'"


CAMPAIGN_FILE = FileKind(
    problems={
        **COMMON_PROBLEMS,
        "float_parsing": "is not a number: write it like 0.2",
        "float_type": "is not a number: write it like 0.2",
        "string_type": "is not text: write it in quotes",
        "list_type": "is not a list: write one '- item' per line below it",
        "model_type": "is not a mapping: write 'key: value' lines below it",
        "too_short": "is empty: give at least one",
    },
    help="schedules/README.md",
    name=_label,
    unknown_key=_unknown_key,
    missing=_missing,
    show=_value,
)
"""A campaign YAML file (see schedules/README.md)."""
