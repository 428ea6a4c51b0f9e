"""Every string a client sends, checked in one walk before any handler sees the request.

One table (`RULES`) names every string field of every tote.v1 request message by its proto
name: its length limit (never more than the column it is stored in or compared with, so that
SQLite and PostgreSQL answer alike — PostgreSQL refuses an over-long value, SQLite keeps it) and
its format. Text of no format of its own must hold no card number (core/domain/cards.py):
wherever a client puts one — a cancel reason, an address line, a UPI address — it would be
stored, logged or streamed to watchers. A phone is checked as E.164 instead, and a GTIN-shaped
barcode or gtin (8, 12, 13 or 14 digits) is left to the GTIN rules (check digit, the line it
matches), so a real phone or barcode is never taken for a card.

A string field not in the table (the health service's) gets `DEFAULT_LIMIT` and the card check;
tests/unit/test_request_fields.py keeps the table complete for tote.v1 and within the columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from core.domain.cards import MIN_DIGITS, contains_card_number
from core.domain.commands import card_number_in
from core.domain.contact import check_email, check_locale, check_phone
from core.domain.errors import InvalidArgument

NUL = "\x00"
_STRING, _MESSAGE = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE
TEXT, PHONE, GTIN = "text", "phone", "gtin"
# The customer's contact (core/domain/contact.py): an address, strict E.164, a locale tote has
# messages in. Checked here so that a bad one is refused before anything runs.
EMAIL, E164, LOCALE = "email", "e164", "locale"
_CONTACT_CHECKS = {EMAIL: check_email, E164: check_phone, LOCALE: check_locale}
DEFAULT_LIMIT = 256


@dataclass(frozen=True, slots=True)
class Rule:
    limit: int
    column: str | None = None  # "table.column" the value is stored in or compared with
    kind: str = TEXT


_ID = Rule(40, "orders.order_id")
_FC = Rule(64, "fulfillment_centers.fc_id")
_SKU = Rule(64, "products.sku")
_TASK = Rule(40, "pick_tasks.task_id")
_SHIPMENT = Rule(40, "shipments.shipment_id")
_TRACKING = Rule(64, "shipments.tracking_number")
_CARRIER = Rule(64, "shipments.carrier")
_OPERATOR = Rule(128, "scans.operator")
_ENDPOINT = Rule(40, "webhook_endpoints.endpoint_id")
_STOREFRONT = Rule(128, "webhook_endpoints.storefront")
_CURRENCY = Rule(16)  # then checked as ISO 4217 (three letters) before anything is stored
_V1 = "tote.v1."

RULES: dict[str, Rule] = {_V1 + name: rule for name, rule in {
    # common.proto: the message types requests embed
    "Address.name": Rule(256), "Address.line1": Rule(256), "Address.line2": Rule(256),
    "Address.city": Rule(128), "Address.region": Rule(128), "Address.postal_code": Rule(32),
    "Address.country": Rule(64), "Address.phone": Rule(32, kind=PHONE),
    "Money.currency": _CURRENCY,
    "OrderLine.sku": _SKU,
    "CardPayment.token": Rule(256, "orders.payment_token"),
    "UpiPayment.vpa": Rule(100, "orders.upi_vpa"),
    "Product.sku": _SKU, "Product.name": Rule(256, "products.name"),
    "Product.gtin": Rule(14, "products.gtin", GTIN),
    "FulfillmentCenter.fc_id": _FC, "FulfillmentCenter.name": Rule(256, "fulfillment_centers.name"),
    # catalog.proto
    "GetProductRequest.sku": _SKU, "ListProductsRequest.page_token": Rule(128),
    # fulfillment.proto
    "ExplainRoutingRequest.order_id": _ID,
    "AssignOrderRequest.order_id": _ID, "AssignOrderRequest.fc_id": _FC,
    "NextPickTaskRequest.fc_id": _FC,
    "ScanItemRequest.task_id": _TASK, "ScanItemRequest.barcode": Rule(64, "scans.barcode", GTIN),
    "ScanItemRequest.scan_id": Rule(128, "scans.scan_id"), "ScanItemRequest.operator_id": _OPERATOR,
    "ReportShortPickRequest.task_id": _TASK,
    "ReportShortPickRequest.line_id": Rule(40, "pick_lines.line_id"),
    "ReportShortPickRequest.operator_id": Rule(128, "pick_lines.short_reported_by"),
    "PackOrderRequest.order_id": _ID, "PackOrderRequest.box": Rule(32, "shipments.box"),
    "PackOrderRequest.shipment_id": _SHIPMENT,
    "GetPackListRequest.task_id": _TASK, "GetPackListRequest.order_id": _ID,
    "GetPackListRequest.shipment_id": _SHIPMENT,
    "GetPackListRequest.tote_code": Rule(64),
    "GetOrderDocumentRequest.order_id": _ID, "GetOrderDocumentRequest.shipment_id": _SHIPMENT,
    "GetThroughputRequest.fc_id": _FC,
    # inventory.proto
    "ReceiveStockRequest.fc_id": _FC, "ReceiveStockRequest.sku": _SKU,
    "ReceiveStockRequest.bin": Rule(32, "stock_levels.bin"),
    "GetStockRequest.sku": _SKU, "GetStockRequest.fc_id": _FC,
    # orders.proto
    "PlaceOrderRequest.idempotency_key": Rule(128, "orders.idempotency_key"),
    "PlaceOrderRequest.customer_id": Rule(256, "orders.customer_id"),
    "PlaceOrderRequest.currency": _CURRENCY,
    "CustomerContact.email": Rule(254, "orders.contact_email", EMAIL),
    "CustomerContact.phone": Rule(16, "orders.contact_phone", E164),
    "CustomerContact.locale": Rule(35, "orders.contact_locale", LOCALE),
    "QuoteOrderRequest.customer_id": Rule(256, "orders.customer_id"),
    "QuoteOrderRequest.currency": _CURRENCY,
    "GetOrderRequest.order_id": _ID,
    "ListOrdersRequest.fc_id": _FC,
    "ListOrdersRequest.customer_id": Rule(256, "orders.customer_id"),
    "ListOrdersRequest.page_token": Rule(128),
    "CancelOrderRequest.order_id": _ID, "CancelOrderRequest.reason": Rule(500),
    "WatchOrderRequest.order_id": _ID,
    "WatchOrdersRequest.fc_id": _FC, "WatchOrdersRequest.after_event_id": Rule(64),
    # shipping.proto
    "GetLabelRequest.order_id": _ID,
    "HandOffRequest.carrier": _CARRIER, "HandOffRequest.tracking_numbers": _TRACKING,
    "GetManifestRequest.manifest_id": Rule(40, "manifests.manifest_id"),
    "RecordTrackingEventRequest.tracking_number": _TRACKING,
    "RecordTrackingEventRequest.status": Rule(32, "tracking_events.status"),
    "RecordTrackingEventRequest.location": Rule(200, "tracking_events.location"),
    "RecordCodRemittanceRequest.carrier": Rule(64, "cod_remittances.carrier"),
    "RecordCodRemittanceRequest.reference": Rule(128, "cod_remittances.reference"),
    "RecordCodRemittanceRequest.tracking_numbers": _TRACKING,
    "GetCodReconciliationRequest.carrier": _CARRIER,
    # notifications.proto
    "NotificationPreferences.storefront": Rule(128, "notification_preferences.storefront"),
    "NotificationPreferences.customer_id": Rule(256, "notification_preferences.customer_id"),
    "GetPreferencesRequest.storefront": Rule(128, "notification_preferences.storefront"),
    "GetPreferencesRequest.customer_id": Rule(256, "notification_preferences.customer_id"),
    "ListMessagesRequest.order_id": _ID,
    "ResendRequest.message_id": Rule(40, "notification_messages.message_id"),
    # webhooks.proto
    "CreateEndpointRequest.url": Rule(2048, "webhook_endpoints.url"),
    "CreateEndpointRequest.event_types": Rule(40, "webhook_deliveries.event_type"),
    "CreateEndpointRequest.storefront": _STOREFRONT,
    "ListEndpointsRequest.storefront": _STOREFRONT,
    "DeleteEndpointRequest.endpoint_id": _ENDPOINT,
    "ListDeliveriesRequest.endpoint_id": _ENDPOINT, "ListDeliveriesRequest.order_id": _ID,
    "ListDeliveriesRequest.page_token": Rule(128),
    "RedeliverRequest.delivery_id": Rule(20), "RedeliverRequest.endpoint_id": _ENDPOINT,
}.items()}

_DEFAULT = Rule(DEFAULT_LIMIT)
# '+' and 8-15 digits, grouped by spaces, dashes, dots or brackets as people write them.
_PHONE = re.compile(r"\+[ .\-()]*(?:\d[ .\-()]*){8,15}")


def _gtin_shaped(value: str) -> bool:
    # Judged as a GTIN by the catalog or the scan (its check digit, its line), not as a card:
    # no card network issues 8 or 12 digits, and 13/14 only in retired ranges.
    return len(value) in (8, 12, 13, 14) and value.isascii() and value.isdigit()


_RULE_OF: dict[FieldDescriptor, Rule] = {}


def _rule_of(field: FieldDescriptor) -> Rule:
    # (by descriptor: a field's full_name is built on each access, a dict hit is not)
    rule = _RULE_OF[field] = RULES.get(field.full_name, _DEFAULT)
    return rule


def check_string(path: str, value: str, rule: Rule) -> InvalidArgument | None:
    """The error for one string value, or None. Never echoes the value."""
    if len(value) > rule.limit:
        return InvalidArgument(f"{path} is {len(value)} characters long; at most {rule.limit} "
                               "are accepted", field=path)
    if NUL in value:
        return InvalidArgument(f"{path} contains a NUL character (\\x00), which tote does not "
                               "accept in text", field=path)
    if rule.kind in _CONTACT_CHECKS:
        # A card number is refused as one wherever it is put: the caller learns that, not
        # that it is a poor email address.
        if len(value) >= MIN_DIGITS and contains_card_number(value):
            return card_number_in(path)
        if value:
            try:
                _CONTACT_CHECKS[rule.kind](value, path)
            except InvalidArgument as exc:
                return exc
        return None
    if rule.kind == PHONE:
        if not value or _PHONE.fullmatch(value):
            return None
        return InvalidArgument(f"{path} must be a phone number in E.164 form: + and 8 to 15 "
                               "digits with the country code, e.g. +91 98000 00001 (spaces "
                               "and dashes allowed)", field=path)
    if len(value) < MIN_DIGITS:
        return None  # too short to hold a card number
    if rule.kind == GTIN and _gtin_shaped(value):
        return None
    if contains_card_number(value):
        return card_number_in(path)
    return None


def check_request(message: Message) -> InvalidArgument | None:
    """The error naming the first string field (at any depth) that is wrong, or None.

    A repeated field's element is named by its index, as core names it: `lines[1].sku`."""
    return _walk(message, "")


def _walk(message: Message, prefix: str) -> InvalidArgument | None:
    for field, value in message.ListFields():
        if field.type == _STRING:
            rule = _RULE_OF.get(field) or _rule_of(field)
            if not field.is_repeated:
                error = check_string(prefix + field.name, value, rule)
                if error is not None:
                    return error
                continue
            for i, item in enumerate(value):
                error = check_string(f"{prefix}{field.name}[{i}]", item, rule)
                if error is not None:
                    return error
        elif field.type == _MESSAGE:
            error = _walk_messages(field, value, prefix + field.name)
            if error is not None:
                return error
    return None


def _walk_messages(field: FieldDescriptor, value: Any, path: str) -> InvalidArgument | None:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        for key, item in value.items():
            for part in (key, item):
                if isinstance(part, str):
                    error = check_string(path, part, _DEFAULT)
                elif isinstance(part, Message):
                    error = _walk(part, path + ".")
                else:
                    continue
                if error is not None:
                    return error
        return None
    if not field.is_repeated:
        return _walk(value, path + ".")
    for i, item in enumerate(value):
        error = _walk(item, f"{path}[{i}].")
        if error is not None:
            return error
    return None


def string_fields(desc: Descriptor, depth: int = 0) -> list[FieldDescriptor]:
    """Every string field a message of this type can hold (through its message fields)."""
    out: list[FieldDescriptor] = []
    for field in desc.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            out.append(field)
        elif field.message_type is not None and depth < 8:
            out.extend(string_fields(field.message_type, depth + 1))
    return out
