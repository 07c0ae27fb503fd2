//! The `python` and `packages` kinds against real virtualenvs made with `python -m venv`, with
//! installed packages laid down as real `.dist-info` metadata. Nothing touches the network.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;
#[cfg(unix)]
use std::time::{Duration, Instant};

#[cfg(unix)]
use common::venv::{make_venv, make_venv_with_pip, pyenv_python, site_packages};
use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// Lay down a distribution's metadata as pip would.
#[cfg(unix)]
fn install_metadata(venv: &Path, name: &str, version: &str) {
    let dir = site_packages(venv).join(format!("{}-{version}.dist-info", name.replace('-', "_")));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n\nLong description.\nVersion: 0.0\n"),
    )
    .unwrap();
}

/// A module next to its metadata, for `--deep` to import.
#[cfg(unix)]
fn install_module(venv: &Path, name: &str, version: &str, body: &str) {
    install_metadata(venv, name, version);
    let dir = site_packages(venv).join(name.replace('-', "_"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("__init__.py"), body).unwrap();
}

#[cfg(unix)]
fn profile(dir: &Path, python: &str, tensorflow: Option<&str>, pins: &[&str]) -> PathBuf {
    let tf = tensorflow
        .map(|v| format!("tensorflow = \"{v}\"\n"))
        .unwrap_or_default();
    let pins: Vec<String> = pins.iter().map(|p| format!("\"{p}\"")).collect();
    let text = format!(
        "{PROFILE_HEADER}{tf}\n[[check]]\nkind = \"python\"\nversion = \"{python}\"\n\n[[check]]\nkind = \"packages\"\npins = [{}]\n",
        pins.join(", ")
    );
    profile_file(dir, "profile.toml", &text)
}

fn status(report: &Value, id: &str) -> String {
    finding_in(report, id)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[cfg(unix)]
fn summary(report: &Value, id: &str) -> String {
    finding_in(report, id)["summary"]
        .as_str()
        .unwrap()
        .to_string()
}

fn run_json(cwd: &Path, args: &[&str]) -> (i32, Value) {
    let run = run(preflight(cwd).arg("--json").args(args));
    (run.code, json(&run))
}

/// A pyenv root of the test's own holding Python 3.8.18 (a script that leaves a mark if it is
/// ever started), and a pyenv-style shim `python3.8` first on PATH, as pyenv sets it up when
/// 3.8 is installed but not the active version. Returns the PYENV_ROOT, the PATH and the
/// interpreter a fix command should name.
#[cfg(unix)]
fn pyenv_with_3_8(dir: &Path) -> (PathBuf, String, PathBuf) {
    let root = dir.join("pyenv");
    let interpreter = root.join("versions/3.8.18/bin/python3");
    let started = dir.join("started");
    let mark = format!("#!/bin/sh\ntouch '{}'\nexit 1\n", started.display());
    write_executable(&interpreter, &mark);
    write_executable(&root.join("shims/python3.8"), &mark);
    let path = format!(
        "{}:{}",
        root.join("shims").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (root, path, interpreter)
}

/// Like [`run_json`], with the machine's pyenv replaced by [`pyenv_with_3_8`]'s.
#[cfg(unix)]
fn run_json_with_pyenv(cwd: &Path, args: &[&str]) -> (i32, Value, PathBuf) {
    let (root, path, interpreter) = pyenv_with_3_8(cwd);
    let run = run(preflight(cwd)
        .env("PYENV_ROOT", &root)
        .env("PATH", path)
        .arg("--json")
        .args(args));
    assert!(
        !cwd.join("started").exists(),
        "an installed Python is named by its place, never started"
    );
    (run.code, json(&run), interpreter)
}

#[cfg(unix)]
const PINS_2_9: &[&str] = &["tensorflow==2.9.0", "numpy==1.22.4", "Pillow==9.1.1"];

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_venv_holding_exactly_the_pins_is_ready() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv_with_pip(&python, &dir.path().join("venv"));
    install_metadata(&venv, "tensorflow", "2.9.0");
    install_metadata(&venv, "numpy", "1.22.4");
    install_metadata(&venv, "Pillow", "9.1.1");
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), PINS_2_9);
    let (code, report) = run_json(
        dir.path(),
        &[
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python,packages",
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    for id in [
        "python.interpreter",
        "python.version",
        "python.venv",
        "packages.tensorflow",
        "packages.numpy",
        "packages.pillow",
        "packages.compat",
    ] {
        assert_eq!(status(&report, id), "pass", "{id}: {report:#}");
    }
    // Found as ./venv in the working directory, and said so.
    assert!(summary(&report, "python.interpreter").contains("./venv in the working directory"));
    assert_eq!(
        finding_in(&report, "packages.numpy")["observed"]["version"],
        "1.22.4"
    );
    assert_eq!(status(&report, "python.deep"), "skip");
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn wrong_and_missing_pins_are_told_apart_with_one_fix_command() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("exam env"));
    install_metadata(&venv, "tensorflow", "2.10.1");
    install_metadata(&venv, "numpy", "1.22.4");
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), PINS_2_9);
    let (code, report) = run_json(
        dir.path(),
        &[
            "--profile",
            p.to_str().unwrap(),
            "--venv",
            venv.to_str().unwrap(),
            "--only",
            "packages",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        summary(&report, "packages.tensorflow"),
        "2.10.1 installed, wanted ==2.9.0"
    );
    assert_eq!(
        summary(&report, "packages.pillow"),
        "not installed (wanted ==9.1.1)"
    );
    assert_eq!(status(&report, "packages.numpy"), "pass");
    let fix = finding_in(&report, "packages.tensorflow")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    let interpreter = venv.join("bin/python").display().to_string();
    assert_eq!(
        fix,
        format!("'{interpreter}' -m pip install tensorflow==2.9.0 Pillow==9.1.1")
    );
    assert_eq!(
        finding_in(&report, "packages.pillow")["fix"]
            .as_str()
            .unwrap(),
        fix
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn tensorflow_variants_satisfy_a_tensorflow_pin_and_say_so() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join(".venv"));
    install_metadata(&venv, "tensorflow-cpu", "2.9.0");
    install_metadata(&venv, "tensorflow_datasets", "4.6.0");
    let p = profile(
        dir.path(),
        "==3.8.*",
        Some("2.9.0"),
        &["tensorflow==2.9.0", "tensorflow-datasets==4.6.*"],
    );
    let (code, report) = run_json(
        dir.path(),
        &["--profile", p.to_str().unwrap(), "--only", "packages"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        summary(&report, "packages.tensorflow"),
        "2.9.0 (as tensorflow-cpu)"
    );
    assert_eq!(status(&report, "packages.tensorflow-datasets"), "pass");
}

/// `packages.compat` for a real 3.8 virtualenv holding only the metadata of `installed`
/// (`name==version`), with tensorflow pinned at its installed version and `env` set for the
/// run: the exit code and the finding.
#[cfg(unix)]
fn known_breakage(installed: &[&str], pins: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    for line in installed {
        let (name, version) = line.split_once("==").unwrap();
        install_metadata(&venv, name, version);
    }
    let tf = installed
        .iter()
        .find_map(|l| l.strip_prefix("tensorflow=="))
        .unwrap();
    let p = profile(dir.path(), "==3.8.*", Some(tf), pins);
    let mut command = preflight(dir.path());
    command.args([
        "--json",
        "--profile",
        p.to_str().unwrap(),
        "--only",
        "packages",
    ]);
    command.envs(env.iter().copied());
    let run = run(&mut command);
    let report = json(&run);
    assert_eq!(status(&report, "packages.tensorflow"), "pass", "{report:#}");
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    (run.code, finding_in(&report, "packages.compat").clone())
}

#[cfg(unix)]
fn text(finding: &Value, key: &str) -> String {
    finding[key].as_str().unwrap_or_default().to_string()
}

/// A finding's details.
#[cfg(unix)]
fn details_of(finding: &Value) -> Vec<&str> {
    finding["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect()
}

/// The run is not ready: `compat` fails with `summary`, and its fix ends with `fix_end`.
#[cfg(unix)]
fn assert_fails(code: i32, compat: &Value, summary: &str, fix_end: &str) {
    assert_eq!(code, 1, "{compat:#}");
    assert_eq!(compat["status"], "fail", "{compat:#}");
    assert_eq!(text(compat, "summary"), summary);
    assert!(text(compat, "fix").ends_with(fix_end), "{compat:#}");
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn numpy_2_under_a_tensorflow_before_2_18_fails_even_without_a_numpy_pin() {
    // TF 2.14.0's metadata says `numpy>=1.23.5`: only the table sees this.
    let (code, compat) = known_breakage(
        &["tensorflow==2.14.0", "numpy==2.0.1"],
        &["tensorflow==2.14.0"],
        &[],
    );
    assert_fails(
        code,
        &compat,
        "numpy 2.0.1 under tensorflow 2.14.0",
        "-m pip install 'numpy<2'",
    );
    assert_eq!(compat["observed"]["breakages"][0]["row"], "numpy-2");
    assert!(
        compat["details"][0]
            .as_str()
            .unwrap()
            .contains("issues/67291")
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn numpy_2_is_fine_from_tensorflow_2_18() {
    let (code, compat) = known_breakage(
        &["tensorflow==2.18.0", "numpy==2.0.1"],
        &["tensorflow==2.18.0"],
        &[],
    );
    assert_eq!(compat["status"], "pass", "{compat:#}");
    assert_eq!(code, 0);
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn protobuf_4_under_tensorflow_2_9_fails_and_the_fix_installs_a_protobuf_3() {
    let (code, compat) = known_breakage(
        &["tensorflow==2.9.0", "protobuf==4.21.12"],
        &["tensorflow==2.9.0"],
        &[],
    );
    assert_fails(
        code,
        &compat,
        "protobuf 4.21.12 under tensorflow 2.9.0",
        "-m pip install 'protobuf<3.20'",
    );
    assert!(
        compat["details"][0]
            .as_str()
            .unwrap()
            .contains("Descriptors cannot be created directly")
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_keras_of_another_minor_fails_and_the_fix_installs_tensorflows_own() {
    // TF 2.6.0 says `keras~=2.6`, which admits 2.15: a plain install gets it today.
    let (code, compat) = known_breakage(
        &["tensorflow==2.6.0", "keras==2.15.0"],
        &["tensorflow==2.6.0"],
        &[],
    );
    assert_fails(
        code,
        &compat,
        "keras 2.15.0 under tensorflow 2.6.0",
        "-m pip install 'keras>=2.6,<2.7'",
    );
    // The profile's keras pin, where it excludes the installed one, is the fix.
    let (_, compat) = known_breakage(
        &["tensorflow==2.9.0", "keras==2.12.0"],
        &["tensorflow==2.9.0", "keras==2.9.0"],
        &[],
    );
    assert!(
        text(&compat, "fix").ends_with("-m pip install keras==2.9.0"),
        "{compat:#}"
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn numpy_1_24_under_tensorflow_2_6_fails() {
    let (code, compat) = known_breakage(
        &["tensorflow==2.6.0", "numpy==1.24.4"],
        &["tensorflow==2.6.0", "numpy==1.19.5"],
        &[],
    );
    assert_fails(
        code,
        &compat,
        "numpy 1.24.4 under tensorflow 2.6.0",
        "-m pip install numpy==1.19.5",
    );
    assert!(
        compat["details"][0]
            .as_str()
            .unwrap()
            .contains("no attribute 'object'")
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn the_protobuf_implementation_variable_is_read_from_the_interpreters_environment() {
    let installed = ["tensorflow==2.12.0", "protobuf==4.21.12"];
    let pins = ["tensorflow==2.12.0"];
    let variable = "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION";
    let (code, compat) = known_breakage(&installed, &pins, &[]);
    assert_eq!(
        (code, text(&compat, "status")),
        (0, "pass".into()),
        "{compat:#}"
    );
    let (code, compat) = known_breakage(&installed, &pins, &[(variable, "cpp")]);
    assert_eq!(code, 1);
    assert_eq!(compat["status"], "fail", "{compat:#}");
    assert_eq!(
        text(&compat, "summary"),
        "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=cpp with protobuf 4.21.12"
    );
    assert_eq!(
        text(&compat, "fix"),
        "unset PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"
    );
    // Pure-Python protobuf works, slower: a warning, never a pass.
    let (code, compat) = known_breakage(&installed, &pins, &[(variable, "python")]);
    assert_eq!(compat["status"], "warn", "{compat:#}");
    assert_eq!(code, 0, "ready with a warning");
    assert_eq!(compat["observed"]["breakages"][0]["fails"], false);
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.11 (pyenv root)"]
fn a_python_the_pinned_tensorflow_does_not_support_is_named_as_the_cause() {
    let python = pyenv_python("3.11");
    let dir = TempDir::new().unwrap();
    make_venv(&python, &dir.path().join("venv"));
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), PINS_2_9);
    let (_, report, installed) = run_json_with_pyenv(
        dir.path(),
        &[
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python.version,packages.tensorflow",
        ],
    );
    assert!(
        summary(&report, "python.version")
            .contains("tensorflow 2.9.0 supports Python 3.7 to 3.10 only"),
        "{report:#}"
    );
    assert!(summary(&report, "packages.tensorflow").starts_with("not installed, and cannot be"));
    // The Python 3.8 this machine has, by its path: the shim `python3.8` would refuse to run
    // while 3.8 is not pyenv's active version.
    let fix = finding_in(&report, "python.version")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.starts_with("Recreate the virtualenv with the Python 3.8 installed here")
            && fix.contains(&format!("{} -m venv --clear", installed.display())),
        "{fix}"
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_venv_whose_base_interpreter_vanished_names_it_and_how_to_recreate() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    // What an upgraded-away base leaves: pyvenv.cfg and links pointing at nothing.
    let gone = dir.path().join("old-python/bin");
    std::fs::write(
        venv.join("pyvenv.cfg"),
        format!(
            "home = {}\ninclude-system-site-packages = false\nversion = 3.8.18\n",
            gone.display()
        ),
    )
    .unwrap();
    for name in ["python", "python3", "python3.8"] {
        let link = venv.join("bin").join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(gone.join("python3.8"), &link).unwrap();
    }
    install_metadata(&venv, "numpy", "1.22.4");
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), &["numpy==1.22.4"]);
    let (code, report, installed) = run_json_with_pyenv(
        dir.path(),
        &[
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python,packages",
        ],
    );
    assert_eq!(code, 1);
    let interpreter = finding_in(&report, "python.interpreter");
    assert_eq!(interpreter["status"], "fail");
    assert!(interpreter["summary"].as_str().unwrap().contains(&format!(
        "base interpreter is gone: {} no longer exists",
        gone.display()
    )));
    assert!(
        interpreter["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("{} -m venv --clear", installed.display())),
        "{interpreter:#}"
    );
    assert_eq!(status(&report, "python.version"), "skip");
    // Metadata is still read from files without the interpreter.
    assert_eq!(status(&report, "packages.numpy"), "pass");
}

#[cfg(unix)]
#[test]
fn a_hanging_interpreter_fails_at_the_deadline() {
    let dir = TempDir::new().unwrap();
    let venv = dir.path().join("venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    let python = venv.join("bin/python");
    write_executable(&python, "#!/bin/sh\nsleep 60\n");
    let started = Instant::now();
    let (code, report) = run_json(dir.path(), &["--only", "python", "--timeout", "2"]);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    // The probe ends a margin before the checks' deadline, so the check names the cause.
    assert_eq!(status(&report, "python.interpreter"), "fail", "{report:#}");
    assert!(
        summary(&report, "python.interpreter").contains("did not answer within 1."),
        "{report:#}"
    );
}

/// Every finding that waited on the shared probe says that it ran out of time, naming the
/// interpreter: not that the interpreter did not start, and not the runner's generic overrun.
/// On Apple Silicon the CPU verdict waits on it too (the interpreter's architecture counts).
#[cfg(unix)]
#[test]
fn a_probe_that_does_not_answer_is_named_by_every_finding_that_waited_on_it() {
    use preflight::check::{Context, RunOptions};
    use preflight::host::{Host, OsFamily};
    use preflight::report::Status;
    use std::sync::Arc;

    let dir = TempDir::new().unwrap();
    let venv = dir.path().join("venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.8.18\n",
    )
    .unwrap();
    let python = venv.join("bin/python");
    write_executable(&python, "#!/bin/sh\nexec sleep 60\n");
    let profile = preflight::profile::parse(
        "[profile]\nname = \"t\"\ntensorflow = \"2.9.0\"\n\n[[check]]\nkind = \"system\"\n\n[[check]]\nkind = \"python\"\nversion = \"==3.8.*\"\n\n[[check]]\nkind = \"packages\"\npins = [\"numpy==1.22.4\"]\n",
        "t.toml",
        "test",
    )
    .unwrap();
    let mut host = Host::simulated(
        dir.path(),
        OsFamily::Macos,
        &[("HOME", dir.path().to_str().unwrap())],
    );
    host.facts.arch = "aarch64".into();
    let options = RunOptions {
        venv: Some(venv.clone()),
        offline: true,
        timeout: Duration::from_secs(2),
        ..RunOptions::default()
    };
    let ctx = Arc::new(Context::new(host, options, profile.facts.clone()));
    let findings = preflight::runner::run(ctx, &profile.checks, &Default::default());
    let get = |id: &str| findings.iter().find(|f| f.id == id).unwrap();

    let interpreter = get("python.interpreter");
    assert_eq!(interpreter.status, Status::Fail, "{interpreter:?}");
    let said = format!(
        "the interpreter probe ({}) did not answer within 1.",
        python.display()
    );
    for id in ["python.version", "python.certificates", "system.cpu"] {
        let finding = get(id);
        assert_eq!(finding.status, Status::Skip, "{finding:?}");
        assert!(finding.summary.contains(&said), "{id}: {}", finding.summary);
    }
    let numpy = get("packages.numpy");
    assert_eq!(numpy.status, Status::Fail, "{numpy:?}");
    assert!(
        numpy.details.iter().any(|d| d.contains(&said)),
        "{:?}",
        numpy.details
    );
    assert!(
        findings.iter().all(|f| f.status != Status::Error),
        "nothing is left to the runner's overrun: {findings:#?}"
    );
}

#[test]
fn bad_venv_arguments_are_clear_findings() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("a-file"), "x").unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    for (arg, expected) in [
        ("nowhere", "does not exist"),
        ("a-file", "is a regular file, not a virtualenv directory"),
        ("empty", "is not a virtualenv"),
    ] {
        let (code, report) = run_json(dir.path(), &["--only", "python,packages", "--venv", arg]);
        assert_eq!(code, 1, "{arg}");
        let interpreter = finding_in(&report, "python.interpreter");
        assert!(
            interpreter["summary"].as_str().unwrap().contains(expected),
            "{arg}: {interpreter:#}"
        );
        assert!(
            interpreter["summary"]
                .as_str()
                .unwrap()
                .contains("given with --venv")
        );
        assert_eq!(status(&report, "packages.tensorflow"), "skip");
    }
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn virtual_env_variable_is_used_and_path_python_warns() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("somewhere"));
    let active = run(preflight(dir.path()).env("VIRTUAL_ENV", &venv).args([
        "--json",
        "--only",
        "python.interpreter",
    ]));
    assert!(summary(&json(&active), "python.interpreter").contains("$VIRTUAL_ENV"));
    // No venv anywhere: the python on PATH, with a warning that the exam wants a venv.
    let bin = python.parent().unwrap();
    let on_path = run(preflight(dir.path()).env("PATH", bin).args([
        "--json",
        "--only",
        "python.interpreter,python.venv",
    ]));
    let report = json(&on_path);
    assert!(
        summary(&report, "python.interpreter").contains("`python3` on PATH"),
        "{report:#}"
    );
    assert_eq!(status(&report, "python.venv"), "warn");
    // And nothing at all on PATH.
    let nothing = run(preflight(dir.path()).env("PATH", dir.path()).args([
        "--json",
        "--only",
        "python.interpreter",
    ]));
    assert!(
        summary(&json(&nothing), "python.interpreter").contains("no python3 or python on PATH")
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_venv_without_pip_or_leaking_system_packages_is_flagged() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    let (_, report) = run_json(dir.path(), &["--only", "python.venv"]);
    assert_eq!(
        summary(&report, "python.venv"),
        "pip is missing from the virtualenv"
    );
    assert!(
        finding_in(&report, "python.venv")["fix"]
            .as_str()
            .unwrap()
            .ends_with("-m ensurepip --upgrade")
    );
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        cfg.replace(
            "include-system-site-packages = false",
            "include-system-site-packages = true",
        ),
    )
    .unwrap();
    let (_, report) = run_json(dir.path(), &["--only", "python.venv"]);
    // The base's own pip now leaks in too, so the venv is judged a leak rather than pip-less.
    assert_eq!(status(&report, "python.venv"), "warn");
    assert!(
        summary(&report, "python.venv").contains("system site-packages leak in"),
        "{report:#}"
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn unreadable_or_malformed_metadata_is_a_finding_not_a_panic() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    let site = site_packages(&venv);
    let bad = site.join("numpy-1.22.4.dist-info");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("METADATA"),
        "Name: numpy\nVersion: one.point.two\n",
    )
    .unwrap();
    // METADATA that is a directory cannot be read.
    std::fs::create_dir_all(site.join("Pillow-9.1.1.dist-info/METADATA")).unwrap();
    // A huge METADATA whose headers never name a version is scanned, not loaded whole.
    let huge = site.join("tensorflow-2.9.0.dist-info");
    std::fs::create_dir_all(&huge).unwrap();
    std::fs::write(huge.join("METADATA"), "Name: tensorflow\n".repeat(200_000)).unwrap();
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), PINS_2_9);
    let run = run(preflight(dir.path()).args([
        "--json",
        "--only",
        "packages",
        "--profile",
        p.to_str().unwrap(),
    ]));
    assert!(!run.stderr.contains("panicked"));
    let report = json(&run);
    assert!(
        summary(&report, "packages.numpy").contains("version pip cannot read (one.point.two)"),
        "{report:#}"
    );
    assert!(summary(&report, "packages.pillow").contains("metadata is unusable: cannot read"));
    assert!(summary(&report, "packages.tensorflow").contains("has no Version header"));
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn the_interpreter_starts_once_and_twice_with_deep() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    // Count every start of the venv's python through a wrapper in its place.
    let real = std::fs::read_link(venv.join("bin/python")).unwrap();
    let real = if real.is_absolute() {
        real
    } else {
        venv.join("bin").join(real)
    };
    let counter = dir.path().join("starts");
    std::fs::remove_file(venv.join("bin/python")).unwrap();
    std::fs::write(
        venv.join("bin/python"),
        format!(
            "#!/bin/sh\necho start >> '{}'\nexec '{}' \"$@\"\n",
            counter.display(),
            real.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(venv.join("bin/python"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(venv.join("bin/python"), perms).unwrap();
    install_module(&venv, "examlib", "1.0", "__version__ = '1.0'\n");
    let p = profile(dir.path(), "==3.8.*", None, &["examlib==1.0"]);
    let starts = || {
        std::fs::read_to_string(&counter)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let (_, report) = run_json(dir.path(), &["--offline", "--profile", p.to_str().unwrap()]);
    assert_eq!(status(&report, "python.version"), "pass", "{report:#}");
    assert_eq!(starts(), 1, "a run starts the interpreter once");
    let (_, report) = run_json(
        dir.path(),
        &["--offline", "--deep", "--profile", p.to_str().unwrap()],
    );
    assert_eq!(starts(), 3, "--deep starts it once more");
    assert_eq!(status(&report, "python.deep"), "pass", "{report:#}");
    assert_eq!(summary(&report, "python.deep"), "imported 1 package");
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn deep_reports_import_errors_with_a_hint_version_drift_and_crashes() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    install_module(&venv, "drifted", "2.0", "__version__ = '1.0'\n");
    let p = profile(dir.path(), "==3.8.*", None, &["drifted"]);
    let (_, report) = run_json(
        dir.path(),
        &[
            "--deep",
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python.deep",
        ],
    );
    assert_eq!(status(&report, "python.deep"), "warn", "{report:#}");
    assert_eq!(
        finding_in(&report, "python.deep")["details"][0],
        "drifted: imported 1.0, metadata says 2.0"
    );

    install_module(
        &venv,
        "broken",
        "1.0",
        "raise ImportError('DLL load failed while importing _pywrap: not found')\n",
    );
    let p = profile(dir.path(), "==3.8.*", None, &["broken"]);
    let (code, report) = run_json(
        dir.path(),
        &[
            "--deep",
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python.deep",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        summary(&report, "python.deep").contains("import broken: ImportError: DLL load failed"),
        "{report:#}"
    );
    assert!(
        finding_in(&report, "python.deep")["details"][0]
            .as_str()
            .unwrap()
            .contains("Visual C++")
    );

    install_module(
        &venv,
        "illegal",
        "1.0",
        "import os, signal\nos.kill(os.getpid(), signal.SIGILL)\n",
    );
    let p = profile(dir.path(), "==3.8.*", None, &["illegal"]);
    let (_, report) = run_json(
        dir.path(),
        &[
            "--deep",
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python.deep",
        ],
    );
    assert_eq!(
        summary(&report, "python.deep"),
        "Python crashed with SIGILL (illegal instruction) while importing illegal"
    );

    install_module(&venv, "slow", "1.0", "import time\ntime.sleep(60)\n");
    let p = profile(dir.path(), "==3.8.*", None, &["slow"]);
    let started = Instant::now();
    let (_, report) = run_json(
        dir.path(),
        &[
            "--deep",
            "--deep-timeout",
            "1",
            "--profile",
            p.to_str().unwrap(),
            "--only",
            "python.deep",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(
        summary(&report, "python.deep").contains("did not finish within 1.0 s"),
        "{report:#}"
    );
}

/// Issue 26: a package that prints on stdout without a newline at import (as some print a
/// banner) is still reported as imported, and so is the next one.
#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn deep_reads_its_answers_apart_from_what_imports_print() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    let banner = "import sys\nsys.stdout.write('Welcome to chatty')\nsys.stdout.flush()\n__version__ = '1.0'\n";
    install_module(&venv, "chatty", "1.0", banner);
    install_module(&venv, "quiet", "1.0", "__version__ = '1.0'\n");
    let p = profile(dir.path(), "==3.8.*", None, &["chatty==1.0", "quiet==1.0"]);
    let (code, report) = deep_only(dir.path(), &p);
    assert_eq!(status(&report, "python.deep"), "pass", "{report:#}");
    assert_eq!(summary(&report, "python.deep"), "imported 2 packages");
    assert_eq!(code, 0);
}

/// Stands in for any value: every attribute, call and index gives another one. The fake
/// numpy and tensorflow below are made of it, so deep.py's four models run without real TF.
#[cfg(unix)]
const ANYTHING: &str = "class Anything:\n    def __getattr__(self, name):\n        return Anything()\n    def __call__(self, *args, **kwargs):\n        return Anything()\n    def __getitem__(self, key):\n        return Anything()\n    def __iter__(self):\n        return iter([])\n    def __add__(self, other):\n        return Anything()\n    __radd__ = __truediv__ = __add__\n";

/// `--deep` reads its answers on a channel of its own (issue 26): a tensorflow that prints on
/// stdout without a newline at import hides neither its own answer nor the next pin's. Each
/// exam model is its own step; the one that raises is named, with the hint for its error,
/// and the others still report their times.
#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn deep_trains_each_exam_model_and_names_the_one_that_fails() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    install_module(
        &venv,
        "numpy",
        "1.22.4",
        &format!(
            "{ANYTHING}__version__ = '1.22.4'\nrandom = Anything()\ndef __getattr__(name):\n    return Anything()\n"
        ),
    );
    let tensorflow = format!(
        "import sys\n{ANYTHING}\
         sys.stdout.write('Loading TensorFlow... ')\nsys.stdout.flush()\n\
         __version__ = '2.9.0'\n\
         class Layers(Anything):\n    def Bidirectional(self, *args, **kwargs):\n        raise NotImplementedError('Cannot convert a symbolic Tensor (bidirectional/forward_lstm/strided_slice:0) to a numpy array.')\n\
         keras = Anything()\nkeras.layers = Layers()\n\
         def __getattr__(name):\n    return Anything()\n"
    );
    install_module(&venv, "tensorflow", "2.9.0", &tensorflow);
    install_module(
        &venv,
        "examlib",
        "1.0",
        "import sys\nsys.stdout.write('examlib ready')\n__version__ = '1.0'\n",
    );
    let p = profile(
        dir.path(),
        "==3.8.*",
        Some("2.9.0"),
        &["tensorflow==2.9.0", "numpy==1.22.4", "examlib==1.0"],
    );
    let (code, report) = deep_only(dir.path(), &p);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    let deep = finding_in(&report, "python.deep");
    assert_eq!(deep["status"], "fail", "{report:#}");
    assert_eq!(
        deep["summary"],
        "text_classifier failed: NotImplementedError: Cannot convert a symbolic Tensor (bidirectional/forward_lstm/strided_slice:0) to a numpy array.",
        "{report:#}"
    );
    let imported: Vec<&str> = deep["observed"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == true)
        .filter_map(|s| s["import"].as_str())
        .collect();
    assert_eq!(imported, ["tensorflow", "numpy", "examlib"]);
    let models = deep["observed"]["models"].as_object().unwrap();
    let names: Vec<&str> = models.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "dense_regression",
            "image_classifier",
            "text_classifier",
            "time_series"
        ]
    );
    for (name, model) in models {
        assert_eq!(model["ok"], name != "text_classifier", "{name}: {model}");
        assert!(model["seconds"].as_f64().unwrap() >= 0.0, "{name}: {model}");
        assert!(
            model["cpu_seconds"].as_f64().unwrap() >= 0.0,
            "{name}: {model}"
        );
    }
    let details = details_of(deep);
    assert!(
        details[0].starts_with("dense_regression: trained in "),
        "{details:?}"
    );
    assert!(
        details[2].starts_with("text_classifier: failed after "),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("hint: numpy 1.20 or later under TensorFlow 2.4 or 2.5")),
        "{details:?}"
    );
    // -v shows each model's time.
    let verbose = run(preflight(dir.path()).args([
        "-v",
        "--deep",
        "--profile",
        p.to_str().unwrap(),
        "--only",
        "python.deep",
    ]));
    for name in ["dense_regression", "image_classifier", "time_series"] {
        assert!(
            verbose.stdout.contains(&format!("{name}: trained in ")),
            "{}",
            verbose.stdout
        );
    }
}

#[cfg(unix)] // pyenv's Unix Pythons
fn deep_only(dir: &Path, profile: &Path) -> (i32, Value) {
    run_json(
        dir,
        &[
            "--deep",
            "--profile",
            profile.to_str().unwrap(),
            "--only",
            "python.deep",
        ],
    )
}

#[cfg(unix)] // pyenv's Unix Pythons
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn deep_fails_when_pinned_tensorflow_is_missing() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    install_module(&venv, "examlib", "1.0", "__version__ = '1.0'\n");
    let p = profile(
        dir.path(),
        "==3.8.*",
        Some("2.9.0"),
        &["tensorflow==2.9.0", "examlib==1.0"],
    );
    let (code, report) = deep_only(dir.path(), &p);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(status(&report, "python.deep"), "fail", "{report:#}");
    assert!(
        summary(&report, "python.deep")
            .contains("import tensorflow: ModuleNotFoundError: No module named 'tensorflow'"),
        "{report:#}"
    );
}

#[cfg(unix)] // pyenv's Unix Pythons
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn deep_names_the_real_exception_and_its_cause() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    // numpy 2 under an old TensorFlow: a multi-line warning, then an exception raised from
    // another; the summary carries the exception itself, not a line of the traceback.
    install_module(
        &venv,
        "tensorflow",
        "2.13.0",
        concat!(
            "import sys\n",
            "sys.stderr.write('A module that was compiled using NumPy 1.x cannot be run in\\nNumPy 2.0.0 as it may crash.\\n')\n",
            "try:\n",
            "    raise AttributeError('_ARRAY_API not found')\n",
            "except AttributeError as e:\n",
            "    raise ImportError('numpy.core.multiarray failed to import\\n\\nsee above') from e\n",
        ),
    );
    let p = profile(
        dir.path(),
        "==3.8.*",
        Some("2.13.0"),
        &["tensorflow==2.13.0"],
    );
    let (code, report) = deep_only(dir.path(), &p);
    assert_eq!(code, 1);
    let deep = finding_in(&report, "python.deep");
    assert_eq!(deep["status"], "fail");
    assert_eq!(
        deep["summary"],
        "import tensorflow: ImportError: numpy.core.multiarray failed to import"
    );
    let details = details_of(deep);
    assert!(
        details.contains(&"caused by AttributeError: _ARRAY_API not found"),
        "{deep:#}"
    );
    assert!(details.iter().any(|d| d.contains("numpy 2.x")), "{deep:#}");
}

#[cfg(unix)] // pyenv's Unix Pythons
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn deep_names_a_segmentation_fault() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    install_module(
        &venv,
        "tensorflow",
        "2.9.0",
        "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    );
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), &["tensorflow==2.9.0"]);
    let (code, report) = deep_only(dir.path(), &p);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&report, "python.deep"),
        "Python crashed with SIGSEGV (segmentation fault) while importing tensorflow"
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.11 (pyenv root)"]
fn without_the_wanted_python_the_fix_says_how_to_get_it_on_this_machine() {
    let python = pyenv_python("3.11");
    let dir = TempDir::new().unwrap();
    make_venv(&python, &dir.path().join("venv"));
    let p = profile(dir.path(), "==3.8.*", Some("2.9.0"), PINS_2_9);
    let empty_root = dir.path().join("no-versions");
    std::fs::create_dir_all(&empty_root).unwrap();
    let with_pyenv = dir.path().join("with-pyenv");
    write_executable(&with_pyenv.join("pyenv"), "#!/bin/sh\nexit 1\n");
    let fix_on = |path: &Path| {
        let run = run(preflight(dir.path())
            .env("PYENV_ROOT", &empty_root)
            .env("PATH", path)
            .args(["--json", "--profile", p.to_str().unwrap()])
            .args(["--only", "python.version"]));
        finding_in(&json(&run), "python.version")["fix"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // pyenv, with no 3.8 yet: install it, then a command that works whatever pyenv's active
    // version is (a bare `python3.8` would meet pyenv's shim and fail).
    let fix = fix_on(&with_pyenv);
    assert!(
        fix.starts_with("Install Python 3.8: `pyenv install 3.8`")
            && fix.contains("`PYENV_VERSION=3.8 pyenv exec python -m venv --clear "),
        "{fix}"
    );
    // Neither: the distribution's packages give `python3.8`.
    let fix = fix_on(&dir.path().join("nothing-here"));
    assert!(
        fix.contains("python3.8-venv packages") && fix.contains("`python3.8 -m venv --clear "),
        "{fix}"
    );
}
