"""The core: records, standards, working calendar, errors and the record stream.

Pure and a leaf: nothing here imports config, storage, SIP, the listener or analysis.
"""
