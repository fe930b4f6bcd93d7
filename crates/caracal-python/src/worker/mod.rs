//! Supervised worker processes: detections are untrusted code, so by default an engine
//! runs them in child processes that it can kill and replace. A detection that hangs
//! inside one C call (`time.sleep(60)`, a catastrophic regex), exits the process
//! (`os._exit`), crashes the interpreter or exhausts memory costs only its own results.
//!
//! - **Launch.** A worker is this crate's [`serve`] running in a child process started
//!   with a [`WorkerCommand`]. A program that embeds the engine calls
//!   [`serve_if_requested`] first thing in `main` (the `caracal` binary does: `caracal
//!   __python-worker` is the worker); [`Isolation::detect`] then picks the program's own
//!   executable. `CARACAL_PYTHON_WORKER=PATH` names another worker program (this crate's
//!   `caracal-python-worker` binary, which its tests use). A program that does neither
//!   runs detections in-process ([`Isolation::InProcess`], also what the benchmark's
//!   baseline needs).
//! - **Protocol** (`wire.rs`). The worker's standard input is one end of a Unix socket
//!   pair; frames are a length-prefixed JSON message plus a raw payload (the batch's
//!   JSON text as the caller gave it). Requests: load a pack, evaluate a batch of
//!   policies or rules, run one test; results come back by name (verdicts, outcomes).
//!   While a batch runs, the worker may ask the engine a question (a posture lookup, a
//!   `caching` call) and waits for the answer on the same socket: the engine's process
//!   owns the stores (`stores.rs`, set by `Engine::set_kv_store` / `set_posture`). A
//!   request's key-value writes reach the store when it is answered, never twice when
//!   a worker death makes a batch run again.
//! - **Supervision** (`pool.rs`, `progress.rs`). Each worker publishes its progress in a
//!   shared page (the item it is on, each timed call's sequence number, what it
//!   compiles) that the engine reads without a message. Inside the worker the usual
//!   watchdog interrupts Python code past the time limit (a plain `DetectionTimeout`
//!   ERROR, no process lost); when the progress stands still for the time limit plus
//!   one second, the call is stuck in C and the engine kills the worker. A worker that
//!   exits or is killed by a signal is reaped with its status as the reason.
//! - **Cost of a death** (`batch.rs`): the item and detection at fault get an ERROR with
//!   the reason (`DetectionTimeout: ... its worker process was killed`, `WorkerDied: its
//!   worker process exited with status 0`), that detection is skipped for the rest of
//!   the batch, and every other result is computed again on a fresh worker; the number
//!   of restarts per batch is bounded. `caracal test` sends one test per request, so a
//!   test that kills its worker fails alone. A detection whose module kills the worker
//!   while compiling is an invalid spec, and the pack is compiled again without it.
//! - **Limits.** The worker sets `RLIMIT_AS` ([`crate::EngineOptions::memory_limit`]:
//!   an allocation past it is a `MemoryError` in the detection that makes it) and
//!   `RLIMIT_CPU` ([`crate::EngineOptions::cpu_limit`], a backstop: the worker is killed
//!   and replaced), through Python's `resource` module before any pack code runs. It
//!   exits when its parent goes away. What it prints (already capped at 64 Ki characters
//!   per detection call) is forwarded to the engine's stderr, at most 256 KiB per request.

mod batch;
mod child;
mod pool;
mod progress;
mod stores;
mod wire;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) use self::pool::Pool;
use self::pool::Spawn;
pub(crate) use self::stores::{set_kv_store, set_posture};
use self::wire::{Load, Reply};
use crate::engine::{EngineOptions, PolicyVerdict, RuleOutcome};
use crate::error::Error;
use crate::pack::{DetectionKind, DetectionSpec, InvalidSpec, Pack};

/// The argument that makes a program [`serve`] as a worker ([`serve_if_requested`]).
pub const WORKER_ARG: &str = "__python-worker";
/// The environment variable naming a worker program, run with [`WORKER_ARG`].
pub const WORKER_ENV: &str = "CARACAL_PYTHON_WORKER";

static HOSTS_WORKERS: AtomicBool = AtomicBool::new(false);

/// Where an engine runs detections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// In this process's embedded interpreter: fastest to start, but a detection stuck
    /// in C hangs the caller and one that exits ends the process.
    InProcess,
    /// In supervised worker processes started with this command.
    Workers(WorkerCommand),
}

impl Isolation {
    /// Workers when a worker program is known (`CARACAL_PYTHON_WORKER`, else this
    /// executable once it called [`serve_if_requested`]), else in-process.
    pub fn detect() -> Self {
        if let Some(program) = std::env::var_os(WORKER_ENV).filter(|p| !p.is_empty()) {
            return Self::Workers(WorkerCommand::new(program.into()));
        }
        if HOSTS_WORKERS.load(Ordering::Acquire)
            && let Ok(exe) = std::env::current_exe()
        {
            return Self::Workers(WorkerCommand::new(exe));
        }
        Self::InProcess
    }
}

/// How to start a worker process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

impl WorkerCommand {
    /// `program __python-worker`.
    pub fn new(program: PathBuf) -> Self {
        Self { program, args: vec![WORKER_ARG.to_owned()] }
    }
}

/// Serves as a worker when the first argument is [`WORKER_ARG`] (the exit code to end
/// with); otherwise records that this program can be its own worker and returns `None`.
/// Call it first thing in `main`, before anything else reads standard input.
pub fn serve_if_requested() -> Option<ExitCode> {
    if std::env::args_os().nth(1).as_deref() == Some(OsStr::new(WORKER_ARG)) {
        return Some(serve());
    }
    HOSTS_WORKERS.store(true, Ordering::Release);
    None
}

/// Runs this process as a worker: the engine's socket is standard input. Returns when
/// the engine closes it.
pub fn serve() -> ExitCode {
    child::serve()
}

/// A pack compiled in a first worker.
pub(crate) struct Started {
    pub(crate) pool: Pool,
    pub(crate) policies: Vec<Arc<DetectionSpec>>,
    pub(crate) rules: Vec<Arc<DetectionSpec>>,
    pub(crate) invalid: Vec<InvalidSpec>,
}

/// Compiles `pack` in a first worker. A detection or data model whose module code
/// kills the worker is left out as invalid, and the pack compiled again without it.
pub(crate) fn start(
    pack: &Pack,
    options: &EngineOptions,
    command: &WorkerCommand,
) -> Result<Started, Error> {
    let mut left_out: BTreeMap<(i64, usize), String> = BTreeMap::new();
    let attempts = pack.detections.len() + pack.data_models.len() + 1;
    for _ in 0..attempts {
        let pool = Pool::new(command.clone(), load(pack, options, &left_out), options.time_limit);
        let (worker, reply) = match pool.try_spawn() {
            Ok(started) => started,
            Err(Spawn::Error(err)) => return Err(err),
            Err(Spawn::Died(death)) => {
                let stage = death.progress[progress::STAGE];
                let position = death.word(progress::POSITION);
                match position {
                    Some(p)
                        if stage == progress::STAGE_MODEL || stage == progress::STAGE_DETECTION =>
                    {
                        left_out.insert((stage, p), death.reason);
                        continue;
                    }
                    _ => {
                        return Err(Error::Worker(format!(
                            "a worker process stopped while compiling the pack: {}",
                            death.reason
                        )));
                    }
                }
            }
        };
        let (policies, rules, mut invalid) = match reply {
            Reply::Loaded { policies, rules, invalid } => (policies, rules, invalid),
            Reply::Failed(message) => return Err(Error::Python(message)),
            other => return Err(Error::Worker(format!("unexpected reply to a pack: {other:?}"))),
        };
        pool.give_back(worker);
        let spec = |p: &usize| pack.detections.get(*p).cloned().map(Arc::new);
        for ((stage, position), reason) in left_out {
            let path = if stage == progress::STAGE_MODEL {
                pack.data_models.get(position).map(|m| m.spec_path.clone())
            } else {
                pack.detections.get(position).map(|d| d.python_path.clone())
            };
            invalid.push(InvalidSpec {
                path: path.unwrap_or_default(),
                message: format!("{reason} (while importing)"),
            });
        }
        return Ok(Started {
            pool,
            policies: policies.iter().filter_map(spec).collect(),
            rules: rules.iter().filter_map(spec).collect(),
            invalid,
        });
    }
    Err(Error::Worker("worker processes kept dying while compiling the pack".into()))
}

/// The first message for new workers: the pack without what is left out, tests and
/// raw specs (workers get tests one by one).
fn load(pack: &Pack, options: &EngineOptions, left_out: &BTreeMap<(i64, usize), String>) -> Load {
    let wanted = |enabled: bool| enabled || options.include_disabled;
    Load {
        progress: PathBuf::new(),
        time_limit: options.time_limit.as_secs_f64(),
        python_paths: options.python_paths.clone(),
        include_disabled: options.include_disabled,
        import_globals: options.import_globals,
        memory_limit: options.memory_limit,
        cpu_limit: options.cpu_limit.as_secs().max(1),
        globals: pack.globals.clone(),
        data_models: pack
            .data_models
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                wanted(m.enabled) && !left_out.contains_key(&(progress::STAGE_MODEL, *i))
            })
            .map(|(i, m)| (i, m.clone()))
            .collect(),
        detections: pack
            .detections
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                wanted(d.enabled) && !left_out.contains_key(&(progress::STAGE_DETECTION, *i))
            })
            .map(|(i, d)| {
                let mut light = d.clone();
                light.tests = Vec::new();
                light.raw = serde_json::Map::new();
                (i, light)
            })
            .collect(),
    }
}

impl Pool {
    /// Policies on a batch of resources.
    pub(crate) fn evaluate_resources(
        &self,
        json_array: &str,
        policies: &[Arc<DetectionSpec>],
    ) -> Result<Vec<PolicyVerdict>, Error> {
        self.evaluate::<PolicyVerdict>(json_array, policies)
    }

    /// Rules on a batch of events.
    pub(crate) fn evaluate_events(
        &self,
        json_array: &str,
        rules: &[Arc<DetectionSpec>],
    ) -> Result<Vec<RuleOutcome>, Error> {
        self.evaluate::<RuleOutcome>(json_array, rules)
    }

    /// The tests of one detection, one request per test: a test that stops its worker
    /// fails with the reason, and the next runs on a fresh worker.
    pub(crate) fn run_tests(
        &self,
        kind: DetectionKind,
        index: usize,
        tests_json: &str,
    ) -> Result<String, Error> {
        let tests: Vec<&serde_json::value::RawValue> = serde_json::from_str(tests_json)
            .map_err(|e| Error::Python(format!("tests are not a JSON array: {e}")))?;
        let mut results: Vec<serde_json::Value> = Vec::with_capacity(tests.len());
        for test in tests {
            let payload = format!("[{}]", test.get());
            let mut worker = self.take()?;
            let request = wire::Request::Tests { kind, index };
            let stall = self.stall(payload.len());
            let mut journal = stores::Journal::default();
            match worker.exchange(
                &request,
                payload.as_bytes(),
                stall,
                self.time_limit,
                &mut journal,
            ) {
                Ok((Reply::Tests(text), _)) => {
                    journal.commit();
                    self.give_back(worker);
                    let one: Vec<serde_json::Value> = serde_json::from_str(&text)
                        .map_err(|e| Error::Python(format!("test results: {e}")))?;
                    results.extend(one);
                }
                Ok((Reply::Failed(message), _)) => {
                    self.give_back(worker);
                    return Err(Error::Python(message));
                }
                Ok((other, _)) => {
                    return Err(Error::Worker(format!("unexpected reply to a test: {other:?}")));
                }
                Err(death) => {
                    let name: serde_json::Value =
                        serde_json::from_str::<serde_json::Value>(test.get())
                            .ok()
                            .and_then(|t| t.get("Name").cloned())
                            .unwrap_or_else(|| "<unnamed>".into());
                    results.push(serde_json::json!({
                        "name": name,
                        "passed": false,
                        "actual": null,
                        "errors": [[kind.as_str(), death.reason]],
                    }));
                }
            }
        }
        serde_json::to_string(&results).map_err(Error::python)
    }
}
