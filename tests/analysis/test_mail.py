"""The report by mail: a real SMTP server (aiosmtpd) on a free loopback port receives it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope

from analysis.report import send_weekly_report
from ringtest.campaigns.weekly_report import send_scheduled_report
from ringtest.config import Settings, load_settings
from ringtest.core.errors import ReportError
from ringtest.outputs.mail import build_message, send_mail
from tests.analysis.conftest import CALLER, LAB_CONFIG

MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
"""When the campaign daemon sends the report of ISO week 2026-W47."""


class Inbox:
    """aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.received.set()
        return "250 OK"


class SmtpServer:
    """A real aiosmtpd server on 127.0.0.1, port 0, in its own event-loop thread."""

    def __init__(self, password: str | None = None) -> None:
        self.inbox = Inbox()
        self.password = password
        self.logins = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins += 1
        return AuthResult(success=auth_data.password.decode() == self.password, handled=False)

    def __enter__(self) -> SmtpServer:
        options = (
            {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
                "auth_exclude_mechanism": ["LOGIN"],
            }
            if self.password
            else {}
        )
        factory = lambda: SMTP(self.inbox, hostname="ringtest-test", **options)  # noqa: E731
        self.thread.start()
        server = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(factory, "127.0.0.1", 0), self.loop
        ).result(timeout=10)
        self.server = server
        self.port = server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc_info: object) -> None:
        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def with_smtp(settings: Settings, port: int, **smtp: object) -> Settings:
    """`settings` with two recipients and the SMTP server at 127.0.0.1:`port`, no TLS."""
    overrides = {
        "store.url": settings.store_url(),
        "report.output_dir": str(settings.report.output_dir),
        "report.recipients": ["manager@council.example", "performance@council.example"],
        "report.sender": "ringtest@council.example",
        "report.smtp": {"host": "127.0.0.1", "port": port, "starttls": False, **smtp},
    }
    return load_settings(LAB_CONFIG, overrides=overrides, environ={})


def test_the_weekly_report_arrives_with_the_pdf_and_the_summary_inline(council, smtp_server):
    settings, store = council
    settings = with_smtp(settings, smtp_server.port)
    pdf = send_weekly_report(settings, store, MONDAY_MORNING)
    assert pdf.name == "report.pdf" and pdf.parent.name == "week-2026-W47"
    assert smtp_server.inbox.received.wait(timeout=10)
    [message] = smtp_server.inbox.messages
    assert message["Subject"] == "Telephone standards, week 2026-W47 (16 Nov to 22 Nov 2026)"
    assert message["To"] == "manager@council.example, performance@council.example"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == pdf.read_bytes()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<th scope='row'>Council Tax</th><td>5</td><td>60%</td>" in html
    assert (
        "Department: Council Tax | Calls: 5 | Answered within 7 rings: 60%"
        in message.get_body(preferencelist=("plain",)).get_content()
    )
    assert html.count("src='cid:") == 4
    assert CALLER not in message.as_string()


def test_a_wrong_smtp_password_is_one_line(council):
    settings, _store = council
    with SmtpServer(password="right") as server:
        settings = with_smtp(
            settings, server.port, user="reports", password="wrong", allow_plaintext_auth=True
        )
        with pytest.raises(ReportError) as caught:
            send_mail(settings.report, plain_message(settings))
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{server.port} refused the login for user 'reports': check "
        "report.smtp.user and the password in RINGTEST_REPORT__SMTP__PASSWORD or "
        "report.smtp.password_file"
    )


def test_the_right_smtp_password_logs_in_and_sends(council):
    settings, _store = council
    with SmtpServer(password="right") as server:
        settings = with_smtp(
            settings, server.port, user="reports", password="right", allow_plaintext_auth=True
        )
        send_mail(settings.report, plain_message(settings))
        assert server.inbox.received.wait(timeout=10)
    assert server.inbox.messages[0]["Subject"] == "test"


def test_a_login_without_tls_is_refused_before_the_password_is_sent(council):
    settings, _store = council
    with SmtpServer(password="right") as server:
        settings = with_smtp(settings, server.port, user="reports", password="right")
        with pytest.raises(ReportError) as caught:
            send_mail(settings.report, plain_message(settings))
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{server.port}: logging in as 'reports' without STARTTLS "
        "would send the password in clear: set report.smtp.starttls = true, or "
        "report.smtp.allow_plaintext_auth = true for a server you trust on this host"
    )
    assert server.logins == 0
    assert server.inbox.messages == []


def test_a_login_without_tls_is_made_when_explicitly_allowed(council):
    settings, _store = council
    with SmtpServer(password="right") as server:
        settings = with_smtp(
            settings, server.port, user="reports", password="right", allow_plaintext_auth=True
        )
        send_mail(settings.report, plain_message(settings))
        assert server.inbox.received.wait(timeout=10)
    assert server.logins == 1


def test_an_unreachable_smtp_server_is_one_line(council):
    settings, _store = council
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        settings = with_smtp(settings, port)
        with pytest.raises(ReportError) as caught:
            send_mail(settings.report, plain_message(settings))
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{port} is unreachable (Connection refused): "
        "check report.smtp.host and report.smtp.port"
    )


def test_starttls_against_a_server_without_it_is_one_line(council, smtp_server):
    settings, _store = council
    settings = with_smtp(settings, smtp_server.port, starttls=True)
    with pytest.raises(ReportError) as caught:
        send_mail(settings.report, plain_message(settings))
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{smtp_server.port} does not offer STARTTLS: set "
        "report.smtp.starttls = false for a server without TLS, or check report.smtp.port"
    )


def test_no_recipients_is_one_line(council, smtp_server):
    settings, _store = council
    settings = load_settings(LAB_CONFIG, overrides={"report.recipients": []}, environ={})
    with pytest.raises(ReportError) as caught:
        send_mail(settings.report, plain_message(settings))
    assert str(caught.value) == (
        "report.recipients is empty: list who receives the report, "
        'e.g. recipients = ["performance@council.example"]'
    )
    assert smtp_server.inbox.messages == []


def plain_message(settings: Settings) -> EmailMessage:
    return build_message(settings.report, "test", "text", "<p>html</p>", {}, [Path(__file__)])


def test_the_daemon_mails_a_week_without_calls(council, smtp_server):
    settings, store = council
    settings = with_smtp(settings, smtp_server.port)
    quiet_monday = datetime(2027, 1, 18, 8, 0, tzinfo=UTC)
    send_scheduled_report(settings, store, lambda: quiet_monday)
    assert smtp_server.inbox.received.wait(timeout=10)
    [message] = smtp_server.inbox.messages
    assert message["Subject"] == "Telephone standards, week 2027-W02 (11 Jan to 17 Jan 2027)"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert "There were no calls to any monitored line in week 2027-W02." in plain
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
