"""The "FC" combo box of the floor and labels tabs: one FC, or all of them."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from tote.v1 import common_pb2

ALL_FCS = "All FCs"


def fill(box: QComboBox, fcs: list[common_pb2.FulfillmentCenter]) -> None:
    """Offer these FCs (and all of them), keeping the choice, without a change signal."""
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    box.addItems([ALL_FCS, *[fc.fc_id for fc in fcs]])
    box.setCurrentText(current)
    box.blockSignals(False)


def at(order: common_pb2.Order, fc: str) -> bool:
    """The order is fulfilled (in part) at the chosen FC, or all FCs are chosen."""
    return fc == ALL_FCS or order.fc_id == fc or any(s.fc_id == fc for s in order.shipments)
