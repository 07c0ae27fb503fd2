//! Processes: running a program with a hard deadline, or streaming its lines, each child
//! in a tree of its own ([`super::tree`]); and how a process ended, named.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::Host;
use super::tree::{self, ChildGroup};

/// What a child process may print before the rest is dropped.
const PROCESS_OUTPUT_LIMIT: u64 = 8 << 20;
/// The longest line a streamed process may print; the rest of such a line is dropped.
const STREAMED_LINE_LIMIT: u64 = 64 << 10;

#[derive(Debug, Clone)]
pub struct ProcessOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ProcessOutput {
    /// The signal that ended the process, on Unix.
    pub fn signal(&self) -> Option<i32> {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            self.status.signal()
        }
        #[cfg(not(unix))]
        None
    }

    /// How the process died, when it crashed in native code rather than exiting.
    pub fn crash(&self) -> Option<Crash> {
        Crash::of(self.signal(), self.status.code())
    }
}

/// A native crash, named as people search for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// "SIGILL (illegal instruction)", "exit code 0xC000001D (illegal instruction)".
    pub name: String,
    /// The CPU met an instruction it lacks: for TensorFlow's wheels, usually AVX.
    pub illegal_instruction: bool,
}

impl Crash {
    /// From a Unix signal, or a Windows exit code that is an NTSTATUS exception code.
    pub fn of(signal: Option<i32>, code: Option<i32>) -> Option<Crash> {
        let (name, illegal_instruction) = match (signal, code.map(|c| c as u32)) {
            (Some(4), _) => ("SIGILL (illegal instruction)".to_string(), true),
            (Some(11), _) => ("SIGSEGV (segmentation fault)".to_string(), false),
            (Some(6), _) => ("SIGABRT (aborted)".to_string(), false),
            (Some(7), _) => ("SIGBUS (bus error)".to_string(), false),
            (Some(9), _) => (
                "SIGKILL (killed, often by the out-of-memory killer)".to_string(),
                false,
            ),
            (Some(signal), _) => (format!("signal {signal}"), false),
            (None, Some(0xC000_001D)) => (
                "exit code 0xC000001D (illegal instruction)".to_string(),
                true,
            ),
            (None, Some(0xC000_0005)) => {
                ("exit code 0xC0000005 (access violation)".to_string(), false)
            }
            (None, Some(0xC000_0409)) => (
                "exit code 0xC0000409 (stack buffer overrun)".to_string(),
                false,
            ),
            (None, Some(0xC000_0135)) => (
                "exit code 0xC0000135 (a DLL was not found)".to_string(),
                false,
            ),
            _ => return None,
        };
        Some(Crash {
            name,
            illegal_instruction,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{program} was not found")]
    NotFound { program: String },
    #[error("{program} could not be started: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("{program} did not finish within {:.1} s and was stopped", .after.as_secs_f64())]
    TimedOut { program: String, after: Duration },
}

/// How a streamed process ended.
#[derive(Debug)]
pub enum Streamed {
    Exited(ExitStatus),
    /// `cancel` was raised (Ctrl-C); the process group was stopped.
    Cancelled,
}

impl Host {
    /// Run a program with the host's environment, no input, and a hard deadline: on overrun
    /// the whole process tree is killed and the run returns `TimedOut`.
    pub fn run<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        timeout: Duration,
    ) -> Result<ProcessOutput, ProcessError> {
        self.run_with_env(program, args, &[], timeout)
    }

    /// [`Host::run`] with `extra` variables set on top of the host's environment.
    pub fn run_with_env<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        extra: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<ProcessOutput, ProcessError> {
        self.run_to_end(program, args, extra, None, timeout)
            .map(|(output, _)| output)
    }

    /// [`Host::run_with_env`], and what the child wrote on a channel of its own: a pipe whose
    /// writing end it inherits, named by its number (a file descriptor on Unix, a handle on
    /// Windows) in the variable `channel_var`. What the child's imports print on stdout, with
    /// or without a newline, never mixes with it. Nothing is written to disk.
    pub fn run_with_channel<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        extra: &[(&str, &str)],
        channel_var: &str,
        timeout: Duration,
    ) -> Result<(ProcessOutput, String), ProcessError> {
        let (reader, writer) = io::pipe().map_err(|source| ProcessError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
        let channel = drain(Some(reader));
        let (output, channel) = self.run_to_end(
            program,
            args,
            extra,
            Some((channel_var, writer, channel)),
            timeout,
        )?;
        Ok((output, channel.unwrap_or_default()))
    }

    fn run_to_end<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        extra: &[(&str, &str)],
        channel: Option<(&str, io::PipeWriter, Drained)>,
        timeout: Duration,
    ) -> Result<(ProcessOutput, Option<String>), ProcessError> {
        let (channel, drained) = match channel {
            Some((var, writer, drained)) => (Some((var, writer)), Some(drained)),
            None => (None, None),
        };
        // The child's copy is its own: the parent's end closes once it started, so the
        // channel ends when the child (and whatever inherited it from the child) is done.
        let (mut child, group) = self.start(program, args, extra, channel)?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());

        use wait_timeout::ChildExt;
        let status = match child.wait_timeout(timeout) {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => {
                group.kill(&mut child);
                return Err(ProcessError::TimedOut {
                    program: program.display().to_string(),
                    after: timeout,
                });
            }
        };
        // Whatever it started dies with it: nothing outlives the run, and a grandchild
        // holding the pipes open cannot keep the answer from being read to its end.
        drop(group);
        // A grandchild that left the group may still hold the pipes: keep what was read.
        let grace = Duration::from_millis(200);
        Ok((
            ProcessOutput {
                status,
                stdout: stdout.finish(grace),
                stderr: stderr.finish(grace),
            },
            drained.map(|d| d.finish(grace)),
        ))
    }

    /// Run a long program (pip) whose output is handed to `on_line` line by line as it comes,
    /// stdout and stderr merged, with the host's environment plus `extra_env`. On overrun
    /// (`TimedOut`) or when `cancel` is raised (`Cancelled`) its whole tree is stopped: on
    /// Unix SIGINT first, so pip can clean up its temporary files, then SIGKILL after a short
    /// grace. Like [`Host::run`]'s child, it is stopped by [`stop_all_children`] too.
    ///
    /// [`stop_all_children`]: super::stop_all_children
    pub fn run_streaming<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        extra_env: &[(&str, &str)],
        timeout: Duration,
        cancel: &AtomicBool,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProcessError> {
        let deadline = Instant::now() + timeout;
        let (mut child, group) = self.start(program, args, extra_env, None)?;
        let (tx, lines) = mpsc::channel();
        stream_lines(child.stdout.take(), tx.clone());
        stream_lines(child.stderr.take(), tx);
        let tick = Duration::from_millis(50);
        let mut exited: Option<(ExitStatus, Instant)> = None;
        loop {
            match lines.recv_timeout(tick) {
                Ok(line) => {
                    on_line(&line);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    if let Some((status, _)) = exited {
                        return Ok(Streamed::Exited(status));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some((status, at)) = exited {
                // A grandchild may still hold the pipes open; do not wait on it for long.
                if at.elapsed() > Duration::from_millis(200) {
                    return Ok(Streamed::Exited(status));
                }
                continue;
            }
            if cancel.load(Ordering::SeqCst) {
                group.stop(&mut child);
                return Ok(Streamed::Cancelled);
            }
            if Instant::now() >= deadline {
                group.stop(&mut child);
                return Err(ProcessError::TimedOut {
                    program: program.display().to_string(),
                    after: timeout,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                exited = Some((status, Instant::now()));
            }
        }
    }

    /// Start `program` with the host's environment plus `extra`, in the host's working
    /// directory, with no input and both outputs piped: the spawn every runner shares. With
    /// `channel`, the child also inherits that pipe's writing end, its number in the variable.
    fn start<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        extra: &[(&str, &str)],
        channel: Option<(&str, io::PipeWriter)>,
    ) -> Result<(Child, ChildGroup), ProcessError> {
        let mut command = Command::new(program);
        let spawn_error = |source: io::Error| {
            let program = program.display().to_string();
            if source.kind() == io::ErrorKind::NotFound {
                ProcessError::NotFound { program }
            } else {
                ProcessError::Spawn { program, source }
            }
        };
        let mut env = self.env_with(extra);
        let writer = match channel {
            Some((var, writer)) => {
                let inherited = inherit_channel(&mut command, writer).map_err(spawn_error)?;
                env.insert(var.to_string(), inherited.number.to_string());
                Some(inherited)
            }
            None => None,
        };
        command
            .args(args)
            .env_clear()
            .envs(env)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = tree::start(&mut command).map_err(spawn_error);
        // The parent's copy of the writing end closes here, started or not.
        drop(writer);
        started
    }
}

/// A pipe's writing end, made inheritable by the one child it is meant for.
struct InheritedChannel {
    /// The number the child finds it under.
    number: u64,
    _end: io::PipeWriter,
}

/// Let the child of `command` inherit `writer`. On Unix the descriptor stays close-on-exec
/// in this process (so no other child started meanwhile gets it) and is made inheritable in
/// the forked child only, just before exec.
#[cfg(unix)]
fn inherit_channel(command: &mut Command, writer: io::PipeWriter) -> io::Result<InheritedChannel> {
    use std::os::fd::{AsRawFd, BorrowedFd};
    use std::os::unix::process::CommandExt;
    let raw = writer.as_raw_fd();
    // SAFETY: runs between fork and exec, calling only fcntl (async-signal-safe) on a
    // descriptor that `writer` keeps open until after the spawn.
    unsafe {
        command.pre_exec(move || {
            let fd = BorrowedFd::borrow_raw(raw);
            rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
            Ok(())
        });
    }
    Ok(InheritedChannel {
        number: u64::try_from(raw).map_err(|_| io::Error::other("negative descriptor"))?,
        _end: writer,
    })
}

/// On Windows the handle is marked inheritable until the spawn: Rust starts children with
/// inheritance on, so a child another thread starts in that moment inherits it too; that
/// child then only delays the channel's end until it exits, which the reader's grace bounds.
#[cfg(windows)]
fn inherit_channel(_: &mut Command, writer: io::PipeWriter) -> io::Result<InheritedChannel> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::{HANDLE_FLAG_INHERIT, SetHandleInformation};
    let handle = writer.as_raw_handle();
    // SAFETY: a handle `writer` owns and keeps open; only its inheritance flag changes.
    if unsafe { SetHandleInformation(handle, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(InheritedChannel {
        number: handle as usize as u64,
        _end: writer,
    })
}

#[cfg(not(any(unix, windows)))]
fn inherit_channel(_: &mut Command, _: io::PipeWriter) -> io::Result<InheritedChannel> {
    Err(io::Error::other("no inheritable pipes on this OS"))
}

/// Send each line a pipe yields, lossily decoded and without its line ending.
fn stream_lines<R: Read + Send + 'static>(pipe: Option<R>, tx: mpsc::Sender<String>) {
    let Some(pipe) = pipe else { return };
    std::thread::spawn(move || {
        let mut reader = io::BufReader::new(pipe);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let read = io::BufRead::read_until(
                &mut (&mut reader).take(STREAMED_LINE_LIMIT),
                b'\n',
                &mut buffer,
            );
            match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if buffer.len() as u64 >= STREAMED_LINE_LIMIT && buffer.last() != Some(&b'\n') {
                // Drop the rest of an overlong line.
                let _ = io::BufRead::skip_until(&mut reader, b'\n');
            }
            let text = String::from_utf8_lossy(&buffer);
            let line = text.trim_end_matches(['\n', '\r']);
            if tx.send(line.to_string()).is_err() {
                return;
            }
        }
    });
}

/// A pipe read to its end on a thread of its own; what was read so far is kept even when
/// the end never comes.
struct Drained {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Drained {
    fn finish(self, grace: Duration) -> String {
        let _ = self.done.recv_timeout(grace);
        let bytes = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Drained {
    let (tx, done) = mpsc::channel();
    let bytes = Arc::new(Mutex::new(Vec::new()));
    if let Some(pipe) = pipe {
        let sink = Arc::clone(&bytes);
        std::thread::spawn(move || {
            let mut pipe = pipe.take(PROCESS_OUTPUT_LIMIT);
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
    }
    Drained { bytes, done }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::host::{OsFamily, stop_all_children};

    #[test]
    fn native_crashes_are_named_on_each_os() {
        let sigill = Crash::of(Some(4), None).unwrap();
        assert_eq!(sigill.name, "SIGILL (illegal instruction)");
        assert!(sigill.illegal_instruction);
        let segv = Crash::of(Some(11), None).unwrap();
        assert_eq!(segv.name, "SIGSEGV (segmentation fault)");
        assert!(!segv.illegal_instruction);
        // Windows reports an unhandled exception as the process's exit code.
        let windows = Crash::of(None, Some(0xC000_001Du32 as i32)).unwrap();
        assert_eq!(windows.name, "exit code 0xC000001D (illegal instruction)");
        assert!(windows.illegal_instruction);
        assert_eq!(Crash::of(None, Some(1)), None);
        assert_eq!(Crash::of(None, Some(0)), None);
    }

    /// The test below runs this test binary again in one of these roles.
    const TREE_ROLE: &str = "PREFLIGHT_TEST_TREE_ROLE";
    const TREE_PID_FILE: &str = "PREFLIGHT_TEST_TREE_PID_FILE";
    const TREE_TEST: &str =
        "host::process::tests::a_process_started_by_a_child_dies_with_it_at_the_deadline";

    fn tree_test_args() -> [&'static str; 4] {
        ["--exact", TREE_TEST, "--nocapture", "--test-threads=1"]
    }

    /// Whether process `pid` has ended, waiting up to `within` for it.
    fn ends_within(pid: u32, within: Duration) -> bool {
        #[cfg(unix)]
        {
            let until = Instant::now() + within;
            loop {
                // Gone, or a zombie nobody reaped yet: either way it runs no more.
                let state = std::fs::read_to_string(format!("/proc/{pid}/stat"));
                let ended = match state {
                    Ok(stat) => stat.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')),
                    Err(_) => {
                        let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
                        rustix::process::test_kill_process(pid).is_err()
                    }
                };
                if ended {
                    return true;
                }
                if Instant::now() >= until {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        #[cfg(windows)]
        {
            use windows_sys::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
            use windows_sys::Win32::System::Threading::{
                OpenProcess, PROCESS_SYNCHRONIZE, WaitForSingleObject,
            };
            // SAFETY: an access right and a pid; the handle is checked and closed below.
            let process = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
            if process.is_null() {
                return true; // no such process any more
            }
            let millis = u32::try_from(within.as_millis()).unwrap_or(u32::MAX);
            // SAFETY: an open process handle with SYNCHRONIZE access, closed right after.
            unsafe {
                let ended = WaitForSingleObject(process, millis) == WAIT_OBJECT_0;
                CloseHandle(process);
                ended
            }
        }
    }

    /// A child that starts a process of its own and then hangs (as a virtualenv's
    /// `python.exe` on Windows starts the base interpreter and waits on it; as a `--deep`
    /// run starts workers): at the deadline both end, not only the child. On Unix by the
    /// process group, on Windows by the job object.
    #[test]
    fn a_process_started_by_a_child_dies_with_it_at_the_deadline() {
        let me = std::env::current_exe().unwrap();
        match std::env::var(TREE_ROLE).as_deref() {
            Ok("grandchild") => {
                std::thread::sleep(Duration::from_secs(300));
                std::process::exit(0);
            }
            Ok("child") => {
                let grandchild = Command::new(&me)
                    .args(tree_test_args())
                    .env(TREE_ROLE, "grandchild")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                let pid_file = std::env::var(TREE_PID_FILE).unwrap();
                std::fs::write(&pid_file, grandchild.id().to_string()).unwrap();
                std::thread::sleep(Duration::from_secs(300));
                std::process::exit(0);
            }
            _ => {}
        }
        let dir = tempfile::TempDir::new().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let mut env = vec![
            (TREE_ROLE, "child".to_string()),
            (TREE_PID_FILE, pid_file.to_str().unwrap().to_string()),
        ];
        // Windows starts no program without it.
        if let Ok(root) = std::env::var("SystemRoot") {
            env.push(("SystemRoot", root));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let host = Host::simulated(dir.path(), OsFamily::current(), &env);
        // Long enough for the child to start its own, even under wine on a loaded machine.
        let deadline = Duration::from_secs(20);
        let result = host.run(&me, &tree_test_args(), deadline);
        assert!(
            matches!(result, Err(ProcessError::TimedOut { .. })),
            "{result:?}"
        );
        let grandchild: u32 = std::fs::read_to_string(&pid_file)
            .expect("the child started its own process before the deadline")
            .parse()
            .unwrap();
        assert!(
            ends_within(grandchild, Duration::from_secs(10)),
            "process {grandchild}, started by the child, outlived the deadline"
        );
    }

    /// The test below runs this test binary again in this role.
    const CHANNEL_ROLE: &str = "PREFLIGHT_TEST_CHANNEL_ROLE";
    const CHANNEL_VAR: &str = "PREFLIGHT_TEST_CHANNEL";
    const CHANNEL_TEST: &str =
        "host::process::tests::a_child_answers_on_its_channel_whatever_it_prints_on_stdout";

    /// The channel [`Host::run_with_channel`] passes is the child's own: what it prints on
    /// stdout without a newline neither reaches nor breaks the answers.
    #[test]
    fn a_child_answers_on_its_channel_whatever_it_prints_on_stdout() {
        use std::io::Write;
        if std::env::var(CHANNEL_ROLE).as_deref() == Ok("child") {
            let number: u64 = std::env::var(CHANNEL_VAR).unwrap().parse().unwrap();
            #[cfg(unix)]
            // SAFETY: the descriptor the parent passed, owned by this process from here on.
            let mut channel =
                unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(number as i32) };
            #[cfg(windows)]
            // SAFETY: the handle the parent passed, owned by this process from here on.
            let mut channel = unsafe {
                <std::fs::File as std::os::windows::io::FromRawHandle>::from_raw_handle(
                    number as usize as std::os::windows::io::RawHandle,
                )
            };
            print!("noise without a newline");
            std::io::stdout().flush().unwrap();
            channel.write_all(b"{\"answer\": 1}\n").unwrap();
            std::process::exit(0);
        }
        let me = std::env::current_exe().unwrap();
        let dir = tempfile::TempDir::new().unwrap();
        let mut env = vec![(CHANNEL_ROLE, "child".to_string())];
        // Windows starts no program without it.
        if let Ok(root) = std::env::var("SystemRoot") {
            env.push(("SystemRoot", root));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let host = Host::simulated(dir.path(), OsFamily::current(), &env);
        let args = ["--exact", CHANNEL_TEST, "--nocapture", "--test-threads=1"];
        let (output, channel) = host
            .run_with_channel(&me, &args, &[], CHANNEL_VAR, Duration::from_secs(60))
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(channel, "{\"answer\": 1}\n");
        assert!(
            output.stdout.contains("noise without a newline"),
            "{output:?}"
        );
        assert!(!output.stdout.contains("{\"answer"), "{output:?}");
    }

    /// The test below runs this test binary again in one of these roles.
    const STREAM_ROLE: &str = "PREFLIGHT_TEST_STREAM_ROLE";
    const STREAM_TEST: &str =
        "host::process::tests::a_streamed_child_is_stopped_with_every_other_child_on_an_interrupt";

    const STREAMING: &str = "preflight test: streaming";

    fn stream_test_args() -> [&'static str; 4] {
        ["--exact", STREAM_TEST, "--nocapture", "--test-threads=1"]
    }

    /// What an interrupt does outside `fix`'s build ([`stop_all_children`]) reaches a child
    /// that [`Host::run_streaming`] started, as it reaches one [`Host::run`] started. Run in
    /// a process of its own: stopping all children also refuses every later child.
    #[test]
    fn a_streamed_child_is_stopped_with_every_other_child_on_an_interrupt() {
        let me = std::env::current_exe().unwrap();
        match std::env::var(STREAM_ROLE).as_deref() {
            Ok("streamed") => {
                // The harness may have begun the line (`test NAME ... `).
                println!("{STREAMING}");
                std::thread::sleep(Duration::from_secs(300));
                std::process::exit(0);
            }
            Ok("interrupted") => {
                let dir = tempfile::TempDir::new().unwrap();
                let mut env = vec![(STREAM_ROLE, "streamed".to_string())];
                // Windows starts no program without it.
                if let Ok(root) = std::env::var("SystemRoot") {
                    env.push(("SystemRoot", root));
                }
                let (ready, streaming) = mpsc::channel();
                let runner = std::thread::spawn(move || {
                    let env: Vec<(&str, &str)> =
                        env.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let host = Host::simulated(dir.path(), OsFamily::current(), &[]);
                    let never = AtomicBool::new(false);
                    host.run_streaming(
                        &me,
                        &stream_test_args(),
                        &env,
                        Duration::from_secs(300),
                        &never,
                        &mut |line| {
                            if line.ends_with(STREAMING) {
                                let _ = ready.send(());
                            }
                        },
                    )
                });
                streaming
                    .recv_timeout(Duration::from_secs(120))
                    .expect("the streamed child started");
                assert_eq!(stop_all_children(), 1, "the streamed child was registered");
                let until = Instant::now() + Duration::from_secs(60);
                while !runner.is_finished() && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(50));
                }
                assert!(
                    runner.is_finished(),
                    "the streamed child outlived the interrupt"
                );
                let outcome = runner.join().unwrap();
                assert!(
                    matches!(outcome, Ok(Streamed::Exited(ref status)) if !status.success()),
                    "{outcome:?}"
                );
                return;
            }
            _ => {}
        }
        let mut interrupted = std::process::Command::new(&me);
        interrupted
            .args(stream_test_args())
            .env(STREAM_ROLE, "interrupted")
            .stdin(Stdio::null());
        let output = interrupted.output().unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
