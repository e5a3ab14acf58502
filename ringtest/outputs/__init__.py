"""Outputs: records as text (tables, CSV, JSON) and as mail."""
