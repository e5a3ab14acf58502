"""Turn a WAV into a pcap of RTP packets, the form sipp's ``play_pcap_audio`` replays.

The WAV must be 16-bit mono at 8 kHz. Its samples are G.711 mu-law encoded
(RTP payload type 0, PCMU) and cut into 20 ms packets, each stamped 20 ms after
the one before, inside Ethernet/IPv4/UDP headers on loopback; sipp rewrites the
addresses and ports to the call's media stream when it plays them.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 8000
PACKET_SAMPLES = 160
"""samples per RTP packet: 20 ms at 8 kHz."""
PCMU_PAYLOAD_TYPE = 0
RTP_SSRC = 0x52494E47
CAPTURE_PORT = 6000
"""UDP port written in the capture; sipp replaces it with the call's media ports."""

_MU_LAW_BIAS = 0x84
_MU_LAW_CLIP = 32635
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
_ETHERNET_HEADER = bytes(12) + b"\x08\x00"
_LOOPBACK = bytes([127, 0, 0, 1])


def mu_law(samples: np.ndarray) -> bytes:
    """G.711 mu-law bytes for 16-bit linear `samples`."""
    linear = samples.astype(np.int32)
    sign = (linear < 0).astype(np.int32) << 7
    magnitude = np.minimum(np.abs(linear), _MU_LAW_CLIP) + _MU_LAW_BIAS
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def wav_to_rtp_pcap(wav_path: Path, pcap_path: Path) -> int:
    """Write `wav_path` as a pcap of PCMU RTP packets to `pcap_path`; returns the packets."""
    with wave.open(str(wav_path)) as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE_HZ, 1, 2):
            raise ValueError(f"{wav_path} is not 16-bit mono 8 kHz audio")
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    payload = mu_law(samples)
    packets = [
        payload[start : start + PACKET_SAMPLES] for start in range(0, len(payload), PACKET_SAMPLES)
    ]
    with pcap_path.open("wb") as pcap:
        pcap.write(_PCAP_HEADER)
        for number, chunk in enumerate(packets):
            frame = _ETHERNET_HEADER + _ip_udp(_rtp(number, chunk))
            microseconds = number * PACKET_SAMPLES * 1_000_000 // SAMPLE_RATE_HZ
            pcap.write(
                struct.pack("<IIII", *divmod(microseconds, 1_000_000), len(frame), len(frame))
            )
            pcap.write(frame)
    return len(packets)


def _rtp(number: int, payload: bytes) -> bytes:
    marker = 0x80 if number == 0 else 0
    header = struct.pack(
        "!BBHII",
        0x80,
        marker | PCMU_PAYLOAD_TYPE,
        number & 0xFFFF,
        number * PACKET_SAMPLES,
        RTP_SSRC,
    )
    return header + payload


def _ip_udp(datagram: bytes) -> bytes:
    udp = struct.pack("!HHHH", CAPTURE_PORT, CAPTURE_PORT, 8 + len(datagram), 0) + datagram
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, _LOOPBACK, _LOOPBACK)
    return ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:] + udp


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
