//! The one interpreter probe: `probe.py`, started once per run, answering in `key=value`
//! lines (paths as the hex of their bytes); and how preflight starts any Python script.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;

use super::venv::{PipInstall, pip_install_in};
use crate::host::{Host, ProcessError, ProcessOutput, exists, is_file, open_regular};

/// What the probe script reports.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub version: String,
    pub version_banner: String,
    pub executable: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub site_packages: Vec<PathBuf>,
    pub user_site: Option<PathBuf>,
    pub user_site_enabled: bool,
    pub sys_path: Vec<PathBuf>,
    /// Where pip's package is, when the environment has one whose install is complete.
    pub pip: Option<PathBuf>,
    /// Why the environment's pip is not whole, when it has one that is not.
    pub pip_incomplete: Option<String>,
    /// The interpreter's own architecture, as `platform.machine()` gives it: `arm64`, or
    /// `x86_64` for an Intel build under Rosetta on Apple Silicon.
    pub machine: Option<String>,
    /// macOS only: OpenSSL's compiled-in CA file, whether it exists, and the CA file Python
    /// will use (`SSL_CERT_FILE` or that one; absent when it does not exist).
    pub openssl_cafile: Option<PathBuf>,
    pub openssl_cafile_exists: Option<bool>,
    pub cafile: Option<PathBuf>,
    /// PEP 508's marker environment (`python_version`, `sys_platform`, ...), as packaging's
    /// `default_environment()` has it.
    pub markers: BTreeMap<String, String>,
    /// For wheel tags: `sys.abiflags`, a debug build, the pointer width, glibc's version.
    pub abiflags: Option<String>,
    pub debug_build: bool,
    pub pointer_bits: Option<u32>,
    pub libc: Option<String>,
}

/// A path the probe sent as the hex of its bytes (`os.fsencode`): a venv at a path that is
/// not valid UTF-8 must be judged like any other, so paths are never decoded as text.
fn path_from_probe(value: &str) -> Option<PathBuf> {
    let bytes = from_hex(value.trim())?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        // Windows paths reach Python as UTF-16 and leave `fsencode` as UTF-8.
        Some(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// Lower- or upper-case hex digits, two per byte.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Probe {
    pub fn parse(stdout: &str) -> Option<Probe> {
        let mut probe = Probe::default();
        let mut saw_version = false;
        for line in stdout.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if let Some(key) = key.strip_suffix("_path") {
                let Some(path) = path_from_probe(value) else {
                    continue;
                };
                match key {
                    "executable" => probe.executable = path,
                    "prefix" => probe.prefix = path,
                    "base_prefix" => probe.base_prefix = path,
                    "site_packages" => probe.site_packages.push(path),
                    "user_site" => probe.user_site = Some(path),
                    "sys_path" => probe.sys_path.push(path),
                    "openssl_cafile" => probe.openssl_cafile = Some(path),
                    "cafile" => probe.cafile = Some(path),
                    _ => {}
                }
                continue;
            }
            let value = value.to_string();
            match key {
                "version" => {
                    saw_version = true;
                    probe.version = value;
                }
                "version_banner" => probe.version_banner = value,
                "user_site_enabled" => probe.user_site_enabled = value == "True",
                "machine" => probe.machine = Some(value),
                "openssl_cafile_exists" => probe.openssl_cafile_exists = Some(value == "True"),
                "abiflags" => probe.abiflags = Some(value),
                "debug_build" => probe.debug_build = value == "True",
                "pointer_bits" => probe.pointer_bits = value.parse().ok(),
                "libc" => probe.libc = Some(value),
                _ => {
                    if let Some(marker) = key.strip_prefix("marker_") {
                        probe.markers.insert(marker.to_string(), value);
                    }
                }
            }
        }
        // pip is looked up on disk rather than by the interpreter: no import, no cost.
        match pip_install_in(&probe.sys_path) {
            PipInstall::Complete(init) => probe.pip = Some(init),
            PipInstall::Incomplete { why, .. } => probe.pip_incomplete = Some(why),
            PipInstall::Absent => {}
        }
        saw_version.then_some(probe)
    }

    pub fn version(&self) -> Option<Version> {
        Version::from_str(&self.version).ok()
    }

    pub fn in_venv(&self) -> bool {
        self.prefix != self.base_prefix
    }

    /// Whether the `venv` and `ensurepip` packages are on the interpreter's `sys.path`
    /// (Debian splits them into `python3.X-venv`): whether it can make a virtualenv with
    /// pip. Looked up on disk: importing `venv` costs more than starting the interpreter.
    pub fn can_make_venvs(&self) -> bool {
        ["venv", "ensurepip"].iter().all(|package| {
            self.sys_path
                .iter()
                .any(|dir| is_file(dir.join(package).join("__init__.py")))
        })
    }
}

#[derive(Debug, Clone)]
pub enum ProbeError {
    /// The interpreter file is not there.
    Missing(PathBuf),
    /// The file is there but the OS would not start it (a shebang naming a missing
    /// interpreter, no execute permission, a binary for another machine): why.
    CannotStart(String),
    /// It started, but died or printed no answer.
    Failed(String),
    TimedOut(Duration),
}

/// Runs under Python 2.7 too, so that an old interpreter is reported by version, not as a
/// crash. It imports nothing the interpreter has not already loaded at start-up (`sys`,
/// `site`, `os`): each extra import costs milliseconds, and the whole run is meant to cost
/// about one interpreter start (`binascii`, which pyenv's and Debian's builds load as a
/// shared library, was one such). The exception is `ssl` (about 8 ms),
/// on macOS only, where python.org's Pythons lack CA certificates until "Install
/// Certificates.command" runs, and `platform` (about 3 ms with `re`), on Windows only, for
/// PEP 508's marker environment: on Unix `platform.system()`, `.release()`, `.version()` and
/// `.machine()` are `os.uname()`'s fields, read without importing it. One `key=value` line per fact; list facts repeat their key.
/// The lines are written at once at the end: one write and one wake-up of the reader, not
/// one per line where `PYTHONUNBUFFERED` is set (PyCharm's run configurations set it).
/// Paths go as `KEY_path=` and the hex of their bytes, so that no path is lost to an
/// encoding, whatever the locale.
const PROBE_SCRIPT: &str = include_str!("probe.py");

/// How the probe starts the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// As the exam will start it: its environment variables and user site count.
    AsUsed,
    /// With `-E -s`: `PYTHON*` variables and the user site ignored, so that the answer is
    /// the interpreter's own, as `fix` needs it to build a virtualenv from.
    Isolated,
}

/// Start the probe in `interpreter` once, within `timeout`; what it printed, unjudged.
pub fn run_probe(
    host: &Host,
    interpreter: &Path,
    start: Start,
    timeout: Duration,
) -> Result<ProcessOutput, ProcessError> {
    let mut args: Vec<String> = match start {
        Start::AsUsed => Vec::new(),
        Start::Isolated => vec!["-E".into(), "-s".into()],
    };
    args.extend(python_script_args(PROBE_SCRIPT));
    host.run_with_env(interpreter, &args, PYTHON_CHILD_ENV, timeout)
}

/// The probe as the checks take it: started as the exam will start it, every way it can
/// fail told apart.
pub(crate) fn probe(
    host: &Host,
    interpreter: &Path,
    deadline: Duration,
) -> Result<Probe, ProbeError> {
    // `exists` follows symlinks: a venv whose base interpreter vanished has a dangling link.
    if !exists(interpreter) {
        return Err(ProbeError::Missing(interpreter.to_path_buf()));
    }
    let output = match run_probe(host, interpreter, Start::AsUsed, deadline) {
        Ok(o) => o,
        Err(ProcessError::TimedOut { after, .. }) => return Err(ProbeError::TimedOut(after)),
        Err(ProcessError::NotFound { .. }) if !exists(interpreter) => {
            return Err(ProbeError::Missing(interpreter.to_path_buf()));
        }
        // There, yet "not found": what is missing is the interpreter its `#!` line names.
        Err(ProcessError::NotFound { .. }) => {
            return Err(ProbeError::CannotStart(match shebang(interpreter) {
                Some(line) => {
                    format!("its first line `{line}` names a program that does not exist")
                }
                None => "the OS reports a missing file (a missing loader or library)".into(),
            }));
        }
        Err(ProcessError::Spawn { source, .. }) => {
            return Err(ProbeError::CannotStart(match source.kind() {
                io::ErrorKind::PermissionDenied => {
                    "permission denied: it is not executable (`chmod +x`) or on a noexec mount"
                        .to_string()
                }
                _ => match source.raw_os_error() {
                    // ENOEXEC: neither a binary for this machine nor a script with `#!`.
                    Some(8) => format!("not a program this machine can run ({source})"),
                    _ => source.to_string(),
                },
            }));
        }
    };
    if !output.status.success() {
        let how = match output.signal() {
            Some(signal) => format!("was killed by signal {signal}"),
            None => format!("exited with {}", output.status),
        };
        return Err(ProbeError::Failed(format!(
            "{how}: {}",
            last_line(&output.stderr)
        )));
    }
    Probe::parse(&output.stdout).ok_or_else(|| {
        ProbeError::Failed(format!(
            "gave no answer the probe understands; stderr: {}",
            last_line(&output.stderr)
        ))
    })
}

/// The `#!` line of a script, when the file starts with one.
fn shebang(path: &Path) -> Option<String> {
    let mut head = Vec::new();
    open_regular(path)
        .ok()?
        .take(256)
        .read_to_end(&mut head)
        .ok()?;
    let line = head.split(|b| *b == b'\n').next()?;
    line.starts_with(b"#!")
        .then(|| String::from_utf8_lossy(line).trim_end().to_string())
}

/// What every Python that preflight starts gets: UTF-8 on its pipes, where Windows would
/// use the ANSI code page.
pub const PYTHON_CHILD_ENV: &[(&str, &str)] = &[("PYTHONIOENCODING", "utf-8")];

/// Arguments that run `script`: `-B` (no bytecode written into the user's environment) and
/// the script as one line of hex, because Rust refuses newlines in arguments to `.bat` and
/// `.cmd` files such as pyenv-win's shims. Hex needs no import to decode (`base64` loads
/// `binascii`, a shared library: milliseconds on the run's critical path). Runs on Python
/// 2.7 and 3.
pub fn python_script_args(script: &str) -> Vec<String> {
    vec![
        "-B".into(),
        "-c".into(),
        format!(
            "exec(bytearray.fromhex(u'{}').decode('utf-8'))",
            to_hex(script.as_bytes())
        ),
    ]
}

/// The last non-empty line of a program's error output: usually the exception.
pub fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)")
        .to_string()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests build the trees they judge
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::host::OsFamily;

    #[test]
    fn probe_paths_travel_as_hex() {
        assert_eq!(
            from_hex(&to_hex(b"/v\xff/\x00")),
            Some(b"/v\xff/\x00".to_vec())
        );
        assert_eq!(from_hex("2F"), Some(vec![0x2f]));
        for bad in ["2", "zz", "\u{e9}0"] {
            assert_eq!(from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_script_goes_as_one_line() {
        let args = python_script_args("import sys\nsys.stdout.write('caf\\u00e9\\n')\n");
        assert_eq!(args[..2], ["-B", "-c"]);
        assert!(args.iter().all(|a| !a.contains('\n') && !a.contains('\r')));
    }

    /// The probe's macOS lines, run by this machine's Python with their gate opened.
    #[cfg(unix)]
    #[test]
    fn the_probe_reports_the_architecture_and_the_ca_file() {
        let script = PROBE_SCRIPT.replace(r#"sys.platform == "darwin""#, "True");
        assert_ne!(script, PROBE_SCRIPT);
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-cert.pem");
        // A home of its own: Python looks for user site-packages there.
        let host = Host::simulated(
            dir.path(),
            OsFamily::Linux,
            &[
                ("SSL_CERT_FILE", missing.to_str().unwrap()),
                ("HOME", dir.path().to_str().unwrap()),
            ],
        );
        let output = host
            .run_with_env(
                Path::new("/usr/bin/python3"),
                &python_script_args(&script),
                PYTHON_CHILD_ENV,
                Duration::from_secs(20),
            )
            .unwrap();
        let probe = Probe::parse(&output.stdout).expect(&output.stderr);
        // Linux's uname names the architectures as Rust does (x86_64, aarch64).
        assert_eq!(probe.machine.as_deref(), Some(std::env::consts::ARCH));
        let cafile = probe.openssl_cafile.expect("openssl_cafile reported");
        assert_eq!(probe.openssl_cafile_exists, Some(cafile.exists()));
        // SSL_CERT_FILE names a file that is not there: Python has no CA file to use.
        assert_eq!(probe.cafile, None);
    }

    /// A CA file at a path that is not UTF-8 comes back byte for byte, like the other paths.
    #[cfg(unix)]
    #[test]
    fn the_ca_file_path_is_sent_losslessly() {
        use std::os::unix::ffi::OsStrExt;
        let script = PROBE_SCRIPT.replace(r#"sys.platform == "darwin""#, "True");
        let dir = tempfile::tempdir().unwrap();
        let folder = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff"));
        std::fs::create_dir(&folder).unwrap();
        let cert = folder.join("cert.pem");
        std::fs::write(&cert, "").unwrap();
        // Host's variables are text: the child gets this one straight from Command.
        let output = std::process::Command::new("/usr/bin/python3")
            .args(python_script_args(&script))
            .env_clear()
            .env("PYTHONIOENCODING", "utf-8")
            .env("LC_ALL", "C.UTF-8")
            .env("SSL_CERT_FILE", &cert)
            // A home of its own: Python looks for user site-packages there.
            .env("HOME", dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let probe = Probe::parse(&stdout)
            .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        assert_eq!(probe.cafile.as_deref(), Some(cert.as_path()));
        // The same bytes through the parser alone, as the probe's line carries them.
        let line = format!(
            "version=3.8.10\ncafile_path={}\n",
            to_hex(cert.as_os_str().as_bytes())
        );
        assert_eq!(
            Probe::parse(&line).unwrap().cafile.as_deref(),
            Some(cert.as_path())
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_one_line_script_runs_with_utf8_pipes() {
        let python = Path::new("/usr/bin/python3");
        assert!(python.is_file(), "this test needs the machine's python3");
        let dir = tempfile::tempdir().unwrap();
        // A C locale would give Python ASCII pipes without PYTHONIOENCODING.
        let home = dir.path().to_str().unwrap();
        let host = Host::simulated(
            dir.path(),
            OsFamily::Linux,
            &[("LC_ALL", "C"), ("HOME", home)],
        );
        let script = "import os, sys\nsys.stdout.write(os.environ['PYTHONIOENCODING'] + '\\n')\nsys.stdout.write('caf\\u00e9 \\u6771\\u4eac\\n')\n";
        let output = host
            .run_with_env(
                python,
                &python_script_args(script),
                PYTHON_CHILD_ENV,
                Duration::from_secs(20),
            )
            .unwrap();
        assert!(output.status.success(), "{}", output.stderr);
        assert_eq!(output.stdout, "utf-8\ncafé 東京\n");
    }
}
