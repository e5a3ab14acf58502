"""The database password and the live view's token as files (a container's secrets):
`store.password_file` and `web.token_file`, read like `ami.secret_file`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ringtest.config import load_settings
from ringtest.core.errors import ConfigError

POSTGRES_URL = "postgresql+psycopg://ringtest@127.0.0.1:55432/ringtest"


def test_the_store_password_file_goes_into_the_url(tmp_path: Path) -> None:
    (tmp_path / "postgres_password").write_text("p@ss/w:rd%\n", encoding="utf-8")
    (tmp_path / "ringtest.toml").write_text(
        f'[store]\nurl = "{POSTGRES_URL}"\npassword_file = "postgres_password"\n'
    )
    settings = load_settings(tmp_path / "ringtest.toml", environ={})
    url = make_url(settings.store_url())
    assert (url.username, url.password, url.port, url.database) == (
        "ringtest",
        "p@ss/w:rd%",
        55432,
        "ringtest",
    )


def test_without_a_password_file_the_url_is_as_given() -> None:
    settings = load_settings(environ={"RINGTEST_DB": POSTGRES_URL})
    assert settings.store_url() == POSTGRES_URL


def test_a_store_password_file_without_a_url_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "postgres_password").write_text("secret", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(
            environ={"RINGTEST_STORE__PASSWORD_FILE": str(tmp_path / "postgres_password")}
        )
    assert "store has password_file but no url: set store.url (env RINGTEST_DB)" in str(
        caught.value
    )
    assert "\n" not in str(caught.value)


def test_a_store_password_file_that_goes_missing_is_named_when_used(tmp_path: Path) -> None:
    password_file = tmp_path / "postgres_password"
    password_file.write_text("secret", encoding="utf-8")
    settings = load_settings(
        environ={"RINGTEST_DB": POSTGRES_URL, "RINGTEST_STORE__PASSWORD_FILE": str(password_file)}
    )
    password_file.unlink()
    with pytest.raises(ConfigError) as caught:
        settings.store_url()
    assert str(caught.value) == (
        f"store.password_file '{password_file}' cannot be read (No such file or directory): "
        "check the path and its permissions"
    )


def test_the_web_token_comes_from_its_file_and_the_token_itself_wins(tmp_path: Path) -> None:
    (tmp_path / "web_token").write_text("token-from-the-file-0123456789\n", encoding="utf-8")
    (tmp_path / "ringtest.toml").write_text('[web]\ntoken_file = "web_token"\n')
    from_file = load_settings(tmp_path / "ringtest.toml", environ={})
    assert from_file.web.token_value() == "token-from-the-file-0123456789"
    from_env = load_settings(
        tmp_path / "ringtest.toml", environ={"RINGTEST_WEB__TOKEN": "token-from-the-environment"}
    )
    assert from_env.web.token_value() == "token-from-the-environment"


def test_a_short_token_from_a_file_still_stops_an_exposed_server(tmp_path: Path) -> None:
    (tmp_path / "web_token").write_text("short\n", encoding="utf-8")
    settings = load_settings(
        environ={
            "RINGTEST_WEB__BIND": "0.0.0.0",
            "RINGTEST_WEB__TOKEN_FILE": str(tmp_path / "web_token"),
        }
    )
    with pytest.raises(ConfigError) as caught:
        settings.web.check_exposure()
    assert str(caught.value).startswith("web.token is 5 characters: use 16 or more")


def test_a_store_url_that_is_no_url_with_a_password_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "postgres_password").write_text("secret", encoding="utf-8")
    settings = load_settings(
        environ={
            "RINGTEST_DB": "ringtest on the database server",
            "RINGTEST_STORE__PASSWORD_FILE": str(tmp_path / "postgres_password"),
        }
    )
    with pytest.raises(ConfigError) as caught:
        settings.store_url()
    assert str(caught.value) == (
        "store.url is not a URL: write it like "
        "postgresql+psycopg://ringtest@127.0.0.1:5432/ringtest"
    )
