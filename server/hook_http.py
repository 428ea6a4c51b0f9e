"""Outbound HTTP to storefront webhook URLs, an attack surface kept small.

A storefront chooses the URL, so without care tote would POST wherever it is told: its own
database port, a cloud metadata service (169.254.169.254), the office network. Hence:
- http and https only, a host and no user:password in the URL;
- the host is resolved and every address it resolves to must be global (not private,
  loopback, link-local, multicast, unspecified or reserved; an IPv4-mapped IPv6 address is
  judged by its IPv4) — unless the server runs with --webhooks-allow-private;
- the request goes to the address that was checked (the URL's host in the Host header and in
  TLS's SNI and certificate check), so DNS answering differently between the check and the
  connection changes nothing;
- connect, read and total timeouts; at most RESPONSE_CAP bytes of the answer are read (only its
  status matters); redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from core.domain.webhooks import AttemptOutcome

RESPONSE_CAP = 64 * 1024
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
TOTAL_S = 20.0


class RefusedUrl(ValueError):
    """The URL may not be called; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes: the URL rewritten to a checked address, and the name it had."""

    url: str
    host_header: str
    sni_hostname: str | None


def _address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # The most particular name first: a loopback or link-local address is private too.
    for what, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return what
    return None if ip.is_global else "not globally routable"


def split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL tote may call in form; RefusedUrl otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl(f"url is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("url must be http:// or https://")
    if not parts.hostname:
        raise RefusedUrl("url has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("url must not carry a user or password (it would be stored): "
                         "authenticate deliveries by their webhook-signature")
    if parts.fragment:
        raise RefusedUrl("url must not have a #fragment")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(url: str, allow_private: bool) -> Target:
    """The checked address to send `url`'s request to; RefusedUrl saying why not."""
    scheme, host, port = split(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedUrl(f"url's host {host!r} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise RefusedUrl(f"url's host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            why = _address_refused(ipaddress.ip_address(address.split("%")[0]))
            if why is not None:
                raise RefusedUrl(
                    f"url's host {host!r} resolves to {address}, a {why} address: tote calls "
                    "only public addresses (a server for on-premise storefronts runs with "
                    "--webhooks-allow-private)")
    address = addresses[0]
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    default = 443 if scheme == "https" else 80
    netloc = literal if port == default else f"{literal}:{port}"
    host_header = (f"[{host}]" if ":" in host else host) + ("" if port == default
                                                            else f":{port}")
    return Target(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")),
                  host_header, host if scheme == "https" else None)


def new_client() -> httpx.AsyncClient:
    """The sender's client: no redirects, no proxies from the environment, no cookies kept."""
    return httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT, trust_env=False,
                             limits=httpx.Limits(max_connections=64,
                                                 max_keepalive_connections=16))


async def post(client: httpx.AsyncClient, url: str, allow_private: bool, body: bytes,
               headers: dict[str, str]) -> AttemptOutcome:
    """POST once; how it went (never raises for the network's or the receiver's failures)."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = await resolve(url, allow_private)
    except RefusedUrl as exc:
        return AttemptOutcome(0, str(exc), took())
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    try:
        async with asyncio.timeout(TOTAL_S):
            request = client.build_request(
                "POST", target.url, content=body, extensions=extensions,
                headers={**headers, "host": target.host_header,
                         "content-type": "application/json", "user-agent": "tote-webhooks/1"})
            response = await client.send(request, stream=True)
            latency = took()
            try:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= RESPONSE_CAP:
                        break  # the rest is not needed: closing drops the connection
            finally:
                await response.aclose()
    except TimeoutError:
        return AttemptOutcome(0, f"no answer within {TOTAL_S:.0f} s", took())
    except httpx.TimeoutException as exc:
        return AttemptOutcome(0, f"timed out ({type(exc).__name__})", took())
    except httpx.HTTPError as exc:
        return AttemptOutcome(0, f"{type(exc).__name__}: {exc}"[:500], took())
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("location", "")[:200]
        return AttemptOutcome(status, f"redirect to {where!r} not followed: register the "
                                      "final URL", latency)
    return AttemptOutcome(status, "" if 200 <= status < 300 else f"HTTP {status}", latency)
