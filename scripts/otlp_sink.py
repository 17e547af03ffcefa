#!/usr/bin/env python3
"""A local OTLP/HTTP receiver that accepts every export and keeps nothing: the collector of the
HTTP benchmark with the `otel` feature (docs/benchmarks.md). Listens on 127.0.0.1 only.

Usage: python3 scripts/otlp_sink.py [port]   (default 4318)
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    spans_bytes = 0

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        Sink.spans_bytes += len(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 4318
    server = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(f"received {Sink.spans_bytes} bytes of spans", file=sys.stderr)
