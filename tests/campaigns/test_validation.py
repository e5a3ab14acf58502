"""Bad campaign files: each mistake is one line naming the file, the line and the fix."""

from __future__ import annotations

import pytest

from ringtest.campaigns.source import load_campaign, load_campaigns
from ringtest.core.errors import CampaignError
from tests.campaigns.conftest import REPO

VALID = """\
name: council-weekly
account: ringtester
start: 2026-11-23
end: 2027-03-26
frequency: 2 per week
windows:
  - Mon-Thu 09:30-12:30, 13:30-16:30
  - Fri 09:30-12:30
max_rings: 10
concurrency: 2
targets:
  - name: Council Tax
    number: "+441382434001"
  - name: Housing
    uri: sip:2002@127.0.0.1
"""


def mistake(line: int, old: str, new: str) -> str:
    """VALID with `old` on 1-based `line` replaced by `new`."""
    lines = VALID.splitlines()
    assert old in lines[line - 1], (line, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new)
    return "\n".join(lines) + "\n"


CASES = [
    (
        mistake(7, "Mon-Thu 09:30-12:30, 13:30-16:30", "Mon-Fri 17:00-09:00"),
        "7: window 'Mon-Fri 17:00-09:00' ends before it starts: write the earlier time first, "
        "e.g. 09:00-17:00",
    ),
    (
        mistake(8, "Fri 09:30-12:30", "Fry 09:30-12:30"),
        "8: window 'Fry 09:30-12:30' has unknown day 'Fry': use Mon, Tue, Wed, Thu, Fri, Sat, "
        "Sun, ranges like Mon-Fri or lists like Mon,Wed",
    ),
    (
        mistake(8, "Fri 09:30-12:30", "Fri 9.30-12.30"),
        "8: window 'Fri 9.30-12.30' has '9.30-12.30', not HH:MM-HH:MM: write it like "
        "'Mon-Fri 09:30-12:00, 14:00-16:30'",
    ),
    (
        mistake(8, "Fri 09:30-12:30", "Mon 12:00-13:00"),
        "8: window 'Mon 12:00-13:00' overlaps window 'Mon-Thu 09:30-12:30, 13:30-16:30' on Mon: "
        "merge them or move one",
    ),
    (
        mistake(5, "2 per week", "twice a week"),
        "5: frequency 'twice a week' is not N per day or N per week: write it like '3 per week'",
    ),
    (
        mistake(5, "2 per week", "9 per day"),
        "5: frequency '9 per day' does not fit: 9 tests 60 min apart need 480 min of window, "
        "Mon has 357 min: lower the frequency or min_gap, or widen the windows",
    ),
    (
        mistake(4, "2027-03-26", "2026-11-01"),
        "4: end '2026-11-01' is before start 2026-11-23: end on or after the start date",
    ),
    (
        mistake(3, "2026-11-23", "23/11/2026"),
        "3: start '23/11/2026' is not a date: write it as YYYY-MM-DD",
    ),
    (
        mistake(9, "max_rings: 10", "max_rings: 0"),
        "9: max_rings '0' is too small: use 1 or more",
    ),
    (
        mistake(10, "concurrency: 2", "concurrency: 9"),
        "10: concurrency '9' is too large: use 4 or less",
    ),
    (
        mistake(10, "concurrency: 2", "concurency: 2"),
        "10: unknown key 'concurency': check the spelling (known: name, targets, frequency, "
        "start, end, windows, timezone, seed, max_rings, callback_share, concurrency, min_gap, "
        "misfire_grace, account)",
    ),
    (
        mistake(2, "ringtester", "mystery"),
        "2: account 'mystery' is not in [[sip.accounts]]: use one of ringtester, or add it to "
        "ringtest.toml",
    ),
    (
        mistake(1, "council-weekly", "Council Weekly"),
        "1: name 'Council Weekly' is not a usable campaign name: use lower-case letters, digits, "
        "- and _, e.g. council-weekly",
    ),
    (
        mistake(13, '"+441382434001"', "+441382434001"),
        "13: number '441382434001' was read by YAML as an integer, losing any + or leading 0: "
        'quote it, e.g. "+441382434001"',
    ),
    (
        mistake(13, '"+441382434001"', '"+44 99"'),
        "13: number '+44 99' is not a valid phone number for region GB: write it in E.164, "
        "e.g. +442079460000",
    ),
    (
        mistake(15, "uri: sip:2002@127.0.0.1", 'number: "+441382434002"\n    uri: sip:2002@x'),
        "14: target has both number and uri: give exactly one of them",
    ),
    (
        mistake(15, "uri: sip:2002@127.0.0.1", "tags: [planning]"),
        "14: target has neither number nor uri: give exactly one of them",
    ),
    (
        mistake(15, "uri: sip:2002@127.0.0.1", 'uri: sip:2000@127.0.0.1\n    ivr: "w2 x"'),
        "14: target 'Housing' ivr 'w2 x' has 'x', neither a wait nor keys: use w<seconds> to "
        "wait and the keys 0123456789*#ABCD to press, e.g. 'w2 1'",
    ),
    (
        mistake(14, "name: Housing", "name: Council Tax"),
        "14: target name 'Council Tax' is used twice: give each target its own name",
    ),
    (
        mistake(14, "  - name: Housing", "  - department: Housing"),
        "14: target has no 'name': add it, see schedules/README.md",
    ),
    (
        mistake(6, "windows:", "windows: ["),
        "7: is not valid YAML (expected the node content, but found '-'): check the "
        "indentation, colons and quotes there",
    ),
    (
        mistake(9, "max_rings: 10", "max_rings: 10\nname: again"),
        "10: key 'name' is given twice: keep one (YAML would silently use the last)",
    ),
    (
        mistake(9, "max_rings: 10", "max_rings: &ten 10\nseed: *ten"),
        "10: alias '*ten' repeats another part of the file: campaign files do not take YAML "
        "anchors and aliases, write the value out",
    ),
    (
        mistake(9, "max_rings: 10", "max_rings: " + "[" * 17 + "]" * 17),
        "9: is nested more than 16 lists or mappings deep: a campaign needs 4 at most, check "
        "the brackets and indentation there",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[case[1][:40] for case in CASES])
def test_each_mistake_is_one_line_with_the_file_and_line(
    write_campaign, lab_settings, text, expected
):
    path = write_campaign(text, "council.yaml")

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert raised.value.problems == [f"{path}:{expected}"]
    assert str(raised.value) == f"{path}:{expected}"


BILLION_LAUGHS = "".join(
    [
        'name: bomb\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def test_an_alias_bomb_is_refused_at_its_first_alias(write_campaign, lab_settings):
    path = write_campaign(BILLION_LAUGHS, "bomb.yaml")

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert str(raised.value) == (
        f"{path}:3: alias '*a' repeats another part of the file: campaign files do not take "
        "YAML anchors and aliases, write the value out"
    )


def test_yaml_nested_past_the_recursion_limit_is_one_line(write_campaign, lab_settings):
    path = write_campaign("name: deep\ntargets: " + "[" * 10_000 + "]" * 10_000 + "\n")

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert str(raised.value) == (
        f"{path}:2: is nested more than 16 lists or mappings deep: a campaign needs 4 at most, "
        "check the brackets and indentation there"
    )


def test_the_valid_file_loads(write_campaign, lab_settings):
    definition = load_campaign(write_campaign(VALID, "council.yaml"), lab_settings)

    assert definition.campaign.name == "council-weekly"
    assert [target.dial for target in definition.campaign.targets] == [
        "+441382434001",
        "sip:2002@127.0.0.1",
    ]
    assert definition.account == "ringtester"
    assert definition.timezone == "Europe/London"


def test_a_misspelt_key_is_named_and_so_is_the_key_it_leaves_missing(write_campaign, lab_settings):
    path = write_campaign(mistake(5, "frequency: 2 per week", "frequencies: 2 per week"))

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert raised.value.problems == [
        f"{path}:1: the campaign has no 'frequency': add it, see schedules/README.md",
        f"{path}:5: unknown key 'frequencies': check the spelling (known: name, targets, "
        "frequency, start, end, windows, timezone, seed, max_rings, callback_share, "
        "concurrency, min_gap, misfire_grace, account)",
    ]


def test_a_file_missing_required_keys_names_each_on_the_line_of_its_mapping(
    write_campaign, lab_settings
):
    path = write_campaign("name: bare\naccount: ringtester\n", "bare.yaml")

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert raised.value.problems == [
        f"{path}:1: the campaign has no 'targets': add it, see schedules/README.md",
        f"{path}:1: the campaign has no 'frequency': add it, see schedules/README.md",
        f"{path}:1: the campaign has no 'start': add it, see schedules/README.md",
    ]
    assert str(raised.value) == raised.value.problems[0] + " (and 2 more)"


def test_a_file_that_is_not_a_mapping_says_what_a_campaign_is(write_campaign, lab_settings):
    path = write_campaign("- just\n- a list\n", "list.yaml")

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert str(raised.value) == (
        f"{path}:1: is not a campaign: write 'key: value' lines (name, targets, frequency, "
        "start, ...), see schedules/README.md"
    )


def test_a_binary_file_is_one_line_saying_it_is_not_text(tmp_path, lab_settings):
    path = tmp_path / "campaign.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert raised.value.problems == [
        f"{path}: is not a text file (it holds NUL bytes): give the campaign's YAML file, "
        "saved as UTF-8"
    ]


def test_a_file_not_in_utf8_names_the_line_column_and_byte(tmp_path, lab_settings):
    path = tmp_path / "campaign.yaml"
    path.write_bytes(VALID.replace("targets:", "# Caf\u00e9 line\ntargets:").encode("latin-1"))
    line = VALID.splitlines().index("targets:") + 1

    with pytest.raises(CampaignError) as raised:
        load_campaign(path, lab_settings)

    assert raised.value.problems == [
        f"{path}:{line}: is not UTF-8 (byte 0xE9 at column 6): save the file as UTF-8"
    ]


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path, lab_settings):
    path = tmp_path / "campaign.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())

    assert load_campaign(path, lab_settings).campaign.name


def test_two_files_with_one_campaign_name_are_refused(write_campaign, lab_settings):
    first = write_campaign(VALID, "a.yaml")
    second = write_campaign(VALID, "b.yaml")

    with pytest.raises(CampaignError) as raised:
        load_campaigns([first, second], lab_settings)

    assert raised.value.problems == [
        "campaign name 'council-weekly' is used by two files: give each its own name"
    ]


def test_the_example_council_schedule_is_valid(lab_settings):
    definition = load_campaign(REPO / "schedules" / "council.yaml", lab_settings)

    assert {target.department_name for target in definition.campaign.targets} == {
        "Switchboard",
        "Council Tax",
        "Housing",
        "Benefits",
        "Planning",
        "Licensing",
    }
