"""Start moto's server mode with the response corrections caracal's tests need.

moto answers a few S3 reads with an XML root that AWS does not use (for example
<GetBucketVersioningResponse> where AWS answers <VersioningConfiguration>). boto3 does not
mind; aws-sdk-rust rejects them with "encountered invalid XML root". Each correction below
is named, limited to one operation, and covered by a test in caracal-testkit.

moto has no IAM Access Analyzer at all (every call answers 500). `AccessAnalyzer` below
keeps analyzers in memory and answers CreateAnalyzer, ListAnalyzers, GetAnalyzer and
DeleteAnalyzer in AWS's REST-JSON shapes, so scans and the seeder meet the service; its
answers are checked against a recorded AWS answer in caracal-scan's tests.

aws-sdk-rust's CloudWatch client speaks the Smithy RPC v2 CBOR protocol, which moto does
not parse (it answers XML). `CborBridge` decodes such a request, hands it to moto as the
same operation in the JSON protocol (which CloudWatch also serves), and encodes moto's
JSON answer back to CBOR against the operation's output shape (timestamps as tag 1), with
botocore's own CBOR parser and serializer.

AWS Config's resource reads (the scanner's inventory fast path) need three corrections:
moto's S3 item crashes (500) on a bucket ACL that grants to AllUsers or AuthenticatedUsers
(it only strips the `groups/s3/` URI prefix); it leaves out two entries AWS Config records
for every bucket (`BucketVersioningConfiguration`, status "Off" when never set, and
`ServerSideEncryptionConfiguration` when default encryption is set); and
BatchGetResourceConfig / GetResourceConfigHistory answer timestamps as text where the
JSON protocol has epoch seconds. `fix_config_acl_groups`, `add_config_bucket_entries` and
`ConfigTimestamps` below correct each.

Usage: python emulator.py PORT
"""

import datetime
import json
import re
import sys
import threading
from urllib.parse import parse_qs, unquote

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


def call_app(app, environ):
    """Runs a WSGI app to the end: its status, headers and whole body."""
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = app(environ, capture)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


def respond(start_response, status, headers, body):
    """Answers with `body`, its Content-Length set anew."""
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]


class Corrections:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        root = s3_subresource(environ)
        if root is None:
            return self.app(environ, start_response)
        status, headers, body = call_app(self.app, environ)
        if status.startswith("200"):
            body = fix_root(body, root)
        return respond(start_response, status, headers, body)


def credential_service(environ):
    """The service named in the request's SigV4 credential scope."""
    match = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/aws4_request",
                      environ.get("HTTP_AUTHORIZATION", ""))
    return (match.group(2), match.group(1)) if match else (None, None)


class AccessAnalyzer:
    """IAM Access Analyzer's analyzers, per account and region, in memory."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.analyzers = {}  # (region, name) -> summary

    def __call__(self, environ, start_response):
        service, region = credential_service(environ)
        if service != "access-analyzer":
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        path = unquote(environ.get("PATH_INFO", ""))
        query = parse_qs(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        with self.lock:
            status, answer = self.handle(method, path, query, body, region)
        data = json.dumps(answer).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        errors = {"404": "ResourceNotFoundException", "409": "ConflictException",
                  "400": "ValidationException"}
        if status[:3] in errors:
            headers.append(("x-amzn-ErrorType", errors[status[:3]]))
        start_response(status, headers)
        return [data]

    def handle(self, method, path, query, body, region):
        account = "123456789012"
        if path == "/analyzer" and method == "PUT":
            name = body.get("analyzerName", "")
            if (region, name) in self.analyzers:
                return "409 Conflict", {"message": f"analyzer {name} exists"}
            arn = f"arn:aws:access-analyzer:{region}:{account}:analyzer/{name}"
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.analyzers[(region, name)] = {
                "arn": arn, "name": name, "type": body.get("type", "ACCOUNT"),
                "createdAt": now, "status": "ACTIVE", "tags": body.get("tags") or {},
            }
            return "200 OK", {"arn": arn}
        if path == "/analyzer" and method == "GET":
            kind = (query.get("type") or [None])[0]
            found = [a for (r, _), a in sorted(self.analyzers.items())
                     if r == region and (kind is None or a["type"] == kind)]
            return "200 OK", {"analyzers": found}
        if path.startswith("/analyzer/"):
            name = path[len("/analyzer/"):]
            if (region, name) not in self.analyzers:
                return "404 Not Found", {"message": f"analyzer {name} not found"}
            if method == "GET":
                return "200 OK", {"analyzer": self.analyzers[(region, name)]}
            if method == "DELETE":
                del self.analyzers[(region, name)]
                return "200 OK", {}
        return "400 Bad Request", {"message": f"{method} {path} is not emulated"}

    def reset(self):
        with self.lock:
            self.analyzers.clear()


class CborBridge:
    """CloudWatch over Smithy RPC v2 CBOR, answered by moto's JSON protocol."""

    PREFIX = "/service/GraniteServiceVersion20100801/operation/"

    def __init__(self, app):
        self.app = app
        self.model = None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.PREFIX) or "cbor" not in environ.get("CONTENT_TYPE", "") + \
                environ.get("HTTP_SMITHY_PROTOCOL", ""):
            return self.app(environ, start_response)
        import io

        import botocore.session
        from botocore.parsers import RpcV2CBORParser
        from botocore.serialize import RpcV2CBORSerializer

        if self.model is None:
            self.model = botocore.session.get_session().get_service_model("cloudwatch")
        operation = path[len(self.PREFIX):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        parser = RpcV2CBORParser()
        params = parser.parse_data_item(parser.get_peekable_stream_from_bytes(raw)) if raw else {}
        body = json.dumps(params, default=str).encode()
        inner = dict(environ)
        inner.update({
            "PATH_INFO": "/",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-amz-json-1.0",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_AMZ_TARGET": f"GraniteServiceVersion20100801.{operation}",
            "wsgi.input": io.BytesIO(body),
        })
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            return lambda data: None

        chunks = self.app(inner, capture)
        try:
            answer = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        document = json.loads(answer or b"{}")
        out = bytearray()
        serializer = RpcV2CBORSerializer()
        if captured["status"].startswith("2"):
            shape = self.model.operation_model(operation).output_shape
            if shape is not None:
                document = {k: v for k, v in document.items() if k in shape.members}
                serializer._serialize_data_item(out, document, shape)
        else:
            error = {"__type": document.get("__type", "InternalFailure"),
                     "message": document.get("message", document.get("Message", ""))}
            out.extend(serializer._get_initial_byte(serializer.MAP_MAJOR_TYPE, len(error)))
            for k, v in error.items():
                serializer._serialize_type_string(out, k, None, None)
                serializer._serialize_type_string(out, str(v), None, None)
        start_response(captured["status"], [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(out))),
        ])
        return [bytes(out)]


def fix_config_acl_groups():
    """AWS Config names an ACL's group grantee by its last URI segment ("AllUsers",
    "AuthenticatedUsers", "LogDelivery"); moto strips only `groups/s3/` and fails on the
    `groups/global/` ones. The same item, built without that slip (and without touching
    the ACL, which other requests read at the same time)."""
    from moto.s3 import models

    def to_config_dict(self):
        grant_list = []
        for grant in self.grants:
            permissions = grant.permissions if isinstance(grant.permissions, list) \
                else [grant.permissions]
            for permission in permissions:
                for grantee in grant.grantees:
                    if grantee.uri:
                        who = grantee.uri.rstrip("/").rsplit("/", 1)[-1]
                    else:
                        who = {"id": grantee.id, "displayName": grantee.display_name or None}
                    grant_list.append({"grantee": who,
                                       "permission": models.CAMEL_CASED_PERMISSIONS[permission]})
        data = {"grantSet": None, "owner": {"displayName": None, "id": models.OWNER}}
        if grant_list:
            data["grantList"] = grant_list
        return data

    models.FakeAcl.to_config_dict = to_config_dict


def add_config_bucket_entries():
    """A bucket's Config item with the versioning and default encryption entries AWS
    Config records, in its shapes (camel-case keys, as the other entries)."""
    from moto.s3 import models

    original = models.FakeBucket.to_config_dict

    def to_config_dict(self):
        item = original(self)
        extra = item["supplementaryConfiguration"]
        extra["BucketVersioningConfiguration"] = {
            "status": self.versioning_status or "Off", "isMfaDeleteEnabled": None}
        rules = (self.encryption or {}).get("Rule")
        if rules:
            rules = rules if isinstance(rules, list) else [rules]
            extra["ServerSideEncryptionConfiguration"] = {"rules": [{
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"),
                    "kmsMasterKeyID": r.get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID"),
                },
                "bucketKeyEnabled": str(r.get("BucketKeyEnabled", "false")).lower() == "true",
            } for r in rules]}
        return item

    models.FakeBucket.to_config_dict = to_config_dict


class ConfigTimestamps:
    """Config item timestamps as epoch seconds, as the JSON protocol carries them."""

    TARGETS = ("StarlingDoveService.BatchGetResourceConfig",
               "StarlingDoveService.GetResourceConfigHistory")
    FIELDS = ("configurationItemCaptureTime", "resourceCreationTime")

    def __init__(self, app):
        self.app = app

    @staticmethod
    def epoch(value):
        if not isinstance(value, str):
            return value
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed.timestamp()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET") not in self.TARGETS:
            return self.app(environ, start_response)
        status, headers, body = call_app(self.app, environ)
        if status.startswith("200"):
            document = json.loads(body or b"{}")
            for key in ("baseConfigurationItems", "configurationItems"):
                for item in document.get(key, []):
                    for field in self.FIELDS:
                        if field in item:
                            item[field] = self.epoch(item[field])
            body = json.dumps(document).encode()
        return respond(start_response, status, headers, body)


class Reset:
    """Clears the launcher's own state on moto's `POST /moto-api/reset` too."""

    def __init__(self, app, analyzer):
        self.app, self.analyzer = app, analyzer

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self.analyzer.reset()
        return self.app(environ, start_response)


def main():
    port = int(sys.argv[1])
    fix_config_acl_groups()
    add_config_bucket_entries()
    app = DomainDispatcherApplication(create_backend_app)
    analyzer = AccessAnalyzer(CborBridge(ConfigTimestamps(Corrections(app))))
    run_simple(
        "127.0.0.1",
        port,
        Reset(analyzer, analyzer),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
