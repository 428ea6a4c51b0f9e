"""TOTE_* variables reach a real `tote serve` process and change what it does; a flag beats
its variable (tests/unit/test_serve_config.py covers every row; this proves the path end to
end for two that change an order)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests.harness import ToteServer, cod, unique, upi


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """A server configured by the environment: a COD limit of 10.00 and a flat 12.34 fee, with
    the fee overridden on the command line (55.55)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TOTE_COD_LIMIT_MINOR", "1000")
        env.setenv("TOTE_SHIPPING_RATES", "100000:1234")
        server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                            args=["--shipping-rates", "100000:5555"]).start()
    try:
        yield server
    finally:
        server.terminate()


def test_the_environment_and_the_flag_reach_the_running_server(admin, shop):
    sku = unique("CUP")
    admin.product(sku, price_minor=900, weight_grams=350)
    admin.receive("FC-BLR", sku, 5)
    # TOTE_COD_LIMIT_MINOR=1000: 9.00 + the fee is over it (the default limit is 50 000.00).
    with pytest.raises(grpc.RpcError) as exc:
        shop.place([(sku, 1)], cod())
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT, exc.value.details()
    assert "up to ₹10.00" in exc.value.details()
    # The flag's fee, not the variable's (and not the default 40.00).
    placed = shop.place([(sku, 1)], upi())
    assert placed.shipping_fee.amount_minor == 5_555
    assert placed.total.amount_minor == 900 + 5_555

