"""Customer messages rendered from Jinja2 templates: email subject, text and HTML; SMS text.

The shipped templates are server/notify_templates/<language>/<kind>.{subject.txt, email.txt,
email.html, sms.txt}; `--templates DIR` holds replacements under the same names (a file there
wins over the shipped one). The language is the locale's (hi-IN → hi), English when tote has
none for it. HTML is autoescaped (a customer's name is data, not markup); text is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from core.domain.contact import language_of
from core.domain.money import format_money
from core.persistence.repos.notifications import MessageRecord
from core.service.notifications import MessageFacts

SHIPPED = Path(__file__).resolve().parent / "notify_templates"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str  # empty for an SMS


class Templates:
    """The template environment: the override directory first, then the shipped set."""

    def __init__(self, override_dir: str | None = None,
                 tracking_link: str = "https://track.example/{carrier}/{tracking_number}"
                 ) -> None:
        dirs = [str(Path(override_dir))] if override_dir else []
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([*dirs, str(SHIPPED)]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",),
                                                default_for_string=False, default=False),
            undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        self._tracking_link = tracking_link

    def _get(self, lang: str, name: str) -> jinja2.Template:
        try:
            return self._env.get_template(f"{lang}/{name}")
        except jinja2.TemplateNotFound:
            return self._env.get_template(f"en/{name}")

    def context(self, message: MessageRecord, facts: MessageFacts) -> dict[str, Any]:
        cur = facts.currency
        parcel = next((p for p in facts.parcels if p.tracking_number), None)
        carrier = parcel.carrier if parcel else ""
        number = parcel.tracking_number if parcel else ""
        # The event names the parcel it is about (a split order has several).
        for p in facts.parcels:
            if p.tracking_number and p.tracking_number in message.detail:
                carrier, number = p.carrier, p.tracking_number
        return {
            "order_id": facts.order_id, "name": facts.customer_name,
            "total": format_money(facts.total_minor, cur),
            "cod": facts.payment_method == "cod",
            "cod_amount": format_money(facts.cod_due_minor, cur) if facts.cod_due_minor else "",
            "refunded": format_money(facts.refunded_minor, cur) if facts.refunded_minor else "",
            "voided": facts.payment_state == "voided",
            "reason": facts.cancel_reason, "carrier": carrier, "tracking_number": number,
            "tracking_link": self._tracking_link.format(carrier=carrier,
                                                        tracking_number=number),
            "detail": message.detail,
        }

    def render(self, kind: str, message: MessageRecord, facts: MessageFacts) -> Rendered:
        lang = language_of(message.locale)
        ctx = self.context(message, facts)
        subject = self._get(lang, f"{kind}.subject.txt").render(ctx).strip()
        if message.channel == "sms":
            return Rendered("", self._get(lang, f"{kind}.sms.txt").render(ctx).strip(), "")
        return Rendered(subject, self._get(lang, f"{kind}.email.txt").render(ctx).strip() + "\n",
                        self._get(lang, f"{kind}.email.html").render(ctx))
