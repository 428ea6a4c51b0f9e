"""Email over SMTP (smtplib, run in a thread: it blocks) and SMS through an HTTP provider.

`--smtp-url smtp://[USER@]HOST:PORT` upgrades to TLS with STARTTLS when the server offers it
(refusing to log in over a connection left in clear text); `smtps://` is TLS from the first
byte. The password never comes from the URL: TOTE_SMTP_PASSWORD or --smtp-password-file.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from .http_retry import JsonHttpClient, RetryPolicy


class SendFailed(Exception):
    """The provider did not take the message (this attempt); the sender retries later."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    user: str

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"{url!r} is not smtp://HOST:PORT or smtps://HOST:PORT")
        if parts.password:
            raise ValueError("put no password in --smtp-url (it would show in ps and logs): "
                             "use TOTE_SMTP_PASSWORD or --smtp-password-file")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError:
            raise ValueError(f"{url!r}: the port is not a number from 0 to 65535") from None
        return cls(parts.hostname, port, parts.scheme == "smtps",
                   urllib.parse.unquote(parts.username or ""))


def email_message(mail_from: str, to: str, subject: str, text: str, html: str,
                  message_id: str) -> EmailMessage:
    """text/plain with a text/html alternative; the Message-ID names the tote message, so a
    copy sent twice (see docs/operations.md) is recognisably the same message."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = mail_from, to, subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{message_id}@tote>"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


class SmtpSender:
    """One SMTP conversation per message, in a worker thread (smtplib blocks)."""

    def __init__(self, url: str, mail_from: str, password: str | None = None,
                 timeout_s: float = 10.0, tls_context: ssl.SSLContext | None = None) -> None:
        self.target = SmtpTarget.parse(url)
        self._from, self._password, self._timeout = mail_from, password, timeout_s
        self._tls = tls_context or ssl.create_default_context()

    async def send(self, to: str, subject: str, text: str, html: str, message_id: str) -> None:
        msg = email_message(self._from, to, subject, text, html, message_id)
        await asyncio.to_thread(self._send, msg)

    def _send(self, msg: EmailMessage) -> None:
        t = self.target
        try:
            if t.tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(t.host, t.port, timeout=self._timeout,
                                                        context=self._tls)
            else:
                client = smtplib.SMTP(t.host, t.port, timeout=self._timeout)
            with client:
                client.ehlo()
                if not t.tls and client.has_extn("starttls"):
                    client.starttls(context=self._tls)
                    client.ehlo()
                if t.user:
                    if not (t.tls or client.sock and isinstance(client.sock, ssl.SSLSocket)):
                        raise SendFailed("the SMTP server offers no STARTTLS: tote will not "
                                         "send the password in clear text")
                    client.login(t.user, self._password or "")
                refused = client.send_message(msg)
                if refused:
                    raise SendFailed(f"the SMTP server refused the recipient: {refused}")
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP {t.host}:{t.port}: {type(exc).__name__}: {exc}"[:500]
                             ) from exc


class SmsClient(JsonHttpClient):
    """The SMS provider: POST /v1/sms/messages {to, body}, the tote message id as the
    Idempotency-Key, so a provider that keeps keys sends a retried message once."""

    party = "sms provider"

    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        super().__init__(base_url, policy=RetryPolicy(timeout_s=timeout_s, max_attempts=2))

    async def send(self, to: str, body: str, message_id: str) -> str:
        try:
            _, answer = await self.call("POST", "/v1/sms/messages", step="sms",
                                        json={"to": to, "body": body}, key=message_id)
        except Exception as exc:  # unavailable or rejected: this attempt failed
            raise SendFailed(f"SMS provider: {exc}"[:500]) from exc
        return str(answer.get("id") or "")
