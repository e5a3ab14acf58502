"""`[web]`: the live view that `ringtest run` and `ringtest listen` serve.

The server binds 127.0.0.1 by default, so only this host sees it. Any other
address needs a token (best from env RINGTEST_WEB__TOKEN, or the file at `token_file`,
as a container's secret); `check_exposure`
refuses to start without one, in one line. Caller numbers appear on the
callback work list only with `show_caller_numbers`; elsewhere they are masked.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr

from ringtest.config.fields import SecretFile, Section, read_secret_file
from ringtest.core.errors import ConfigError

MIN_TOKEN_CHARACTERS = 16


class WebSettings(Section):
    """`[web]`: the live dashboard's server.

    enabled: serve it from `ringtest run` and `ringtest listen`.
    bind: the address to listen on; port: its TCP port (0: any free one).
    token: the shared secret a browser or tool must present; required off loopback.
    token_file: a file holding the token, read when `token` is unset.
    show_caller_numbers: show missed callers' numbers whole on the work list.
    """

    enabled: bool = True
    bind: str = "127.0.0.1"
    port: int = Field(default=8470, ge=0, le=65535)
    token: SecretStr | None = None
    token_file: SecretFile | None = None
    show_caller_numbers: bool = False

    def token_value(self) -> str | None:
        """The token (`token`, else the text of `token_file`), or None when none is set."""
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file is not None:
            return read_secret_file(self.token_file, "web.token_file")
        return None

    def check_exposure(self) -> None:
        """`ConfigError` when the server would listen beyond this host without a token, or
        with one too short to resist guessing."""
        token = self.token_value()
        if token is None and not is_loopback_bind(self.bind):
            raise ConfigError(
                f"web.bind = {self.bind!r} exposes the live view beyond this host without a "
                "token: set web.token (env RINGTEST_WEB__TOKEN) or bind 127.0.0.1"
            )
        if token is not None and len(token) < MIN_TOKEN_CHARACTERS:
            raise ConfigError(
                f"web.token is {len(token)} characters: use {MIN_TOKEN_CHARACTERS} or more "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe())')"
            )


def is_loopback_bind(address: str) -> bool:
    """True when `address` (an IP or ``localhost``) only reaches this host."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
