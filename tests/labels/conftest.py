"""Fixtures for the labels tests: 50 varied sample orders and a helper to read PDFs back."""

from __future__ import annotations

import pytest

from labels import samples
from labels.codes import label_payload
from labels.model import LabelData

N_ORDERS = 50  # test modules parametrize over range(50) to match


@pytest.fixture(scope="session")
def orders() -> list[LabelData]:
    return [samples.label_data(i) for i in range(N_ORDERS)]


def _expected_label_codes(d: LabelData) -> list[tuple[str, str]]:
    return sorted(
        [
            ("CODE128", d.tracking_number),
            ("QRCODE", label_payload(d.tracking_number, d.order_id, d.ship_to.postal_code)),
        ]
    )


@pytest.fixture(scope="session")
def label_codes():
    """What a scanner must read from a shipping label, computed apart from the renderer."""
    return _expected_label_codes
