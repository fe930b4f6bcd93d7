//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1, between the SDK and the emulator.
//!
//! Requests are forwarded to the upstream (the emulator) unchanged, except those matching
//! an injected [`Matcher`]: they get the configured [`Fault`] instead (an empty `200`, a
//! `500`, a throttling error, a document of the caller's choosing, or a dropped
//! connection). Point an [`Aws`](caracal_aws::Aws) at [`FaultProxy::endpoint`] (see
//! [`Emulator::aws_at`](crate::Emulator::aws_at)) and the production code paths meet the
//! failure modes AWS produces but the emulator does not.
//!
//! Plain blocking sockets, a thread per connection: tests make few connections, and the
//! proxy works from sync and async tests alike. Request bodies framed by
//! `Content-Length` or chunked encoding are supported; each forwarded request uses its own
//! upstream connection (`Connection: close`), and the answer goes back with a
//! `Content-Length`, so the SDK's connection stays reusable.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Matcher {
    /// A JSON-protocol operation (KMS, DynamoDB, CloudTrail, Config) by its `X-Amz-Target`
    /// header: the whole value (`TrentService.ListKeys`) or the operation after the dot
    /// (`ListKeys`).
    Target(String),
    /// A query-protocol operation (IAM, EC2, STS): `Action=NAME` in the query string or
    /// the form body.
    Action(String),
    /// A request whose query string has this key, or this `key=value` pair: S3
    /// sub-resources such as `versioning` (`GET /bucket?versioning`), or S3 operations
    /// by the SDK's `x-id` parameter (`x-id=ListBuckets`).
    QueryKey(String),
    /// Every n-th request the proxy receives, whatever its operation (`EveryNth(5)`: the
    /// 5th, 10th, ... request, 20% of them), retries included. Deterministic, so a
    /// throttled run is repeatable.
    EveryNth(u64),
    /// A request whose path (before any query) is this one: REST-JSON operations such as
    /// Access Analyzer's `GET /analyzer`.
    Path(String),
    /// A request whose body holds this text: one query-protocol call among many of the same
    /// action, such as the AssumeRole of one role ARN (URL-encoded as sent).
    BodyContains(String),
    /// A request signed for this region (SigV4 credential scope `.../REGION/SERVICE/...`):
    /// every call into one region, as a service control policy denying it would answer.
    Region(String),
}

/// What a matching request gets instead of the upstream's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `200 OK` with an empty body.
    EmptyOk,
    /// `500` with an internal-error document in the request's protocol.
    ServerError,
    /// A throttling error in the request's protocol (`ThrottlingException`, `Throttling`,
    /// S3's `503 SlowDown`).
    Throttling,
    /// The connection is closed without an answer.
    DropConnection,
    /// The request reaches the upstream (the change lands), then the connection is
    /// closed without passing the answer on: a response lost on the way back.
    LoseResponse,
    /// Any answer.
    Respond {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header.
        content_type: String,
        /// The body.
        body: String,
    },
}

struct Rule {
    matcher: Matcher,
    fault: Fault,
    /// Faults left to serve; `None`: unlimited.
    remaining: Option<u64>,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    stop: AtomicBool,
    faults: AtomicU64,
    forwarded: AtomicU64,
    received: AtomicU64,
}

/// A running proxy. Dropping it stops accepting connections.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy").field("port", &self.port).finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy on a free 127.0.0.1 port forwarding to `upstream`
    /// (`http://127.0.0.1:PORT`, as [`Emulator::endpoint`](crate::Emulator::endpoint)).
    pub fn start(upstream: &str) -> std::io::Result<Self> {
        let upstream: SocketAddr = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .parse()
            .map_err(|e| std::io::Error::other(format!("upstream {upstream:?}: {e}")))?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new().name("fault-proxy".into()).spawn(move || {
            for conn in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = Arc::clone(&accept_shared);
                let _ = std::thread::Builder::new()
                    .name("fault-proxy-conn".into())
                    .spawn(move || serve(conn, upstream, &shared));
            }
        })?;
        Ok(Self { port, shared, accept: Some(accept) })
    }

    /// `http://127.0.0.1:PORT`: the endpoint to give the SDK.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers requests matching `matcher` with `fault` from now on (the first matching
    /// rule wins).
    pub fn inject(&self, matcher: Matcher, fault: Fault) {
        lock(&self.shared.rules).push(Rule { matcher, fault, remaining: None });
    }

    /// Answers the next `times` requests matching `matcher` with `fault`, then forwards
    /// them again (a throttle that clears, a single lost answer).
    pub fn inject_times(&self, matcher: Matcher, fault: Fault, times: u64) {
        lock(&self.shared.rules).push(Rule { matcher, fault, remaining: Some(times) });
    }

    /// Removes every fault: everything is forwarded again.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// Requests answered with a fault so far.
    pub fn faults_served(&self) -> u64 {
        self.shared.faults.load(Ordering::SeqCst)
    }

    /// Requests forwarded to the upstream so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One parsed request.
struct Request {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// Whether the request, the `index`-th the proxy received (from 1), matches.
    fn matches(&self, matcher: &Matcher, index: u64) -> bool {
        let params = |text: &str| -> Vec<(String, String)> {
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.to_owned(), v.to_owned())
                })
                .collect()
        };
        match matcher {
            Matcher::Target(want) => self
                .header("x-amz-target")
                .is_some_and(|t| t == want || t.rsplit_once('.').is_some_and(|(_, op)| op == want)),
            Matcher::Action(want) => {
                let body = std::str::from_utf8(&self.body).unwrap_or("");
                params(self.query())
                    .into_iter()
                    .chain(params(body))
                    .any(|(k, v)| k == "Action" && v == *want)
            }
            Matcher::QueryKey(want) => params(self.query()).iter().any(|(k, v)| {
                k == want || want.split_once('=').is_some_and(|(wk, wv)| k == wk && v == wv)
            }),
            Matcher::EveryNth(n) => *n > 0 && index.is_multiple_of(*n),
            Matcher::Path(want) => self.target.split('?').next() == Some(want.as_str()),
            Matcher::Region(want) => {
                self.header("authorization").is_some_and(|a| a.contains(&format!("/{want}/")))
            }
            Matcher::BodyContains(want) => {
                std::str::from_utf8(&self.body).is_ok_and(|b| b.contains(want.as_str()))
            }
        }
    }

    /// The signing service of the request (`.../<region>/<service>/aws4_request`).
    fn service(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
        scope.split('/').rev().nth(1)
    }

    /// The wire protocol whose error shape a fault must take, so the SDK classifies it as
    /// it would AWS's own answer (a throttle it does not recognise is not retried).
    fn protocol(&self) -> Protocol {
        if self.header("x-amz-target").is_some() {
            return Protocol::Json;
        }
        if self.header("smithy-protocol") == Some("rpc-v2-cbor") {
            return Protocol::Cbor;
        }
        match self.service() {
            Some("s3" | "s3control") => Protocol::S3,
            Some("ec2") => Protocol::Ec2,
            // REST-JSON services among the clients caracal builds.
            Some("lambda" | "eks" | "securityhub" | "guardduty" | "access-analyzer") => {
                Protocol::RestJson
            }
            _ => Protocol::Query,
        }
    }
}

#[derive(Clone, Copy)]
enum Protocol {
    /// awsJson 1.0 / 1.1 (`X-Amz-Target`).
    Json,
    /// Smithy RPC v2 CBOR (CloudWatch): a CBOR map with `__type`.
    Cbor,
    /// REST-JSON: the error code travels in `x-amzn-ErrorType`.
    RestJson,
    /// REST-XML (S3, S3 Control).
    S3,
    /// EC2's query dialect: `<Response><Errors><Error>`.
    Ec2,
    /// awsQuery: `<ErrorResponse><Error>`.
    Query,
}

/// Serves one client connection until it closes.
fn serve(conn: TcpStream, upstream: SocketAddr, shared: &Shared) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(write_half) = conn.try_clone() else { return };
    let mut reader = BufReader::new(conn);
    let mut writer = write_half;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        let index = shared.received.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = lock(&shared.rules)
            .iter_mut()
            .filter(|rule| rule.remaining != Some(0))
            .find(|rule| request.matches(&rule.matcher, index))
            .map(|rule| {
                if let Some(n) = rule.remaining.as_mut() {
                    *n -= 1;
                }
                rule.fault.clone()
            });
        let answer = match fault {
            Some(Fault::DropConnection) => {
                shared.faults.fetch_add(1, Ordering::SeqCst);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::LoseResponse) => {
                shared.faults.fetch_add(1, Ordering::SeqCst);
                let _ = forward(&request, upstream);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(fault) => {
                shared.faults.fetch_add(1, Ordering::SeqCst);
                fault_response(&fault, request.protocol())
            }
            None => {
                shared.forwarded.fetch_add(1, Ordering::SeqCst);
                match forward(&request, upstream) {
                    Ok(bytes) => bytes,
                    Err(e) => simple_response(502, "text/plain", e.to_string().as_bytes()),
                }
            }
        };
        if writer.write_all(&answer).and_then(|()| writer.flush()).is_err() {
            return;
        }
        if request.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            return;
        }
    }
}

fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Header names and values, in order.
type Headers = Vec<(String, String)>;

/// Reads a header block: the first line and the headers.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<(String, Headers)>> {
    let Some(first) = read_line(reader)? else { return Ok(None) };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| std::io::Error::other("eof in headers"))?;
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Some((first, headers)))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Reads a body framed by `Content-Length` or chunked encoding (decoded).
fn read_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> std::io::Result<Vec<u8>> {
    let chunked = header(headers, "transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            let line = read_line(reader)?.ok_or_else(|| std::io::Error::other("eof in chunk"))?;
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|e| std::io::Error::other(format!("chunk size {line:?}: {e}")))?;
            if size == 0 {
                // Trailers, then the blank line.
                while read_line(reader)?.is_some_and(|l| !l.is_empty()) {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader)?;
        }
    }
    let length: usize = header(headers, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_request(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
) -> std::io::Result<Option<Request>> {
    let Some((first, headers)) = read_head(reader)? else { return Ok(None) };
    let mut parts = first.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(std::io::Error::other(format!("bad request line {first:?}")));
    };
    if header(&headers, "expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    let body = read_body(reader, &headers)?;
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
        body,
    }))
}

/// Sends the request upstream on a fresh connection and returns the answer, re-framed
/// with a `Content-Length`.
fn forward(request: &Request, upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut conn = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!("{} {} {}\r\n", request.method, request.target, request.version);
    for (k, v) in &request.headers {
        if ["connection", "transfer-encoding", "content-length", "expect", "keep-alive"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
        {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", request.body.len()));
    conn.write_all(head.as_bytes())?;
    conn.write_all(&request.body)?;
    conn.flush()?;

    let mut reader = BufReader::new(conn);
    let (status_line, headers) = read_head(&mut reader)?
        .ok_or_else(|| std::io::Error::other("upstream closed without an answer"))?;
    let status: u16 =
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(502);
    let no_body = request.method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304;
    let body = if no_body {
        Vec::new()
    } else if header(&headers, "transfer-encoding").is_some()
        || header(&headers, "content-length").is_some()
    {
        read_body(&mut reader, &headers)?
    } else {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest)?;
        rest
    };
    let mut out = format!("{status_line}\r\n");
    for (k, v) in &headers {
        let framing = ["connection", "transfer-encoding", "keep-alive"]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
            || (!no_body && k.eq_ignore_ascii_case("content-length"));
        if !framing {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    if !no_body {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

fn simple_response(status: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    response_with(status, content_type, &[], body)
}

fn response_with(status: u16, content_type: &str, extra: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Injected",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: fault-proxy\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// `{"__type": code, "message": message}` in CBOR (definite-length text strings).
fn cbor_error(code: &str, message: &str) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        match s.len() {
            n @ 0..24 => out.push(0x60 | n as u8),
            n @ 24..256 => out.extend_from_slice(&[0x78, n as u8]),
            n => {
                out.push(0x79);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = vec![0xa2];
    for s in ["__type", code, "message", message] {
        text(&mut out, s);
    }
    out
}

fn fault_response(fault: &Fault, protocol: Protocol) -> Vec<u8> {
    const JSON: &str = "application/x-amz-json-1.1";
    const CBOR: &str = "application/cbor";
    const RPC_V2: &[(&str, &str)] = &[("smithy-protocol", "rpc-v2-cbor")];
    match (fault, protocol) {
        (Fault::EmptyOk, Protocol::Json | Protocol::RestJson) => simple_response(200, JSON, b""),
        (Fault::EmptyOk, Protocol::Cbor) => response_with(200, CBOR, RPC_V2, b""),
        (Fault::EmptyOk, _) => simple_response(200, "text/xml", b""),
        (Fault::ServerError, Protocol::Cbor) => response_with(
            500,
            CBOR,
            RPC_V2,
            &cbor_error("InternalFailure", "injected by the fault proxy"),
        ),
        (Fault::Throttling, Protocol::Cbor) => {
            response_with(400, CBOR, RPC_V2, &cbor_error("ThrottlingException", "Rate exceeded"))
        }
        (Fault::ServerError, Protocol::Json) => simple_response(
            500,
            JSON,
            br#"{"__type":"InternalFailure","message":"injected by the fault proxy"}"#,
        ),
        (Fault::ServerError, Protocol::S3) => simple_response(
            500,
            "application/xml",
            b"<Error><Code>InternalError</Code><Message>injected by the fault proxy</Message></Error>",
        ),
        (Fault::ServerError, Protocol::RestJson) => response_with(
            500,
            "application/json",
            &[("x-amzn-ErrorType", "ServiceException")],
            br#"{"message":"injected by the fault proxy"}"#,
        ),
        (Fault::ServerError, Protocol::Ec2) => simple_response(
            500,
            "text/xml",
            b"<Response><Errors><Error><Code>InternalError</Code><Message>injected by the fault proxy</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>",
        ),
        (Fault::ServerError, Protocol::Query) => simple_response(
            500,
            "text/xml",
            b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected by the fault proxy</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>",
        ),
        (Fault::Throttling, Protocol::Json) => simple_response(
            400,
            JSON,
            br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        (Fault::Throttling, Protocol::S3) => simple_response(
            503,
            "application/xml",
            b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        ),
        (Fault::Throttling, Protocol::RestJson) => response_with(
            429,
            "application/json",
            &[("x-amzn-ErrorType", "TooManyRequestsException")],
            br#"{"message":"Rate exceeded"}"#,
        ),
        (Fault::Throttling, Protocol::Ec2) => simple_response(
            503,
            "text/xml",
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>",
        ),
        (Fault::Throttling, Protocol::Query) => simple_response(
            400,
            "text/xml",
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>",
        ),
        (Fault::Respond { status, content_type, body }, _) => {
            simple_response(*status, content_type, body.as_bytes())
        }
        // Handled by the caller: no answer at all.
        (Fault::DropConnection | Fault::LoseResponse, _) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: "POST".into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn matchers_find_json_query_and_s3_operations() {
        let kms = request("/", &[("X-Amz-Target", "TrentService.ListKeys")], "{}");
        assert!(kms.matches(&Matcher::Target("ListKeys".into()), 1));
        assert!(kms.matches(&Matcher::Target("TrentService.ListKeys".into()), 1));
        assert!(!kms.matches(&Matcher::Target("Keys".into()), 1));
        let iam = request("/", &[], "Action=ListUsers&Version=2010-05-08");
        assert!(iam.matches(&Matcher::Action("ListUsers".into()), 1));
        assert!(!iam.matches(&Matcher::Action("ListUser".into()), 1));
        let s3 = request("/bucket?versioning", &[], "");
        assert!(s3.matches(&Matcher::QueryKey("versioning".into()), 1));
        let list = request("/?x-id=ListBuckets", &[], "");
        assert!(list.matches(&Matcher::QueryKey("x-id=ListBuckets".into()), 1));
        assert!(!list.matches(&Matcher::QueryKey("x-id=GetObject".into()), 1));
        assert!(!s3.matches(&Matcher::QueryKey("acl".into()), 1));
        let rest = request("/analyzer?type=ACCOUNT", &[], "");
        assert!(rest.matches(&Matcher::Path("/analyzer".into()), 1));
        assert!(!rest.matches(&Matcher::Path("/analyzer/a".into()), 1));
        let sts =
            request("/", &[], "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111%3Arole%2Fx");
        assert!(sts.matches(&Matcher::BodyContains("111%3Arole".into()), 1));
        assert!(!sts.matches(&Matcher::BodyContains("222%3Arole".into()), 1));
        let signed = request(
            "/",
            &[(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20261207/eu-west-1/ec2/aws4_request",
            )],
            "",
        );
        assert!(signed.matches(&Matcher::Region("eu-west-1".into()), 1));
        assert!(!signed.matches(&Matcher::Region("us-east-1".into()), 1));
        // Every n-th request: by the proxy's count, whatever the operation.
        let every_fifth: Vec<u64> =
            (1..=12).filter(|&i| kms.matches(&Matcher::EveryNth(5), i)).collect();
        assert_eq!(every_fifth, [5, 10]);
        assert!(!kms.matches(&Matcher::EveryNth(0), 5));
    }

    #[test]
    fn faults_take_the_error_shape_of_the_signing_service() {
        let signed = |service: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
            )
        };
        let kind = |service: &str| {
            let auth = signed(service);
            let r = request("/", &[("authorization", auth.as_str())], "");
            (r.service().map(str::to_owned), r.protocol())
        };
        assert!(matches!(kind("ec2"), (Some(s), Protocol::Ec2) if s == "ec2"));
        assert!(matches!(kind("s3"), (_, Protocol::S3)));
        assert!(matches!(kind("lambda"), (_, Protocol::RestJson)));
        assert!(matches!(kind("iam"), (_, Protocol::Query)));
        let cw = request(
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            &[("smithy-protocol", "rpc-v2-cbor")],
            "",
        );
        assert!(matches!(cw.protocol(), Protocol::Cbor));
        let cbor = fault_response(&Fault::Throttling, Protocol::Cbor);
        let want = b"\x66__type\x73ThrottlingException";
        assert!(cbor.windows(want.len()).any(|w| w == want));
        let ec2 = String::from_utf8_lossy(&fault_response(&Fault::Throttling, Protocol::Ec2))
            .into_owned();
        assert!(ec2.contains("<Errors><Error><Code>RequestLimitExceeded"), "{ec2}");
        let rest = String::from_utf8_lossy(&fault_response(&Fault::Throttling, Protocol::RestJson))
            .into_owned();
        assert!(
            rest.starts_with("HTTP/1.1 429")
                && rest.contains("x-amzn-ErrorType: TooManyRequestsException")
        );
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let raw = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n";
        let headers = vec![("Transfer-Encoding".to_owned(), "chunked".to_owned())];
        let body = read_body(&mut &raw[..], &headers).unwrap_or_default();
        assert_eq!(body, b"Wikipedia");
    }
}
