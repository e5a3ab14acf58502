"""Compliance analysis of measured calls and ring tests."""
