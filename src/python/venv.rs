//! What makes a directory a virtualenv, and its layout by OS: `pyvenv.cfg`, the interpreter
//! (`bin/python` or `Scripts\python.exe`), site-packages, and whether pip is there. Known
//! from files alone, without starting the interpreter.

use std::io;
use std::path::{Path, PathBuf};

use crate::host::{
    Host, OsFamily, exists, file_kind, is_dir, is_file, metadata, read_bounded, read_dir,
    read_small, symlink_metadata,
};

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

/// The interpreter inside a virtualenv, by the host's OS layout.
pub fn venv_interpreter(host: &Host, venv: &Path) -> PathBuf {
    if host.os == OsFamily::Windows {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
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

/// A directory that can be judged as a virtualenv: it exists and is a directory. Its
/// `pyvenv.cfg` is read when there (or why it could not be); its absence is judged by the
/// `python.venv` check.
pub(crate) fn venv_at(
    host: &Host,
    path: &Path,
) -> Result<(Option<PyvenvCfg>, Option<Unreadable>), String> {
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
pub(crate) fn venv_of_interpreter(path: &Path) -> Option<PathBuf> {
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

/// pip as it is installed in an environment, judged from files alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipInstall {
    /// Every file pip's `RECORD` lists is there: its package, `pip/__init__.py`.
    Complete(PathBuf),
    /// pip's folder is there but its install is not whole (a build that was interrupted or
    /// hit a full disk): `why` says what is missing, as a sentence's end.
    Incomplete {
        package: PathBuf,
        why: String,
    },
    Absent,
}

/// How pip is installed in the first of `dirs` (site-packages, `sys.path`) that holds any of
/// it: "present" only when every file its `.dist-info/RECORD` lists is there, because a pip
/// whose install stopped half way has its folder and fails on first use (`No module named
/// 'pip._vendor.certifi.core'`). Looked up on disk, never by importing pip: one `stat` per
/// file, about a millisecond. Bytecode caches (`.pyc`) are not required: Python remakes them.
pub fn pip_install_in<P: AsRef<Path>>(dirs: impl IntoIterator<Item = P>) -> PipInstall {
    for dir in dirs {
        let dir = dir.as_ref();
        let package = dir.join("pip");
        let init = package.join("__init__.py");
        let record = pip_record(dir);
        if !is_dir(&package) && record.is_none() {
            continue;
        }
        let Some(record) = record else {
            return PipInstall::Incomplete {
                package: init,
                why: "its install record (pip-*.dist-info/RECORD) is missing".into(),
            };
        };
        let text = match read_bounded(&record, 8 << 20) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                return PipInstall::Incomplete {
                    package: init,
                    why: format!(
                        "its install record {} cannot be read: {e}",
                        record.display()
                    ),
                };
            }
        };
        let listed: Vec<&str> = text
            .lines()
            .filter_map(record_path)
            .filter(|path| !path.ends_with(".pyc"))
            .collect();
        let missing: Vec<&&str> = listed
            .iter()
            .filter(|path| symlink_metadata(dir.join(path)).is_err())
            .collect();
        return match (missing.first(), is_file(&init)) {
            (None, true) if !listed.is_empty() => PipInstall::Complete(init),
            (None, _) => PipInstall::Incomplete {
                package: init,
                why: "its install record lists nothing, or not pip/__init__.py".into(),
            },
            (Some(first), _) => PipInstall::Incomplete {
                package: init,
                why: format!(
                    "{} of the {} files its install record lists are missing (first: {first})",
                    missing.len(),
                    listed.len()
                ),
            },
        };
    }
    PipInstall::Absent
}

/// pip's package (`pip/__init__.py`) in the first of `dirs` that holds pip, when that
/// install is complete ([`pip_install_in`]): whether the environment can install anything.
pub fn pip_in<P: AsRef<Path>>(dirs: impl IntoIterator<Item = P>) -> Option<PathBuf> {
    match pip_install_in(dirs) {
        PipInstall::Complete(init) => Some(init),
        _ => None,
    }
}

/// `pip-X.Y.dist-info/RECORD` in a site-packages directory.
fn pip_record(dir: &Path) -> Option<PathBuf> {
    read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("pip-") && n.ends_with(".dist-info"))
                && is_file(p.join("RECORD"))
        })
        .map(|p| p.join("RECORD"))
}

/// The path of one `RECORD` line: its first CSV field, quoted when it holds a comma.
fn record_path(line: &str) -> Option<&str> {
    let line = line.trim_end_matches('\r');
    let path = if let Some(quoted) = line.strip_prefix('"') {
        // A doubled quote inside is rare enough in pip's own files to count as its end.
        &quoted[..quoted.find('"')?]
    } else {
        line.split(',').next()?
    };
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_give_their_paths() {
        assert_eq!(
            record_path("pip/__init__.py,sha256=abc,357"),
            Some("pip/__init__.py")
        );
        assert_eq!(
            record_path("\"odd,name.py\",sha256=abc,1"),
            Some("odd,name.py")
        );
        assert_eq!(
            record_path("../../../bin/pip,sha256=x,226"),
            Some("../../../bin/pip")
        );
        assert_eq!(record_path(""), None);
    }
}
