"""tote.v1's .proto files as their generated descriptors, for tests that walk every service."""

from __future__ import annotations

from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor

from tote.v1 import (
    catalog_pb2,
    common_pb2,
    fulfillment_pb2,
    inventory_pb2,
    notifications_pb2,
    orders_pb2,
    shipping_pb2,
    webhooks_pb2,
)

PROTO_FILES: tuple[FileDescriptor, ...] = tuple(m.DESCRIPTOR for m in (
    catalog_pb2, common_pb2, fulfillment_pb2, inventory_pb2, notifications_pb2, orders_pb2,
    shipping_pb2, webhooks_pb2))


def service(name: str) -> ServiceDescriptor:
    """The service of that name (e.g. "OrderService"), from whichever file declares it."""
    return next(f.services_by_name[name] for f in PROTO_FILES if name in f.services_by_name)
