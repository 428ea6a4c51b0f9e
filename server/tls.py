"""TLS for tote serve: gRPC and the webhook endpoint.

The files are PEM. They are checked once, before anything starts, with the ssl module: a
missing, unreadable or mismatched file is a sentence naming the file, never the key's text.
"""

from __future__ import annotations

import ssl

import grpc

from server.settings import TlsFiles
from terminals.tls import TlsError, check_ca, read_pem, refuse_encrypted_key

__all__ = ["TlsError", "check_server_files", "server_credentials", "webhook_sender_trust"]


def check_server_files(cert: str, key: str, client_ca: str | None) -> TlsFiles:
    """The files if a server can use them; TlsError otherwise."""
    for path, what in ((cert, "certificate"), (key, "key")):
        read_pem(path, what)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=lambda: refuse_encrypted_key(key))
    except ssl.SSLError as exc:
        # (OpenSSL's reason, e.g. KEY_VALUES_MISMATCH or PEM_LIB: never the file's content)
        raise TlsError(f"--tls-cert {cert} and --tls-key {key} are not a PEM certificate and "
                       f"its private key ({exc.reason or exc})") from None
    if client_ca is not None:
        check_ca(client_ca, "--tls-client-ca")
    return TlsFiles(cert, key, client_ca)


def server_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    """gRPC's credentials; a client certificate signed by tls.client_ca is required if set."""
    root = read_pem(tls.client_ca, "client CA") if tls.client_ca else None
    return grpc.ssl_server_credentials(
        [(read_pem(tls.key, "key"), read_pem(tls.cert, "certificate"))],
        root_certificates=root, require_client_auth=root is not None)


def webhook_sender_trust(tls: TlsFiles) -> ssl.SSLContext:
    """For the in-process sandbox: trust tote's own certificate (it may not be a CA's root)."""
    context = ssl.create_default_context(cafile=tls.cert)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context
