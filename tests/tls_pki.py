"""A throwaway PKI for TLS tests (the `cryptography` package): a CA, a server certificate for
127.0.0.1/localhost signed by it, a client certificate, and another CA that signed neither."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
          issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
          server: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, name: str, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(folder / f"{name}.pem"), str(folder / f"{name}.key")


def make_pki(folder: Path) -> dict[str, str]:
    """PEM files in folder: ca, other_ca, cert + key (server), client_cert + client_key."""
    files: dict[str, str] = {}
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    files["ca"], _ = _write(folder, "ca", _cert("tote test CA", ca_key, "tote test CA", ca_key,
                                                ca=True), ca_key)
    files["other_ca"], _ = _write(folder, "other", _cert("other CA", other_key, "other CA",
                                                         other_key, ca=True), other_key)
    server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    files["cert"], files["key"] = _write(folder, "server", _cert(
        "tote serve", server_key, "tote test CA", ca_key, server=True), server_key)
    files["client_cert"], files["client_key"] = _write(folder, "client", _cert(
        "picker-1", client_key, "tote test CA", ca_key), client_key)
    return files
