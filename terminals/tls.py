"""TLS for the clients' gRPC channels (picker, packer, console): `--tls-ca FILE` checks the
server's certificate; `--tls-cert/--tls-key` are the client's own, for a server that requires
one (mutual TLS). Without --tls-ca the channel is plaintext (tote serve's default on loopback).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from terminals.channel import open_channel


class TlsError(ValueError):
    """A TLS file that cannot be used; the message names the file, never its content."""


@dataclass(frozen=True)
class ClientTls:
    """PEM files of a client: the CA that signed the server's certificate, and its own pair."""

    ca: str
    cert: str | None = None
    key: str | None = None


def read_pem(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise TlsError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def refuse_encrypted_key(path: str) -> bytes:
    """ssl's password callback: without one OpenSSL would ask on the terminal (and a service
    would hang); gRPC cannot use an encrypted key anyway."""
    raise TlsError(f"the key {path} is encrypted: tote needs it unencrypted (PEM), readable "
                   "by its user alone (mode 600)")


def check_ca(path: str, flag: str = "--tls-ca") -> bytes:
    """The PEM bytes of a CA bundle, if it holds at least one certificate; TlsError otherwise."""
    pem = read_pem(path, "CA certificate")
    try:
        ssl.create_default_context(cadata=pem.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError) as exc:
        raise TlsError(f"{flag} {path} holds no PEM certificate ({exc})") from None
    return pem


def client_tls(ca: str | None, cert: str | None = None,
               key: str | None = None) -> ClientTls | None:
    """The flags checked: None for plaintext; TlsError for a file that cannot be used."""
    if (cert is None) != (key is None):
        raise TlsError("pass --tls-cert and --tls-key together (a client certificate and its "
                       "key)")
    if ca is None:
        if cert is not None:
            raise TlsError("--tls-cert and --tls-key need --tls-ca (the CA of the server's "
                           "certificate)")
        return None
    check_ca(ca)
    if cert is not None and key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_cert_chain(cert, key, password=lambda: refuse_encrypted_key(key))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            raise TlsError(f"--tls-cert {cert} and --tls-key {key} are not a readable PEM "
                           f"certificate and its key ({reason})") from None
    return ClientTls(ca, cert, key)


def credentials(tls: ClientTls) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=read_pem(tls.ca, "CA certificate"),
        private_key=read_pem(tls.key, "key") if tls.key else None,
        certificate_chain=read_pem(tls.cert, "certificate") if tls.cert else None)


def channel(address: str, tls: ClientTls | None) -> grpc.Channel:
    """A blocking channel to tote serve (one address, or several replicas' separated by
    commas: terminals/channel.py): TLS with `tls`, plaintext without."""
    return open_channel(address, credentials(tls) if tls is not None else None)
