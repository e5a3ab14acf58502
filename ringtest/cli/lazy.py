"""A click group whose subcommands are imported when they are run, not when `ringtest` starts.

The commands pull in pandas, matplotlib, pjsua2, APScheduler and SQLAlchemy between
them; importing every command module to run one of them cost most of a second before
`ringtest calls` read a row. `LazyGroup` (the pattern of click's "Lazily Loading
Subcommands") holds each subcommand as ``module:attribute`` and imports that module
only when the command is looked up: running a command loads its own module,
`ringtest --help` loads them all to show their one-line help.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

import click


class LazyGroup(click.Group):
    """A group whose subcommands are ``name -> "module:attribute"`` until first looked up.

    prepare: called once on each command as it is loaded (the root adds its shared
        options to every subcommand with it).
    """

    def __init__(
        self,
        *args,
        lazy_subcommands: Mapping[str, str],
        prepare: Callable[[click.Command], None] = lambda command: None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands)
        self.prepare = prepare

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        """Import the subcommand `cmd_name` from its module and `prepare` it."""
        module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        self.prepare(command)
        return command
