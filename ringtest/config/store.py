"""`[store]`: the database calls are kept in.

`url` is an SQLAlchemy URL (a secret: it may hold a password). Where the password
comes as a file (a container's secret, a systemd credential), `password_file` holds
it and the URL names none; `url_value` puts the two together.
"""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ringtest.config.fields import SecretFile, Section, problem, read_secret_file
from ringtest.core.errors import ConfigError


class StoreSettings(Section):
    """`[store]`: where calls are kept.

    url: SQLAlchemy URL; None means the store's embedded SQLite in the platform data
        directory.
    password_file: a file holding the database password, put into `url`.
    """

    url: SecretStr | None = None
    password_file: SecretFile | None = None

    @model_validator(mode="after")
    def _password_file_with_url(self) -> StoreSettings:
        if self.password_file is not None and self.url is None:
            raise problem(
                "has password_file but no url: set store.url (env RINGTEST_DB) to the "
                "database the password is for",
                about_value=False,
            )
        return self

    def url_value(self) -> str | None:
        """`url`, with the password from `password_file` when that is set."""
        if self.url is None:
            return None
        url = self.url.get_secret_value()
        if self.password_file is None:
            return url
        password = read_secret_file(self.password_file, "store.password_file")
        try:
            with_password = make_url(url).set(password=password)
        except ArgumentError:
            raise ConfigError(
                "store.url is not a URL: write it like "
                "postgresql+psycopg://ringtest@127.0.0.1:5432/ringtest"
            ) from None
        return with_password.render_as_string(hide_password=False)
