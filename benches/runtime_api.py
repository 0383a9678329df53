#!/usr/bin/env python3
"""A loopback Lambda Runtime API that hands the bootstrap a list of events, one invocation
each, then exits when the bootstrap asks for one more (its next `invocation/next`): enough
to run the real bootstrap through a pass from a shell (`benches/code_order.sh` traces it).

    benches/runtime_api.py PORT EVENT_JSON...
"""
import http.server
import json
import sys
import threading
import time

port, events = int(sys.argv[1]), list(sys.argv[2:])
served = 0


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        global served
        if served == len(events):
            # The bootstrap finished every invocation: stop (it keeps waiting on this request).
            threading.Thread(target=lambda: (time.sleep(0.2), server.shutdown())).start()
            return
        body = events[served].encode()
        served += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", f"request-{served}")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 600_000))
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:freshness-monitor",
        )
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        answer = self.rfile.read(length)
        print(self.path, answer.decode()[:200], file=sys.stderr)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Api)
server.serve_forever()
