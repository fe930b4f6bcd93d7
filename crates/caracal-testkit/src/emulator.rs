//! moto's server mode as a child process.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use caracal_aws::Aws;
use caracal_core::config::AwsConfig;

/// The launcher, written to a temp file at start so the crate works from any directory.
const LAUNCHER: &str = include_str!("../emulator.py");
/// The emulator's fixed account id.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region tests use.
pub const REGION: &str = "us-east-1";

/// An error starting or talking to the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The venv has no Python: the setup step has not run.
    #[error(
        "no emulator venv at {0}: run `scripts/setup` (or set CARACAL_VENV to a venv with moto[server])"
    )]
    NoVenv(PathBuf),
    /// The process could not be spawned.
    #[error("cannot start the emulator ({python}): {source}")]
    Spawn {
        /// The interpreter used.
        python: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The process did not answer in time or exited; the tail of its log is attached.
    #[error("emulator on 127.0.0.1:{port} did not become ready: {reason}\n{log_tail}")]
    NotReady {
        /// The port it was given.
        port: u16,
        /// What went wrong.
        reason: String,
        /// The last lines it printed.
        log_tail: String,
    },
    /// A control request (reset, seed) failed.
    #[error("emulator control request {path} failed: {reason}")]
    Control {
        /// The control path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Building the AWS configuration for it failed.
    #[error(transparent)]
    Aws(#[from] caracal_aws::Error),
    /// Local I/O (temp files, ports).
    #[error("emulator setup: {0}")]
    Io(#[from] std::io::Error),
}

/// The project's Python venv: `$CARACAL_VENV`, else `$HOME/.cache/caracal/venv`.
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARACAL_VENV") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/caracal/venv")
}

/// A running emulator. Dropping it kills the process and waits for it.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Emulator {
    /// Starts an emulator on a free 127.0.0.1 port and waits until it answers.
    ///
    /// Call it from the test's own thread (a plain `#[test]` or the default
    /// `#[tokio::test]`), not from `spawn_blocking` or another short-lived thread:
    /// `PR_SET_PDEATHSIG` fires when the *thread* that started moto exits.
    pub fn start() -> Result<Self, EmulatorError> {
        Self::start_with(&[])
    }

    /// Like [`Emulator::start`] with extra environment for the server (e.g.
    /// `("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")`).
    pub fn start_with(env: &[(&str, &str)]) -> Result<Self, EmulatorError> {
        let python = venv_dir().join("bin/python");
        if !python.is_file() {
            return Err(EmulatorError::NoVenv(venv_dir()));
        }
        let mut last_err = None;
        // A port picked free can be taken before moto binds it; try a few.
        for _ in 0..3 {
            let dir = tempfile::tempdir()?;
            let launcher = dir.path().join("emulator.py");
            std::fs::write(&launcher, LAUNCHER)?;
            let log_path = dir.path().join("emulator.log");
            let port = free_port()?;
            let log = File::create(&log_path)?;
            let mut cmd = Command::new(&python);
            cmd.arg(&launcher)
                .arg(port.to_string())
                .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log);
            for (k, v) in env {
                cmd.env(k, v);
            }
            // SAFETY: prctl is async-signal-safe; this runs in the child between fork and
            // exec. If the test process dies without unwinding, the kernel kills moto too.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = cmd
                .spawn()
                .map_err(|source| EmulatorError::Spawn { python: python.clone(), source })?;
            let mut emulator = Emulator { child, port, _dir: dir };
            match emulator.wait_ready(&log_path) {
                Ok(()) => return Ok(emulator),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or(EmulatorError::NotReady {
            port: 0,
            reason: "no attempt made".into(),
            log_tail: String::new(),
        }))
    }

    fn wait_ready(&mut self, log_path: &std::path::Path) -> Result<(), EmulatorError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.not_ready(format!("exited with {status}"), log_path));
            }
            if let Ok(200) = http(self.port, "GET", "/moto-api/data.json").map(|(s, _)| s) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.not_ready("no answer within 60 s".into(), log_path));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn not_ready(&self, reason: String, log_path: &std::path::Path) -> EmulatorError {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        EmulatorError::NotReady {
            port: self.port,
            reason,
            log_tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `[aws]` settings pointing at this emulator, with few retries and short timeouts.
    pub fn aws_config(&self) -> AwsConfig {
        AwsConfig {
            regions: vec![REGION.to_owned()],
            endpoint_url: Some(self.endpoint()),
            profile: None,
            max_attempts: 3,
            connect_timeout_secs: 5,
            operation_timeout_secs: 60,
            ..AwsConfig::default()
        }
    }

    /// An [`Aws`] for this emulator with its dummy credentials.
    pub async fn aws(&self) -> Result<Aws, EmulatorError> {
        self.aws_at(&self.endpoint(), self.aws_config().max_attempts).await
    }

    /// An [`Aws`] with this emulator's settings and credentials that sends every call to
    /// `endpoint` instead (a [`FaultProxy`](crate::FaultProxy) in front of it), with
    /// `max_attempts` attempts per call.
    pub async fn aws_at(&self, endpoint: &str, max_attempts: u32) -> Result<Aws, EmulatorError> {
        let mut settings = self.aws_config();
        settings.endpoint_url = Some(endpoint.to_owned());
        settings.max_attempts = max_attempts.max(1);
        Ok(Aws::builder(&settings)
            .static_credentials("testing", "testing")
            .region(REGION)
            .build()
            .await?)
    }

    /// Clears all emulated state.
    pub fn reset(&self) -> Result<(), EmulatorError> {
        self.control("/moto-api/reset")
    }

    fn control(&self, path: &str) -> Result<(), EmulatorError> {
        match http(self.port, "POST", path) {
            Ok((200, _)) => Ok(()),
            Ok((status, body)) => Err(EmulatorError::Control {
                path: path.into(),
                reason: format!("status {status}: {body}"),
            }),
            Err(e) => Err(EmulatorError::Control { path: path.into(), reason: e.to_string() }),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A minimal HTTP/1.0 exchange with the emulator's control API (no client crate needed).
fn http(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("malformed HTTP response"))?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}
