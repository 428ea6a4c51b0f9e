"""A repository builds each record straight from its row (`Record(*row)`): each statement
selects the record's fields, in the record's order."""

from dataclasses import fields

import pytest

from core.persistence.repos import cod, pack_lists, picking, shipping

CASES = [
    (picking._QUEUED, picking.QueuedLine),
    (picking._TASK_LINES, picking.TaskLine),
    (picking._TASK_LINE, picking.TaskLine),
    (picking._SCAN_LINES, picking.ScanLine),
    (picking._LOCK_TASK, picking.PickTaskRecord),
    (picking._PRIOR_SCAN, picking.PriorScan),
    (picking._SHIPMENT_LINES, picking.LineCount),
    (picking._ORDER_REF, picking.OrderRef),
    (pack_lists._LINES_OF, pack_lists.ShipmentLine),
    (cod._REMITTANCE, cod.RemittanceRecord),
    (shipping._PARCEL, shipping.Parcel),
]


@pytest.mark.parametrize(("stmt", "record"), CASES, ids=[r.__name__ for _, r in CASES])
def test_each_statement_selects_its_records_fields_in_order(stmt, record):
    assert [c.key for c in stmt.selected_columns] == [f.name for f in fields(record)]


def test_a_scan_line_is_a_task_line_with_its_orders_event_fields():
    extra = [f.name for f in fields(picking.ScanLine)][len(fields(picking.TaskLine)):]
    assert extra == ["order_fc_id", "storefront"]
