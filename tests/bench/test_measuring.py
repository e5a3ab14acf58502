"""The benchmarks' measuring helpers: readers count every event, sections, CDR matching."""

from datetime import UTC, datetime

from bench.ami_replay import (
    FloorProtocol,
    HeaderFloorProtocol,
    floor_reader,
    read_ringtest_reader,
    whole_path_reader,
)
from bench.lab_traffic import CdrCall, cdr_calls, matches, scenario_text
from bench.replay_server import serving
from bench.results import markers, write_section
from bench.streams import BANNER, load_shapes, plan_calls, stream_bytes
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord


def test_every_reader_sees_every_event_of_the_served_stream():
    calls = list(plan_calls(load_shapes(), 40))
    stream = stream_bytes(calls)
    events = stream.count(b"\r\n\r\n")
    with serving(stream.removeprefix(BANNER)) as port:
        assert floor_reader(FloorProtocol)(port) == events
        assert floor_reader(HeaderFloorProtocol)(port) == events
        assert read_ringtest_reader(port) == events
        assert whole_path_reader(events, len(calls))(port) == events


def test_a_section_is_rewritten_between_its_markers_and_others_are_left_alone(tmp_path):
    results = tmp_path / "RESULTS.md"
    start, end = markers("sip-accuracy")
    results.write_text(f"# Benchmarks\n\n{start}\ntheirs\n{end}\n")
    write_section("ami-replay", "first", results)
    write_section("ami-replay", "second", results)
    text = results.read_text()
    assert f"{start}\ntheirs\n{end}" in text
    assert "second" in text and "first" not in text
    assert text.count("<!-- bench:ami-replay:start -->") == 1


CDR = (
    '"","+441382000181","2002","council-inbound","""Citizen"" <+441382000181>",'
    '"PJSIP/citizen-1","PJSIP/staff2-2","Dial","x","2026-11-22 23:33:20","2026-11-22 23:33:21",'
    '"2026-11-22 23:33:22",2,1,"ANSWERED","DOCUMENTATION","1795390400.140",""\n'
    '"","+441382000181","2002","council-inbound","""Citizen"" <+441382000181>",'
    '"PJSIP/citizen-1","PJSIP/staff3-3","Dial","x","2026-11-22 23:33:20",,'
    '"2026-11-22 23:33:21",1,0,"NO ANSWER","DOCUMENTATION","1795390400.140",""\n'
    '"","+441382000133","2005","council-inbound","""Citizen"" <+441382000133>",'
    '"PJSIP/citizen-4","","Busy","2","2026-11-22 23:33:26",,"2026-11-22 23:33:26",0,0,'
    '"BUSY","DOCUMENTATION","1795390406.142",""\n'
)


def record(answered_at: datetime | None) -> CallRecord:
    at = datetime(2026, 11, 22, 23, 33, 20, tzinfo=UTC)
    return CallRecord(
        call_id="1795390400.140",
        pbx="lab",
        line="2002",
        department="Housing",
        caller="+441382000181",
        dialled="2002",
        started_at=at,
        ring_started_at=at,
        answered_at=answered_at,
        answered_by=AnsweredBy.PERSON if answered_at else AnsweredBy.NONE,
        ended_at=at,
        ring_seconds=1.0,
        rings=1,
        outcome=CallOutcome.ANSWERED if answered_at else CallOutcome.ABANDONED,
        within_standard=answered_at is not None,
    )


def test_cdr_rows_of_one_caller_after_an_offset_become_one_call_per_uniqueid(tmp_path):
    earlier_run = CDR.splitlines(keepends=True)[0].replace("1795390400.140", "1795390000.1")
    cdr = tmp_path / "Master.csv"
    cdr.write_text(earlier_run + CDR)
    calls = cdr_calls(cdr, len(earlier_run), "+441382000181")
    answered_at = datetime(2026, 11, 22, 23, 33, 21, tzinfo=UTC)
    started_at = datetime(2026, 11, 22, 23, 33, 20, tzinfo=UTC)
    assert calls == {"1795390400.140": CdrCall("1795390400.140", True, answered_at, started_at)}


def test_a_record_matches_its_cdr_call_only_when_answer_and_time_agree():
    truth = CdrCall("1795390400.140", True, datetime(2026, 11, 22, 23, 33, 21, tzinfo=UTC))
    assert matches(record(datetime(2026, 11, 22, 23, 33, 21, 600_000, tzinfo=UTC)), truth)
    assert not matches(record(datetime(2026, 11, 22, 23, 33, 23, tzinfo=UTC)), truth)
    assert not matches(record(None), truth)
    assert not matches(None, truth)


def test_the_load_scenario_reads_target_and_answer_delay_per_call():
    text = scenario_text()
    assert "INVITE sip:[field0]@" in text
    assert "X-Lab-Answer: [field1]" in text
    assert "[service]" not in text and "$give_up_ms" not in text
