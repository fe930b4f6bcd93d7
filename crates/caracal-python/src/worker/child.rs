//! The worker process's side: compiles the pack it is sent into its own interpreter
//! (`src/local.rs`), then answers batches and tests until its standard input (the
//! engine's Unix socket) closes. Posture lookups and key-value calls of detections are
//! questions to the engine, which owns the stores.

use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use serde_json::Value;

use super::progress::{self, Progress};
use super::wire::{self, Answer, Load, Question, Reply, Request};
use crate::engine::EngineOptions;
use crate::error::Error;
use crate::interp;
use crate::kv::KvStore;
use crate::local::{Loading, Local};
use crate::pack::{DetectionKind, Pack};
use crate::posture::PostureLookup;

/// Serves one engine over standard input; returns when it closes.
pub(crate) fn serve() -> ExitCode {
    let stream = match io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => UnixStream::from(fd),
        Err(err) => {
            eprintln!("caracal python worker: no connection on standard input: {err}");
            return ExitCode::from(2);
        }
    };
    watch_parent();
    match run(stream) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("caracal python worker: {err}");
            ExitCode::from(2)
        }
    }
}

/// Ends this process when its parent (the engine) goes away, even while a detection is
/// stuck in C: an orphaned worker must not spin on.
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    let spawned =
        std::thread::Builder::new().name("caracal-worker-parent".into()).spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(3);
                }
            }
        });
    if let Err(err) = spawned {
        eprintln!("caracal python worker: cannot watch the engine process: {err}");
    }
}

fn run(stream: UnixStream) -> Result<(), String> {
    let (first, _) = match wire::read::<Request>(&mut &stream) {
        Ok(frame) => frame,
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
        Err(err) => return Err(format!("reading the pack: {err}")),
    };
    let Request::Load(load) = first else {
        return Err("the first request is not a pack to load".into());
    };
    let remote = Arc::new(Remote {
        stream: stream.try_clone().map_err(|e| e.to_string())?,
        lock: Mutex::new(()),
    });
    let progress = Progress::open(&load.progress).map_err(|e| format!("progress page: {e}"))?;
    prepare(&load).map_err(|e| format!("preparing the interpreter: {e}"))?;
    let (local, reply) = compile(*load, &progress);
    send(&stream, &reply, &[])?;
    let Some(local) = local else { return Ok(()) };
    local.set_kv_store(remote.clone()).map_err(|e| e.to_string())?;
    loop {
        let (request, payload) = match wire::read::<Request>(&mut &stream) {
            Ok(frame) => frame,
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(err) => return Err(format!("reading a request: {err}")),
        };
        let (reply, payload) = match request {
            Request::Evaluate { kind, skipped, precise, posture } => {
                let _ = progress.write(progress::ITEM, &[-1, -1]);
                let lookup: Option<Arc<dyn PostureLookup>> =
                    if posture { Some(remote.clone()) } else { None };
                let result = String::from_utf8(payload)
                    .map_err(|e| Error::Python(format!("batch is not UTF-8: {e}")))
                    .and_then(|text| {
                        local.configure(&skipped, precise)?;
                        local.set_posture(lookup)?;
                        match kind {
                            DetectionKind::Policy => {
                                local.evaluate_resources_json(&text).map(wire::pack_verdicts)
                            }
                            DetectionKind::Rule => local
                                .evaluate_events_json(&text)
                                .map(|outcomes| (Reply::Outcomes(outcomes), Vec::new())),
                        }
                    });
                result.unwrap_or_else(|err| (failed(err), Vec::new()))
            }
            Request::Tests { kind, index } => String::from_utf8(payload)
                .map_err(|e| Error::Python(format!("tests are not UTF-8: {e}")))
                .and_then(|tests| local.run_tests_json(kind, index, &tests))
                .map(|text| (Reply::Tests(text), Vec::new()))
                .unwrap_or_else(|err| (failed(err), Vec::new())),
            Request::Load(_) | Request::Answer(_) => {
                return Err("unexpected request".into());
            }
        };
        send(&stream, &reply, &payload)?;
    }
}

fn failed(err: Error) -> Reply {
    match err {
        Error::Python(message) => Reply::Failed(message),
        other => Reply::Failed(other.to_string()),
    }
}

fn send(stream: &UnixStream, reply: &Reply, payload: &[u8]) -> Result<(), String> {
    wire::write(&mut &*stream, reply, payload).map_err(|e| format!("writing a reply: {e}"))
}

/// Limits, standard input and the progress page, before any pack code runs.
fn prepare(load: &Load) -> PyResult<()> {
    Python::attach(|py| {
        let resource = py.import("resource")?;
        let memory = resource.getattr("RLIMIT_AS")?;
        resource.call_method1("setrlimit", (memory, (load.memory_limit, load.memory_limit)))?;
        let cpu = resource.getattr("RLIMIT_CPU")?;
        // SIGXCPU at the soft limit, SIGKILL at the hard one.
        resource.call_method1("setrlimit", (cpu, (load.cpu_limit, load.cpu_limit + 5)))?;
        // Standard input is the engine's socket: detections read nothing from it.
        let os = py.import("os")?;
        let devnull = py.import("builtins")?.call_method1("open", (os.getattr("devnull")?,))?;
        py.import("sys")?.setattr("stdin", devnull)?;
        let fd = os.call_method1(
            "open",
            (load.progress.to_string_lossy().into_owned(), os.getattr("O_RDWR")?),
        )?;
        let page = py.import("mmap")?.call_method1("mmap", (fd.clone(), progress::SIZE))?;
        os.call_method1("close", (fd,))?;
        let view = py
            .import("builtins")?
            .getattr("memoryview")?
            .call1((page,))?
            .call_method1("cast", ("q",))?;
        let rt = interp::runtime(py)
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        rt.call_method1("set_progress", (view,))?;
        Ok(())
    })
}

/// Compiles the pack of `load`, publishing what it compiles; the reply to send.
fn compile(load: Load, progress: &Progress) -> (Option<Local>, Reply) {
    let options = EngineOptions {
        time_limit: Duration::from_secs_f64(load.time_limit),
        python_paths: load.python_paths,
        include_disabled: load.include_disabled,
        import_globals: load.import_globals,
        isolation: super::Isolation::InProcess,
        memory_limit: load.memory_limit,
        cpu_limit: Duration::from_secs(load.cpu_limit),
    };
    let (model_positions, data_models): (Vec<usize>, Vec<_>) = load.data_models.into_iter().unzip();
    let (positions, detections): (Vec<usize>, Vec<_>) = load.detections.into_iter().unzip();
    let pack = Pack { globals: load.globals, data_models, detections, ..Pack::default() };
    let mut publish = |step: Loading| {
        let words = match step {
            Loading::DataModel(i) => [progress::STAGE_MODEL, model_positions[i] as i64],
            Loading::Detection(i) => [progress::STAGE_DETECTION, positions[i] as i64],
            Loading::Globals => [progress::STAGE_GLOBALS, -1],
        };
        let _ = progress.write(progress::STAGE, &words);
    };
    let compiled = Local::new(&pack, &options, &mut publish);
    let _ = progress.write(progress::STAGE, &[0, -1]);
    match compiled {
        Ok(local) => {
            let reply = Reply::Loaded {
                policies: local.policy_positions.iter().map(|&p| positions[p]).collect(),
                rules: local.rule_positions.iter().map(|&p| positions[p]).collect(),
                invalid: local.invalid.clone(),
            };
            (Some(local), reply)
        }
        Err(err) => (None, failed(err)),
    }
}

/// The engine, asked over the connection while a batch runs.
struct Remote {
    stream: UnixStream,
    lock: Mutex<()>,
}

impl Remote {
    fn ask(&self, question: Question) -> Answer {
        let _one = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let asked = wire::write(&mut &self.stream, &Reply::Ask(question), &[]);
        let answer = asked.and_then(|()| wire::read::<Request>(&mut &self.stream));
        match answer {
            Ok((Request::Answer(answer), _)) => answer,
            // The engine is gone or confused: nothing this process does matters now.
            _ => std::process::exit(3),
        }
    }
}

impl KvStore for Remote {
    fn get(&self, key: &str) -> Option<String> {
        match self.ask(Question::Get(key.to_owned())) {
            Answer::Text(text) => text,
            _ => None,
        }
    }

    fn put(&self, key: &str, value: String, expires_at: Option<i64>) {
        self.ask(Question::Put(key.to_owned(), value, expires_at));
    }

    fn increment(&self, key: &str, by: i64, expires_at: Option<i64>) -> i64 {
        match self.ask(Question::Increment(key.to_owned(), by, expires_at)) {
            Answer::Number(n) => n,
            _ => 0,
        }
    }

    fn set_expiry(&self, key: &str, expires_at: i64) {
        self.ask(Question::SetExpiry(key.to_owned(), expires_at));
    }

    fn delete(&self, key: &str) {
        self.ask(Question::Delete(key.to_owned()));
    }
}

impl PostureLookup for Remote {
    fn resource(&self, resource_id: &str) -> Result<Option<Value>, String> {
        match self.ask(Question::Resource(resource_id.to_owned())) {
            Answer::Resource(found) => found?
                .map(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
                .transpose(),
            _ => Err("unexpected answer".into()),
        }
    }

    fn resource_at(
        &self,
        resource_id: &str,
        when: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Value>, String> {
        let question = Question::ResourceAt(resource_id.to_owned(), when.to_rfc3339());
        match self.ask(question) {
            Answer::Resource(found) => found?
                .map(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
                .transpose(),
            _ => Err("unexpected answer".into()),
        }
    }

    fn compliance(&self, resource_id: &str) -> Result<Vec<(String, String)>, String> {
        match self.ask(Question::Compliance(resource_id.to_owned())) {
            Answer::Compliance(found) => found,
            _ => Err("unexpected answer".into()),
        }
    }
}
