"""`tote card-token`: tokenize a sandbox test card, as a storefront's checkout page would.

The number goes to the gateway (`POST /v1/tokens`), never to tote; the token it answers is what
PlaceOrder takes. For the sandbox's test cards: a real card belongs in the gateway's own checkout.
"""

from __future__ import annotations

import datetime as dt

import click

# The sandbox's published test cards (API.md), by what they do at authorization.
TEST_CARDS = {
    "approve": "4242424242424242",
    "decline": "4000000000000002",
    "fail-once": "4000000000000119",
}


def tokenize(gateway_url: str, number: str, exp_month: int, exp_year: int, cvc: str,
             timeout_s: float = 10.0) -> str:
    """The gateway's token for a card; ClickException with the gateway's reason if refused."""
    import httpx  # (here: every `tote` command would pay for importing it)

    url = gateway_url.rstrip("/") + "/v1/tokens"
    body = {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}
    try:
        reply = httpx.post(url, json=body, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the gateway at {url}: {exc}; is `tote sandbox` "
                                   "(or `tote serve --sandbox`) running there?") from None
    try:
        answer = reply.json()
    except ValueError:
        answer = {}
    if reply.status_code != 200 or not isinstance(answer, dict) or "token" not in answer:
        why = answer.get("message") if isinstance(answer, dict) else None
        raise click.ClickException(f"the gateway at {url} refused the card "
                                   f"(HTTP {reply.status_code}): {why or reply.text[:200]}")
    return str(answer["token"])


@click.command(name="card-token")
@click.option("--gateway-url", envvar="TOTE_GATEWAY_URL", default="http://127.0.0.1:8090",
              show_default=True, help="the sandbox gateway (env TOTE_GATEWAY_URL)")
@click.option("--card", "which", type=click.Choice(sorted(TEST_CARDS)), default="approve",
              show_default=True, help="which test card: what it does at authorization")
@click.option("--number", help="a card number instead of --card (sandbox test numbers only)")
@click.option("--exp-month", type=click.IntRange(1, 12), default=12, show_default=True)
@click.option("--exp-year", type=click.IntRange(2000, 9999),
              help="default: five years from now")
@click.option("--cvc", default="123", show_default=True)
@click.pass_context
def card_token(ctx: click.Context, gateway_url: str, which: str, number: str | None,
               exp_month: int, exp_year: int | None, cvc: str) -> None:
    """Tokenize a sandbox test card at the gateway; prints only the token (for PlaceOrder)."""
    if number and ctx.get_parameter_source("which") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("pass --card or --number, not both")
    year = exp_year or dt.datetime.now(dt.UTC).year + 5
    token = tokenize(gateway_url, number or TEST_CARDS[which], exp_month, year, cvc)
    click.echo(token)
