"""CatalogService, InventoryService and the FC half of FulfillmentService (thin)."""

from __future__ import annotations

import base64

from grpc import aio

from core.domain.errors import InvalidArgument
from core.service import catalog, inventory
from core.service.handlers.catalog import ReceiveStock, UpsertProduct
from server import convert
from server.dbexec import DbExecutor
from tote.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
)


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, dbx: DbExecutor) -> None:
        self._dbx = dbx

    async def UpsertProduct(self, request: catalog_pb2.UpsertProductRequest,
                            context: aio.ServicerContext) -> common_pb2.Product:
        product = await self._dbx.execute(UpsertProduct(convert.product_from_pb(request.product)))
        return convert.product_to_pb(product)

    async def GetProduct(self, request: catalog_pb2.GetProductRequest,
                         context: aio.ServicerContext) -> common_pb2.Product:
        return convert.product_to_pb(await self._dbx.read(catalog.get_product, request.sku))

    async def ListProducts(self, request: catalog_pb2.ListProductsRequest,
                           context: aio.ServicerContext) -> catalog_pb2.ListProductsResponse:
        if request.page_size < 0:
            raise InvalidArgument("page_size must not be negative", field="page_size")
        size = min(request.page_size or 100, 1000)
        after = _decode(request.page_token)
        rows = await self._dbx.read(catalog.list_products, size + 1, after)
        token = ""
        if len(rows) > size:
            rows = rows[:size]
            token = base64.urlsafe_b64encode(rows[-1].sku.encode()).decode()
        return catalog_pb2.ListProductsResponse(
            products=[convert.product_to_pb(p) for p in rows], next_page_token=token)


def _decode(token: str) -> str:
    """The SKU a page token carries; anything else is not a token this server gave out."""
    if not token:
        return ""
    try:
        # validate=True: a lenient decode drops stray characters and turns '%%%%' into ''.
        sku = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeError):
        sku = ""
    # A SKU as core/service/catalog.py's _check_id accepts it.
    if not (0 < len(sku) <= 64 and sku.replace("-", "").replace("_", "").isalnum()):
        raise InvalidArgument("page_token is not one this server gave out: pass the "
                              "next_page_token of the previous reply", field="page_token")
    return sku


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, dbx: DbExecutor) -> None:
        self._dbx = dbx

    async def ReceiveStock(self, request: inventory_pb2.ReceiveStockRequest,
                           context: aio.ServicerContext) -> common_pb2.StockLevel:
        level = await self._dbx.execute(ReceiveStock(request.fc_id, request.sku, request.quantity,
                                                     request.bin))
        return convert.stock_to_pb(level)

    async def GetStock(self, request: inventory_pb2.GetStockRequest,
                       context: aio.ServicerContext) -> inventory_pb2.GetStockResponse:
        levels = await self._dbx.read(inventory.get_stock, request.sku, request.fc_id)
        return inventory_pb2.GetStockResponse(levels=[convert.stock_to_pb(s) for s in levels])
