"""An HTTPS front for the stack's AWS endpoint: AWS answers over TLS only, the rest of the stack
speaks plain HTTP on loopback, so without this front the clients' TLS (crypto provider, root
certificates, ALPN) is never exercised by a test.

    python devstack/tls_front.py --port P --upstream http://127.0.0.1:A --cert-dir DIR

At start it makes a certificate authority and a server certificate for 127.0.0.1 signed by it
(DIR/ca.pem is the authority, to be trusted through SSL_CERT_FILE; nothing is added to the
machine's store), then accepts TLS connections on 127.0.0.1:P, offers only `http/1.1` by ALPN,
and passes the bytes of each connection to the upstream and back unchanged. Started by
devstack/stack.py (service `aws-tls`); needs `cryptography` (in the venv, moto's dependency).
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import socket
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(cert_dir: str) -> tuple[str, str]:
    """Writes ca.pem, server.pem and server.key; returns (server.pem, server.key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    valid_from, valid_to = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("flowlogs devstack test authority")
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(valid_from).not_valid_after(valid_to)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(_name("127.0.0.1")).issuer_name(ca_name)
              .public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(valid_from).not_valid_after(valid_to)
              .add_extension(x509.SubjectAlternativeName(
                  [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(cert_dir, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    cert_path, key_path = os.path.join(cert_dir, "server.pem"), os.path.join(cert_dir, "server.key")
    with open(cert_path, "wb") as f:
        f.write(server.public_bytes(pem))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_connection(raw: socket.socket, context: ssl.SSLContext, upstream: tuple[str, int]):
    try:
        tls = context.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print(f"tls-front: handshake failed: {e}", file=sys.stderr, flush=True)
        raw.close()
        return
    try:
        plain = socket.create_connection(upstream)
    except OSError as e:
        print(f"tls-front: upstream {upstream}: {e}", file=sys.stderr, flush=True)
        tls.close()
        return
    back = threading.Thread(target=pipe, args=(plain, tls), daemon=True)
    back.start()
    pipe(tls, plain)
    back.join()
    tls.close()
    plain.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--cert-dir", required=True)
    args = p.parse_args()
    host, port = args.upstream.split("//", 1)[1].rstrip("/").split(":")
    cert, key = make_certificates(args.cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    listener = socket.create_server(("127.0.0.1", args.port))
    print(f"tls-front: https://127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(raw, context, (host, int(port))),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
