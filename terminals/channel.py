"""The clients' gRPC channel to one `tote serve` or to several replicas of it.

`--server` takes one address (`host:port`, dialled exactly as it always was: gRPC's own dns
resolver and pick_first, so a name with several A records already fails over), or several
separated by commas (`host1:port,host2:port`). Several addresses become one channel with
gRPC's own round_robin load balancing over them: calls spread over the replicas, a replica
that goes away leaves the list of ready ones, and idempotent calls that fail with UNAVAILABLE
are retried (gRPC's retry policy, from the service config) on a replica that answers.

Hostnames in a list are resolved here, once, when the channel is made (every address each
name has), into an `ipv4:`/`ipv6:` target: gRPC's dns resolver takes one name per channel, so a
list of names cannot go through it. A replica that moves to a new address is found again when
the client restarts. With TLS the name checked in every replica's certificate is the first
host of the list (one certificate for the service that names it, as behind any balancer).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass

import grpc

# Calls that may be sent twice with the effect of once: reads, upserts, and the writes that
# carry their own idempotency key (PlaceOrder) or scan id (ScanItem). Only these are retried
# on another replica when the one that had them went away mid-call.
IDEMPOTENT = {
    "tote.v1.CatalogService": ("GetProduct", "ListProducts", "UpsertProduct"),
    "tote.v1.FulfillmentService": ("ListFulfillmentCenters", "ExplainRouting", "GetPackList",
                                   "GetOrderDocument", "GetThroughput", "ScanItem",
                                   "UpsertFulfillmentCenter"),
    "tote.v1.InventoryService": ("GetStock",),
    "tote.v1.OrderService": ("PlaceOrder", "QuoteOrder", "GetOrder", "ListOrders"),
    "tote.v1.ShippingService": ("GetLabel", "GetManifest", "GetCodReconciliation"),
}
RETRY_POLICY = {
    # gRPC caps attempts at 5; backoff is randomised between 0 and the current bound.
    "maxAttempts": 5,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
SERVICE_CONFIG = json.dumps({
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [{
        "name": [{"service": service, "method": method} for service, methods in
                 IDEMPOTENT.items() for method in methods],
        "retryPolicy": RETRY_POLICY,
    }],
})


class AddressError(ValueError):
    """A --server value that names no usable address; the message says which part."""


@dataclass(frozen=True)
class Target:
    """What a channel dials: the gRPC target, the host to check in a TLS certificate, and
    whether it spreads calls over several addresses."""

    target: str
    host: str
    several: bool

    @property
    def options(self) -> list[tuple[str, object]]:
        if not self.several:
            return []  # one address: the channel exactly as before
        return [("grpc.service_config", SERVICE_CONFIG),
                ("grpc.lb_policy_name", "round_robin"),
                ("grpc.enable_retries", 1)]


def split(address: str) -> list[tuple[str, int]]:
    """`host1:port,host2:port` as (host, port) pairs; `[::1]:50051` for an IPv6 literal."""
    pairs = []
    for part in (p.strip() for p in address.split(",")):
        if not part:
            raise AddressError(f"--server {address!r}: an empty address in the list (write "
                               "host1:port,host2:port)")
        host, sep, port = part.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise AddressError(f"--server {address!r}: {part!r} is not host:port")
        pairs.append((host.removeprefix("[").removesuffix("]"), int(port)))
    return pairs


def resolve(pairs: list[tuple[str, int]]) -> str:
    """An `ipv4:` (or `ipv6:`) target listing every address of every host, in order."""
    found: dict[int, list[str]] = {socket.AF_INET: [], socket.AF_INET6: []}
    every_host: dict[int, bool] = {socket.AF_INET: True, socket.AF_INET6: True}
    for host, port in pairs:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise AddressError(f"--server: cannot resolve {host}: {exc.strerror}") from None
        for family in found:
            ips = [str(info[4][0]) for info in infos if info[0] == family]
            every_host[family] = every_host[family] and bool(ips)
            for ip in dict.fromkeys(ips):
                entry = f"{ip}:{port}" if family == socket.AF_INET else f"[{ip}]:{port}"
                if entry not in found[family]:
                    found[family].append(entry)
    # One channel takes one address family (gRPC's ipv4:/ipv6: schemes): IPv4 when every
    # host has one, else IPv6 when every host has one.
    for family, scheme in ((socket.AF_INET, "ipv4"), (socket.AF_INET6, "ipv6")):
        if every_host[family] and found[family]:
            return f"{scheme}:{','.join(found[family])}"
    raise AddressError("--server: the hosts have no address family in common (some only "
                       "IPv4, some only IPv6); list addresses of one family")


def target(address: str) -> Target:
    """The channel's target for a --server value (AddressError when it is not one)."""
    pairs = split(address)
    if len(pairs) == 1:
        return Target(address.strip(), pairs[0][0], several=False)
    return Target(resolve(pairs), pairs[0][0], several=True)


def open_channel(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.Channel:
    """A blocking channel to one address or a list of replicas; TLS with credentials."""
    dial = target(address)
    options = dial.options
    if credentials is None:
        return grpc.insecure_channel(dial.target, options=options)
    if dial.several:
        # The certificate is checked against the first host, not the target's text.
        host = f"[{dial.host}]" if _is_ipv6(dial.host) else dial.host
        options = [*options, ("grpc.ssl_target_name_override", dial.host),
                   ("grpc.default_authority", f"{host}:{split(address)[0][1]}")]
    return grpc.secure_channel(dial.target, credentials, options=options)


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False
