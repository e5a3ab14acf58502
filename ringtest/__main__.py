"""`python -m ringtest` runs the CLI."""

from ringtest.cli import main

main()
