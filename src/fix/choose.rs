//! Choosing the Python to build the virtualenv from: the first one found that the profile
//! accepts and that can make a virtualenv.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use pep440_rs::Version;

use crate::check::Deadline;
use crate::host::{Host, OsFamily, ProcessError, canonicalize};
use crate::python::discover::{Reach, major_minor, py_launcher_list, search_pythons};
use crate::python::probe::{Probe, Start, last_line, run_probe};
use crate::python::wanted::Wanted;

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

/// Start `program` once (the run's probe, isolated) and judge it. `own_venv`: it is the
/// interpreter of the virtualenv being judged, so being a virtualenv's interpreter is
/// expected, not a fault.
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
    let output = match run_probe(host, program, Start::Isolated, timeout) {
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
    let probe = Probe::parse(&output.stdout);
    candidate.version = probe.as_ref().and_then(Probe::version);
    candidate.executable = probe
        .as_ref()
        .map(|p| p.executable.clone())
        .filter(|e| !e.as_os_str().is_empty());
    let (Some(probe), Some(version)) = (probe, candidate.version.clone()) else {
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
        if !own_venv && probe.in_venv() {
            return Err("is itself a virtualenv's interpreter".into());
        }
        if !probe.can_make_venvs() {
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

/// What [`find`] looked at.
#[derive(Debug, Clone, Default)]
pub struct Looked {
    /// Every interpreter started and judged, in order; the accepted one, if any, last.
    pub candidates: Vec<Candidate>,
    /// The Microsoft Store's alias, seen and not started.
    pub store_alias: Option<PathBuf>,
}

impl Looked {
    pub fn accepted(&self) -> Option<&Candidate> {
        self.candidates.last().filter(|c| c.verdict.is_ok())
    }
}

/// Try the Pythons [`search_pythons`] finds, in its order (the wanted release first); stop
/// at the first one accepted. One whose place names a version the profile refuses
/// (pyenv's `3.11.7`, `Python311`) is passed over without being started.
pub fn find(host: &Host, wanted: &Wanted, timeout: Duration) -> Looked {
    let release = wanted.release();
    let launcher_deadline = Deadline::at(Instant::now() + timeout);
    let search = search_pythons(
        host,
        release.as_deref(),
        Reach::Builders {
            pyenv_timeout: timeout,
        },
        || py_launcher_list(host, launcher_deadline),
    );
    let mut looked = Looked {
        candidates: Vec::new(),
        store_alias: search.store_alias,
    };
    for found in search.pythons {
        if refused_by_name(wanted, release.as_deref(), found.named_version.as_deref()) {
            continue;
        }
        let program = found.interpreter;
        let canonical = canonicalize(&program).unwrap_or_else(|_| program.clone());
        if looked.candidates.iter().any(|c| {
            c.executable.as_deref() == Some(canonical.as_path())
                || canonicalize(&c.program).ok().as_deref() == Some(canonical.as_path())
        }) {
            continue;
        }
        let candidate = query(
            host,
            &program,
            &found.origin.place(),
            wanted,
            timeout,
            false,
        );
        let accepted = candidate.verdict.is_ok();
        looked.candidates.push(candidate);
        if accepted {
            break;
        }
    }
    looked
}

/// Whether the version a place names (`3.11.7`, or `3.11` from a folder or a launcher tag)
/// is one the profile refuses. A bare `3.8` stands for all of 3.8.x, so it refuses only
/// when it is not the wanted release either.
fn refused_by_name(wanted: &Wanted, release: Option<&str>, named: Option<&str>) -> bool {
    let Some(named) = named else {
        return false;
    };
    let Ok(version) = Version::from_str(named.split('-').next().unwrap_or(named)) else {
        return false;
    };
    let full = version.release().len() > 2;
    wanted.judge(&version).is_err() && (full || major_minor(named).as_deref() != release)
}

// Its one scenario stands shell scripts in for Windows programs.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use pep440_rs::VersionSpecifiers;

    /// A script that leaves `marker` behind if anything starts it, as `name` and `name.exe`
    /// so PATH finds it on this machine as Windows would.
    #[allow(clippy::disallowed_methods)] // the test builds the tree it judges
    fn tripwire(path: &Path, marker: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        for file in [path.to_path_buf(), path.with_extension("exe")] {
            std::fs::write(&file, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// A Windows user's folders under a temporary root: the Store's aliases on PATH, the
    /// machine's own python3 as python.org's per-user install of its release, and a refused
    /// Python 2.7 install. `fix` starts neither the aliases nor 2.7.
    #[test]
    #[allow(clippy::disallowed_methods)] // the test builds the tree it judges
    fn fix_never_starts_the_store_alias_and_finds_a_python_org_folder() {
        let machine_python = Path::new("/usr/bin/python3");
        assert!(
            machine_python.is_file(),
            "this test needs the machine's python3"
        );
        let minor = std::process::Command::new(machine_python)
            .args(["-c", "import sys; print(sys.version_info[1])"])
            .output()
            .unwrap();
        let minor = String::from_utf8(minor.stdout).unwrap().trim().to_string();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let local = root.join("Users/a/AppData/Local");
        let apps = local.join("Microsoft").join("WindowsApps");
        let started = root.join("something-was-started");
        tripwire(&apps.join("python"), &started);
        tripwire(&apps.join("python3"), &started);
        let programs = local.join("Programs").join("Python");
        tripwire(&programs.join("Python27").join("python"), &started);
        let folder = programs.join(format!("Python3{minor}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::os::unix::fs::symlink(machine_python, folder.join("python.exe")).unwrap();
        let host = Host::simulated(
            root,
            OsFamily::Windows,
            &[
                ("LOCALAPPDATA", local.to_str().unwrap()),
                ("Path", apps.to_str().unwrap()),
                // The machine's python3 looks for user site-packages in a home of its own.
                ("HOME", root.to_str().unwrap()),
            ],
        );
        let wanted = Wanted {
            spec: Some(VersionSpecifiers::from_str(&format!("==3.{minor}.*")).unwrap()),
            tensorflow: None,
        };
        let timeout = Duration::from_secs(30);

        let looked = find(&host, &wanted, timeout);
        let accepted = looked.accepted().unwrap_or_else(|| panic!("{looked:?}"));
        assert_eq!(accepted.program, folder.join("python.exe"));
        assert_eq!(accepted.source, "python.org's install folder");
        assert_eq!(looked.candidates.len(), 1, "{looked:?}");
        let alias = looked.store_alias.expect("the alias is reported");
        assert_eq!(alias.parent(), Some(apps.as_path()));
        assert!(!started.exists(), "a Store alias or Python 2.7 was started");

        // With no install left, nothing is accepted; the alias is still only reported.
        std::fs::remove_dir_all(&folder).unwrap();
        let looked = find(&host, &wanted, timeout);
        assert!(looked.candidates.is_empty(), "{looked:?}");
        assert!(looked.store_alias.is_some());
        assert!(!started.exists(), "a Store alias or Python 2.7 was started");
    }
}
