//! Real virtualenvs from pyenv's Pythons, for tests that need an interpreter.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `os.devnull`: as `PIP_CONFIG_FILE`, pip (and preflight) read no configuration file at all,
/// so this machine's `/etc/pip.conf` plays no part.
pub const NULL_DEVICE: &str = if cfg!(windows) { "nul" } else { "/dev/null" };

/// A pyenv-installed interpreter of `minor` (e.g. "3.8"); the test fails, saying so, where
/// there is none. Tests that call this are `#[ignore = "needs pyenv's Python 3.8 (pyenv
/// root)"]`: `cargo test -- --include-ignored` (what `.ci/run` runs) runs them.
pub fn pyenv_python(minor: &str) -> PathBuf {
    find_pyenv_python(minor).unwrap_or_else(|| {
        panic!("this test needs pyenv's Python {minor}: none under `pyenv root` on this machine")
    })
}

fn find_pyenv_python(minor: &str) -> Option<PathBuf> {
    let root = Command::new("pyenv").arg("root").output().ok()?;
    let root = PathBuf::from(String::from_utf8(root.stdout).ok()?.trim());
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&format!("{minor}."))
                    && n[minor.len() + 1..].chars().all(|c| c.is_ascii_digit())
            })
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|v| v.join("bin/python3"))
        .filter(|p| p.exists())
}

/// A real virtualenv without pip (fast).
pub fn make_venv(python: &Path, dir: &Path) -> PathBuf {
    venv_command(python, dir, &["--without-pip"])
}

/// A real virtualenv with pip, as ensurepip installs it (slower).
pub fn make_venv_with_pip(python: &Path, dir: &Path) -> PathBuf {
    venv_command(python, dir, &[])
}

fn venv_command(python: &Path, dir: &Path, options: &[&str]) -> PathBuf {
    // Quiet unless it fails: at a path that is not UTF-8, venv warns that it cannot copy
    // the activate scripts, which these tests do not use.
    // Isolated (`-I`), and pip (ensurepip's) reading no configuration file: the test's Python
    // reads nothing of this machine's home (user site) or /etc/pip.conf.
    let output = Command::new(python)
        .args(["-I", "-m", "venv"])
        .env("PIP_CONFIG_FILE", NULL_DEVICE)
        .args(options)
        .arg(dir)
        .output()
        .expect("python starts");
    assert!(
        output.status.success(),
        "python -m venv failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir.to_path_buf()
}

pub fn site_packages(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let entry = std::fs::read_dir(&lib).unwrap().flatten().next().unwrap();
    entry.path().join("site-packages")
}

/// A named pipe at `path` (made with `mkfifo`, as a user would).
pub fn make_fifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}
