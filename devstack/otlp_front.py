"""A recording front for the OTLP collector: writes the headers of every request it receives, then
passes the request on to rotel unchanged and answers with rotel's answer.

    python devstack/otlp_front.py --port P --upstream http://127.0.0.1:R --record FILE
                                  [--refuse-encoding zstd]

rotel's logs processor sees the log records, not the HTTP request, so a test cannot see there
which headers an exporter sent (`signoz-ingestion-key`, `Authorization`). With the stack's
`otlp-headers` service, `otlp_endpoint` in state.json is this front, `otlp_requests_file` the
file it writes: one JSON object per request,

    {"method": "POST", "path": "/v1/logs", "headers": {"signoz-ingestion-key": "...", ...},
     "status": 200, "bytes": 1234}

(header names lower-cased). It records header values as they came: it is for tests with test
values only. With `--refuse-encoding E` it answers 415 (Unsupported Media Type) to every request
whose Content-Encoding is E, without passing it on, as an endpoint that does not take E does (the
stack's `otlp-no-zstd` service). Started by devstack/stack.py; stdlib only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "host"}
_LOCK = threading.Lock()


def make_handler(upstream: str, record: str, refuse_encoding: str | None = None):
    host, port = upstream.split("//", 1)[1].split(":")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # noqa: D102 - quiet: the record file is the log
            pass

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
            if refuse_encoding and encoding == refuse_encoding:
                status, reply, reply_headers = (
                    415, f"unsupported Content-Encoding {encoding}".encode(),
                    [("Content-Type", "text/plain")])
            else:
                status, reply, reply_headers = self._upstream(body, headers)
            entry = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "status": status,
                "bytes": len(body),
            }
            with _LOCK, open(record, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
            self.send_response(status)
            for k, v in reply_headers:
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def _upstream(self, body: bytes, headers: dict):
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                status, reply, reply_headers = resp.status, resp.read(), resp.getheaders()
                conn.close()
            except OSError as e:
                status, reply, reply_headers = 502, f"otlp front: {e}".encode(), []
            return status, reply, reply_headers

        do_POST = _forward
        do_GET = _forward
        do_PUT = _forward

    return Handler


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True, help="rotel's OTLP/HTTP base URL")
    p.add_argument("--record", required=True, help="JSON-lines file of the requests' headers")
    p.add_argument("--refuse-encoding", help="answer 415 to requests with this Content-Encoding")
    args = p.parse_args(argv)
    open(args.record, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(args.upstream, args.record, args.refuse_encoding))
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
