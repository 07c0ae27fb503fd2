//! Where Pythons are: the environment a run judges (`--venv`, `$VIRTUAL_ENV`, `./venv`, else
//! an installed Python), and the one search for installed Pythons (pyenv, the Windows `py`
//! launcher, python.org's install folders and macOS frameworks, PATH), shared by the checks
//! and `fix`. Nothing here starts an interpreter; the Microsoft Store's alias is recognised
//! and never started.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;

use super::probe::PYTHON_CHILD_ENV;
use super::venv::{PyvenvCfg, Unreadable, venv_at, venv_interpreter, venv_of_interpreter};
use crate::check::{Deadline, RunOptions};
use crate::host::{Host, OsFamily, exists, is_file, read_dir, symlink_metadata};
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

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests build the trees they judge
mod tests {
    use super::*;
    use crate::python::PythonEnv;

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
}
