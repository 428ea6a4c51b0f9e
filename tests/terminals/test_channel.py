"""--server with one address or several (terminals/channel.py): one address is dialled as it
always was; several become one round_robin target over every address, names resolved."""

from __future__ import annotations

import json

import pytest

from terminals.channel import SERVICE_CONFIG, AddressError, split, target


def test_one_address_is_dialled_as_given_with_no_options():
    one = target("tote.example:50051")
    assert (one.target, one.host, one.options) == ("tote.example:50051", "tote.example", [])


def test_several_addresses_are_one_round_robin_target_with_retries():
    pair = target("127.0.0.1:7001, 127.0.0.1:7002")
    assert pair.target == "ipv4:127.0.0.1:7001,127.0.0.1:7002" and pair.host == "127.0.0.1"
    config = json.loads(dict(pair.options)["grpc.service_config"])  # type: ignore[arg-type]
    assert config == json.loads(SERVICE_CONFIG)
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    retried = {(n["service"], n["method"]) for n in config["methodConfig"][0]["name"]}
    assert ("tote.v1.OrderService", "PlaceOrder") in retried  # it carries its own key
    assert ("tote.v1.OrderService", "CancelOrder") not in retried


def test_hostnames_in_a_list_are_resolved_and_the_first_is_the_name_checked():
    pair = target("localhost:7001,127.0.0.1:7002")
    assert pair.target.startswith("ipv4:127.0.0.1:7001") and pair.host == "localhost"


@pytest.mark.parametrize("bad", ["a:1,", "a:1,b", "a:x,b:2", ",a:1", "a:1,b:70000"])
def test_a_list_that_is_not_host_port_pairs_is_refused_with_the_part_named(bad):
    with pytest.raises(AddressError, match="--server"):
        split(bad)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(AddressError, match="cannot resolve no-such-host.invalid"):
        target("no-such-host.invalid:1,127.0.0.1:2")
