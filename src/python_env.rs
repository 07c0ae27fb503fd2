//! The Python environment the exam will use: which one, and what it holds. Found once per
//! run: the interpreter is started at most once (one probe script answering in JSON), and
//! package versions come from `.dist-info`/`.egg-info` metadata, never from imports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;

use crate::check::{Context, Deadline, RunOptions, SharedFact};
use crate::host::{Host, OsFamily, ProcessError, read_small};
use crate::platform::windows::{self, LauncherPython};

/// Why this environment was chosen, in the words the report uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    VirtualEnvVar,
    WorkingDir(&'static str),
    Path(&'static str),
    /// Listed by the Windows `py` launcher (`py -0p`) under this tag.
    Launcher(String),
    /// Found in python.org's Windows install folder.
    InstallFolder,
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Flag => "given with --venv".into(),
            Origin::VirtualEnvVar => "the active virtualenv ($VIRTUAL_ENV)".into(),
            Origin::WorkingDir(name) => format!("./{name} in the working directory"),
            Origin::Path(name) => format!("`{name}` on PATH: no virtualenv was given or found"),
            Origin::Launcher(tag) => {
                format!("`py -{tag}` (the py launcher): no virtualenv was given or found")
            }
            Origin::InstallFolder => {
                "python.org's install folder: no virtualenv was given or found".into()
            }
        }
    }
}

/// `pyvenv.cfg`, the file that makes a directory a virtualenv.
#[derive(Debug, Clone, Default)]
pub struct PyvenvCfg {
    /// The directory of the base interpreter the venv was made from.
    pub home: Option<PathBuf>,
    pub include_system_site_packages: bool,
    pub version: Option<String>,
}

impl PyvenvCfg {
    fn parse(text: &str) -> Self {
        let mut cfg = PyvenvCfg::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "home" => cfg.home = Some(PathBuf::from(value)),
                "include-system-site-packages" => {
                    cfg.include_system_site_packages = value.eq_ignore_ascii_case("true")
                }
                "version" | "version_info" => cfg.version = Some(value.to_string()),
                _ => {}
            }
        }
        cfg
    }
}

/// What the probe script reports.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub version: String,
    pub version_banner: String,
    pub executable: String,
    pub prefix: String,
    pub base_prefix: String,
    pub site_packages: Vec<String>,
    pub user_site: Option<String>,
    pub user_site_enabled: bool,
    pub sys_path: Vec<String>,
    /// Where pip's package is, when the environment has one.
    pub pip: Option<String>,
    /// The interpreter's own architecture, as `platform.machine()` gives it: `arm64`, or
    /// `x86_64` for an Intel build under Rosetta on Apple Silicon.
    pub machine: Option<String>,
    /// macOS only: OpenSSL's compiled-in CA file, whether it exists, and the CA file Python
    /// will use (`SSL_CERT_FILE` or that one; absent when it does not exist).
    pub openssl_cafile: Option<String>,
    pub openssl_cafile_exists: Option<bool>,
    pub cafile: Option<String>,
}

impl Probe {
    fn parse(stdout: &str) -> Option<Probe> {
        let mut probe = Probe::default();
        let mut saw_version = false;
        for line in stdout.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.to_string();
            match key {
                "version" => {
                    saw_version = true;
                    probe.version = value;
                }
                "version_banner" => probe.version_banner = value,
                "executable" => probe.executable = value,
                "prefix" => probe.prefix = value,
                "base_prefix" => probe.base_prefix = value,
                "site_packages" => probe.site_packages.push(value),
                "user_site" => probe.user_site = Some(value),
                "user_site_enabled" => probe.user_site_enabled = value == "True",
                "sys_path" => probe.sys_path.push(value),
                "machine" => probe.machine = Some(value),
                "openssl_cafile" => probe.openssl_cafile = Some(value),
                "openssl_cafile_exists" => probe.openssl_cafile_exists = Some(value == "True"),
                "cafile" => probe.cafile = Some(value),
                _ => {}
            }
        }
        // pip is looked up on disk rather than by the interpreter: no import, no cost.
        probe.pip = probe
            .sys_path
            .iter()
            .map(|p| Path::new(p).join("pip").join("__init__.py"))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string());
        saw_version.then_some(probe)
    }

    pub fn version(&self) -> Option<Version> {
        Version::from_str(&self.version).ok()
    }

    pub fn in_venv(&self) -> bool {
        self.prefix != self.base_prefix
    }
}

#[derive(Debug, Clone)]
pub enum ProbeError {
    /// The interpreter file is not there.
    Missing(PathBuf),
    /// It is there but could not be started, or died, or printed no answer.
    Failed(String),
    TimedOut(Duration),
}

/// Where the environment is, before anything is started.
#[derive(Debug, Clone)]
pub struct Located {
    pub origin: Origin,
    /// The virtualenv directory; `None` when a bare interpreter on PATH was chosen.
    pub venv: Option<PathBuf>,
    pub interpreter: PathBuf,
    pub pyvenv_cfg: Option<PyvenvCfg>,
}

#[derive(Debug, Clone)]
pub enum Discovery {
    Found(Located),
    /// `--venv` or `$VIRTUAL_ENV` names something that cannot be used.
    Unusable {
        origin: Origin,
        path: PathBuf,
        reason: String,
    },
    /// No virtualenv, and no Python on PATH.
    NoPython,
    /// No virtualenv and no Python, but the Microsoft Store's `python` alias is on PATH: a
    /// stub that offers to install Python, so it is never started.
    StoreAlias(PathBuf),
}

pub struct PythonEnv {
    pub discovery: Discovery,
    pub probe: Option<Result<Probe, ProbeError>>,
}

/// The interpreter inside a virtualenv, by the host's OS layout.
pub fn venv_interpreter(host: &Host, venv: &Path) -> PathBuf {
    if host.os == OsFamily::Windows {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Located and probed once per run, by whichever check asks first.
impl SharedFact for PythonEnv {
    fn gather(ctx: &Context) -> Self {
        PythonEnv::discover_preferring(
            &ctx.host,
            &ctx.options,
            ctx.profile.python.as_deref(),
            ctx.base_deadline(),
        )
    }
}

impl PythonEnv {
    /// Locate the environment and probe it, finishing a margin before `deadline`: the
    /// base deadline every waiting check has, so each can still report what happened.
    pub fn discover(host: &Host, options: &RunOptions, deadline: Deadline) -> Self {
        Self::discover_preferring(host, options, None, deadline)
    }

    /// [`PythonEnv::discover`], preferring Python `wanted` (`3.8`) where several are
    /// installed side by side (Windows: the `py` launcher and python.org's folders).
    pub fn discover_preferring(
        host: &Host,
        options: &RunOptions,
        wanted: Option<&str>,
        deadline: Deadline,
    ) -> Self {
        let discovery =
            locate_preferring(host, options, wanted, || py_launcher_list(host, deadline));
        let probe = match &discovery {
            Discovery::Found(located) => Some(probe(host, &located.interpreter, deadline.step())),
            _ => None,
        };
        PythonEnv { discovery, probe }
    }

    pub fn located(&self) -> Option<&Located> {
        match &self.discovery {
            Discovery::Found(l) => Some(l),
            _ => None,
        }
    }

    pub fn probe_ok(&self) -> Option<&Probe> {
        self.probe.as_ref()?.as_ref().ok()
    }

    /// Where installed packages live: what the interpreter said, else the venv's layout.
    pub fn site_packages(&self, host: &Host) -> Vec<PathBuf> {
        if let Some(probe) = self.probe_ok() {
            let mut dirs: Vec<PathBuf> = probe.site_packages.iter().map(PathBuf::from).collect();
            if probe.user_site_enabled {
                dirs.extend(probe.user_site.iter().map(PathBuf::from));
            }
            return dirs.into_iter().filter(|d| d.is_dir()).collect();
        }
        let Some(venv) = self.located().and_then(|l| l.venv.as_ref()) else {
            return Vec::new();
        };
        if host.os == OsFamily::Windows {
            return vec![venv.join("Lib").join("site-packages")];
        }
        let Ok(entries) = std::fs::read_dir(venv.join("lib")) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path().join("site-packages"))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        dirs
    }
}

/// Find the environment from paths alone (flags, variables, the working directory, PATH);
/// nothing is started.
pub fn locate(host: &Host, options: &RunOptions) -> Discovery {
    locate_preferring(host, options, None, Vec::new)
}

/// [`locate`], preferring Python `wanted` when no virtualenv decides; `launcher` lists what
/// the Windows `py` launcher knows, asked only when it is needed.
pub fn locate_preferring(
    host: &Host,
    options: &RunOptions,
    wanted: Option<&str>,
    launcher: impl FnOnce() -> Vec<LauncherPython>,
) -> Discovery {
    let given = options
        .venv
        .as_ref()
        .map(|v| (Origin::Flag, host.user_path(v)))
        .or_else(|| {
            host.env("VIRTUAL_ENV")
                .map(|v| (Origin::VirtualEnvVar, host.user_path(Path::new(v))))
        });
    if let Some((origin, path)) = given {
        return match venv_at(host, &path) {
            Ok(cfg) => Discovery::Found(Located {
                origin,
                interpreter: venv_interpreter(host, &path),
                venv: Some(path),
                pyvenv_cfg: cfg,
            }),
            Err(reason) => Discovery::Unusable {
                origin,
                path,
                reason,
            },
        };
    }
    for name in ["venv", ".venv", "env"] {
        let path = host.cwd.join(name);
        if let Ok(cfg @ Some(_)) = venv_at(host, &path) {
            return Discovery::Found(Located {
                origin: Origin::WorkingDir(name),
                interpreter: venv_interpreter(host, &path),
                venv: Some(path),
                pyvenv_cfg: cfg,
            });
        }
    }
    if host.os == OsFamily::Windows {
        return windows_python(host, wanted, launcher);
    }
    for name in ["python3", "python"] {
        if let Some(interpreter) = host.which(name) {
            return Discovery::Found(Located {
                origin: Origin::Path(name),
                venv: None,
                interpreter,
                pyvenv_cfg: None,
            });
        }
    }
    Discovery::NoPython
}

/// A Python on Windows, where python.org's installer leaves PATH alone by default and the
/// Microsoft Store puts stubs named `python.exe` there. In order: the wanted version from
/// the `py` launcher or python.org's folders, a real Python on PATH, the launcher's default,
/// the newest python.org folder; else the Store's alias is reported, not started.
fn windows_python(
    host: &Host,
    wanted: Option<&str>,
    launcher: impl FnOnce() -> Vec<LauncherPython>,
) -> Discovery {
    let found = |origin, interpreter| {
        Discovery::Found(Located {
            origin,
            venv: None,
            interpreter,
            pyvenv_cfg: None,
        })
    };
    let mut alias = None;
    let mut on_path = None;
    'names: for name in ["python3", "python"] {
        for candidate in host.which_all(name) {
            if is_store_alias(host, &candidate) {
                alias.get_or_insert(candidate);
            } else {
                on_path = Some((name, candidate));
                break 'names;
            }
        }
    }
    let listed: Vec<LauncherPython> = launcher()
        .into_iter()
        .filter(|p| !is_store_alias(host, &p.path))
        .collect();
    let folders = install_folders(host);
    if let Some(wanted) = wanted {
        if let Some(p) = listed.iter().find(|p| p.release.as_deref() == Some(wanted)) {
            return found(Origin::Launcher(p.tag.clone()), p.path.clone());
        }
        if let Some((_, path)) = folders.iter().find(|(release, _)| release == wanted) {
            return found(Origin::InstallFolder, path.clone());
        }
    }
    if let Some((name, path)) = on_path {
        return found(Origin::Path(name), path);
    }
    if let Some(p) = listed.iter().find(|p| p.default).or(listed.first()) {
        return found(Origin::Launcher(p.tag.clone()), p.path.clone());
    }
    if let Some((_, path)) = folders.last() {
        return found(Origin::InstallFolder, path.clone());
    }
    match alias {
        Some(path) => Discovery::StoreAlias(path),
        None => Discovery::NoPython,
    }
}

/// `%LOCALAPPDATA%\Microsoft\WindowsApps\python.exe` or `python3.exe`: the Store's alias.
pub fn is_store_alias(host: &Host, path: &Path) -> bool {
    let Some(local) = host.env("LOCALAPPDATA") else {
        return false;
    };
    let apps = Path::new(local).join("Microsoft").join("WindowsApps");
    let same_dir = path.parent().is_some_and(|dir| {
        dir.to_string_lossy()
            .trim_end_matches(['\\', '/'])
            .eq_ignore_ascii_case(apps.to_string_lossy().trim_end_matches(['\\', '/']))
    });
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase());
    same_dir && matches!(stem.as_deref(), Some("python" | "python3"))
}

/// python.org's install folders (`%LOCALAPPDATA%\Programs\Python\Python38`, and for all
/// users `%ProgramFiles%\Python38`) holding a `python.exe`, oldest release first.
fn install_folders(host: &Host) -> Vec<(String, PathBuf)> {
    let mut bases = Vec::new();
    if let Some(local) = host.env("LOCALAPPDATA") {
        bases.push(Path::new(local).join("Programs").join("Python"));
    }
    for key in ["ProgramFiles", "ProgramW6432", "ProgramFiles(x86)"] {
        if let Some(dir) = host.env(key) {
            bases.push(PathBuf::from(dir));
        }
    }
    let mut found: Vec<(Version, String, PathBuf)> = Vec::new();
    for base in bases {
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(release) = windows::release_of_install_folder(&name) else {
                continue;
            };
            let python = entry.path().join("python.exe");
            if python.is_file() && !found.iter().any(|(_, _, p)| *p == python) {
                let order = Version::from_str(&release).unwrap_or_else(|_| Version::new([0]));
                found.push((order, release, python));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, r, p)| (r, p)).collect()
}

/// What `py -0p` lists, or nothing when there is no launcher or it does not answer in time.
fn py_launcher_list(host: &Host, deadline: Deadline) -> Vec<LauncherPython> {
    if host.os != OsFamily::Windows {
        return Vec::new();
    }
    // Installed for all users it sits in the Windows folder; for one user, under
    // LOCALAPPDATA; either may be off PATH.
    let launcher = host
        .which("py")
        .or_else(|| {
            host.env("SystemRoot")
                .or(host.env("windir"))
                .map(|w| Path::new(w).join("py.exe"))
                .filter(|p| p.is_file())
        })
        .or_else(|| {
            host.env("LOCALAPPDATA")
                .map(|l| Path::new(l).join("Programs/Python/Launcher/py.exe"))
                .filter(|p| p.is_file())
        });
    let Some(launcher) = launcher else {
        return Vec::new();
    };
    match host.run_with_env(&launcher, &["-0p"], PYTHON_CHILD_ENV, deadline.step()) {
        Ok(output) => windows::parse_py_launcher_list(&output.stdout),
        Err(_) => Vec::new(),
    }
}

/// A directory that can be judged as a virtualenv: it exists and is a directory. Its
/// `pyvenv.cfg` is read when there; its absence is judged by the `python.venv` check.
fn venv_at(host: &Host, path: &Path) -> Result<Option<PyvenvCfg>, String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist".to_string(),
        _ => format!("cannot be read: {e}"),
    })?;
    if !meta.is_dir() {
        return Err("is a file, not a virtualenv directory".into());
    }
    let cfg_path = path.join("pyvenv.cfg");
    let cfg = read_small(&cfg_path).ok().map(|t| PyvenvCfg::parse(&t));
    if cfg.is_none() && !venv_interpreter(host, path).exists() {
        return Err("is not a virtualenv: it has no pyvenv.cfg and no Python interpreter".into());
    }
    Ok(cfg)
}

/// Runs under Python 2.7 too, so that an old interpreter is reported by version, not as a
/// crash. It imports nothing the interpreter has not already loaded at start-up (`sys`,
/// `site`, `os`): each extra import costs milliseconds, and the whole run is meant to cost
/// about one interpreter start. The exception is `ssl` (about 8 ms), on macOS only, where
/// python.org's Pythons lack CA certificates until "Install Certificates.command" runs.
/// `os.uname()[4]` is what `platform.machine()` answers on Unix, without importing
/// `platform`. One `key=value` line per fact; list facts repeat their key.
const PROBE_SCRIPT: &str = r#"
import sys, site
v = sys.version_info
def say(k, x):
    if x is not None:
        sys.stdout.write("%s=%s\n" % (k, str(x).replace("\n", " ")))
say("version", "%d.%d.%d" % (v[0], v[1], v[2]))
say("version_banner", sys.version)
say("executable", sys.executable)
say("prefix", sys.prefix)
say("base_prefix", getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix)))
try:
    sp = site.getsitepackages()
except Exception:
    sp = [p for p in sys.path if p.endswith("site-packages")]
for p in sp:
    say("site_packages", p)
try:
    say("user_site", site.getusersitepackages())
except Exception:
    pass
say("user_site_enabled", bool(site.ENABLE_USER_SITE))
for p in sys.path:
    say("sys_path", p)
import os
say("machine", os.uname()[4] if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE"))
if sys.platform == "darwin":
    try:
        import ssl
        paths = ssl.get_default_verify_paths()
        say("openssl_cafile", paths.openssl_cafile)
        say("openssl_cafile_exists", os.path.exists(paths.openssl_cafile))
        say("cafile", paths.cafile)
    except Exception:
        pass
"#;

fn probe(host: &Host, interpreter: &Path, deadline: Duration) -> Result<Probe, ProbeError> {
    // `exists` follows symlinks: a venv whose base interpreter vanished has a dangling link.
    if !interpreter.exists() {
        return Err(ProbeError::Missing(interpreter.to_path_buf()));
    }
    let output = match host.run_with_env(
        interpreter,
        &python_script_args(PROBE_SCRIPT),
        PYTHON_CHILD_ENV,
        deadline,
    ) {
        Ok(o) => o,
        Err(ProcessError::TimedOut { after, .. }) => return Err(ProbeError::TimedOut(after)),
        Err(ProcessError::NotFound { .. }) => {
            return Err(ProbeError::Missing(interpreter.to_path_buf()));
        }
        Err(e) => return Err(ProbeError::Failed(e.to_string())),
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

/// What every Python that preflight starts gets: UTF-8 on its pipes, where Windows would
/// use the ANSI code page.
pub const PYTHON_CHILD_ENV: &[(&str, &str)] = &[("PYTHONIOENCODING", "utf-8")];

/// Arguments that run `script`: `-B` (no bytecode written into the user's environment) and
/// the script as one line of base64, because Rust refuses newlines in arguments to `.bat`
/// and `.cmd` files such as pyenv-win's shims. Runs on Python 2.7 and 3.
pub fn python_script_args(script: &str) -> Vec<String> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(script);
    vec![
        "-B".into(),
        "-c".into(),
        format!("import base64;exec(base64.b64decode('{encoded}'))"),
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

/// A package name as pip compares it (PEP 503): lower case, runs of `-_.` as one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// One installed distribution, read from its metadata.
#[derive(Debug, Clone)]
pub struct Installed {
    pub name: String,
    pub version: Result<Version, String>,
    pub metadata: PathBuf,
}

/// The installed distributions among `wanted` (normalized names), from metadata files.
/// A directory name only nominates a candidate; the `Name`/`Version` headers decide.
pub fn installed(site_packages: &[PathBuf], wanted: &[String]) -> BTreeMap<String, Installed> {
    let mut found = BTreeMap::new();
    for dir in site_packages {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = file_name
                .strip_suffix(".dist-info")
                .or_else(|| file_name.strip_suffix(".egg-info"))
            else {
                continue;
            };
            let dir_name = normalize(stem.split('-').next().unwrap_or(stem));
            if !wanted.contains(&dir_name) || found.contains_key(&dir_name) {
                continue;
            }
            let path = entry.path();
            let metadata = if file_name.ends_with(".dist-info") {
                path.join("METADATA")
            } else if path.is_dir() {
                path.join("PKG-INFO")
            } else {
                path.clone()
            };
            let installed = read_metadata(&metadata, stem);
            found.insert(normalize(&installed.name), installed);
        }
    }
    found
}

fn read_metadata(path: &Path, stem: &str) -> Installed {
    let fallback_name = stem.split('-').next().unwrap_or(stem).to_string();
    let text = match read_small(path) {
        Ok(t) => t,
        Err(e) => {
            return Installed {
                name: fallback_name,
                version: Err(format!("cannot read {}: {e}", path.display())),
                metadata: path.to_path_buf(),
            };
        }
    };
    let header = |key: &str| {
        text.lines()
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
    };
    let name = header("Name:").unwrap_or(fallback_name);
    let version = match header("Version:") {
        None => Err(format!("{} has no Version header", path.display())),
        Some(v) => Version::from_str(&v).map_err(|e| {
            format!(
                "{} has a version pip cannot read ({v}): {e}",
                path.display()
            )
        }),
    };
    Installed {
        name,
        version,
        metadata: path.to_path_buf(),
    }
}

/// Which Python versions a TensorFlow release supports (tensorflow.org "Build from source",
/// Linux CPU; docs/exam-facts.md). `None` for releases the table does not cover.
pub fn tensorflow_python_range(tensorflow: &Version) -> Option<(Version, Version)> {
    let release = tensorflow.release();
    let (major, minor) = (
        release.first().copied()?,
        release.get(1).copied().unwrap_or(0),
    );
    if major != 2 {
        return None;
    }
    let (low, high) = match minor {
        0 => (3, 7),
        1 => (5, 7),
        2 | 3 => (5, 8),
        4 => (6, 8),
        5 | 6 => (6, 9),
        7 => (7, 9),
        8..=11 => (7, 10),
        12 | 13 => (8, 11),
        14 | 15 => (9, 11),
        16 => (9, 12),
        _ => return None,
    };
    Some((Version::new([3, low]), Version::new([3, high])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty file at `path`, runnable where the OS asks for that; named both `x` and
    /// `x.exe` so PATH finds it on Unix and on Windows alike.
    fn program(path: &Path, body: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        for file in [path.to_path_buf(), path.with_extension("exe")] {
            std::fs::write(&file, body).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
    }

    struct WindowsLayout {
        _dir: tempfile::TempDir,
        root: PathBuf,
        local: PathBuf,
        apps: PathBuf,
    }

    /// A Windows user's folders under a temporary root, with the Store's alias on PATH.
    fn windows_layout() -> WindowsLayout {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let local = root.join("Users/a/AppData/Local");
        let apps = local.join("Microsoft").join("WindowsApps");
        // If anything started the alias, it would leave this file behind.
        let marker = root.join("alias-was-started");
        program(
            &apps.join("python"),
            &format!("#!/bin/sh\ntouch '{}'\n", marker.display()),
        );
        program(&apps.join("python3"), "#!/bin/sh\nexit 9009\n");
        WindowsLayout {
            _dir: dir,
            root,
            local,
            apps,
        }
    }

    fn windows_host(layout: &WindowsLayout, path: &[&Path]) -> Host {
        let path = std::env::join_paths(path).unwrap();
        Host::simulated(
            &layout.root,
            OsFamily::Windows,
            &[
                ("LOCALAPPDATA", layout.local.to_str().unwrap()),
                ("Path", path.to_str().unwrap()),
            ],
        )
    }

    fn found(discovery: &Discovery) -> (Origin, PathBuf) {
        match discovery {
            Discovery::Found(l) => (l.origin.clone(), l.interpreter.clone()),
            other => panic!("expected a Python, got {other:?}"),
        }
    }

    #[test]
    fn the_store_alias_is_reported_and_never_started() {
        let layout = windows_layout();
        let host = windows_host(&layout, &[&layout.apps]);
        let env = PythonEnv::discover_preferring(
            &host,
            &RunOptions::default(),
            Some("3.8"),
            Deadline::at(std::time::Instant::now() + Duration::from_secs(10)),
        );
        match &env.discovery {
            Discovery::StoreAlias(path) => {
                assert!(is_store_alias(&host, path), "{}", path.display());
                assert_eq!(path.parent(), Some(layout.apps.as_path()));
            }
            other => panic!("expected the Store alias, got {other:?}"),
        }
        assert!(env.probe.is_none());
        assert!(!layout.root.join("alias-was-started").exists());
    }

    #[test]
    fn the_wanted_python_from_the_launcher_comes_first() {
        let layout = windows_layout();
        let real = layout.root.join("tools");
        program(&real.join("python"), "");
        let host = windows_host(&layout, &[&layout.apps, &real]);
        // `py -0p` as the launcher since 3.11 prints it; the Store's alias may be listed too.
        let listing = format!(
            " -V:3.11 *        C:\\Python311\\python.exe\n -V:3.8           C:\\Python38\\python.exe\n -V:3.12          {}\n",
            layout.apps.join("python.exe").display()
        );
        let launcher = || windows::parse_py_launcher_list(&listing);
        let options = RunOptions::default();
        assert_eq!(
            found(&locate_preferring(&host, &options, Some("3.8"), launcher)),
            (
                Origin::Launcher("3.8".into()),
                PathBuf::from("C:\\Python38\\python.exe")
            )
        );
        // Without the wanted version listed, a real Python on PATH (past the alias) wins.
        let (origin, path) = found(&locate_preferring(&host, &options, Some("3.9"), launcher));
        assert_eq!(origin, Origin::Path("python"));
        assert_eq!(path.parent(), Some(real.as_path()));
        // With nothing on PATH, the launcher's default; never the alias it listed.
        let bare = windows_host(&layout, &[&layout.apps]);
        assert_eq!(
            found(&locate_preferring(&bare, &options, Some("3.12"), launcher)).0,
            Origin::Launcher("3.11".into())
        );
    }

    #[test]
    fn python_org_folders_are_found_without_path_or_launcher() {
        let layout = windows_layout();
        let programs = layout.local.join("Programs").join("Python");
        program(&programs.join("Python38").join("python"), "");
        program(&programs.join("Python311").join("python"), "");
        let all_users = layout.root.join("Program Files");
        program(&all_users.join("Python39").join("python"), "");
        std::fs::create_dir_all(all_users.join("Python310")).unwrap(); // no python.exe
        let mut host = windows_host(&layout, &[&layout.apps]);
        host.set_env("ProgramFiles", all_users.to_str().unwrap());
        let options = RunOptions::default();
        let none = Vec::new;
        assert_eq!(
            found(&locate_preferring(&host, &options, Some("3.8"), none)),
            (
                Origin::InstallFolder,
                programs.join("Python38").join("python.exe")
            )
        );
        assert_eq!(
            found(&locate_preferring(&host, &options, Some("3.9"), none)).1,
            all_users.join("Python39").join("python.exe")
        );
        // No wanted version there: the newest.
        assert_eq!(
            found(&locate_preferring(&host, &options, Some("3.10"), none)).1,
            programs.join("Python311").join("python.exe")
        );
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
        let host = Host::simulated(
            dir.path(),
            OsFamily::Linux,
            &[("SSL_CERT_FILE", missing.to_str().unwrap())],
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
        assert_eq!(
            probe.openssl_cafile_exists,
            Some(Path::new(&cafile).exists())
        );
        // SSL_CERT_FILE names a file that is not there: Python has no CA file to use.
        assert_eq!(probe.cafile, None);
    }

    #[cfg(unix)]
    #[test]
    fn a_one_line_script_runs_with_utf8_pipes() {
        let python = Path::new("/usr/bin/python3");
        assert!(python.is_file(), "this test needs the machine's python3");
        let dir = tempfile::tempdir().unwrap();
        // A C locale would give Python ASCII pipes without PYTHONIOENCODING.
        let host = Host::simulated(dir.path(), OsFamily::Linux, &[("LC_ALL", "C")]);
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
