"""The frame buffer and parser: bytes in any chunking -> the same whole frames."""

from hypothesis import given
from hypothesis import strategies as st

from ami_listener.frames import FrameBuffer
from ami_listener.message import AmiMessage, encode_action, parse_frame

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
NEWSTATE = (
    b"Event: Newstate\r\nPrivilege: call,all\r\nTimestamp: 1763851200.250000\r\n"
    b"Channel: PJSIP/staff1-00000001\r\nChannelStateDesc: Ringing\r\n"
    b"Linkedid: 1763851200.1\r\n\r\n"
)
VARSET_WITH_UTF8 = "Event: VarSet\r\nVariable: CALLERID(name)\r\nValue: Zoë Brown\r\n\r\n".encode()
STREAM = BANNER + NEWSTATE + VARSET_WITH_UTF8 + NEWSTATE


def feed_in_chunks(stream: bytes, cut_points: list[int]) -> tuple[FrameBuffer, list[bytes]]:
    buffer = FrameBuffer()
    frames: list[bytes] = []
    start = 0
    for cut in sorted(set(cut_points)) + [len(stream)]:
        frames += buffer.feed(stream[start:cut])
        start = cut
    return buffer, frames


def test_banner_is_taken_and_frames_split_on_blank_lines():
    buffer = FrameBuffer()
    frames = buffer.feed(STREAM)
    assert buffer.banner == "Asterisk Call Manager/11.0.0"
    assert [parse_frame(f).event for f in frames] == ["Newstate", "VarSet", "Newstate"]


def test_stream_fed_one_byte_at_a_time_gives_the_same_frames():
    buffer = FrameBuffer()
    frames = [frame for i in range(len(STREAM)) for frame in buffer.feed(STREAM[i : i + 1])]
    assert frames == FrameBuffer().feed(STREAM)


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_any_chunking_gives_the_same_frames(cut_points):
    _, frames = feed_in_chunks(STREAM, cut_points)
    assert frames == FrameBuffer().feed(STREAM)


def test_utf8_character_split_across_reads_decodes_whole():
    split_at = STREAM.index("ë".encode()) + 1
    _, frames = feed_in_chunks(STREAM, [split_at])
    assert parse_frame(frames[1]).get("Value") == "Zoë Brown"


def test_oversize_frame_is_skipped_and_counted_and_the_next_frame_survives():
    buffer = FrameBuffer(max_frame_bytes=1024)
    huge = b"Event: UserEvent\r\nData: " + b"x" * 5000 + b"\r\n\r\n"
    frames = []
    for start in range(0, len(huge), 700):
        frames += buffer.feed(huge[start : start + 700])
    frames += buffer.feed(NEWSTATE)
    assert buffer.oversize_frames == 1
    assert [parse_frame(f).event for f in frames] == ["Newstate"]


def test_stream_without_banner_starts_at_the_first_frame():
    buffer = FrameBuffer()
    assert [parse_frame(f).event for f in buffer.feed(NEWSTATE)] == ["Newstate"]
    assert buffer.banner == ""


def test_repeated_headers_are_all_kept_in_order():
    message = parse_frame(b"Event: Newchannel\r\nChanVariable: A=1\r\nChanVariable: B=2")
    assert message.get("chanvariable") == "A=1"
    assert message.get_all("ChanVariable") == ["A=1", "B=2"]


def test_line_without_colon_space_is_kept_as_malformed_not_dropped_silently():
    message = parse_frame(b"Event: Hangup\r\ngarbage line\r\nCause: 16")
    assert message.event == "Hangup"
    assert message.get("Cause") == "16"
    assert message.malformed_lines == ("garbage line",)


def test_invalid_utf8_is_replaced_not_fatal():
    message = parse_frame(b"Event: VarSet\r\nValue: \xff\xfe ok")
    assert message.get("Value") == "\ufffd\ufffd ok"


def test_timestamp_header_is_the_server_time_in_utc():
    message = parse_frame(NEWSTATE[:-4])
    assert message.server_time().isoformat() == "2025-11-22T22:40:00.250000+00:00"


def test_missing_or_bad_timestamp_gives_none():
    assert parse_frame(b"Event: FullyBooted").server_time() is None
    assert parse_frame(b"Event: X\r\nTimestamp: soon").server_time() is None


def test_action_is_encoded_as_one_crlf_frame():
    assert encode_action("Ping", ActionID="a1") == b"Action: Ping\r\nActionID: a1\r\n\r\n"


def test_an_event_without_action_id_is_not_parsed_to_learn_it():
    message = AmiMessage.from_frame(b"Event: VarSet\r\nVariable: X\r\nValue: 1")
    assert message.action_id is None
    assert not message.parsed


def test_action_id_is_found_in_any_case_and_any_line():
    frame = b"Event: CoreShowChannel\r\nChannel: PJSIP/a\r\nactionid: 7"
    assert AmiMessage.from_frame(frame).action_id == "7"
    assert AmiMessage.from_frame(b"Response: Success\r\nActionID: 8").action_id == "8"
