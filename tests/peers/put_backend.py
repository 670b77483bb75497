"""A backend that takes only whole files: Python's standard-library HTTP
server with a PUT handler, for the `ferry serve --forward` tests.

Usage: python put_backend.py <port> <folder>

Port 0 takes a free port; the first line printed is "listening <port>".

With REQUIRE_AUTHORIZATION set, a PUT without exactly that Authorization
header gets 401. PUT /<path> stores the body under <folder>/<path> (written to a temporary
name and renamed, so a body that does not arrive whole leaves nothing) and
answers 201 with ETag "<sha256 of the body>" and Location /<path>.
"""
import hashlib
import os
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

port, folder = int(sys.argv[1]), sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    def do_PUT(self):
        required = os.environ.get("REQUIRE_AUTHORIZATION")
        if required and self.headers.get("Authorization") != required:
            self.send_error(401, "wrong or missing Authorization")
            return
        relative = unquote(self.path.split("?", 1)[0]).lstrip("/")
        if not relative or ".." in relative.split("/"):
            self.send_error(400, "bad path")
            return
        target = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        left = int(self.headers.get("Content-Length", "0"))
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=os.path.dirname(target), delete=False) as out:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                left -= len(chunk)
        if left > 0:
            os.unlink(out.name)
            return
        os.replace(out.name, target)
        self.send_response(201)
        self.send_header("ETag", f'"{digest.hexdigest()}"')
        self.send_header("Location", "/" + relative)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
