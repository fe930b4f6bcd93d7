//! A fake Lambda Runtime API on 127.0.0.1: the HTTP protocol a function's runtime
//! speaks (`GET /2018-06-01/runtime/invocation/next`, `POST .../{id}/response`,
//! `POST .../{id}/error`, `POST /2018-06-01/runtime/init/error`). It hands out queued
//! events, one per `next`, and records what the function answers. Once the queue is
//! empty, `next` waits (as Lambda does between invocations) until the test ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// What the function sent back.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `POST /invocation/{id}/response`.
    Response { id: String, body: serde_json::Value },
    /// `POST /invocation/{id}/error`, with the `Lambda-Runtime-Function-Error-Type` header.
    Error { id: String, error_type: String, body: serde_json::Value },
    /// `POST /init/error`: the function could not start.
    InitError { body: String },
}

pub struct RuntimeApi {
    address: String,
    answers: Receiver<Answer>,
}

type Events = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

impl RuntimeApi {
    /// Serves `events` (request id, payload), in order.
    pub fn start(events: Vec<(String, serde_json::Value)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let (tx, answers) = channel();
        let events: Events = Arc::new(Mutex::new(events.into_iter().rev().collect()));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (events, tx) = (events.clone(), tx.clone());
                std::thread::spawn(move || serve(stream, &events, &tx));
            }
        });
        Self { address, answers }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The next answer; `None` when none came within `wait` (the test then fails with
    /// the function's log, not on a duration).
    pub fn answer(&self, wait: std::time::Duration) -> Option<Answer> {
        self.answers.recv_timeout(wait).ok()
    }
}

fn serve(stream: TcpStream, events: &Events, tx: &Sender<Answer>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) =
            (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut length = 0usize;
        let mut error_type = String::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "lambda-runtime-function-error-type" => error_type = value.trim().to_owned(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let json = || serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let base = "/2018-06-01/runtime/";
        let route = path.strip_prefix(base).unwrap_or(&path);
        let reply = match (method.as_str(), route) {
            ("GET", "invocation/next") => {
                let next = events.lock().expect("events").pop();
                let Some((id, payload)) = next else {
                    // Lambda freezes the function between invocations: never answer.
                    loop {
                        std::thread::park();
                    }
                };
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() + 900_000)
                    .unwrap_or_default();
                let headers = format!(
                    "Lambda-Runtime-Aws-Request-Id: {id}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                     Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:caracal-test\r\n\
                     Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n"
                );
                (200, headers, payload.to_string())
            }
            ("POST", "init/error") => {
                let _ = tx
                    .send(Answer::InitError { body: String::from_utf8_lossy(&body).into_owned() });
                (202, String::new(), "{}".to_owned())
            }
            ("POST", rest) => {
                let rest = rest.strip_prefix("invocation/").unwrap_or(rest);
                match rest.rsplit_once('/') {
                    Some((id, "response")) => {
                        let _ = tx.send(Answer::Response { id: id.to_owned(), body: json() });
                        (202, String::new(), "{}".to_owned())
                    }
                    Some((id, "error")) => {
                        let _ = tx.send(Answer::Error {
                            id: id.to_owned(),
                            error_type: error_type.clone(),
                            body: json(),
                        });
                        (202, String::new(), "{}".to_owned())
                    }
                    _ => (404, String::new(), "{}".to_owned()),
                }
            }
            _ => (404, String::new(), "{}".to_owned()),
        };
        let (status, headers, body) = reply;
        let text = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
            body.len()
        );
        if writer.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}
