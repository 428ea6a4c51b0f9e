"""The `tote` commands' TLS flags: serve's certificate and key, the clients' CA (server/tls.py,
terminals/tls.py do the work; here a file that cannot be used becomes exit 1 and a sentence)."""

from __future__ import annotations

from typing import Any

import click

from server.settings import TlsFiles

TLS_FILE = click.Path(dir_okay=False)


def client_tls_options(f: Any) -> Any:
    """--tls-ca (and --tls-cert/--tls-key for mutual TLS) of a command that dials tote serve."""
    f = click.option("--tls-key", envvar="TOTE_TLS_CLIENT_KEY", type=TLS_FILE,
                     help="this client's private key, PEM (with --tls-cert)")(f)
    f = click.option("--tls-cert", envvar="TOTE_TLS_CLIENT_CERT", type=TLS_FILE,
                     help="this client's certificate, PEM, for a server that requires one")(f)
    return click.option("--tls-ca", envvar="TOTE_TLS_CA", type=TLS_FILE,
                        help="CA certificate (PEM) of the server's: speak TLS and check the "
                             "server with it (default: plaintext)")(f)


def client_tls(ca: str | None, cert: str | None, key: str | None) -> Any:
    """A client's checked TLS files (terminals.tls.ClientTls), or None for plaintext."""
    from terminals import tls

    try:
        return tls.client_tls(ca, cert, key)
    except tls.TlsError as exc:
        raise click.ClickException(str(exc)) from None


def serve_tls(cert: str | None, key: str | None, client_ca: str | None) -> TlsFiles | None:
    """Checked before anything starts: a file that cannot be used is exit 1 and a sentence."""
    from server.tls import TlsError, check_server_files

    if cert is None and key is None:
        if client_ca is not None:
            raise click.ClickException("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    if cert is None or key is None:
        raise click.ClickException("pass --tls-cert and --tls-key together")
    try:
        return check_server_files(cert, key, client_ca)
    except TlsError as exc:
        raise click.ClickException(str(exc)) from None
