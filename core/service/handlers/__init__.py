"""Command handlers, one module per aggregate; core/service/bus.py gathers them into the one
registry. A handler is `(session, command, deps) -> result`, run in the command's write
transaction."""
