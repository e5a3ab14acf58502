"""Sources: what measures calls and publishes them to the record stream (live AMI calls,
ring tests, CDR history).
"""
