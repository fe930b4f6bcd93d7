//! The engine's side: worker processes started, supervised, killed and replaced.
//!
//! A [`Pool`] keeps idle workers of one compiled pack and starts another when every one
//! is busy (one per calling thread). Each request is watched: a worker whose progress
//! page ([`super::progress`]) stays the same for longer than the time limit plus
//! [`GRACE`] is stuck in a call that cannot be interrupted and is killed; one that exits
//! or is killed by a signal is reaped. Either way the request fails with a [`Death`]
//! naming the reason and the progress it had published, and the caller decides what
//! that costs (`super::batch`).

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use super::WorkerCommand;
use super::progress::{self, Progress};
use super::stores::Journal;
use super::wire::{self, Load, Reply, Request};
use crate::error::Error;

/// Time past the limit before a worker whose progress stands still is killed.
pub(crate) const GRACE: Duration = Duration::from_secs(1);
/// Extra time before a new worker's first progress (interpreter start-up).
const START_GRACE: Duration = Duration::from_secs(10);
/// How often a waiting request looks at the progress page.
const TICK: Duration = Duration::from_millis(25);
/// Output a worker may forward per request (what detections print is also capped per
/// call inside the worker).
const OUTPUT_PER_REQUEST: usize = 256 * 1024;

/// Why a worker stopped answering: the reason, as a detection's error, and what it
/// had published.
#[derive(Debug, Clone)]
pub(crate) struct Death {
    /// `DetectionTimeout: ...` or `WorkerDied: ...`.
    pub(crate) reason: String,
    /// The progress words at the end.
    pub(crate) progress: [i64; progress::WORDS],
}

impl Death {
    /// The published word `index` as an index, when set.
    pub(crate) fn word(&self, index: usize) -> Option<usize> {
        usize::try_from(self.progress[index]).ok()
    }
}

/// One worker process.
pub(crate) struct Worker {
    child: Child,
    stream: UnixStream,
    replies: Receiver<io::Result<(Reply, Vec<u8>)>>,
    progress: Progress,
    output: Arc<AtomicUsize>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Idle workers of one compiled pack, and how to start more.
pub(crate) struct Pool {
    command: WorkerCommand,
    load: Mutex<Load>,
    pub(crate) time_limit: Duration,
    idle: Mutex<Vec<Worker>>,
}

impl Pool {
    pub(crate) fn new(command: WorkerCommand, load: Load, time_limit: Duration) -> Self {
        Self { command, load: Mutex::new(load), time_limit, idle: Mutex::new(Vec::new()) }
    }

    /// An idle worker, or a new one.
    pub(crate) fn take(&self) -> Result<Worker, Error> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match idle {
            Some(worker) => Ok(worker),
            None => match self.spawn()? {
                (worker, Reply::Loaded { .. }) => Ok(worker),
                (_, Reply::Failed(message)) => Err(Error::Python(message)),
                (_, other) => Err(Error::Worker(format!("unexpected reply to a pack: {other:?}"))),
            },
        }
    }

    /// Gives a worker that answered back.
    pub(crate) fn give_back(&self, worker: Worker) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(worker);
    }

    /// Starts a worker and sends it the pack; its reply (`Loaded` or `Failed`). A worker
    /// that dies or hangs while compiling is an `Err(Ok(death))`.
    pub(crate) fn spawn(&self) -> Result<(Worker, Reply), Error> {
        match self.try_spawn() {
            Ok(started) => Ok(started),
            Err(Spawn::Error(err)) => Err(err),
            Err(Spawn::Died(death)) => Err(Error::Worker(format!(
                "a new worker process stopped while compiling the pack: {}",
                death.reason
            ))),
        }
    }

    /// As [`Pool::spawn`], keeping a death apart.
    pub(crate) fn try_spawn(&self) -> Result<(Worker, Reply), Spawn> {
        let fail =
            |what: &str, err: io::Error| Spawn::Error(Error::Worker(format!("{what}: {err}")));
        let progress = Progress::create().map_err(|e| fail("creating a progress page", e))?;
        let (ours, theirs) = UnixStream::pair().map_err(|e| fail("creating a socket", e))?;
        let (output, output_writer) = io::pipe().map_err(|e| fail("creating a pipe", e))?;
        let output_copy = output_writer.try_clone().map_err(|e| fail("creating a pipe", e))?;
        let mut command = Command::new(&self.command.program);
        command
            .args(&self.command.args)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::from(output_copy))
            .stderr(Stdio::from(output_writer));
        let child = command
            .spawn()
            .map_err(|e| fail(&format!("starting {}", self.command.program.display()), e))?;
        // The child's ends of the socket and pipe must close here, or end of stream
        // would never come.
        drop(command);
        let reader = ours.try_clone().map_err(|e| fail("cloning a socket", e))?;
        let (tx, replies) = mpsc::channel();
        let pid = child.id();
        let spawned =
            std::thread::Builder::new().name(format!("caracal-worker-{pid}")).spawn(move || {
                let mut reader = reader;
                loop {
                    let frame = wire::read::<Reply>(&mut reader);
                    let end = frame.is_err();
                    if tx.send(frame).is_err() || end {
                        break;
                    }
                }
            });
        spawned.map_err(|e| fail("starting a reader thread", e))?;
        let allowance = Arc::new(AtomicUsize::new(0));
        forward_output(output, allowance.clone(), pid);
        let mut worker = Worker { child, stream: ours, replies, progress, output: allowance };
        let load = {
            let mut load = self.load.lock().unwrap_or_else(PoisonError::into_inner);
            load.progress = worker.progress.path().map(ToOwned::to_owned).unwrap_or_default();
            let mut frame = Vec::new();
            wire::write(&mut frame, &wire::LoadRef::Load(&load), &[])
                .map_err(|e| fail("encoding the pack", e))?;
            frame
        };
        let stall = self.time_limit + GRACE + START_GRACE;
        let mut journal = Journal::default();
        let reply = worker.exchange_raw(&load, stall, self.time_limit, &mut journal);
        if reply.is_ok() {
            journal.commit();
        }
        // The worker has mapped the page by now (or is gone): the name can go.
        worker.progress.unlink();
        match reply {
            Ok((reply, _)) => Ok((worker, reply)),
            Err(death) => Err(Spawn::Died(death)),
        }
    }

    /// How long a request's progress may stand still.
    pub(crate) fn stall(&self, payload: usize) -> Duration {
        // Decoding and encoding a large batch take time before the first item and after
        // the last: a second per 8 MiB, far more than they need.
        self.time_limit + GRACE + Duration::from_secs((payload >> 23) as u64)
    }
}

/// A worker that could not be started, or died while compiling.
pub(crate) enum Spawn {
    Error(Error),
    Died(Death),
}

impl Worker {
    /// Sends a request and waits for its reply, answering the worker's questions (its
    /// key-value writes kept in `journal`, for the caller to commit).
    pub(crate) fn exchange(
        &mut self,
        request: &Request,
        payload: &[u8],
        stall: Duration,
        time_limit: Duration,
        journal: &mut Journal,
    ) -> Result<(Reply, Vec<u8>), Death> {
        let mut frame = Vec::new();
        if let Err(err) = wire::write(&mut frame, request, &[]) {
            return Err(self.died(format!("WorkerDied: cannot encode a request: {err}")));
        }
        // The frame's payload length, then the payload, written without a copy.
        frame.truncate(frame.len() - 8);
        frame.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        self.output.store(OUTPUT_PER_REQUEST, Ordering::Relaxed);
        let sent =
            (&self.stream).write_all(&frame).and_then(|()| (&self.stream).write_all(payload));
        if let Err(err) = sent {
            debug!(error = %err, "Worker connection closed.");
            return Err(self.reap(time_limit, false));
        }
        self.wait(stall, time_limit, journal)
    }

    fn exchange_raw(
        &mut self,
        frame: &[u8],
        stall: Duration,
        time_limit: Duration,
        journal: &mut Journal,
    ) -> Result<(Reply, Vec<u8>), Death> {
        self.output.store(OUTPUT_PER_REQUEST, Ordering::Relaxed);
        if (&self.stream).write_all(frame).is_err() {
            return Err(self.reap(time_limit, false));
        }
        self.wait(stall, time_limit, journal)
    }

    fn wait(
        &mut self,
        stall: Duration,
        time_limit: Duration,
        journal: &mut Journal,
    ) -> Result<(Reply, Vec<u8>), Death> {
        let mut seen = self.progress.read();
        let mut since = Instant::now();
        loop {
            match self.replies.recv_timeout(TICK) {
                Ok(Ok((Reply::Ask(question), _))) => {
                    let answer = journal.answer(question);
                    if wire::write(&mut &self.stream, &Request::Answer(answer), &[]).is_err() {
                        return Err(self.reap(time_limit, false));
                    }
                    // Time spent answering is the engine's, not the detection's.
                    since = Instant::now();
                }
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(err)) => {
                    if err.kind() != io::ErrorKind::UnexpectedEof {
                        warn!(error = %err, "Worker sent a broken reply.");
                    }
                    return Err(self.reap(time_limit, false));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.reap(time_limit, false)),
                Err(RecvTimeoutError::Timeout) => {
                    if let Ok(Some(_)) = self.child.try_wait() {
                        return Err(self.reap(time_limit, false));
                    }
                    let now = self.progress.read();
                    if now != seen {
                        seen = now;
                        since = Instant::now();
                    } else if since.elapsed() > stall {
                        return Err(self.reap(time_limit, true));
                    }
                }
            }
        }
    }

    /// Kills (when `stuck`) or waits for the worker and describes its end.
    fn reap(&mut self, time_limit: Duration, stuck: bool) -> Death {
        let progress = self.progress.read();
        let reason = if stuck {
            let _ = self.child.kill();
            let _ = self.child.wait();
            format!(
                "DetectionTimeout: ran longer than the {} s time limit in a call that cannot be \
                 interrupted; its worker process was killed",
                time_limit.as_secs_f64()
            )
        } else {
            match wait_briefly(&mut self.child) {
                Some(status) => format!("WorkerDied: its worker process {}", describe_exit(status)),
                None => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    "WorkerDied: its worker process closed its connection and was killed".to_owned()
                }
            }
        };
        debug!(pid = self.child.id(), %reason, ?progress, "Worker process ended.");
        Death { reason, progress }
    }

    fn died(&mut self, reason: String) -> Death {
        let progress = self.progress.read();
        let _ = self.child.kill();
        let _ = self.child.wait();
        Death { reason, progress }
    }
}

/// The exit status, waiting up to a second for a process that closed its socket.
fn wait_briefly(child: &mut Child) -> Option<ExitStatus> {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
            _ => return None,
        }
    }
}

/// `exited with status 0`, `was killed by signal 11 (SIGSEGV)`.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(9) => "was killed by signal 9 (SIGKILL: out of memory?)".to_owned(),
        Some(24) => "used up its CPU time limit (SIGXCPU)".to_owned(),
        Some(signal) => {
            let name = match signal {
                4 => " (SIGILL)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        None => format!("ended ({status})"),
    }
}

/// Copies what a worker prints to this process's stderr, up to the allowance each
/// request gives it, and says how much it dropped.
fn forward_output(mut output: io::PipeReader, allowance: Arc<AtomicUsize>, pid: u32) {
    let spawned =
        std::thread::Builder::new().name(format!("caracal-worker-{pid}-output")).spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            let mut dropped = 0usize;
            loop {
                let n = match output.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let left = allowance.load(Ordering::Relaxed);
                let shown = n.min(left);
                allowance.fetch_sub(shown, Ordering::Relaxed);
                let mut stderr = io::stderr().lock();
                if shown > 0 && dropped > 0 {
                    let _ = writeln!(
                        stderr,
                        "[caracal] {dropped} bytes of detection output dropped (at most \
                         {OUTPUT_PER_REQUEST} per batch)"
                    );
                    dropped = 0;
                }
                let _ = stderr.write_all(&buf[..shown]);
                dropped += n - shown;
            }
            if dropped > 0 {
                let _ =
                    writeln!(io::stderr(), "[caracal] {dropped} bytes of detection output dropped");
            }
        });
    if let Err(err) = spawned {
        warn!(error = %err, "Cannot forward a worker's output.");
    }
}
