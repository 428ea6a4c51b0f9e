"""Which GetPackList question a code scanned at the packing station asks."""

from __future__ import annotations

from terminals.client import pack_list_request


def test_a_tote_a_shipment_or_an_order_label_asks_by_its_own_id():
    assert pack_list_request(" pt_01TOTE ").task_id == "pt_01TOTE"
    shipment = pack_list_request("shp_01AB")
    assert (shipment.shipment_id, shipment.task_id, shipment.order_id) == ("shp_01AB", "", "")
    order = pack_list_request("ord_01XYZ")
    assert (order.order_id, order.task_id, order.shipment_id) == ("ord_01XYZ", "", "")
    assert pack_list_request("WEB-1234").order_id == "WEB-1234"  # any other id is an order's
