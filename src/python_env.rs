//! The Python environment the exam will use: which one, and what it holds. Found once per
//! run: the interpreter is started at most once (one probe script answering in JSON), and
//! package versions come from `.dist-info`/`.egg-info` metadata, never from imports.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;

use crate::check::{Context, Deadline, RunOptions, SharedFact};
use crate::host::{
    Host, OsFamily, ProcessError, exists, file_kind, is_dir, is_file, metadata, open_regular,
    read_dir, read_small, symlink_metadata,
};
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
    /// `python3.8` on PATH: a name that says its release.
    PathRelease(String),
    /// One of pyenv's versions (`$(pyenv root)/versions/3.8.18`).
    Pyenv(String),
    /// python.org's macOS framework (`/Library/Frameworks/Python.framework/Versions/3.8`).
    Framework(String),
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
            Origin::PathRelease(name) => {
                format!("`{name}` on PATH: no virtualenv was given or found")
            }
            Origin::Pyenv(version) => {
                format!("pyenv's {version}: no virtualenv was given or found")
            }
            Origin::Framework(release) => {
                format!("python.org's framework {release}: no virtualenv was given or found")
            }
        }
    }

    /// Where an interpreter was found, in a few words: "PATH (python3.8)", "pyenv", "the py
    /// launcher (`py -3.8`)".
    pub fn place(&self) -> String {
        match self {
            Origin::Path(name) => format!("PATH ({name})"),
            Origin::PathRelease(name) => format!("PATH ({name})"),
            Origin::Launcher(tag) => format!("the py launcher (`py -{tag}`)"),
            Origin::InstallFolder => "python.org's install folder".into(),
            Origin::Pyenv(_) => "pyenv".into(),
            Origin::Framework(_) => "python.org (framework)".into(),
            Origin::Flag | Origin::VirtualEnvVar | Origin::WorkingDir(_) => self.describe(),
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
    pub executable: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub site_packages: Vec<PathBuf>,
    pub user_site: Option<PathBuf>,
    pub user_site_enabled: bool,
    pub sys_path: Vec<PathBuf>,
    /// Where pip's package is, when the environment has one.
    pub pip: Option<PathBuf>,
    /// The interpreter's own architecture, as `platform.machine()` gives it: `arm64`, or
    /// `x86_64` for an Intel build under Rosetta on Apple Silicon.
    pub machine: Option<String>,
    /// macOS only: OpenSSL's compiled-in CA file, whether it exists, and the CA file Python
    /// will use (`SSL_CERT_FILE` or that one; absent when it does not exist).
    pub openssl_cafile: Option<PathBuf>,
    pub openssl_cafile_exists: Option<bool>,
    pub cafile: Option<PathBuf>,
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
    if text.len() % 2 != 0 || !text.is_ascii() {
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
                _ => {}
            }
        }
        // pip is looked up on disk rather than by the interpreter: no import, no cost.
        probe.pip = probe
            .sys_path
            .iter()
            .map(|p| p.join("pip").join("__init__.py"))
            .find(|p| is_file(p));
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
    /// The file is there but the OS would not start it (a shebang naming a missing
    /// interpreter, no execute permission, a binary for another machine): why.
    CannotStart(String),
    /// It started, but died or printed no answer.
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
    /// The venv has a `pyvenv.cfg` that could not be read, and why.
    pub pyvenv_cfg_unreadable: Option<Unreadable>,
}

/// Why a file that is there could not be read.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// What follows the file's name: "is a named pipe (FIFO), not a regular file", "is larger
    /// than 1024 KiB, not read", "cannot be read: permission denied".
    pub reason: String,
    /// A FIFO, socket or device: whoever opens it may wait forever, Python too.
    pub not_regular: bool,
}

impl Unreadable {
    fn of(error: &io::Error) -> Self {
        let reason = match error.kind() {
            // Already phrased as "is …" by the host's read helpers.
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => error.to_string(),
            io::ErrorKind::PermissionDenied => "cannot be read: permission denied".to_string(),
            _ => format!("cannot be read: {error}"),
        };
        Unreadable {
            reason,
            not_regular: error.kind() == io::ErrorKind::InvalidInput,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Discovery {
    Found(Located),
    /// `--venv` or `$VIRTUAL_ENV` names something that cannot be used.
    Unusable {
        origin: Origin,
        path: PathBuf,
        reason: String,
        /// Something is at `path` (a file, a directory that is no venv): never a place to
        /// suggest creating a virtualenv.
        occupied: bool,
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
            Discovery::Found(Located {
                pyvenv_cfg_unreadable: Some(unreadable),
                venv: Some(venv),
                ..
            }) if unreadable.not_regular => Some(Err(ProbeError::Failed(format!(
                "not started: Python reads {} at start-up, and it {}: Python would wait on it forever",
                venv.join("pyvenv.cfg").display(),
                unreadable.reason
            )))),
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

    /// "the interpreter probe (PATH) did not answer within 9.5 s" when it ran out of time:
    /// what a finding that waited on it says, rather than that the interpreter did not start.
    pub fn probe_timed_out(&self) -> Option<String> {
        let Some(Err(ProbeError::TimedOut(after))) = &self.probe else {
            return None;
        };
        Some(format!(
            "the interpreter probe ({}) did not answer within {:.1} s",
            self.located()?.interpreter.display(),
            after.as_secs_f64()
        ))
    }

    /// Where installed packages live: what the interpreter said, else the venv's layout.
    pub fn site_packages(&self, host: &Host) -> Vec<PathBuf> {
        if let Some(probe) = self.probe_ok() {
            let mut dirs: Vec<PathBuf> = probe.site_packages.clone();
            if probe.user_site_enabled {
                dirs.extend(probe.user_site.iter().cloned());
            }
            return dirs.into_iter().filter(|d| is_dir(d)).collect();
        }
        match self.located().and_then(|l| l.venv.as_ref()) {
            Some(venv) => venv_site_packages(host, venv),
            None => Vec::new(),
        }
    }
}

/// A virtualenv's site-packages by its layout, known without starting its interpreter.
pub fn venv_site_packages(host: &Host, venv: &Path) -> Vec<PathBuf> {
    if host.os == OsFamily::Windows {
        return vec![venv.join("Lib").join("site-packages")];
    }
    let Ok(entries) = read_dir(venv.join("lib")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .filter(|p| is_dir(p))
        .collect();
    dirs.sort();
    dirs
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
        // What PyCharm shows is the interpreter (`venv/bin/python`): judge its venv.
        let path = venv_of_interpreter(&path).unwrap_or(path);
        return match venv_at(host, &path) {
            Ok((cfg, unreadable)) => Discovery::Found(Located {
                origin,
                interpreter: venv_interpreter(host, &path),
                venv: Some(path),
                pyvenv_cfg: cfg,
                pyvenv_cfg_unreadable: unreadable,
            }),
            Err(reason) => Discovery::Unusable {
                occupied: symlink_metadata(&path).is_ok(),
                origin,
                path,
                reason,
            },
        };
    }
    for name in ["venv", ".venv", "env"] {
        let path = host.cwd.join(name);
        if let Ok((cfg, unreadable)) = venv_at(host, &path)
            && (cfg.is_some() || unreadable.is_some())
        {
            return Discovery::Found(Located {
                origin: Origin::WorkingDir(name),
                interpreter: venv_interpreter(host, &path),
                venv: Some(path),
                pyvenv_cfg: cfg,
                pyvenv_cfg_unreadable: unreadable,
            });
        }
    }
    let search = search_pythons(host, wanted, Reach::Exam, launcher);
    match search.pythons.into_iter().next() {
        Some(python) => Discovery::Found(Located {
            origin: python.origin,
            venv: None,
            interpreter: python.interpreter,
            pyvenv_cfg: None,
            pyvenv_cfg_unreadable: None,
        }),
        None => match search.store_alias {
            Some(path) => Discovery::StoreAlias(path),
            None => Discovery::NoPython,
        },
    }
}

/// How far [`search_pythons`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Where the exam's Python is when no virtualenv decides: `python3` and `python` on
    /// PATH, and on Windows the `py` launcher and python.org's install folders.
    Exam,
    /// Also every Python a virtualenv could be built from (`preflight fix`): pyenv's
    /// versions (asking `pyenv root` within `pyenv_timeout` when `$PYENV_ROOT` is unset),
    /// python.org's macOS frameworks, and `python3.X` on PATH.
    Builders { pyenv_timeout: Duration },
}

/// An interpreter found where Pythons are installed; nothing has started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPython {
    pub origin: Origin,
    pub interpreter: PathBuf,
    /// The version the place names (`3.8` from `Python38` or `py -3.8`, `3.8.18` from a
    /// pyenv folder); the interpreter's own answer decides.
    pub named_version: Option<String>,
}

/// What [`search_pythons`] found, best first.
#[derive(Debug, Clone, Default)]
pub struct PythonSearch {
    pub pythons: Vec<FoundPython>,
    /// The Microsoft Store's `python` alias, seen on PATH or in the launcher's list: a stub
    /// that offers to install Python, reported and never started.
    pub store_alias: Option<PathBuf>,
}

/// `3.8` from `3.8.18`, `3.8` or `3.8-64`.
pub fn major_minor(version: &str) -> Option<String> {
    let version = version.split('-').next()?;
    let mut parts = version.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

/// The one search for installed Pythons: the check's choice when no virtualenv decides is
/// the first it returns, and `fix` tries them in order. Best first: what names the `wanted`
/// release (`3.8`), then `python3`/`python` on PATH (what a terminal starts), then the rest
/// (the launcher's default first, newest first otherwise). On Windows python.org's installer
/// leaves PATH alone by default and the Microsoft Store puts stubs named `python.exe` there:
/// those are set aside as `store_alias`. `launcher` lists what the `py` launcher knows,
/// asked only on Windows.
pub fn search_pythons(
    host: &Host,
    wanted: Option<&str>,
    reach: Reach,
    launcher: impl FnOnce() -> Vec<LauncherPython>,
) -> PythonSearch {
    let mut store_alias = None;
    // Places that name a release, in the order they are trusted.
    let mut named: Vec<FoundPython> = Vec::new();
    if let Reach::Builders { pyenv_timeout } = reach {
        named.extend(pyenv_versions(host, pyenv_timeout));
    }
    if host.os == OsFamily::Windows {
        let mut listed: Vec<LauncherPython> = Vec::new();
        for python in launcher() {
            if is_store_alias(host, &python.path) {
                store_alias.get_or_insert(python.path);
            } else {
                listed.push(python);
            }
        }
        // The launcher's default first, then as listed (newest first).
        listed.sort_by_key(|p| !p.default);
        named.extend(listed.into_iter().map(|p| FoundPython {
            origin: Origin::Launcher(p.tag),
            interpreter: p.path,
            named_version: p.release,
        }));
        let folders = install_folders(host).into_iter().rev();
        named.extend(folders.map(|(release, path)| FoundPython {
            origin: Origin::InstallFolder,
            interpreter: path,
            named_version: Some(release),
        }));
    }
    if matches!(reach, Reach::Builders { .. }) {
        if host.os == OsFamily::Macos {
            named.extend(frameworks(host));
        }
        let releases = wanted
            .map(str::to_string)
            .into_iter()
            .chain((5..=15).rev().map(|minor| format!("3.{minor}")));
        let mut names_seen: Vec<String> = Vec::new();
        for release in releases {
            let name = format!("python{release}");
            if names_seen.contains(&name) {
                continue;
            }
            names_seen.push(name.clone());
            if let Some(path) = first_on_path(host, &name, &mut store_alias) {
                named.push(FoundPython {
                    origin: Origin::PathRelease(name),
                    interpreter: path,
                    named_version: Some(release),
                });
            }
        }
    }
    let mut on_path = Vec::new();
    for name in ["python3", "python"] {
        if let Some(path) = first_on_path(host, name, &mut store_alias) {
            on_path.push(FoundPython {
                origin: Origin::Path(name),
                interpreter: path,
                named_version: None,
            });
            if reach == Reach::Exam {
                break;
            }
        }
    }
    let is_wanted = |p: &FoundPython| {
        wanted.is_some() && p.named_version.as_deref().and_then(major_minor).as_deref() == wanted
    };
    let (wanted_first, others): (Vec<_>, Vec<_>) = named.into_iter().partition(is_wanted);
    let mut pythons = wanted_first;
    pythons.extend(on_path);
    pythons.extend(others);
    PythonSearch {
        pythons,
        store_alias,
    }
}

/// The first match for `name` on PATH that is not the Store's alias (noted in `alias`).
fn first_on_path(host: &Host, name: &str, alias: &mut Option<PathBuf>) -> Option<PathBuf> {
    for candidate in host.which_all(name) {
        if is_store_alias(host, &candidate) {
            alias.get_or_insert(candidate);
        } else {
            return Some(candidate);
        }
    }
    None
}

/// pyenv's root: `$PYENV_ROOT` (what `pyenv root` prints when it is set, without starting
/// pyenv's shell script), else `pyenv root`, else `~/.pyenv` (`~/.pyenv/pyenv-win` on
/// Windows).
fn pyenv_root(host: &Host, timeout: Duration) -> Option<PathBuf> {
    if let Some(root) = host.env("PYENV_ROOT") {
        return Some(host.user_path(Path::new(root)));
    }
    if let Some(pyenv) = host.which("pyenv")
        && let Ok(output) = host.run(&pyenv, &["root"], timeout)
        && output.status.success()
    {
        let root = output.stdout.trim();
        if !root.is_empty() {
            return Some(PathBuf::from(root));
        }
    }
    let home = host.home.as_ref()?;
    Some(if host.os == OsFamily::Windows {
        home.join(".pyenv").join("pyenv-win")
    } else {
        home.join(".pyenv")
    })
}

/// Installs named by their version under `dir` (pyenv's `versions`, not `miniconda3-…`;
/// the framework's `Versions`), whose interpreter is at `interpreter` inside, newest first.
fn versioned_installs(
    dir: &Path,
    interpreter: &[&str],
    origin: fn(String) -> Origin,
) -> Vec<FoundPython> {
    let Ok(entries) = read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(Version, FoundPython)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            let version = Version::from_str(&name).ok()?;
            let path = interpreter
                .iter()
                .fold(entry.path(), |path, part| path.join(part));
            exists(&path).then(|| {
                let python = FoundPython {
                    origin: origin(name.clone()),
                    interpreter: path,
                    named_version: Some(name),
                };
                (version, python)
            })
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, python)| python).collect()
}

fn pyenv_versions(host: &Host, timeout: Duration) -> Vec<FoundPython> {
    let Some(root) = pyenv_root(host, timeout) else {
        return Vec::new();
    };
    let inside: &[&str] = if host.os == OsFamily::Windows {
        &["python.exe"]
    } else {
        &["bin", "python3"]
    };
    versioned_installs(&root.join("versions"), inside, Origin::Pyenv)
}

/// python.org's framework installs on macOS.
fn frameworks(host: &Host) -> Vec<FoundPython> {
    let versions = host.system_path("/Library/Frameworks/Python.framework/Versions");
    versioned_installs(&versions, &["bin", "python3"], Origin::Framework)
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
        let Ok(entries) = read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(release) = windows::release_of_install_folder(&name) else {
                continue;
            };
            let python = entry.path().join("python.exe");
            if is_file(&python) && !found.iter().any(|(_, _, p)| *p == python) {
                let order = Version::from_str(&release).unwrap_or_else(|_| Version::new([0]));
                found.push((order, release, python));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, r, p)| (r, p)).collect()
}

/// What `py -0p` lists, or nothing when there is no launcher or it does not answer in time.
pub fn py_launcher_list(host: &Host, deadline: Deadline) -> Vec<LauncherPython> {
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
                .filter(|p| is_file(p))
        })
        .or_else(|| {
            host.env("LOCALAPPDATA")
                .map(|l| Path::new(l).join("Programs/Python/Launcher/py.exe"))
                .filter(|p| is_file(p))
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
/// `pyvenv.cfg` is read when there (or why it could not be); its absence is judged by the
/// `python.venv` check.
fn venv_at(host: &Host, path: &Path) -> Result<(Option<PyvenvCfg>, Option<Unreadable>), String> {
    let meta = metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "does not exist".to_string(),
        io::ErrorKind::PermissionDenied => {
            "cannot be reached: permission denied (on it or a folder above it)".to_string()
        }
        _ => format!("cannot be read: {e}"),
    })?;
    if !meta.is_dir() {
        let what = file_kind(&meta.file_type());
        let interpreter = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("python"));
        return Err(if interpreter {
            "is a Python interpreter outside any virtualenv (no pyvenv.cfg two folders up)"
                .to_string()
        } else {
            format!("is {what}, not a virtualenv directory")
        });
    }
    if let Err(e) = read_dir(path)
        && e.kind() == io::ErrorKind::PermissionDenied
    {
        return Err("is a directory preflight may not read: permission denied".into());
    }
    let (cfg, unreadable) = match read_small(&path.join("pyvenv.cfg")) {
        Ok(text) => (Some(PyvenvCfg::parse(&text)), None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (None, None),
        Err(e) => (None, Some(Unreadable::of(&e))),
    };
    if cfg.is_none() && unreadable.is_none() && !exists(venv_interpreter(host, path)) {
        return Err("is not a virtualenv: it has no pyvenv.cfg and no Python interpreter".into());
    }
    Ok((cfg, unreadable))
}

/// The virtualenv of an interpreter inside one (`VENV/bin/python3.8`,
/// `VENV\\Scripts\\python.exe`): the folder two levels up, when it holds a `pyvenv.cfg`. The
/// interpreter is not followed through its symlink: that leads to the base Python.
fn venv_of_interpreter(path: &Path) -> Option<PathBuf> {
    // A dangling link too: a venv whose base Python is gone is judged as that.
    let meta = symlink_metadata(path).ok()?;
    if !(meta.is_file() || meta.is_symlink()) {
        return None;
    }
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let scripts = path.parent()?;
    let scripts_name = scripts.file_name()?.to_string_lossy().to_ascii_lowercase();
    let venv = scripts.parent()?;
    (name.starts_with("python")
        && matches!(scripts_name.as_str(), "bin" | "scripts")
        && symlink_metadata(venv.join("pyvenv.cfg")).is_ok())
    .then(|| venv.to_path_buf())
}

/// Runs under Python 2.7 too, so that an old interpreter is reported by version, not as a
/// crash. It imports nothing the interpreter has not already loaded at start-up (`sys`,
/// `site`, `os`): each extra import costs milliseconds, and the whole run is meant to cost
/// about one interpreter start (`binascii`, which pyenv's and Debian's builds load as a
/// shared library, was one such). The exception is `ssl` (about 8 ms),
/// on macOS only, where python.org's Pythons lack CA certificates until "Install
/// Certificates.command" runs. `os.uname()[4]` is what `platform.machine()` answers on Unix,
/// without importing `platform`. One `key=value` line per fact; list facts repeat their key.
/// The lines are written at once at the end: one write and one wake-up of the reader, not
/// one per line where `PYTHONUNBUFFERED` is set (PyCharm's run configurations set it).
/// Paths go as `KEY_path=` and the hex of their bytes, so that no path is lost to an
/// encoding, whatever the locale.
const PROBE_SCRIPT: &str = r#"
import sys, site
v = sys.version_info
out = []
def say(k, x):
    if x is not None:
        out.append("%s=%s\n" % (k, str(x).replace("\n", " ")))
def fsencode(p):
    if isinstance(p, bytes):
        return p
    try:
        return p.encode(sys.getfilesystemencoding(), "surrogateescape")
    except (LookupError, UnicodeError):
        return p.encode("utf-8", "replace")
def hexof(b):
    if hasattr(b, "hex"):
        return b.hex()
    return "".join(["%02x" % c for c in bytearray(b)])
def path(k, p):
    if p:
        out.append("%s_path=%s\n" % (k, hexof(fsencode(p))))
say("version", "%d.%d.%d" % (v[0], v[1], v[2]))
say("version_banner", sys.version)
path("executable", sys.executable)
path("prefix", sys.prefix)
path("base_prefix", getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix)))
try:
    sp = site.getsitepackages()
except Exception:
    sp = [p for p in sys.path if p.endswith("site-packages")]
for p in sp:
    path("site_packages", p)
try:
    path("user_site", site.getusersitepackages())
except Exception:
    pass
say("user_site_enabled", bool(site.ENABLE_USER_SITE))
for p in sys.path:
    path("sys_path", p)
import os
say("machine", os.uname()[4] if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE"))
if sys.platform == "darwin":
    try:
        import ssl
        paths = ssl.get_default_verify_paths()
        path("openssl_cafile", paths.openssl_cafile)
        say("openssl_cafile_exists", os.path.exists(paths.openssl_cafile))
        path("cafile", paths.cafile)
    except Exception:
        pass
sys.stdout.write("".join(out))
"#;

fn probe(host: &Host, interpreter: &Path, deadline: Duration) -> Result<Probe, ProbeError> {
    // `exists` follows symlinks: a venv whose base interpreter vanished has a dangling link.
    if !exists(interpreter) {
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
    first_found(site_packages.iter().map(|dir| installed_in(dir, wanted)))
}

/// What several site-packages hold together: the first one listing a name wins, as on
/// `sys.path`.
pub fn first_found(
    per_dir: impl IntoIterator<Item = BTreeMap<String, Installed>>,
) -> BTreeMap<String, Installed> {
    let mut found = BTreeMap::new();
    for dir in per_dir {
        for (name, installed) in dir {
            found.entry(name).or_insert(installed);
        }
    }
    found
}

/// [`installed`] in one site-packages. Only the metadata of folders whose name matches a
/// wanted name is opened: a site-packages may hold tens of thousands of distributions, and
/// each entry costs a comparison, never an allocation or a read.
pub fn installed_in(dir: &Path, wanted: &[String]) -> BTreeMap<String, Installed> {
    let mut found = BTreeMap::new();
    let Ok(entries) = read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let (stem, dist_info) = match file_name.strip_suffix(".dist-info") {
            Some(stem) => (stem, true),
            None => match file_name.strip_suffix(".egg-info") {
                Some(stem) => (stem, false),
                None => continue,
            },
        };
        let dir_name = stem.split('-').next().unwrap_or(stem);
        let Some(key) = wanted.iter().find(|w| normalizes_to(dir_name, w)) else {
            continue;
        };
        if found.contains_key(key) {
            continue;
        }
        let path = entry.path();
        let metadata = if dist_info {
            path.join("METADATA")
        } else if is_dir(&path) {
            path.join("PKG-INFO")
        } else {
            path.clone()
        };
        let installed = read_metadata(&metadata, stem);
        found.insert(normalize(&installed.name), installed);
    }
    found
}

/// `normalize(name) == normalized`, without building the normalized name.
fn normalizes_to(name: &str, normalized: &str) -> bool {
    let mut expected = normalized.chars();
    let (mut separator, mut started) = (false, false);
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && started && expected.next() != Some('-') {
            return false;
        }
        separator = false;
        started = true;
        if expected.next() != Some(c.to_ascii_lowercase()) {
            return false;
        }
    }
    expected.next().is_none()
}

/// How much of a metadata file is scanned for its `Name` and `Version` headers: they come
/// first in every file pip writes; the long description after them can be megabytes.
const METADATA_SCAN_LIMIT: u64 = 16 << 20;

/// The `Name` and `Version` headers of a METADATA or PKG-INFO file (the first of each), read
/// no further than the end of the headers, nor past both found.
pub fn metadata_headers(reader: impl Read) -> io::Result<(Option<String>, Option<String>)> {
    let mut reader = io::BufReader::new(reader.take(METADATA_SCAN_LIMIT));
    let (mut name, mut version) = (None, None);
    let mut line = Vec::new();
    while name.is_none() || version.is_none() {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            break; // the end of the headers
        }
        let value = |key: &str| text.strip_prefix(key).map(|v| v.trim().to_string());
        if name.is_none() {
            name = value("Name:");
        }
        if version.is_none() {
            version = value("Version:");
        }
    }
    Ok((name, version))
}

fn read_metadata(path: &Path, stem: &str) -> Installed {
    let fallback_name = stem.split('-').next().unwrap_or(stem).to_string();
    let headers = open_regular(path).and_then(metadata_headers);
    let (name, version) = match headers {
        Ok(headers) => headers,
        Err(e) => {
            return Installed {
                name: fallback_name,
                version: Err(format!("cannot read {}: {e}", path.display())),
                metadata: path.to_path_buf(),
            };
        }
    };
    let name = name.unwrap_or(fallback_name);
    let version = match version {
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
#[allow(clippy::disallowed_methods)] // tests build the trees they judge
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
    fn names_compare_as_pip_normalizes_them() {
        let names = [
            "Pillow",
            "tensorflow_datasets",
            "tensorflow-cpu",
            "zope.interface",
            "__weird..name__",
            "-x-",
            "",
            "T_F",
        ];
        let wanted = [
            "pillow",
            "tensorflow-datasets",
            "tensorflow",
            "zope-interface",
            "weird-name",
            "x",
            "",
            "t-f",
            "tf",
        ];
        for name in names {
            for key in wanted {
                assert_eq!(
                    normalizes_to(name, key),
                    normalize(name) == key,
                    "{name} / {key}"
                );
            }
        }
    }

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
