"""Services: long-running wiring that hosts sources and sinks in one process."""
