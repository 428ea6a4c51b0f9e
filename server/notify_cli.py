"""tote serve's customer-notification flags, gathered into one NotifySettings (issue 16 C)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from server.settings import NotifySettings, parse_schedule

_FLAGS = ("smtp_url", "smtp_password_file", "mail_from", "sms_url", "templates",
          "tracking_link", "notify_retry_schedule", "notify_interval_s")


def _settings(smtp_url: str | None, smtp_password_file: str | None, mail_from: str,
              sms_url: str | None, templates: str | None, tracking_link: str,
              notify_retry_schedule: str, notify_interval_s: float) -> NotifySettings:
    from server.adapters.mail import SmtpTarget
    from server.secrets_cli import read_secret_file

    password = os.environ.get("TOTE_SMTP_PASSWORD") or None
    if smtp_password_file:
        try:
            password = read_secret_file(smtp_password_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--smtp-password-file") from None
    if smtp_url:
        try:
            SmtpTarget.parse(smtp_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--smtp-url") from None
    try:
        schedule = parse_schedule(notify_retry_schedule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--notify-retry-schedule") from None
    if templates and not Path(templates).is_dir():
        raise click.BadParameter(f"{templates} is not a directory", param_hint="--templates")
    try:
        tracking_link.format(carrier="c", tracking_number="t")
    except (KeyError, IndexError, ValueError) as exc:
        raise click.BadParameter(f"{tracking_link!r} may name only {{carrier}} and "
                                 f"{{tracking_number}} ({exc})",
                                 param_hint="--tracking-link") from None
    return NotifySettings(smtp_url=smtp_url, mail_from=mail_from, smtp_password=password,
                          sms_url=sms_url, templates_dir=templates, tracking_link=tracking_link,
                          retry_schedule=schedule, interval_s=notify_interval_s)


def notify_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the notification flags to `tote serve`; it receives them as `notify=NotifySettings`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _FLAGS}
        return command(*args, notify=_settings(**values), **kwargs)

    options = [
        click.option("--smtp-url", envvar="TOTE_SMTP_URL", metavar="smtp[s]://[USER@]HOST:PORT",
                     help="send customer emails through this SMTP server (smtp://: STARTTLS "
                          "when offered; smtps://: TLS); the password comes from "
                          "TOTE_SMTP_PASSWORD or --smtp-password-file, never the URL"),
        click.option("--smtp-password-file", envvar="TOTE_SMTP_PASSWORD_FILE",
                     type=click.Path(dir_okay=False), help="read the SMTP password from here"),
        click.option("--mail-from", envvar="TOTE_MAIL_FROM", default="tote <orders@localhost>",
                     show_default=True, help="the From of customer emails"),
        click.option("--sms-url", envvar="TOTE_SMS_URL",
                     help="send customer texts through this SMS provider (POST /v1/sms/messages;"
                          " the sandbox is one)"),
        click.option("--templates", envvar="TOTE_TEMPLATES", metavar="DIR",
                     help="message templates replacing the shipped ones of the same name "
                          "(LANG/KIND.email.html …)"),
        click.option("--tracking-link", envvar="TOTE_TRACKING_LINK",
                     default="https://track.example/{carrier}/{tracking_number}",
                     show_default=True, help="the tracking link in shipping messages"),
        click.option("--notify-retry-schedule", envvar="TOTE_NOTIFY_RETRY_SCHEDULE",
                     default="10s,1m,5m,30m,2h", show_default=True,
                     help="delays between a message's attempts; after the last a dead letter"),
        click.option("--notify-interval-s", envvar="TOTE_NOTIFY_INTERVAL_S", default=1.0,
                     show_default=True, type=click.FloatRange(min=0.01),
                     help="how often the sender looks for due messages (it is also woken "
                          "after each commit)"),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
