"""Audio the lab's agents play: a shipped WAV and the RTP capture sipp replays from it."""
