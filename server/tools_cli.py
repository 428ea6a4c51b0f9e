"""`tote picker`, `tote packer`, `tote console` and `tote demo`: the tools `tote` launches.

Each loads its package (terminals/, desktop/, demo/) inside the command that runs it, so the
server and the other commands never import a client or the demo.
"""

from __future__ import annotations

import asyncio
import sys

import click

from server.cli_common import TOKEN_FILE_HELP, TOKEN_HELP, setup_logging
from server.settings import Settings
from server.tls_cli import client_tls, client_tls_options

SERVER_HELP = ("tote gRPC address, host:port; several replicas' separated by commas "
               "(host1:port,host2:port): calls spread over them and go on if one goes away")


@click.command()
@click.option("--server", envvar="TOTE_SERVER", help=SERVER_HELP)
@click.option("--token", help=TOKEN_HELP.format(role="picker"))
@click.option("--token-file", type=click.Path(dir_okay=False), help=TOKEN_FILE_HELP)
@click.option("--fc", "fc_id", envvar="TOTE_FC", help="the fulfillment center")
@click.option("--config", "config_file", help="TOML file with server, token_file, fc")
@client_tls_options
def picker(server, token, token_file, fc_id, config_file, tls_ca, tls_cert, tls_key):
    """The handheld picker terminal (Textual)."""
    from terminals.picker.app import run

    tls = client_tls(tls_ca, tls_cert, tls_key)
    run(server, token, fc_id, config_file, token_file=token_file, tls=tls)


@click.command()
@click.option("--server", envvar="TOTE_SERVER", help=SERVER_HELP)
@click.option("--token", help=TOKEN_HELP.format(role="picker"))
@click.option("--token-file", type=click.Path(dir_okay=False), help=TOKEN_FILE_HELP)
@click.option("--fc", "fc_id", envvar="TOTE_FC", help="the fulfillment center")
@click.option("--printer", envvar="TOTE_PRINTER", default="labels", show_default=True,
              help="a folder, lp:QUEUE or zpl:HOST:PORT")
@click.option("--scale", envvar="TOTE_SCALE",
              help="serial scale that prints its weights, /dev/ttyX or /dev/ttyX:BAUD "
                   "(default 9600); without it weights are typed")
@click.option("--config", "config_file", help="TOML file with server, token_file, fc")
@client_tls_options
def packer(server, token, token_file, fc_id, printer, scale, config_file, tls_ca, tls_cert,
           tls_key):
    """The packing station terminal (Textual)."""
    from terminals.packer.app import run

    tls = client_tls(tls_ca, tls_cert, tls_key)
    run(server, token, fc_id, printer, config_file, scale, token_file=token_file, tls=tls)


@click.command()
@click.option("--db", "db_url", default="tote-demo.db", show_default=True,
              help="SQLite file for the demo (recreated)")
@click.option("--orders", default=40, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--listen", default="127.0.0.1:50051", show_default=True)
@click.option("--keep-running", is_flag=True, help="keep serving after the demo")
@click.option("--seed", default=7, show_default=True, help="random seed of the simulated shoppers")
def demo(db_url, orders, listen, keep_running, seed):
    """Run tote serve --sandbox on SQLite and drive a stream of orders all the way to DELIVERED."""
    from demo.run import run_demo

    setup_logging("WARNING")
    settings = Settings(db_url=db_url, listen=listen, webhook_listen="127.0.0.1:0",
                        sandbox=True, sandbox_listen="127.0.0.1:0")
    try:
        asyncio.run(run_demo(settings, orders, keep_running, seed))
    except KeyboardInterrupt:
        pass


@click.command()
@click.option("--server", envvar="TOTE_SERVER", default="127.0.0.1:50051", show_default=True,
              help=SERVER_HELP)
@click.option("--token", help=TOKEN_HELP.format(role="supervisor"))
@click.option("--token-file", type=click.Path(dir_okay=False), help=TOKEN_FILE_HELP)
@client_tls_options
def console(server, token, token_file, tls_ca, tls_cert, tls_key):
    """The FC supervisor console (PySide6 desktop app)."""
    from terminals.channel import AddressError, split
    from terminals.config import ConfigError, token_from

    tls = client_tls(tls_ca, tls_cert, tls_key)
    try:
        split(server)
    except AddressError as exc:
        raise click.BadParameter(str(exc), param_hint="--server") from None

    try:
        found = token_from(token, token_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not found:
        raise click.UsageError("no token: pass --token-file FILE (or --token), or set "
                               "TOTE_TOKEN_FILE or TOTE_TOKEN (a supervisor token)")

    from desktop.qt_platform import startup_problem

    # Before PySide6 loads: a missing library would otherwise be an ImportError or a Qt abort.
    problem = startup_problem()
    if problem:
        raise click.ClickException(problem)
    from desktop.app import run

    sys.exit(run(server, found, tls))
