"""The console's tables: one look for every QTableView."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHeaderView, QTableView


def table(model: Any) -> QTableView:
    """A read-only table of whole rows, one selected at a time; columns sized to content."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setWordWrap(False)  # long cells elide; the whole text is in the tooltip
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view
