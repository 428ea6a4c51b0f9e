"""NotificationService: opt-outs, an order's messages, dead letters and their resend."""

from __future__ import annotations

from grpc import aio

from core.persistence.repos.notifications import MessageRecord
from core.service import notifications
from core.service.handlers.notifications import ResendMessage, SetNotificationPreferences
from core.service.notifications import Preferences
from server import convert
from server.auth import storefront_scope
from server.dbexec import DbExecutor, utcnow
from tote.v1 import notifications_pb2 as pb
from tote.v1 import notifications_pb2_grpc


def message_to_pb(m: MessageRecord) -> pb.NotificationMessage:
    return pb.NotificationMessage(
        message_id=m.message_id, order_id=m.order_id, event_id=str(m.event_id),
        event_type=m.event_type, channel=m.channel, recipient=m.recipient, status=m.status,
        attempts=m.attempts, subject=m.subject or "", body=m.body or "", locale=m.locale,
        last_error=m.last_error or "", created_at=convert.ts(m.created_at),
        sent_at=convert.ts(m.sent_at),
        due_at=convert.ts(m.due_at) if m.status == "queued" else None)


def _prefs_to_pb(p: Preferences) -> pb.NotificationPreferences:
    return pb.NotificationPreferences(storefront=p.storefront, customer_id=p.customer_id,
                                      email_opt_out=p.email_opt_out, sms_opt_out=p.sms_opt_out,
                                      updated_at=convert.ts(p.updated_at))


def _storefront(asked: str) -> str:
    # A storefront's token speaks for its own customers only; a supervisor names the storefront.
    return storefront_scope() or asked


class NotificationServicer(notifications_pb2_grpc.NotificationServiceServicer):
    def __init__(self, dbx: DbExecutor) -> None:
        self._dbx = dbx

    async def SetPreferences(self, request: pb.SetPreferencesRequest,
                             context: aio.ServicerContext) -> pb.NotificationPreferences:
        p = request.preferences
        prefs = Preferences(_storefront(p.storefront), p.customer_id, p.email_opt_out,
                            p.sms_opt_out, None)
        return _prefs_to_pb(await self._dbx.execute(SetNotificationPreferences(prefs, utcnow())))

    async def GetPreferences(self, request: pb.GetPreferencesRequest,
                             context: aio.ServicerContext) -> pb.NotificationPreferences:
        return _prefs_to_pb(await self._dbx.read(
            notifications.get_preferences, _storefront(request.storefront), request.customer_id))

    async def ListMessages(self, request: pb.ListMessagesRequest,
                           context: aio.ServicerContext) -> pb.ListMessagesResponse:
        found = await self._dbx.read(notifications.messages_of_order, request.order_id,
                                     storefront_scope())
        return pb.ListMessagesResponse(messages=[message_to_pb(m) for m in found])

    async def ListDeadLetters(self, request: pb.ListDeadLettersRequest,
                              context: aio.ServicerContext) -> pb.ListMessagesResponse:
        found = await self._dbx.read(notifications.dead_letters, request.page_size)
        return pb.ListMessagesResponse(messages=[message_to_pb(m) for m in found])

    async def Resend(self, request: pb.ResendRequest,
                     context: aio.ServicerContext) -> pb.NotificationMessage:
        return message_to_pb(await self._dbx.execute(ResendMessage(request.message_id, utcnow())))
