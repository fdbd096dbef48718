# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A web site for plausible_verify to check: routes from a JSON file, over http and https with a self-signed certificate.

    page_server.py ROUTES.json WORKDIR

prints two lines when ready, ``http://127.0.0.1:<port>`` and ``https://127.0.0.1:<port>``, and serves until killed.
The routes file is read again for every request, so a test changes the site by rewriting it::

    {"/": {"status": 200, "headers": {"Content-Security-Policy": "..."}, "body": "<html>..."},
     "/old": {"status": 301, "headers": {"Location": "/"}},
     "/private": {"require_headers": {"X-Bypass": "value"}, "body": "..."}}

A route matches the path with its query string first, then the path alone; none answers 404. A route whose
``require_headers`` are not all sent answers 403; one with ``delay`` waits that many seconds before it answers.
The certificate (for 127.0.0.1 and localhost, made with the ``cryptography`` package that ansible-core depends on)
is written to WORKDIR; no client trusts it.
"""

import datetime
import ipaddress
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(workdir):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName('localhost'),
                                                        x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(workdir, 'page.crt'), os.path.join(workdir, 'page.key')
    with open(cert_path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    routes_file = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the tests read what they need from the results."""

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        self.answer()

    def answer(self):
        with open(self.routes_file, encoding='utf-8') as handle:
            routes = json.load(handle)
        route = routes.get(self.path) or routes.get(self.path.partition('?')[0])
        if route is None:
            route = {'status': 404, 'body': '<html><body>Not found</body></html>'}
        elif any(self.headers.get(name) != value for name, value in route.get('require_headers', {}).items()):
            route = {'status': 403, 'body': '<html><body>Attention Required!</body></html>'}
        time.sleep(route.get('delay', 0))
        body = route.get('body', '').encode()
        self.send_response(route.get('status', 200))
        headers = dict({'Content-Type': 'text/html; charset=utf-8'}, **route.get('headers', {}))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(routes_file, workdir):
    Handler.routes_file = routes_file
    plain = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    secure = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(workdir))
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    for server in (plain, secure):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print('http://127.0.0.1:%d\nhttps://127.0.0.1:%d' % (plain.server_address[1], secure.server_address[1]), flush=True)
    threading.Event().wait()


if __name__ == '__main__':
    main(*sys.argv[1:])
