"""`Mailer`: how the assistant e-mails a customer (one-time codes, a copy of their data).

Two implementations behind one Protocol:

- `SmtpMailer` sends through `SMTP_URL` (`smtps://` is TLS from the start; `smtp://`
  must upgrade with STARTTLS, except to a relay on this machine; user and password from
  the URL);
- `OutboxMailer`, the default run's, writes each message as an `.eml` file to
  `DATA_DIR/outbox/` (mode 0600), where a person trying the demo reads their code.

`mailer_for(settings)` picks one. Both are blocking; actions call them in a thread.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from bot.errors import MailError
from core.settings import Settings

SMTP_TIMEOUT_SECONDS = 15.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})  # a relay on this machine


# An attached file: its name and its JSON bytes.
Attachment = tuple[str, bytes]


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str, attachment: Attachment | None = None) -> None:
        """Deliver one plain-text message to `to` (with a JSON file), or raise MailError."""


def message(
    sender: str, to: str, subject: str, body: str, attachment: Attachment | None = None
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="brightbasket.example")
    mail.set_content(body)
    if attachment is not None:
        name, data = attachment
        mail.add_attachment(data, maintype="application", subtype="json", filename=name)
    return mail


class OutboxMailer:
    """Writes each message to `folder` as `<time>-<id>.eml`."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, to: str, subject: str, body: str, attachment: Attachment | None = None) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(bytes(message(self.sender, to, subject, body, attachment)))
        except OSError as e:
            raise MailError(f"Cannot write to the outbox {self.folder}: {e}.") from e


def outbox_messages(folder: Path) -> list[EmailMessage]:
    """The messages in an outbox folder, oldest first (the evaluation and the tests read
    the customer's code from here, as a person trying the demo does)."""
    paths = sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    parsed = []
    for path in paths:
        mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(mail, EmailMessage)
        parsed.append(mail)
    return parsed


class SmtpMailer:
    """Sends through one SMTP server, a new connection per message."""

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    def send(self, to: str, subject: str, body: str, attachment: Attachment | None = None) -> None:
        mail = message(self.sender, to, subject, body, attachment)
        context = ssl.create_default_context()
        try:
            if self.tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
            with client:
                client.ehlo()
                if not self.tls and client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif not self.tls and self.host not in LOOPBACK_HOSTS:
                    # Codes (and the password) never cross a network in the clear.
                    raise MailError(
                        f"{self.host}:{self.port} does not offer STARTTLS; use smtps:// or a "
                        "server with TLS in SMTP_URL."
                    )
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(mail)
        except (OSError, smtplib.SMTPException) as e:
            raise MailError(
                f"Sending mail through {self.host}:{self.port} failed: {e}. Check SMTP_URL."
            ) from e


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    return OutboxMailer(settings.data_dir / "outbox", settings.mail_from)
