"""The console's main window: tabs, menus and shortcuts, the connection state, saved geometry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from PySide6.QtCore import QSettings, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from desktop.carriers import carriers_of
from desktop.cod_view import CodView
from desktop.controller import CONNECTED, CONNECTING, ConsoleController
from desktop.dashboard_view import DashboardView
from desktop.dead_letters_view import DeadLettersView
from desktop.handoff_view import HandOffView
from desktop.inventory_view import InventoryView
from desktop.labels_view import LabelsView
from desktop.orders_view import OrdersView

STATE_TEXT = {CONNECTING: "Connecting to {}", CONNECTED: "Connected to {}"}


class MainWindow(QMainWindow):
    """Floor, Orders, Inventory, Labels, Hand-off, COD and Dead letters tabs over one
    controller."""

    def __init__(self, controller: ConsoleController,
                 settings: QSettings | None = None) -> None:
        super().__init__()
        self.controller = controller
        controller.setParent(self)  # Qt deletes it with the window, threads stopped first
        self.settings = settings or QSettings("tote", "console")
        self.setWindowTitle(f"tote console — {controller.client.address}")
        self.orders = OrdersView(controller)
        self.inventory = InventoryView(controller)
        self.dashboard = DashboardView(controller)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dashboard, "Floor")
        self.tabs.addTab(self.orders, "Orders")
        self.tabs.addTab(self.inventory, "Inventory")
        self.labels = LabelsView(controller)
        self.tabs.addTab(self.labels, "Labels")
        self.handoff = HandOffView(controller)
        self.tabs.addTab(self.handoff, "Hand-off")
        self.cod = CodView(controller)
        self.tabs.addTab(self.cod, "COD")
        self.dead_letters = DeadLettersView(controller)
        self.tabs.addTab(self.dead_letters, "Dead letters")
        self.setCentralWidget(self.tabs)

        self.connection = QLabel()
        self.connection.setObjectName("connection_state")
        self.statusBar().addPermanentWidget(self.connection)
        self._show_connection(CONNECTING, controller.client.address)
        controller.connection_changed.connect(self._show_connection)
        controller.error.connect(self.show_error)
        self.orders.status_message.connect(self.show_error)
        # The carrier choosers: carriers on the orders, and those already handed to or paid by.
        self._add_carriers(self.known_carriers())
        for loaded in (controller.orders_loaded, controller.older_orders_loaded):
            loaded.connect(lambda orders: self._add_carriers(carriers_of(orders)))
        controller.order_changed.connect(lambda order: self._add_carriers(carriers_of([order])))
        controller.handed_off.connect(lambda m: self._remember_carrier(m.carrier))
        controller.remittance_recorded.connect(lambda r: self._remember_carrier(r.carrier))

        self._menus()
        geometry = self.settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 760)
        tab = self.settings.value("main_window/tab")
        if tab is not None:
            self.tabs.setCurrentIndex(int(tab))

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.print_action = QAction("&Print…", self,
                                   shortcut=QKeySequence(QKeySequence.StandardKey.Print))
        self.print_action.setStatusTip("Print the label or document shown (the manifest on the "
                                       "Hand-off tab)")
        self.print_action.triggered.connect(self.print_document)
        file_menu.addAction(self.print_action)
        quit_action = QAction("&Quit", self,
                              shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        orders_menu = self.menuBar().addMenu("&Orders")
        orders_menu.addAction(self.orders.cancel_action)
        self.orders.cancel_action.triggered.connect(
            lambda: self.tabs.setCurrentWidget(self.orders))
        view_menu = self.menuBar().addMenu("&View")
        self.refresh_action = QAction("&Refresh", self, shortcut=QKeySequence("F5"))
        self.refresh_action.triggered.connect(self.refresh)
        self.find_action = QAction("&Find…", self,
                                  shortcut=QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.triggered.connect(self.find_in_view)
        view_menu.addAction(self.refresh_action)
        view_menu.addAction(self.find_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def start(self) -> None:
        """First load, and the live stream of order events."""
        self.refresh()
        self.controller.start_watching()

    @Slot()
    def refresh(self) -> None:
        self.controller.load_fcs()
        self.controller.load_orders()
        self.controller.load_stock()
        self.dashboard.load_throughput()
        self.cod.load()
        self.dead_letters.load()
        self.orders.load_messages()
        self.statusBar().showMessage("Refreshing…", 2000)

    @Slot()
    def print_document(self) -> None:
        """Ctrl+P: the manifest on the Hand-off tab, else the label or document shown."""
        if self.tabs.currentWidget() is self.handoff and self.handoff.pane.has_pdf():
            self.handoff.print_dialog()
            return
        self.tabs.setCurrentWidget(self.labels)
        self.labels.print_dialog()

    def known_carriers(self) -> list[str]:
        """The carriers remembered across runs (QSettings gives a list: type=list)."""
        return cast(list[str], self.settings.value("carriers/known", [], type=list))

    def _add_carriers(self, names: Iterable[str]) -> None:
        names = list(names)
        self.handoff.carrier.add_carriers(names)
        self.cod.carrier.add_carriers(names)

    def _remember_carrier(self, carrier: str) -> None:
        known = set(self.known_carriers())
        if carrier and carrier not in known:
            self.settings.setValue("carriers/known", sorted(known | {carrier}))
        self._add_carriers([carrier])

    @Slot()
    def find_in_view(self) -> None:
        view = self.tabs.currentWidget()
        if isinstance(view, OrdersView | InventoryView):
            view.focus_search()

    @Slot(str, str)
    def _show_connection(self, state: str, detail: str) -> None:
        text = STATE_TEXT.get(state, "Disconnected — {}").format(detail)
        color = {CONNECTED: "#1e7e34", CONNECTING: "#856404"}.get(state, "#b02a37")
        self.connection.setText(f"● {text}")
        self.connection.setStyleSheet(f"color: {color}")
        self.connection.setToolTip(detail)

    @Slot(str)
    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)

    def _about(self) -> None:
        QMessageBox.about(self, "tote console",
                          "The fulfilment centre supervisor's console for tote.")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("main_window/geometry", self.saveGeometry())
        self.settings.setValue("main_window/tab", self.tabs.currentIndex())
        self.controller.stop()
        for pane in (self.labels.pane, self.handoff.pane):
            pane.finish_printing()  # a print under way still owns its printer
        super().closeEvent(event)
