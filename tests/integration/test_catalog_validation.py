"""UpsertProduct and UpsertFulfillmentCenter refuse bad values with INVALID_ARGUMENT naming the
field, and a refused upsert changes nothing: read back, the product or FC is as it was."""

from __future__ import annotations

import base64
from collections.abc import Callable

import grpc
import pytest

from tests.harness import Client, unique
from tote.v1 import catalog_pb2, common_pb2, fulfillment_pb2

MB = "x" * 1_000_000


def good_product(sku: str) -> common_pb2.Product:
    return common_pb2.Product(sku=sku, name="Steel mug", gtin="4006381333931",
                              unit_price=common_pb2.Money(amount_minor=49_900, currency="INR"),
                              weight_grams=350)


def _set(path: str, value: object) -> Callable[[common_pb2.Product], None]:
    def change(msg) -> None:  # type: ignore[no-untyped-def]
        *parents, leaf = path.split(".")
        for name in parents:
            msg = getattr(msg, name)
        setattr(msg, leaf, value)
    return change


# case: (change to a good product, the field the message must name)
PRODUCT_CASES: dict[str, tuple[Callable[[common_pb2.Product], None], str]] = {
    "wrong GTIN check digit": (_set("gtin", "4006381333932"), "product.gtin"),
    "GTIN of 11 digits": (_set("gtin", "40063813339"), "product.gtin"),
    "GTIN with a letter": (_set("gtin", "400638133393X"), "product.gtin"),
    "empty GTIN": (_set("gtin", ""), "product.gtin"),
    "1 MB GTIN": (_set("gtin", MB), "product.gtin"),
    "negative price": (_set("unit_price.amount_minor", -1), "product.unit_price"),
    "zero price": (_set("unit_price.amount_minor", 0), "product.unit_price"),
    "no price at all": (lambda p: p.ClearField("unit_price"), "product.unit_price"),
    "missing currency": (_set("unit_price.currency", ""), "product.unit_price.currency"),
    "lower-case currency": (_set("unit_price.currency", "inr"), "product.unit_price.currency"),
    "four-letter currency": (_set("unit_price.currency", "INRS"), "product.unit_price.currency"),
    "currency with a newline": (_set("unit_price.currency", "INR\n"),
                                "product.unit_price.currency"),
    "negative weight": (_set("weight_grams", -350), "product.weight_grams"),
    "zero weight": (_set("weight_grams", 0), "product.weight_grams"),
    "empty sku": (_set("sku", ""), "product.sku"),
    "sku with a space": (_set("sku", "MUG 1"), "product.sku"),
    "65-character sku": (_set("sku", "M" * 65), "product.sku"),
    "empty name": (_set("name", ""), "product.name"),
    "blank name": (_set("name", "   "), "product.name"),
    "257-character name": (_set("name", "n" * 257), "product.name"),
    "1 MB name": (_set("name", MB), "product.name"),
}


def refused(call, request, client: Client) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(request, metadata=client.metadata)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT, exc.value.details()
    message = exc.value.details()
    assert len(message) < 1_000  # a 1 MB value is not echoed back
    return message


def read_product(admin: Client, sku: str) -> common_pb2.Product | None:
    try:
        return admin.catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku),
                                        metadata=admin.metadata)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND, exc.details()
        return None


@pytest.mark.parametrize("case", PRODUCT_CASES)
def test_a_bad_product_is_refused_naming_the_field_and_changes_nothing(admin, case):
    change, field = PRODUCT_CASES[case]
    # A new SKU is not created...
    new = good_product(unique("NEW"))
    change(new)
    message = refused(admin.catalog.UpsertProduct,
                      catalog_pb2.UpsertProductRequest(product=new), admin)
    assert field in message, message
    if new.sku and len(new.sku) <= 64:
        assert read_product(admin, new.sku) is None
    # ...and an existing product keeps every value it had.
    sku = unique("OLD")
    before = admin.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=good_product(sku)), metadata=admin.metadata)
    bad = good_product(sku)
    change(bad)
    if bad.sku != sku:
        return  # (the case is the SKU itself: nothing to update)
    assert field in refused(admin.catalog.UpsertProduct,
                            catalog_pb2.UpsertProductRequest(product=bad), admin)
    assert read_product(admin, sku) == before == good_product(sku)


def test_the_good_product_the_cases_start_from_is_accepted(admin):
    sku = unique("OK")
    saved = admin.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=good_product(sku)), metadata=admin.metadata)
    assert saved == good_product(sku) == read_product(admin, sku)


def good_fc(fc_id: str) -> common_pb2.FulfillmentCenter:
    return common_pb2.FulfillmentCenter(
        fc_id=fc_id, name=f"{fc_id} warehouse", latitude=12.97, longitude=77.59, cutoff_hour=16,
        daily_capacity=1000, address=common_pb2.Address(
            name="tote FC", line1="1 Industrial Area", city="Bengaluru", region="KA",
            postal_code="560058", country="IN", phone="+918000000000"))


FC_CASES: dict[str, tuple[Callable[[common_pb2.FulfillmentCenter], None], str]] = {
    "latitude 90.5": (_set("latitude", 90.5), "fc.latitude"),
    "latitude -91": (_set("latitude", -91.0), "fc.latitude"),
    "latitude NaN": (_set("latitude", float("nan")), "fc.latitude"),
    "longitude 180.5": (_set("longitude", 180.5), "fc.longitude"),
    "longitude -200": (_set("longitude", -200.0), "fc.longitude"),
    "longitude infinite": (_set("longitude", float("inf")), "fc.longitude"),
    "cutoff_hour 24": (_set("cutoff_hour", 24), "fc.cutoff_hour"),
    "cutoff_hour -1": (_set("cutoff_hour", -1), "fc.cutoff_hour"),
    "negative capacity": (_set("daily_capacity", -1), "fc.daily_capacity"),
    "empty fc_id": (_set("fc_id", ""), "fc.fc_id"),
    "65-character fc_id": (_set("fc_id", "F" * 65), "fc.fc_id"),
    "fc_id with a slash": (_set("fc_id", "FC/1"), "fc.fc_id"),
    "empty name": (_set("name", ""), "fc.name"),
    "1 MB name": (_set("name", MB), "fc.name"),
    "1 MB address line": (_set("address.line1", MB), "fc.address.line1"),
}


def read_fc(admin: Client, fc_id: str) -> common_pb2.FulfillmentCenter | None:
    fcs = admin.fulfillment.ListFulfillmentCenters(
        fulfillment_pb2.ListFulfillmentCentersRequest(), metadata=admin.metadata).fcs
    return next((fc for fc in fcs if fc.fc_id == fc_id), None)


@pytest.mark.parametrize("case", FC_CASES)
def test_a_bad_fulfillment_center_is_refused_naming_the_field_and_changes_nothing(admin, case):
    change, field = FC_CASES[case]
    upsert = admin.fulfillment.UpsertFulfillmentCenter
    new = good_fc(unique("FCN"))
    change(new)
    message = refused(upsert, fulfillment_pb2.UpsertFulfillmentCenterRequest(fc=new), admin)
    assert field in message, message
    if new.fc_id:
        assert read_fc(admin, new.fc_id) is None
    fc_id = unique("FCO")
    before = upsert(fulfillment_pb2.UpsertFulfillmentCenterRequest(fc=good_fc(fc_id)),
                    metadata=admin.metadata)
    bad = good_fc(fc_id)
    change(bad)
    if bad.fc_id != fc_id:
        return
    assert field in refused(upsert, fulfillment_pb2.UpsertFulfillmentCenterRequest(fc=bad),
                            admin)
    assert read_fc(admin, fc_id) == before


def test_the_good_fc_the_cases_start_from_is_accepted_with_its_edge_values(admin):
    upsert = admin.fulfillment.UpsertFulfillmentCenter
    for edge in (dict(latitude=90.0, longitude=180.0, cutoff_hour=0, daily_capacity=0),
                 dict(latitude=-90.0, longitude=-180.0, cutoff_hour=23)):
        fc = good_fc(unique("FCE"))
        for name, value in edge.items():
            setattr(fc, name, value)
        saved = upsert(fulfillment_pb2.UpsertFulfillmentCenterRequest(fc=fc),
                       metadata=admin.metadata)
        assert saved.fc_id == fc.fc_id and read_fc(admin, fc.fc_id) == saved
        assert (saved.latitude, saved.longitude, saved.cutoff_hour) == (
            fc.latitude, fc.longitude, fc.cutoff_hour)


# --- ListProducts pages -------------------------------------------------------------------


def list_page(admin: Client, **kw) -> catalog_pb2.ListProductsResponse:  # type: ignore[no-untyped-def]
    return admin.catalog.ListProducts(catalog_pb2.ListProductsRequest(**kw),
                                      metadata=admin.metadata)


def test_products_page_in_sku_order_each_once(admin):
    mine = sorted(unique("PG") for _ in range(7))
    for sku in mine:
        admin.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
            product=good_product(sku)), metadata=admin.metadata)
    listed, token, pages = [], "", 0
    while True:
        reply = list_page(admin, page_size=3, page_token=token)
        assert len(reply.products) <= 3
        listed += [p.sku for p in reply.products]
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    assert pages >= 3
    assert listed == sorted(set(listed))  # SKU order, none twice
    assert set(mine) <= set(listed)


@pytest.mark.parametrize("token", [
    "garbage", "%%%%", "////", base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    base64.urlsafe_b64encode(b"a b").decode(), "x" * 10_000])
def test_a_products_page_token_the_server_never_gave_out_is_invalid_argument(admin, token):
    message = refused(admin.catalog.ListProducts,
                      catalog_pb2.ListProductsRequest(page_token=token), admin)
    assert "page_token" in message
