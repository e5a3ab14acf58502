"""Sending mail through the configured SMTP server (`[report.smtp]`).

One function, `send_mail`: connects, upgrades with STARTTLS when configured,
logs in when a user is set, and sends one message to every recipient. A login
without STARTTLS would send the password in clear: it is refused before
connecting unless `report.smtp.allow_plaintext_auth` is set. Every failure the
user can fix (plaintext login, server unreachable, TLS refused, login refused,
recipients refused) is a one-line `ReportError` naming the server and the fix.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ringtest.config.report import ReportSettings
from ringtest.core.errors import ReportError

logger = logging.getLogger(__name__)


def build_message(
    report: ReportSettings,
    subject: str,
    text: str,
    html: str,
    inline_images: Mapping[str, bytes],
    attachments: Sequence[Path],
) -> EmailMessage:
    """A multipart message: text and HTML bodies, PNG images inline, files attached.

    html: may refer to each image of `inline_images` (keyed by a name) as
    ``cid:<name>``; those references are replaced by the images' Content-IDs.
    """
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = report.sender
    message["To"] = ", ".join(report.recipients)
    message.set_content(text)
    content_ids = {name: make_msgid(domain="ringtest") for name in inline_images}
    for name, content_id in content_ids.items():
        html = html.replace(f"cid:{name}", f"cid:{content_id[1:-1]}")
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for name, data in inline_images.items():
        html_part.add_related(data, "image", "png", cid=content_ids[name], filename=name)
    for path in attachments:
        message.add_attachment(
            path.read_bytes(),
            maintype="application",
            subtype="pdf" if path.suffix == ".pdf" else "octet-stream",
            filename=path.name,
        )
    return message


def send_mail(report: ReportSettings, message: EmailMessage) -> None:
    """Send `message` to `report.recipients` through `report.smtp`; ReportError on failure."""
    smtp = report.smtp
    server = f"SMTP server {smtp.host}:{smtp.port}"
    if not report.recipients:
        raise ReportError(
            "report.recipients is empty: list who receives the report, "
            'e.g. recipients = ["performance@council.example"]'
        )
    if smtp.user is not None and not smtp.starttls and not smtp.allow_plaintext_auth:
        raise ReportError(
            f"{server}: logging in as '{smtp.user}' without STARTTLS would send the password "
            "in clear: set report.smtp.starttls = true, or report.smtp.allow_plaintext_auth "
            "= true for a server you trust on this host"
        )
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            password = smtp.password_value()
            if smtp.user is not None:
                client.login(smtp.user, password or "")
            refused = client.send_message(message, to_addrs=list(report.recipients))
    except smtplib.SMTPAuthenticationError:
        raise ReportError(
            f"{server} refused the login for user '{smtp.user}': check report.smtp.user "
            "and the password in RINGTEST_REPORT__SMTP__PASSWORD or report.smtp.password_file"
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        raise ReportError(
            f"{server} does not offer {_feature(error)}: set report.smtp.starttls = false "
            "for a server without TLS, or check report.smtp.port"
        ) from None
    except (ssl.SSLError, ssl.CertificateError) as error:
        raise ReportError(
            f"{server} STARTTLS failed ({error.__class__.__name__}): check the server's "
            "certificate, or report.smtp.port"
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        raise ReportError(
            f"{server} refused every recipient ({', '.join(error.recipients)}): "
            "check report.recipients"
        ) from None
    except smtplib.SMTPException as error:
        raise ReportError(
            f"{server} failed to send the report ({_one_line(error)}): check [report.smtp]"
        ) from None
    except OSError as error:
        raise ReportError(
            f"{server} is unreachable ({error.strerror or error}): "
            "check report.smtp.host and report.smtp.port"
        ) from None
    if refused:
        logger.warning("%s refused recipients %s", server, ", ".join(refused))
    logger.info(
        "sent '%s' to %d recipients via %s", message["Subject"], len(report.recipients), server
    )


def _feature(error: smtplib.SMTPNotSupportedError) -> str:
    text = str(error).lower()
    return "STARTTLS" if "starttls" in text else "login (AUTH)" if "auth" in text else str(error)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
