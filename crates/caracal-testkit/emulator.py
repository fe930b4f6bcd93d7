"""Start moto's server mode with the response corrections caracal's tests need.

moto answers a few S3 reads with an XML root that AWS does not use (for example
<GetBucketVersioningResponse> where AWS answers <VersioningConfiguration>). boto3 does not
mind; aws-sdk-rust rejects them with "encountered invalid XML root". Each correction below
is named, limited to one operation, and covered by a test in caracal-testkit.

Usage: python emulator.py PORT
"""

import re
import sys

from werkzeug.serving import run_simple

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

# S3 GET sub-resource (query key) -> the XML root AWS answers with.
S3_XML_ROOTS = {
    "versioning": "VersioningConfiguration",
    "notification": "NotificationConfiguration",
    "accelerate": "AccelerateConfiguration",
    "requestPayment": "RequestPaymentConfiguration",
    "metrics": "ListMetricsConfigurationsResult",
    "inventory": "ListInventoryConfigurationsResult",
}
S3_NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
ROOT = re.compile(rb"^(\s*(?:<\?xml[^>]*\?>\s*)?)<([A-Za-z]+)([^>]*)>(.*)</\2>\s*$", re.S)
EMPTY_ROOT = re.compile(rb"^(\s*(?:<\?xml[^>]*\?>\s*)?)<([A-Za-z]+)([^>]*?)/>\s*$", re.S)


def s3_subresource(environ):
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    if "/s3/aws4_request" not in environ.get("HTTP_AUTHORIZATION", ""):
        return None
    keys = {part.split("=", 1)[0] for part in environ.get("QUERY_STRING", "").split("&") if part}
    for key, root in S3_XML_ROOTS.items():
        if key in keys and "id" not in keys:
            return root
    return None


def fix_root(body, root):
    empty = EMPTY_ROOT.match(body)
    if empty and empty.group(2).decode() != root:
        return empty.group(1) + f"<{root} {S3_NS}/>".encode()
    match = ROOT.match(body)
    if not match or match.group(2).decode() == root:
        return body
    prolog, _, _, inner = match.groups()
    return prolog + f"<{root} {S3_NS}>".encode() + inner + f"</{root}>".encode()


class Corrections:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        root = s3_subresource(environ)
        if root is None:
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if captured["status"].startswith("200"):
            body = fix_root(body, root)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        Corrections(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
