"""ringtest: audits public-service telephone standards (rings to answer, call-back times)."""

__version__ = "0.1.0"
