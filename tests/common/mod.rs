//! Helpers shared by the integration tests: run the built binary in a clean environment.
#![allow(dead_code)]

pub mod http;
pub mod machine;
pub mod pycharm;
pub mod venv;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_preflight"))
}

/// The binary in `cwd` with only PATH (and where pyenv keeps its Pythons) from this
/// environment, and a home of its own, `<cwd>/home`, not created: a new account's home holds
/// nothing, and none of the user's settings (pip.conf, PyCharm's folders) reach a test. Windows
/// also keeps `SystemRoot`: without it a process cannot open sockets there.
pub fn preflight(cwd: &Path) -> Command {
    let mut command = Command::new(bin());
    command.env_clear().current_dir(cwd);
    for key in ["PATH", "PYENV_ROOT", "SystemRoot"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    let home = cwd.join("home");
    command.env("HOME", &home).env("USERPROFILE", &home);
    command
}

// Not every test crate that includes this module names it.
#[allow(unused_imports)]
pub use venv::NULL_DEVICE;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = retry_while_busy(|| command.output()).expect("the binary starts");
    Run {
        code: status.code().expect("exited, not killed"),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    }
}

/// Start a program a test has just written (a copied binary, a fake interpreter), retrying
/// while exec says "text file busy": a child another test thread forks while the file is still
/// open for writing holds that descriptor until its own exec, a window of microseconds.
pub fn retry_while_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let mut tries = 0;
    loop {
        match start() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}

/// Write `text` as a profile file in `dir` and return its path.
pub fn profile_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub const PROFILE_HEADER: &str = r#"[profile]
name = "test"
title = "A test profile"
description = "Used by the tests."
source = "tests"
"#;

/// A profile whose system check only passes or warns, whatever the machine.
pub fn system_only_profile(min_memory_gb: u64) -> String {
    format!(
        "{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nmin_memory_gb = {min_memory_gb}\nmin_disk_gb = 0\n"
    )
}

/// The finding `id` in a JSON report.
pub fn finding_in<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

pub fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Write an executable script (a fake interpreter, a launcher). Unix only: Windows has no
/// executable bit and runs no `#!` script, so tests that stand a script in for a program are
/// `cfg(unix)`.
#[cfg(unix)]
pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Where `report` does not match schema/report.schema.json.
pub fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
