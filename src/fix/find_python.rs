//! Finding a Python the profile accepts, to build the virtualenv from.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::{Version, VersionSpecifiers};

use crate::host::{Host, OsFamily, ProcessError};
use crate::platform::windows;
use crate::python_env::{last_line, tensorflow_python_range};

/// What the profile asks of the interpreter: the `python` check's specifier, and the Pythons
/// its TensorFlow release supports.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub spec: Option<VersionSpecifiers>,
    pub tensorflow: Option<Version>,
}

impl Wanted {
    /// Whether an interpreter of `version` is accepted, and if not, why.
    pub fn judge(&self, version: &Version) -> Result<(), String> {
        if let Some(spec) = &self.spec
            && !spec.contains(version)
        {
            return Err(format!("Python {version} does not meet {spec}"));
        }
        if let Some(tf) = &self.tensorflow
            && let Some((low, high)) = tensorflow_python_range(tf)
        {
            let minor = Version::new(version.release().iter().take(2).copied());
            if minor < low || minor > high {
                return Err(format!(
                    "tensorflow {tf} supports Python {low} to {high}, not {version}"
                ));
            }
        }
        if version.release().first() != Some(&3) {
            return Err(format!(
                "Python {version} cannot make a virtualenv with `venv`"
            ));
        }
        Ok(())
    }

    /// `3.8` from `==3.8.*`, for commands like `pyenv install 3.8`.
    pub fn release(&self) -> Option<String> {
        let first = self.spec.as_ref()?.iter().next()?;
        match first.version().release() {
            [major, minor, ..] => Some(format!("{major}.{minor}")),
            [major] => Some(major.to_string()),
            [] => None,
        }
    }

    /// The profile's wish in words: `==3.8.*`, or "any Python 3".
    pub fn describe(&self) -> String {
        match &self.spec {
            Some(spec) => spec.to_string(),
            None => "any Python 3".into(),
        }
    }
}

/// One interpreter looked at.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Where it was found: "pyenv", "the py launcher", "PATH (python3.8)".
    pub source: String,
    /// What was run: a path from a listing or `PATH`.
    pub program: PathBuf,
    /// The interpreter's own `sys.executable`, once it answered.
    pub executable: Option<PathBuf>,
    pub version: Option<Version>,
    /// Accepted, or why not.
    pub verdict: Result<(), String>,
}

/// Prints the version, the real executable, whether it is itself a virtualenv, and whether
/// the `venv` and `ensurepip` packages are there (Debian splits them into `python3.X-venv`).
/// They are looked up on `sys.path` rather than imported: importing `venv` costs more than
/// starting the interpreter.
const QUERY_SCRIPT: &str = r#"
import sys, os
v = sys.version_info
def has(name):
    return any(os.path.isfile(os.path.join(p, name, "__init__.py")) for p in sys.path if p)
sys.stdout.write("version=%d.%d.%d\n" % (v[0], v[1], v[2]))
sys.stdout.write("executable=%s\n" % sys.executable)
sys.stdout.write("in_venv=%s\n" % (sys.prefix != getattr(sys, "base_prefix", sys.prefix)))
if has("venv") and has("ensurepip"):
    sys.stdout.write("venv=ok\n")
"#;

/// Start `program` once and judge it. `own_venv`: it is the interpreter of the virtualenv
/// being judged, so being a virtualenv's interpreter is expected, not a fault.
pub fn query(
    host: &Host,
    program: &Path,
    source: &str,
    wanted: &Wanted,
    timeout: Duration,
    own_venv: bool,
) -> Candidate {
    let mut candidate = Candidate {
        source: source.to_string(),
        program: program.to_path_buf(),
        executable: None,
        version: None,
        verdict: Err(String::new()),
    };
    // -E -s: ignore PYTHON* variables and the user site, so the answer is the interpreter's own.
    // The script goes as one line: Rust refuses newlines in arguments to `.bat` shims.
    let mut args = vec!["-E".to_string(), "-s".to_string()];
    args.extend(crate::python_env::python_script_args(QUERY_SCRIPT));
    let output = match host.run(program, &args, timeout) {
        Ok(output) => output,
        Err(ProcessError::TimedOut { after, .. }) => {
            candidate.verdict = Err(format!(
                "did not answer within {:.1} s",
                after.as_secs_f64()
            ));
            return candidate;
        }
        Err(e) => {
            candidate.verdict = Err(e.to_string());
            return candidate;
        }
    };
    let value = |key: &str| {
        output
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    };
    candidate.version = value("version").and_then(|v| Version::from_str(&v).ok());
    candidate.executable = value("executable")
        .filter(|e| !e.is_empty())
        .map(PathBuf::from);
    let Some(version) = candidate.version.clone() else {
        // The first line says why (a pyenv shim names the version it lacks there).
        let why = output
            .stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map_or_else(|| last_line(&output.stdout), str::to_string);
        candidate.verdict = Err(format!("does not start: {why}"));
        return candidate;
    };
    candidate.verdict = wanted.judge(&version).and_then(|()| {
        if !own_venv && value("in_venv").as_deref() == Some("True") {
            return Err("is itself a virtualenv's interpreter".into());
        }
        if value("venv").is_none() {
            let package = match host.os {
                OsFamily::Linux => format!(
                    " (on Debian and Ubuntu: the python{}.{}-venv package)",
                    version.release().first().unwrap_or(&3),
                    version.release().get(1).unwrap_or(&0)
                ),
                _ => String::new(),
            };
            return Err(format!("lacks the venv or ensurepip module{package}"));
        }
        Ok(())
    });
    candidate
}

/// pyenv's root: `$PYENV_ROOT` (what `pyenv root` prints when it is set, without starting
/// pyenv's shell script), else `pyenv root`, else `~/.pyenv`.
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

/// pyenv's installed versions whose directory name is a version the profile accepts,
/// newest first.
fn pyenv_candidates(host: &Host, wanted: &Wanted, timeout: Duration) -> Vec<(PathBuf, String)> {
    let Some(root) = pyenv_root(host, timeout) else {
        return Vec::new();
    };
    let Ok(entries) = crate::host::read_dir(root.join("versions")) else {
        return Vec::new();
    };
    let mut found: Vec<(Version, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let version = Version::from_str(entry.file_name().to_str()?).ok()?;
            wanted.judge(&version).ok()?;
            let dir = entry.path();
            let interpreter = if host.os == OsFamily::Windows {
                dir.join("python.exe")
            } else {
                dir.join("bin").join("python3")
            };
            crate::host::exists(&interpreter).then_some((version, interpreter))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found
        .into_iter()
        .map(|(_, path)| (path, "pyenv".to_string()))
        .collect()
}

/// The interpreters `py -0p` lists (Windows).
fn py_launcher_candidates(host: &Host, timeout: Duration) -> Vec<(PathBuf, String)> {
    let Some(py) = host.which("py") else {
        return Vec::new();
    };
    let Ok(output) = host.run(&py, &["-0p"], timeout) else {
        return Vec::new();
    };
    parse_py_list(&output.stdout)
        .into_iter()
        .map(|p| (p, "the py launcher".to_string()))
        .collect()
}

/// The interpreters in a `py -0p` listing (see [`windows::parse_py_launcher_list`]): only
/// entries whose path names a program.
pub fn parse_py_list(text: &str) -> Vec<PathBuf> {
    windows::parse_py_launcher_list(text)
        .into_iter()
        .map(|python| python.path)
        .filter(|path| {
            path.to_string_lossy()
                .to_ascii_lowercase()
                .ends_with(".exe")
        })
        .collect()
}

/// python.org's framework installs on macOS, newest first.
fn framework_candidates(host: &Host, wanted: &Wanted) -> Vec<(PathBuf, String)> {
    let versions = host.system_path("/Library/Frameworks/Python.framework/Versions");
    let Ok(entries) = crate::host::read_dir(&versions) else {
        return Vec::new();
    };
    let mut found: Vec<(Version, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let version = Version::from_str(entry.file_name().to_str()?).ok()?;
            let interpreter = entry.path().join("bin").join("python3");
            crate::host::exists(&interpreter).then_some((version, interpreter))
        })
        .filter(|(version, _)| {
            // The directory is named by major.minor: accept it if some release of that
            // minor could fit; the interpreter's own answer decides.
            wanted.spec.is_none() || wanted.release().is_none_or(|r| version.to_string() == r)
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found
        .into_iter()
        .map(|(_, path)| (path, "python.org (framework)".to_string()))
        .collect()
}

/// `python3.X`, `python3` and `python` on PATH; the wanted release's name first.
fn path_candidates(host: &Host, wanted: &Wanted) -> Vec<(PathBuf, String)> {
    let mut names: Vec<String> = Vec::new();
    if let Some(release) = wanted.release() {
        names.push(format!("python{release}"));
    }
    names.extend((5..=15).rev().map(|minor| format!("python3.{minor}")));
    names.extend(["python3".to_string(), "python".to_string()]);
    let mut seen: Vec<String> = Vec::new();
    names
        .into_iter()
        .filter(|n| {
            let fresh = !seen.contains(n);
            seen.push(n.clone());
            fresh
        })
        .filter_map(|name| {
            let path = host.which(&name)?;
            Some((path, format!("PATH ({name})")))
        })
        .collect()
}

/// Look for an accepted interpreter in the usual places, in order; stop at the first. Every
/// interpreter looked at is returned, the accepted one last.
pub fn find(host: &Host, wanted: &Wanted, timeout: Duration) -> Vec<Candidate> {
    let mut lists = vec![pyenv_candidates(host, wanted, timeout)];
    match host.os {
        OsFamily::Windows => lists.push(py_launcher_candidates(host, timeout)),
        OsFamily::Macos => lists.push(framework_candidates(host, wanted)),
        _ => {}
    }
    lists.push(path_candidates(host, wanted));
    let mut looked_at: Vec<Candidate> = Vec::new();
    for (program, source) in lists.into_iter().flatten() {
        let canonical = crate::host::canonicalize(&program).unwrap_or_else(|_| program.clone());
        if looked_at.iter().any(|c| {
            c.executable.as_deref() == Some(canonical.as_path())
                || crate::host::canonicalize(&c.program).ok().as_deref()
                    == Some(canonical.as_path())
        }) {
            continue;
        }
        let candidate = query(host, &program, &source, wanted, timeout, false);
        let accepted = candidate.verdict.is_ok();
        looked_at.push(candidate);
        if accepted {
            break;
        }
    }
    looked_at
}

/// Exactly how to get an accepted Python on this OS.
pub fn how_to_get(host: &Host, wanted: &Wanted) -> Vec<String> {
    let release = wanted.release().unwrap_or_else(|| "3".into());
    let has_pyenv = host.which("pyenv").is_some();
    match host.os {
        OsFamily::Windows => vec![
            format!(
                "Install Python {release} with the Windows installer from https://www.python.org/downloads/windows/ (64-bit)."
            ),
            format!(
                "Then check that `py -{release} --version` answers, and run `preflight fix` again."
            ),
        ],
        OsFamily::Macos => vec![
            format!(
                "Install Python {release} with the macOS installer from https://www.python.org/downloads/macos/ (the exam's handbooks ask for python.org's Python)."
            ),
            format!(
                "Then run \"Install Certificates.command\" in /Applications/Python {release}/, and run `preflight fix` again."
            ),
        ],
        _ if has_pyenv => vec![format!(
            "Install it with pyenv: `pyenv install {release}`, then run `preflight fix` again."
        )],
        _ => vec![
            format!(
                "Install Python {release}: with pyenv (https://github.com/pyenv/pyenv#installation), `pyenv install {release}`; or your distribution's python{release} and python{release}-venv packages, where it still ships them."
            ),
            "Then run `preflight fix` again.".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_versions_by_spec_and_tensorflow() {
        let wanted = Wanted {
            spec: Some(VersionSpecifiers::from_str("==3.8.*").unwrap()),
            tensorflow: Some(Version::from_str("2.9.0").unwrap()),
        };
        assert!(wanted.judge(&Version::from_str("3.8.18").unwrap()).is_ok());
        assert!(wanted.judge(&Version::from_str("3.11.7").unwrap()).is_err());
        assert_eq!(wanted.release().as_deref(), Some("3.8"));
        let any = Wanted {
            spec: None,
            tensorflow: Some(Version::from_str("2.9.0").unwrap()),
        };
        assert!(any.judge(&Version::from_str("3.10.1").unwrap()).is_ok());
        assert!(any.judge(&Version::from_str("3.12.1").unwrap()).is_err());
        assert!(
            Wanted::default()
                .judge(&Version::from_str("2.7.18").unwrap())
                .is_err()
        );
    }

    #[test]
    fn reads_the_py_launcher_listing() {
        let listing = " -V:3.11 *        C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\n -V:3.8           C:\\Program Files\\Python38\\python.exe\n";
        assert_eq!(
            parse_py_list(listing),
            vec![
                PathBuf::from(
                    "C:\\Users\\ana\\AppData\\Local\\Programs\\Python\\Python311\\python.exe"
                ),
                PathBuf::from("C:\\Program Files\\Python38\\python.exe"),
            ]
        );
        // The launcher before 3.11 marks the default after the path.
        assert_eq!(
            parse_py_list(
                " -3.8-64        C:\\Python38\\python.exe *\n -3.7-64        C:\\Python37\\python.exe\n"
            ),
            vec![
                PathBuf::from("C:\\Python38\\python.exe"),
                PathBuf::from("C:\\Python37\\python.exe")
            ]
        );
        assert!(parse_py_list(" -V:3.12 *\n").is_empty());
    }
}
