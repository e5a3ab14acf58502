"""Asterisk Manager Interface listener: bytes -> frames -> events -> calls."""
