"""Passing HTTP requests on, for the router: the hop-by-hop rule, one request sent upstream (moto,
cargo lambda) as it came, and the router's log line."""

from __future__ import annotations

import http.client
import socket
import sys
import time
import urllib.parse

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
}


def log(msg: str) -> None:
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split_url(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 80


def forward(base_url: str, method: str, path: str, headers, body: bytes):
    """Sends one request to `base_url` with the caller's headers (less hop-by-hop ones and the
    length, which is recomputed); returns (status, headers list, body)."""
    host, port = split_url(base_url)
    conn = http.client.HTTPConnection(host, port, timeout=300)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        has_host = False
        for k, v in headers:
            if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                continue
            has_host |= k.lower() == "host"
            conn.putheader(k, v)
        if not has_host:
            conn.putheader("Host", f"{host}:{port}")
        if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheaders(), data
    finally:
        conn.close()
