//! The only door to the machine. Checks ask the `Host` for files, variables, processes and
//! system facts; tests build a `Host` over a temporary directory with chosen variables.
//!
//! `clippy.toml` forbids the standard library's file, path and environment calls everywhere
//! else, so that every read goes through the helpers here (a file is type-checked before it
//! is opened) and nothing is written.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;

#[cfg(windows)]
use crate::platform::windows::WindowsVersion;
use crate::video::{KernelVideoDevices, Probe, VideoDevices};

/// Anything larger than this where a small text file is expected is refused, not read.
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;
/// What a child process may print before the rest is dropped.
const PROCESS_OUTPUT_LIMIT: u64 = 8 << 20;
/// The longest line a streamed process may print; the rest of such a line is dropped.
const STREAMED_LINE_LIMIT: u64 = 64 << 10;
/// How long a stopped process group gets to clean up after SIGINT before it is killed.
#[cfg(unix)]
const STOP_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Linux,
    Macos,
    Windows,
    Other,
}

impl OsFamily {
    pub fn current() -> Self {
        match std::env::consts::OS {
            "linux" => OsFamily::Linux,
            "macos" => OsFamily::Macos,
            "windows" => OsFamily::Windows,
            _ => OsFamily::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OsFamily::Linux => "Linux",
            OsFamily::Macos => "macOS",
            OsFamily::Windows => "Windows",
            OsFamily::Other => std::env::consts::OS,
        }
    }
}

/// Facts about the hardware and OS. Gathered once; tests may overwrite any field.
#[derive(Debug, Clone, Default)]
pub struct SystemFacts {
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub kernel: Option<String>,
    pub arch: String,
    pub cpu_brand: Option<String>,
    /// Lower-case x86 feature names the CPU reports (`avx`, `avx2`, ...); `None` when unknown.
    pub cpu_flags: Option<Vec<String>>,
    pub total_memory_bytes: Option<u64>,
    pub host_name: Option<String>,
}

/// [`SystemFacts`], gathered when first read: asking the OS for the CPU and memory costs
/// CPU time that the interpreter probe, started at the same moment, should have; the system
/// check reads them on its own thread while the probe runs. Tests may overwrite any field
/// (writing gathers the rest first).
#[derive(Debug, Clone)]
pub struct LazyFacts {
    root: PathBuf,
    os: OsFamily,
    gathered: OnceLock<SystemFacts>,
}

impl LazyFacts {
    fn new(root: &Path, os: OsFamily) -> Self {
        LazyFacts {
            root: root.to_path_buf(),
            os,
            gathered: OnceLock::new(),
        }
    }
}

impl std::ops::Deref for LazyFacts {
    type Target = SystemFacts;

    fn deref(&self) -> &SystemFacts {
        self.gathered
            .get_or_init(|| SystemFacts::gather(&self.root, self.os))
    }
}

impl std::ops::DerefMut for LazyFacts {
    fn deref_mut(&mut self) -> &mut SystemFacts {
        if self.gathered.get().is_none() {
            let facts = SystemFacts::gather(&self.root, self.os);
            self.gathered = OnceLock::from(facts);
        }
        self.gathered
            .get_mut()
            .unwrap_or_else(|| unreachable!("gathered just above"))
    }
}

/// The x86 features TensorFlow's wheels care about.
const CPU_FEATURES_OF_INTEREST: &[&str] = &["avx", "avx2", "fma", "sse4_2", "hypervisor"];

impl SystemFacts {
    fn gather(root: &Path, os: OsFamily) -> Self {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        // Linux names the CPU and its features in /proc/cpuinfo, read once: each read asks
        // every CPU for its clock. sysinfo is asked for the CPU only where it has no name.
        let cpuinfo = (os == OsFamily::Linux)
            .then(|| read_small(&root.join("proc/cpuinfo")).ok())
            .flatten();
        let model_name = cpuinfo
            .as_deref()
            .and_then(crate::platform::linux::cpu_model_name);
        let mut wanted =
            RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram());
        if model_name.is_none() {
            wanted = wanted.with_cpu(CpuRefreshKind::nothing());
        }
        let system = System::new_with_specifics(wanted).ok();
        let cpu_brand = model_name.or_else(|| {
            system
                .as_ref()
                .and_then(|s| s.cpus().first().map(|cpu| cpu.brand().trim().to_string()))
                .filter(|b| !b.is_empty())
        });
        let (os_name, os_version) = os_name_and_version();
        SystemFacts {
            os_name,
            os_version,
            kernel: System::kernel_version().ok(),
            arch: std::env::consts::ARCH.to_string(),
            cpu_brand,
            cpu_flags: cpu_flags(cpuinfo.as_deref(), os),
            total_memory_bytes: system.map(|s| s.total_memory()).filter(|m| *m > 0),
            host_name: System::host_name().ok().filter(|n| !n.is_empty()),
        }
    }
}

#[cfg(not(windows))]
fn os_name_and_version() -> (Option<String>, Option<String>) {
    use sysinfo::System;
    (System::name().ok(), System::os_version().ok())
}

/// sysinfo's Windows version is "major (build)", and the major number is missing before
/// Windows 10 (wine answers as Windows 7: "0 (7601)"); the registry names the edition.
#[cfg(windows)]
fn os_name_and_version() -> (Option<String>, Option<String>) {
    let (name, version) = read_windows_version().describe();
    (Some(name), Some(version))
}

/// What `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` says about the running Windows.
#[cfg(windows)]
fn read_windows_version() -> WindowsVersion {
    let Ok(key) =
        windows_registry::LOCAL_MACHINE.open(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion")
    else {
        return WindowsVersion::default();
    };
    let text = |name: &str| {
        key.get_string(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    WindowsVersion {
        product_name: text("ProductName"),
        display_version: text("DisplayVersion"),
        release_id: text("ReleaseId"),
        service_pack: text("CSDVersion"),
        build: text("CurrentBuildNumber"),
        update_revision: key.get_u32("UBR").ok(),
    }
}

/// The features of interest: on Linux from `cpuinfo` (`None` when it could not be read).
fn cpu_flags(cpuinfo: Option<&str>, os: OsFamily) -> Option<Vec<String>> {
    if os == OsFamily::Linux {
        let mut features = crate::platform::linux::cpu_features(cpuinfo?)?;
        features.retain(|f| CPU_FEATURES_OF_INTEREST.contains(&f.as_str()));
        return Some(features);
    }
    #[cfg(target_arch = "x86_64")]
    {
        let mut found = Vec::new();
        if std::arch::is_x86_feature_detected!("avx") {
            found.push("avx".to_string());
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            found.push("avx2".to_string());
        }
        if std::arch::is_x86_feature_detected!("fma") {
            found.push("fma".to_string());
        }
        if std::arch::is_x86_feature_detected!("sse4.2") {
            found.push("sse4_2".to_string());
        }
        Some(found)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Read a file expected to be small; a larger one is an error, never a huge allocation.
pub fn read_small(path: &Path) -> io::Result<String> {
    let bytes = read_bounded(path, SMALL_FILE_LIMIT)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Read at most `limit` bytes of a regular file; a file with more is refused with
/// `InvalidData`, anything else (a FIFO, a device) as [`open_regular`] says.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("is larger than {} KiB, not read", limit / 1024),
        ));
    }
    Ok(bytes)
}

/// Open a file for reading only when it is a regular file. Opening a FIFO waits for a writer
/// and reading a device may never end, before any deadline: those are refused, saying what
/// they are (`is a named pipe (FIFO), not a regular file`), with `InvalidInput`.
pub fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    refuse_unless_regular(&std::fs::metadata(path)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Should the file be swapped for a FIFO after the check, the open still returns at
        // once, and the second check below refuses it. No effect on regular files.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    refuse_unless_regular(&file.metadata()?)?;
    Ok(file)
}

fn refuse_unless_regular(meta: &std::fs::Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("is {}, not a regular file", file_kind(&meta.file_type())),
    ))
}

/// What a file is, in words: "a directory", "a named pipe (FIFO)", "a character device".
pub fn file_kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The entries of a directory.
pub fn read_dir(path: impl AsRef<Path>) -> io::Result<std::fs::ReadDir> {
    std::fs::read_dir(path)
}

/// What `path` is, following symbolic links.
pub fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    std::fs::metadata(path)
}

/// What `path` is itself: a symbolic link is not followed (a dangling one is there too).
pub fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    std::fs::symlink_metadata(path)
}

/// Where a symbolic link points.
pub fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    std::fs::read_link(path)
}

/// The path with every symbolic link and `..` resolved.
pub fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    std::fs::canonicalize(path)
}

/// Something is at `path`, following symbolic links (a dangling link is not).
pub fn exists(path: impl AsRef<Path>) -> bool {
    path.as_ref().exists()
}

/// `path` is a regular file, following symbolic links.
pub fn is_file(path: impl AsRef<Path>) -> bool {
    path.as_ref().is_file()
}

/// `path` is a directory, following symbolic links.
pub fn is_dir(path: impl AsRef<Path>) -> bool {
    path.as_ref().is_dir()
}

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

/// How many children [`Host::run_with_env`] has started, and a signal for each start.
static CHILDREN_STARTED: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// How many children [`Host::run_with_env`] has started so far in this process.
pub fn children_started() -> u64 {
    *CHILDREN_STARTED.0.lock().unwrap_or_else(|p| p.into_inner())
}

fn child_started() {
    let (count, signal) = &CHILDREN_STARTED;
    *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    signal.notify_all();
}

/// Wait until more than `before` children have started, or `done` says there is nothing to
/// wait for, or `limit` has passed.
pub fn wait_for_child_after(before: u64, limit: Duration, done: impl Fn() -> bool) {
    // `done` is asked between short waits: a thread that ends without starting a child
    // sends no signal.
    const POLL: Duration = Duration::from_millis(1);
    let until = Instant::now() + limit;
    let (count, signal) = &CHILDREN_STARTED;
    let mut started = count.lock().unwrap_or_else(|p| p.into_inner());
    while *started <= before && !done() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        started = match signal.wait_timeout(started, left.min(POLL)) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
}

pub struct Host {
    /// Where absolute system paths (`/opt`, `/sys`, `/Applications`) are looked up: `/` in
    /// production, a temporary directory in tests.
    pub root: PathBuf,
    pub os: OsFamily,
    pub home: Option<PathBuf>,
    pub cwd: PathBuf,
    pub facts: LazyFacts,
    env: BTreeMap<String, String>,
    /// Variables whose value is not UTF-8 (pip reads them too, see [`Host::env_os`]).
    not_utf8: BTreeMap<String, std::ffi::OsString>,
    video: Arc<dyn VideoDevices>,
}

impl Host {
    /// The real machine this process runs on.
    pub fn from_machine() -> Self {
        let mut not_utf8 = BTreeMap::new();
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let key = k.into_string().ok()?;
                match v.into_string() {
                    Ok(value) => Some((key, value)),
                    Err(raw) => {
                        not_utf8.insert(key, raw);
                        None
                    }
                }
            })
            .collect();
        let os = OsFamily::current();
        let root = PathBuf::from("/");
        Host {
            facts: LazyFacts::new(&root, os),
            root,
            os,
            home: std::env::home_dir(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            env,
            not_utf8,
            video: Arc::new(KernelVideoDevices),
        }
    }

    /// A host over `root` with exactly the variables given; home comes from `HOME` (or
    /// `USERPROFILE` on Windows), the working directory is `root`.
    pub fn simulated(root: impl Into<PathBuf>, os: OsFamily, env: &[(&str, &str)]) -> Self {
        let root = root.into();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let home_var = if os == OsFamily::Windows {
            "USERPROFILE"
        } else {
            "HOME"
        };
        let mut facts = LazyFacts::new(&root, os);
        facts.os_name = Some(os.label().to_string());
        let mut host = Host {
            cwd: root.clone(),
            root,
            os,
            home: None,
            facts,
            env,
            not_utf8: BTreeMap::new(),
            video: Arc::new(KernelVideoDevices),
        };
        host.home = host.env(home_var).map(PathBuf::from);
        host
    }

    /// Answer video device probes with `devices` instead of the kernel (tests).
    pub fn set_video_devices(&mut self, devices: impl VideoDevices + 'static) {
        self.video = Arc::new(devices);
    }

    /// Open a video node and ask its driver what it is.
    pub fn probe_video(&self, node: &Path) -> Probe {
        self.video.probe(node)
    }

    /// A variable's value; unset and empty are the same. On Windows names match whatever
    /// their case, as Windows itself matches them (`Path` is `PATH`).
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env_key(key)
            .and_then(|stored| self.env.get(stored))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A variable's value even when it is not UTF-8 (a path in a Latin-1 locale); unset and
    /// empty are the same.
    pub fn env_os(&self, key: &str) -> Option<&OsStr> {
        self.env(key).map(OsStr::new).or_else(|| {
            self.not_utf8
                .get(key)
                .map(|v| v.as_os_str())
                .filter(|v| !v.is_empty())
        })
    }

    /// The name under which `key` is stored: itself, or on Windows the same name in any case.
    fn env_key(&self, key: &str) -> Option<&str> {
        if self.os == OsFamily::Windows {
            self.env
                .keys()
                .find(|stored| same_name_ignoring_case(stored, key))
                .map(String::as_str)
        } else {
            self.env
                .get_key_value(key)
                .map(|(stored, _)| stored.as_str())
        }
    }

    /// The first of `keys` that is set, with its name, for variables that come in two cases.
    /// On Windows, where `http_proxy` is also `HTTP_PROXY`, the name is the one of `keys`
    /// spelled as the variable was set, when there is one.
    pub fn env_any<'a>(&self, keys: &[&'a str]) -> Option<(&'a str, &str)> {
        keys.iter().find_map(|key| {
            let value = self.env(key)?;
            let stored = self.env_key(key)?;
            let name = keys.iter().find(|k| **k == stored).unwrap_or(key);
            Some((*name, value))
        })
    }

    /// Set a variable; on Windows this replaces it under whatever case it was stored, so a
    /// child never sees both `Path` and `PATH`.
    pub fn set_env(&mut self, key: &str, value: &str) {
        if let Some(stored) = self.env_key(key).map(str::to_string) {
            self.env.remove(&stored);
        }
        self.env.insert(key.to_string(), value.to_string());
    }

    /// A fixed system location such as `/opt` or `/sys/class/video4linux`, under the root.
    pub fn system_path(&self, absolute: &str) -> PathBuf {
        let mut path = self.root.clone();
        for part in Path::new(absolute).components() {
            if let Component::Normal(p) = part {
                path.push(p);
            }
        }
        path
    }

    /// A path the user gave, resolved against the working directory; a leading `~` is the
    /// home directory, as a shell would expand it (`--venv=~/exam` reaches us unexpanded).
    pub fn user_path(&self, given: &Path) -> PathBuf {
        let mut parts = given.components();
        if let (Some(Component::Normal(first)), Some(home)) = (parts.next(), &self.home)
            && first == "~"
        {
            let rest = parts.as_path();
            return if rest.as_os_str().is_empty() {
                home.clone()
            } else {
                home.join(rest)
            };
        }
        if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.cwd.join(given)
        }
    }

    /// Find a program on the host's `PATH`, as a shell would.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        let path = self.env("PATH")?;
        which::which_in(program, Some(path), &self.cwd).ok()
    }

    /// Every match for a program on the host's `PATH`, in search order: the first may be a
    /// stand-in (the Microsoft Store's python alias) that a caller must look past.
    pub fn which_all(&self, program: &str) -> Vec<PathBuf> {
        let Some(path) = self.env("PATH") else {
            return Vec::new();
        };
        which::which_in_all(program, Some(path), &self.cwd)
            .map(|found| found.collect())
            .unwrap_or_default()
    }

    /// Free bytes on the file system holding `path` (or its nearest existing ancestor).
    pub fn free_space(&self, path: &Path) -> Option<u64> {
        let existing = path.ancestors().find(|p| p.exists())?;
        free_space_at(existing)
    }

    /// Run a program with the host's environment, no input, and a hard deadline: on overrun
    /// the whole process group is killed and the run returns `TimedOut`.
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
        let mut env = self.env.clone();
        for (key, value) in extra {
            if let Some(stored) = self.env_key(key) {
                env.remove(stored);
            }
            env.insert(key.to_string(), value.to_string());
        }
        let name = program.display().to_string();
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(&env)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn_error = |source: io::Error| {
            if source.kind() == io::ErrorKind::NotFound {
                ProcessError::NotFound {
                    program: name.clone(),
                }
            } else {
                ProcessError::Spawn {
                    program: name.clone(),
                    source,
                }
            }
        };
        // Spawned and registered under one lock, so a signal cannot slip in between.
        let (mut child, group) = {
            let mut groups = child_groups();
            if groups.stopping {
                return Err(spawn_error(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "preflight is stopping",
                )));
            }
            // In a tree of its own, so a timeout can also stop whatever it started.
            let (child, tree) = spawn_tree(&mut command).map_err(spawn_error)?;
            groups.live.insert(child.id(), tree);
            let group = ChildGroup(child.id());
            (child, group)
        };
        child_started();
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());

        use wait_timeout::ChildExt;
        let status = match child.wait_timeout(timeout) {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => {
                drop(group);
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProcessError::TimedOut {
                    program: name,
                    after: timeout,
                });
            }
        };
        // Whatever it started dies with it: nothing outlives the run, and a grandchild
        // holding the pipes open cannot keep the answer from being read to its end.
        drop(group);
        // A grandchild that left the group may still hold the pipes: keep what was read.
        let grace = Duration::from_millis(200);
        Ok(ProcessOutput {
            status,
            stdout: stdout.finish(grace),
            stderr: stderr.finish(grace),
        })
    }

    /// Run a long program (pip) whose output is handed to `on_line` line by line as it comes,
    /// stdout and stderr merged, with the host's environment plus `extra_env`. It runs in a
    /// process group of its own; on overrun (`TimedOut`) or when `cancel` is raised
    /// (`Cancelled`) the whole group is stopped: SIGINT first, so pip can clean up its
    /// temporary files, then SIGKILL after a short grace.
    pub fn run_streaming<S: AsRef<OsStr>>(
        &self,
        program: &Path,
        args: &[S],
        extra_env: &[(&str, &str)],
        timeout: Duration,
        cancel: &AtomicBool,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Streamed, ProcessError> {
        let name = program.display().to_string();
        let deadline = Instant::now() + timeout;
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(&self.env)
            .envs(extra_env.iter().copied())
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let (mut child, tree) = spawn_tree(&mut command).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                ProcessError::NotFound {
                    program: name.clone(),
                }
            } else {
                ProcessError::Spawn {
                    program: name.clone(),
                    source,
                }
            }
        })?;
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
                stop_tree(&mut child, &tree);
                return Ok(Streamed::Cancelled);
            }
            if Instant::now() >= deadline {
                stop_tree(&mut child, &tree);
                return Err(ProcessError::TimedOut {
                    program: name,
                    after: timeout,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                exited = Some((status, Instant::now()));
            }
        }
    }
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

/// Stop a child and what it started: on Unix its process group politely (SIGINT, as Ctrl-C
/// would), then whatever is left; on Windows its job at once.
fn stop_tree(child: &mut std::process::Child, tree: &Tree) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process_group};
        if let Some(pid) = Pid::from_raw(child.id() as i32) {
            let _ = kill_process_group(pid, Signal::INT);
            use wait_timeout::ChildExt;
            let _ = child.wait_timeout(STOP_GRACE);
        }
    }
    // Whether or not the leader went: what is left of its group (background jobs of a shell
    // ignore SIGINT) or its job goes now.
    tree.kill();
    let _ = child.kill();
    let _ = child.wait();
}

fn same_name_ignoring_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

/// A child and everything it starts, to be stopped together: its process group on Unix
/// (its id is the child's pid), a job object on Windows, where a virtualenv's `python.exe`
/// is a redirector that starts the base interpreter as a child of its own.
struct Tree {
    /// The process group's id.
    #[cfg(not(windows))]
    id: u32,
    /// `None` where Windows refused a job (an old Windows inside a job of its own): then
    /// only the child itself can be stopped.
    #[cfg(windows)]
    job: Option<job::Job>,
}

impl Tree {
    fn kill(&self) {
        #[cfg(unix)]
        {
            use rustix::process::{Pid, Signal, kill_process_group};
            // The group's id stays reserved while any member lives, so this never hits a
            // stranger; with no member left it is a harmless ESRCH.
            if let Some(pid) = i32::try_from(self.id).ok().and_then(Pid::from_raw) {
                let _ = kill_process_group(pid, Signal::KILL);
            }
        }
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.terminate();
        }
        #[cfg(not(any(unix, windows)))]
        let _ = self.id;
    }
}

/// Start `command` in a tree of its own: a new process group on Unix; on Windows a job
/// object, the child started suspended so that it starts nothing before it is in the job.
fn spawn_tree(command: &mut Command) -> io::Result<(std::process::Child, Tree)> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command.spawn()?;
        let id = child.id();
        Ok((child, Tree { id }))
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        use windows_sys::Win32::System::Threading::CREATE_SUSPENDED;
        command.creation_flags(CREATE_SUSPENDED);
        let mut child = command.spawn()?;
        let job = job::Job::new()
            .and_then(|job| job.assign(&child).map(|()| job))
            .ok();
        if let Err(e) = job::resume(child.id()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        Ok((child, Tree { job }))
    }
    #[cfg(not(any(unix, windows)))]
    {
        let child = command.spawn()?;
        let id = child.id();
        Ok((child, Tree { id }))
    }
}

/// Windows job objects, the one place this module calls the Windows API for processes.
#[cfg(windows)]
mod job {
    use std::io;
    use std::os::windows::io::AsRawHandle;
    use std::process::Child;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
    };
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject,
    };
    use windows_sys::Win32::System::Threading::{OpenThread, ResumeThread, THREAD_SUSPEND_RESUME};

    /// The exit code a stopped process gets: 1, as `Child::kill` gives.
    const STOPPED: u32 = 1;

    /// An open job object whose processes all end when it is closed (dropped), and sooner
    /// with [`Job::terminate`].
    pub struct Job(HANDLE);

    // SAFETY: a job handle is a kernel handle, usable from any thread until it is closed,
    // and only `Drop` closes it.
    unsafe impl Send for Job {}

    impl Job {
        pub fn new() -> io::Result<Job> {
            // SAFETY: both arguments may be null: default security, no name.
            let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if handle.is_null() {
                return Err(io::Error::last_os_error());
            }
            let job = Job(handle);
            let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            // SAFETY: `limits` is the structure this information class names, passed with its
            // size, and it outlives the call; the job handle is open.
            let ok = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&raw const limits).cast(),
                    size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                )
            };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(job)
        }

        pub fn assign(&self, child: &Child) -> io::Result<()> {
            // SAFETY: the job's handle is open until `Drop`; the child's while `child` lives.
            let ok = unsafe { AssignProcessToJobObject(self.0, child.as_raw_handle() as HANDLE) };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// End every process in the job now.
        pub fn terminate(&self) {
            // SAFETY: the job's handle is open until `Drop`.
            unsafe { TerminateJobObject(self.0, STOPPED) };
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is open and closed only here, once.
            unsafe { CloseHandle(self.0) };
        }
    }

    /// Resume a process started suspended: its one thread, found in a snapshot of the
    /// system's threads (the standard library keeps no handle to it).
    pub fn resume(pid: u32) -> io::Result<()> {
        // SAFETY: a flag and an ignored process id; the handle is checked and closed below.
        let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
        if snapshot == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let mut entry = THREADENTRY32 {
            dwSize: size_of::<THREADENTRY32>() as u32,
            ..THREADENTRY32::default()
        };
        let mut resumed = 0;
        // SAFETY: the snapshot is open and `entry` has its `dwSize` set, as the call requires.
        let mut more = unsafe { Thread32First(snapshot, &mut entry) } != 0;
        while more {
            if entry.th32OwnerProcessID == pid {
                // SAFETY: a thread id from the snapshot; the handle is checked and closed.
                let thread = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) };
                if !thread.is_null() {
                    // SAFETY: an open thread handle with THREAD_SUSPEND_RESUME access, closed
                    // right after.
                    unsafe {
                        if ResumeThread(thread) != u32::MAX {
                            resumed += 1;
                        }
                        CloseHandle(thread);
                    }
                }
            }
            // SAFETY: as for `Thread32First`.
            more = unsafe { Thread32Next(snapshot, &mut entry) } != 0;
        }
        // SAFETY: the snapshot is open and closed only here.
        unsafe { CloseHandle(snapshot) };
        if resumed == 0 {
            return Err(io::Error::other("its first thread could not be resumed"));
        }
        Ok(())
    }
}

/// The trees of the children [`Host::run`] started that may still have members, so that a
/// signal handler can stop them all before preflight exits.
struct ChildGroups {
    live: BTreeMap<u32, Tree>,
    /// Set once preflight is stopping: no new child is started after that.
    stopping: bool,
}

static CHILD_GROUPS: Mutex<ChildGroups> = Mutex::new(ChildGroups {
    live: BTreeMap::new(),
    stopping: false,
});

fn child_groups() -> MutexGuard<'static, ChildGroups> {
    CHILD_GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registered child's tree, by the child's pid: dropping it kills the whole tree and
/// forgets it.
struct ChildGroup(u32);

impl Drop for ChildGroup {
    fn drop(&mut self) {
        let mut groups = child_groups();
        if let Some(tree) = groups.live.remove(&self.0) {
            tree.kill();
        }
    }
}

/// Kill every child's tree still alive and start no new child: for a signal handler, right
/// before the process exits. Returns how many were stopped.
pub fn stop_all_children() -> usize {
    let mut groups = child_groups();
    groups.stopping = true;
    for tree in groups.live.values() {
        tree.kill();
    }
    groups.live.len()
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

#[cfg(unix)]
fn free_space_at(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Free bytes the current user may use on the volume holding `path` (quotas count), for any
/// directory: a drive, a mounted folder or a network share.
#[cfg(windows)]
fn free_space_at(path: &Path) -> Option<u64> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let mut available: u64 = 0;
    // SAFETY: `wide` is a NUL-terminated UTF-16 string that outlives the call; the one
    // out-pointer is a valid u64 and the two null ones are documented as optional.
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            wide.as_ptr(),
            &mut available,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    (ok != 0).then_some(available)
}

#[cfg(not(any(unix, windows)))]
fn free_space_at(_path: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program file `which` accepts on this OS: an executable bit on Unix, `.exe` on Windows.
    fn program(dir: &Path, name: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        std::fs::write(&path, "").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    }

    #[test]
    fn windows_variables_match_whatever_their_case() {
        let dir = tempfile::TempDir::new().unwrap();
        let bin = dir.path().join("Python38");
        let python = program(&bin, "python");
        let host = Host::simulated(
            dir.path(),
            OsFamily::Windows,
            &[
                ("Path", bin.to_str().unwrap()),
                ("UserProfile", "C:\\Users\\ada"),
            ],
        );
        assert_eq!(host.env("PATH"), bin.to_str());
        assert_eq!(host.env("path"), bin.to_str());
        assert_eq!(host.home, Some(PathBuf::from("C:\\Users\\ada")));
        assert_eq!(host.which("python"), Some(python));
    }

    #[test]
    fn other_systems_keep_names_apart() {
        let dir = tempfile::TempDir::new().unwrap();
        let bin = dir.path().join("bin");
        program(&bin, "python");
        let host = Host::simulated(
            dir.path(),
            OsFamily::Linux,
            &[("Path", bin.to_str().unwrap())],
        );
        assert_eq!(host.env("PATH"), None);
        assert_eq!(host.which("python"), None);
    }

    #[test]
    fn setting_a_windows_variable_replaces_it_in_any_case() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut host = Host::simulated(dir.path(), OsFamily::Windows, &[("Path", "C:\\old")]);
        host.set_env("PATH", "C:\\new");
        assert_eq!(host.env("Path"), Some("C:\\new"));
        // One variable, so a child process is not handed two spellings of it.
        let names: Vec<&String> = host.env.keys().collect();
        assert_eq!(names, ["PATH"]);
    }

    #[test]
    fn a_windows_variable_is_named_as_it_was_spelled() {
        let dir = tempfile::TempDir::new().unwrap();
        let keys = ["HTTP_PROXY", "http_proxy"];
        let value = "http://127.0.0.1:3128";
        let lower = Host::simulated(dir.path(), OsFamily::Windows, &[("http_proxy", value)]);
        assert_eq!(lower.env_any(&keys), Some(("http_proxy", value)));
        // A spelling none of the keys has: the first key names it.
        let mixed = Host::simulated(dir.path(), OsFamily::Windows, &[("Http_Proxy", value)]);
        assert_eq!(mixed.env_any(&keys), Some(("HTTP_PROXY", value)));
        let linux = Host::simulated(dir.path(), OsFamily::Linux, &[("Http_Proxy", value)]);
        assert_eq!(linux.env_any(&keys), None);
    }

    #[test]
    fn free_space_is_measured_here() {
        let dir = tempfile::TempDir::new().unwrap();
        let host = Host::simulated(dir.path(), OsFamily::current(), &[]);
        // A path yet to be made is measured at its nearest existing ancestor.
        let free = host.free_space(&dir.path().join("not/made/yet"));
        assert!(free.is_some_and(|bytes| bytes > 0), "{free:?}");
    }

    /// The registry of the Windows (or wine) this runs on.
    #[cfg(windows)]
    #[test]
    fn this_windows_names_its_edition_and_build() {
        let facts = SystemFacts::gather(Path::new("/"), OsFamily::Windows);
        let name = facts.os_name.unwrap();
        let version = facts.os_version.unwrap();
        assert!(name.contains("Windows"), "{name}");
        assert!(version.contains("build "), "{version}");
    }

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
        "host::tests::a_process_started_by_a_child_dies_with_it_at_the_deadline";

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
}
