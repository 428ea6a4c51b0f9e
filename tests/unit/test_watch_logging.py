"""A client that leaves mid-stream is a DEBUG line, not an ERROR with a traceback: grpc aio's
own logger says "ExecuteBatchError raised in core by servicer method" when a stream's send fails
because the client has just gone (seen in bench/watchers.py's run on the code before
server/watching.py's ClientGoneFilter; the race is too rare to provoke in a test)."""

import logging

from server.watching import quiet_client_gone


def _grpc_logs(message: str) -> None:
    try:
        raise RuntimeError("Failed \"execute_batch\": (<grpc._cython.cygrpc.SendMessageOperation"
                           " object at 0x7f>,)")
    except RuntimeError:
        logging.getLogger("grpc._cython.cygrpc").exception(message)


def test_grpcs_error_for_a_client_gone_mid_stream_is_a_debug_line(caplog):
    quiet_client_gone()
    quiet_client_gone()  # once is enough; twice changes nothing
    with caplog.at_level(logging.DEBUG):
        _grpc_logs("ExecuteBatchError raised in core by servicer method "
                   "[/tote.v1.OrderService/WatchOrders]")
        _grpc_logs("Unexpected [ValueError] raised by servicer method [/x]")
    gone, other = caplog.records
    assert gone.levelno == logging.DEBUG and gone.exc_info is None
    assert "went away" in gone.getMessage() and "WatchOrders" in gone.getMessage()
    assert other.levelno == logging.ERROR and other.exc_info is not None  # real faults stay


def test_at_info_it_is_not_logged_at_all(caplog):
    quiet_client_gone()
    with caplog.at_level(logging.INFO):
        logging.getLogger().setLevel(logging.INFO)
        _grpc_logs("ExecuteBatchError raised in core by servicer method [/x]")
    assert not caplog.records
