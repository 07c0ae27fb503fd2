//! Hostile input, faults and signals (issue 13): files that block, lost output, orphans,
//! secrets, bad names and paths. Each test reproduces a class that once went wrong.

// FIFOs, signals, /proc, /dev/full, Unix permissions and shell scripts: Unix only.
#![cfg(unix)]
// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::venv::{make_fifo, make_venv, pyenv_python, site_packages};
use common::*;
use serde_json::Value;
use tempfile::TempDir;
use wait_timeout::ChildExt;

/// Far above any run here (a few seconds), so a hang fails the test instead of stalling it.
const HANG: Duration = Duration::from_secs(60);

/// Run to the end, or kill it after `HANG` and fail: a test of "never hangs" must not hang.
fn run_bounded(command: &mut Command) -> Run {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = retry_while_busy(|| command.spawn()).expect("the binary starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let Some(status) = child.wait_timeout(HANG).unwrap() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("preflight hung for {HANG:?}");
    };
    Run {
        code: status.code().expect("exited, not killed"),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn text(report: &Value, id: &str) -> String {
    let f = finding_in(report, id);
    format!("{} {}", f["status"], f["summary"])
}

fn python_profile(dir: &Path, pins: &[&str]) -> std::path::PathBuf {
    let pins: Vec<String> = pins.iter().map(|p| format!("\"{p}\"")).collect();
    profile_file(
        dir,
        "profile.toml",
        &format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"python\"\nversion = \"==3.8.*\"\n\n[[check]]\nkind = \"packages\"\npins = [{}]\n",
            pins.join(", ")
        ),
    )
}

// 1. Files that block.

#[test]
fn a_profile_that_is_a_fifo_is_refused_not_waited_on() {
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("profile.toml");
    make_fifo(&fifo);
    let run = run_bounded(preflight(dir.path()).arg("--profile").arg(&fifo));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is a named pipe (FIFO), not a regular file"),
        "{}",
        run.stderr
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_fifo_pyvenv_cfg_is_named_and_python_is_not_started_on_it() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    std::fs::remove_file(venv.join("pyvenv.cfg")).unwrap();
    make_fifo(&venv.join("pyvenv.cfg"));
    let p = python_profile(dir.path(), &["numpy==1.22.4"]);
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--only", "python", "--profile"])
            .arg(&p),
    );
    let report = json(&run);
    let venv_finding = text(&report, "python.venv");
    assert!(
        venv_finding.starts_with("\"fail\"") && venv_finding.contains("named pipe (FIFO)"),
        "{report:#}"
    );
    // Python itself would wait on that file: not started, and said why.
    let interpreter = text(&report, "python.interpreter");
    assert!(
        interpreter.starts_with("\"fail\"") && interpreter.contains("would wait on it"),
        "{report:#}"
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_fifo_metadata_is_named_and_a_huge_valid_one_is_read() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let venv = make_venv(&python, &dir.path().join("venv"));
    let site = site_packages(&venv);
    let blocked = site.join("numpy-1.22.4.dist-info");
    std::fs::create_dir_all(&blocked).unwrap();
    make_fifo(&blocked.join("METADATA"));
    // A valid METADATA over 1 MiB: its headers, then a long description.
    let big = site.join("Pillow-9.1.1.dist-info");
    std::fs::create_dir_all(&big).unwrap();
    let description = "A long description line.\n".repeat(100_000);
    std::fs::write(
        big.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: Pillow\nVersion: 9.1.1\n\n{description}"),
    )
    .unwrap();
    assert!(std::fs::metadata(big.join("METADATA")).unwrap().len() > 1 << 20);
    let p = python_profile(dir.path(), &["numpy==1.22.4", "Pillow==9.1.1"]);
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--only", "packages", "--profile"])
            .arg(&p),
    );
    let report = json(&run);
    let numpy = text(&report, "packages.numpy");
    assert!(
        numpy.starts_with("\"fail\"") && numpy.contains("named pipe (FIFO)"),
        "{report:#}"
    );
    assert_eq!(
        finding_in(&report, "packages.pillow")["status"],
        "pass",
        "{report:#}"
    );
}

// 2. Lost output.

/// Run with stdout going to `stdout`, no hang allowed.
fn run_to(command: &mut Command, stdout: impl Into<Stdio>) -> (i32, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let Some(status) = child.wait_timeout(HANG).unwrap() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("preflight hung for {HANG:?}");
    };
    (
        status.code().expect("exited, not killed"),
        err.join().unwrap(),
    )
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens")
}

/// A pipe whose reading end is already closed, as after `| head -c1` has read its byte: the
/// reader is a `true` that has exited.
fn closed_pipe() -> std::process::ChildStdin {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true starts");
    let writer = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    writer
}

#[test]
fn a_full_disk_on_dev_full_is_an_error_and_exit_2_for_reports_and_completions() {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(dir.path(), "p.toml", &system_only_profile(1_000_000));
    let (code, stderr) = run_to(
        preflight(dir.path())
            .args(["--json", "--only", "system.os", "--profile"])
            .arg(&profile),
        dev_full(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write the output") && stderr.contains("No space left"),
        "{stderr}"
    );
    for args in [
        &["completions", "bash"][..],
        &["profiles"],
        &["list"],
        &["--help"],
        &["--version"],
    ] {
        let (code, stderr) = run_to(preflight(dir.path()).args(args), dev_full());
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_verdicts_exit_code() {
    let dir = TempDir::new().unwrap();
    let ready = profile_file(dir.path(), "ready.toml", &system_only_profile(0));
    let (code, stderr) = run_to(
        preflight(dir.path())
            .args(["--json", "--only", "system.os", "--profile"])
            .arg(&ready),
        closed_pipe(),
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    // A profile this machine cannot meet: the verdict's 1, still quiet.
    let not_ready = profile_file(
        dir.path(),
        "not-ready.toml",
        &format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nmin_memory_gb = 0\nmin_disk_gb = 100000000\nseverity = \"fail\"\n"
        ),
    );
    let (code, stderr) = run_to(
        preflight(dir.path())
            .args(["--only", "system.disk", "--strict", "--profile"])
            .arg(&not_ready),
        closed_pipe(),
    );
    assert_eq!((code, stderr.as_str()), (1, ""));
    for args in [&["completions", "zsh"][..], &["profiles"]] {
        let (code, stderr) = run_to(preflight(dir.path()).args(args), closed_pipe());
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
}

// 3. Orphans.

/// Whether process `pid` still runs: its /proc entry is there and it is not a zombie (a
/// killed orphan may wait a moment for its new parent to reap it).
fn alive_in_proc(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // `pid (comm) S ...`: the state follows the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn dies_soon(pid: i32) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < until {
        if !alive_in_proc(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A venv whose `python` is a shell script: `body` runs as the interpreter.
fn fake_venv(dir: &Path, body: &str) -> std::path::PathBuf {
    let venv = dir.join("venv");
    std::fs::create_dir_all(&venv).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.8.18\n",
    )
    .unwrap();
    write_executable(&venv.join("bin/python"), &format!("#!/bin/sh\n{body}"));
    venv
}

#[test]
fn a_grandchild_holding_the_pipe_neither_survives_nor_spoils_the_answer_checked_in_proc() {
    let dir = TempDir::new().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let venv = fake_venv(
        dir.path(),
        &format!(
            "echo version=3.8.18\nsleep 300 &\necho $! > {pid}\nexit 0\n",
            pid = pid_file.display()
        ),
    );
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--only", "python.interpreter", "--venv"])
            .arg(&venv),
    );
    let report = json(&run);
    assert_eq!(
        finding_in(&report, "python.interpreter")["status"],
        "pass",
        "{report:#}"
    );
    let grandchild = read_pid(&pid_file).expect("the fake interpreter ran");
    assert!(
        dies_soon(grandchild),
        "the grandchild {grandchild} survived"
    );
}

#[test]
fn sigint_sigterm_and_sighup_mid_probe_leave_no_child_behind_checked_in_proc() {
    use rustix::process::{Pid, Signal, kill_process};
    for (signal, code) in [(Signal::INT, 130), (Signal::TERM, 143), (Signal::HUP, 129)] {
        let dir = TempDir::new().unwrap();
        let child_pid = dir.path().join("child.pid");
        let grandchild_pid = dir.path().join("grandchild.pid");
        // The interpreter starts a long-lived helper, then hangs itself: a stand-in for a
        // `--deep` training run.
        let venv = fake_venv(
            dir.path(),
            &format!(
                "sleep 300 &\necho $! > {grandchild}\necho $$ > {child}\nexec sleep 300\n",
                grandchild = grandchild_pid.display(),
                child = child_pid.display()
            ),
        );
        let mut preflight = preflight(dir.path())
            .args([
                "--json",
                "--only",
                "python.interpreter",
                "--timeout",
                "300",
                "--venv",
            ])
            .arg(&venv)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let until = std::time::Instant::now() + HANG;
        let (child, grandchild) = loop {
            if let (Some(c), Some(g)) = (read_pid(&child_pid), read_pid(&grandchild_pid)) {
                break (c, g);
            }
            assert!(std::time::Instant::now() < until, "the probe never started");
            std::thread::sleep(Duration::from_millis(20));
        };
        kill_process(Pid::from_raw(preflight.id() as i32).unwrap(), signal).unwrap();
        let Some(status) = preflight.wait_timeout(HANG).unwrap() else {
            let _ = preflight.kill();
            panic!("preflight did not stop on {signal:?}");
        };
        let mut stderr = String::new();
        preflight
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(code), "{signal:?}: {stderr}");
        assert!(stderr.contains("child process group"), "{stderr}");
        assert!(
            dies_soon(child),
            "{signal:?}: the interpreter {child} survived"
        );
        assert!(
            dies_soon(grandchild),
            "{signal:?}: its child {grandchild} survived"
        );
    }
}

// 4. Secrets.

/// An HTTP server on 127.0.0.1: `/start` redirects to `/landing?token=…`, which answers 200.
/// Records every request whole (request line and headers).
fn serve_redirect(secret: &'static str) -> (u16, common::http::Seen) {
    let heads = common::http::Seen::default();
    let record = std::sync::Arc::clone(&heads);
    // The redirect names the server's own port, known once it is bound.
    let port = std::sync::Arc::new(std::sync::OnceLock::new());
    let own_port = std::sync::Arc::clone(&port);
    let (bound, _) = common::http::serve(move |head| {
        record.lock().unwrap().push(head.to_string());
        Some(if head.starts_with("GET /start ") {
            format!(
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{}/landing?token={secret}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                own_port.get().unwrap()
            )
        } else {
            common::http::ok("ok")
        })
    });
    port.set(bound).unwrap();
    (bound, heads)
}

#[test]
fn a_redirect_is_reported_redacted_and_sends_no_referer() {
    const SECRET: &str = "redirect-s3cret";
    let dir = TempDir::new().unwrap();
    let (port, seen) = serve_redirect(SECRET);
    let profile = profile_file(
        dir.path(),
        "net.toml",
        &format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"network\"\nid = \"network.hop\"\ntitle = \"hop\"\nurl = \"http://127.0.0.1:{port}/start\"\nwhy = \"tests\"\n"
        ),
    );
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--profile"])
            .arg(&profile),
    );
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    let report = json(&run);
    let hop = finding_in(&report, "network.hop");
    assert_eq!(hop["status"], "pass", "{hop:#}");
    let landed = format!("http://127.0.0.1:{port}/landing?***");
    assert_eq!(hop["observed"]["redirected_to"], landed.as_str(), "{hop:#}");
    assert!(
        hop["summary"].as_str().unwrap().contains(&landed),
        "{hop:#}"
    );
    let requests = seen.lock().unwrap();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(
        requests
            .iter()
            .all(|r| !r.to_ascii_lowercase().contains("\nreferer:")),
        "{requests:#?}"
    );
}

#[test]
fn url_secrets_are_redacted_even_when_the_url_does_not_parse_in_every_format() {
    const SECRET: &str = "idx-s3cret";
    let dir = TempDir::new().unwrap();
    let profile = profile_file(
        dir.path(),
        "idx.toml",
        &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"package-index\"\n"),
    );
    // No URL parser reads these: the port is out of range, the password holds a `#`.
    for index in [
        format!("https://127.0.0.1:99999/simple?token={SECRET}"),
        format!("https://ana:{SECRET}#x@127.0.0.1:1/simple"),
    ] {
        for format in ["json", "human", "junit"] {
            let run = run_bounded(
                preflight(dir.path())
                    .env("PIP_INDEX_URL", &index)
                    .env("PIP_CONFIG_FILE", NULL_DEVICE)
                    .args(["--format", format, "--profile"])
                    .arg(&profile),
            );
            assert_eq!(run.code, 1, "{index} {format}: {}", run.stderr);
            assert!(
                !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
                "{index} {format} leaked:\n{}",
                run.stdout
            );
        }
    }
}

/// Every shape of a secret the redaction must catch, with `S` where the secret goes.
const SECRET_SHAPES: &[&str] = &[
    "127.0.0.1:9/simple?token=S",
    "http://ana:pa/S@127.0.0.1:9/simple",
    "http://ana:pa S@127.0.0.1:9/simple",
    "http%3A%2F%2Fana%3AS%40127.0.0.1%3A9%2Fsimple",
    "http://127.0.0.1:9/simple%3Ftoken%3DS",
    "http:/ana:S@127.0.0.1:9/simple",
    "http:\\\\ana:S@127.0.0.1:9/simple",
    "//ana:S@127.0.0.1:9/simple",
    "http://ana:S@127.0.0.1:9/simple,http://127.0.0.1:9/simple?token=S",
    "CORP\\ana:S@127.0.0.1:9",
];

/// Each shape in every setting and variable the package-index check reads (pip.conf's
/// index-url, extra-index-url, find-links and proxy; PIP_* and the proxy variables), in every
/// format: no part of the secret is printed.
#[test]
fn secrets_of_every_shape_in_every_setting_are_redacted_in_every_format() {
    const SECRET: &str = "shape-s3cret";
    let dir = TempDir::new().unwrap();
    let profile = profile_file(
        dir.path(),
        "idx.toml",
        &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"package-index\"\n"),
    );
    for shape in SECRET_SHAPES {
        let value = shape.replace('S', SECRET);
        let conf = dir.path().join("pip.conf");
        std::fs::write(
            &conf,
            format!(
                "[global]\nindex-url = {value}\nextra-index-url = {value}\nfind-links = {value}\nproxy = {value}\n"
            ),
        )
        .unwrap();
        let from_variables = [
            ("PIP_INDEX_URL", value.as_str()),
            ("PIP_EXTRA_INDEX_URL", value.as_str()),
            ("PIP_FIND_LINKS", value.as_str()),
            ("HTTPS_PROXY", value.as_str()),
            ("HTTP_PROXY", value.as_str()),
            ("PIP_CONFIG_FILE", NULL_DEVICE),
        ];
        let from_file = [("PIP_CONFIG_FILE", conf.to_str().unwrap())];
        let from_pip_proxy = [
            ("PIP_INDEX_URL", "https://127.0.0.1:9/simple"),
            ("PIP_PROXY", value.as_str()),
            ("PIP_CONFIG_FILE", NULL_DEVICE),
        ];
        for variables in [&from_variables[..], &from_file, &from_pip_proxy] {
            for args in [
                &["--json"][..],
                &["--format", "human"],
                &["--format", "human", "-v"],
                &["--format", "markdown"],
                &["--format", "junit"],
            ] {
                let mut command = preflight(dir.path());
                // No interpreter to find: the index comes from the settings, and each run is
                // quick.
                command
                    .env("PATH", dir.path().join("no-programs"))
                    .args(args)
                    .arg("--profile")
                    .arg(&profile);
                for (key, value) in variables {
                    command.env(key, value);
                }
                let run = run_bounded(&mut command);
                for piece in ["s3cret", "shape-s3"] {
                    assert!(
                        !run.stdout.contains(piece) && !run.stderr.contains(piece),
                        "{shape} {variables:?} {args:?} leaked:\n{}{}",
                        run.stdout,
                        run.stderr
                    );
                }
            }
        }
    }
}

#[test]
fn a_secret_in_an_interpreters_error_output_is_redacted() {
    const SECRET: &str = "stderr-s3cret";
    let dir = TempDir::new().unwrap();
    let venv = fake_venv(
        dir.path(),
        &format!(
            "echo \"Could not fetch URL https://ana:{SECRET}@mirror.invalid/simple/?key={SECRET}\" >&2\nexit 1\n"
        ),
    );
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--only", "python.interpreter", "--venv"])
            .arg(&venv),
    );
    assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
    let summary = finding_in(&json(&run), "python.interpreter")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        summary.contains("https://***@mirror.invalid/simple/?***"),
        "{summary}"
    );
}

// 5. Names and ids.

/// Load `text` as a profile with `list`; returns the exit code and stderr.
fn load_profile(dir: &Path, text: &[u8]) -> (i32, String) {
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let run = run_bounded(preflight(dir).arg("--profile").arg(&path).arg("list"));
    (run.code, run.stderr)
}

#[test]
fn bad_pins_and_ids_are_profile_errors_at_their_line() {
    let dir = TempDir::new().unwrap();
    let pins = |pin: &str| {
        format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"packages\"\npins = [\n  \"numpy==1.22.4\",\n  {pin},\n]\n"
        )
    };
    // The header is 5 lines, then a blank line: the second pin is on line 11. `NumPy` is
    // numpy pinned twice.
    for pin in ["\".\"", "\"-x==1\"", "\"numpy.==1\"", "\"NumPy==1.0\""] {
        let (code, stderr) = load_profile(dir.path(), pins(pin).as_bytes());
        assert_eq!(code, 2, "{pin}: {stderr}");
        assert!(
            stderr.contains("bad.toml:11: key `pins`"),
            "{pin}: {stderr}"
        );
    }
    let (_, stderr) = load_profile(dir.path(), pins("\".\"").as_bytes());
    assert!(stderr.contains("is not a package name"), "{stderr}");
    for id in [
        "network.my check",
        "network.it\\\"s",
        "network.café",
        "network.",
    ] {
        let text = format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"network\"\nid = \"{id}\"\ntitle = \"t\"\nurl = \"http://127.0.0.1:1/\"\nwhy = \"w\"\n"
        );
        let (code, stderr) = load_profile(dir.path(), text.as_bytes());
        assert_eq!(code, 2, "{id}: {stderr}");
        assert!(stderr.contains("bad.toml:9"), "{id}: {stderr}");
    }
}

#[test]
fn a_profile_that_is_not_utf8_says_so_with_the_line() {
    let dir = TempDir::new().unwrap();
    let mut text = format!("{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\n").into_bytes();
    // Latin-1 "é" in a comment on line 9.
    text.extend_from_slice(b"# caf\xe9\nmin_memory_gb = 1\n");
    let (code, stderr) = load_profile(dir.path(), &text);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bad.toml:9: not UTF-8 text (byte 0xE9"),
        "{stderr}"
    );
}

// 6. Paths.

fn install_numpy(venv: &Path) {
    let dir = site_packages(venv).join("numpy-1.22.4.dist-info");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("METADATA"),
        "Metadata-Version: 2.1\nName: numpy\nVersion: 1.22.4\n\n",
    )
    .unwrap();
}

/// The statuses of the python and packages findings, judging `venv` given as `venv_arg`.
fn verdict(cwd: &Path, venv_arg: &std::ffi::OsStr, env: &[(&str, &Path)]) -> Vec<(String, String)> {
    let profile = python_profile(cwd, &["numpy==1.22.4"]);
    let mut command = preflight(cwd);
    for (key, value) in env {
        command.env(key, value);
    }
    let run = run_bounded(
        command
            .args(["--json", "--only", "python,packages", "--profile"])
            .arg(&profile)
            .arg("--venv")
            .arg(venv_arg),
    );
    statuses(&json(&run))
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn venv_accepts_the_interpreter_pycharm_shows_and_a_tilde() {
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let home = dir.path().join("home");
    let venv = make_venv(&python, &home.join("exam-venv"));
    install_numpy(&venv);
    let expected = verdict(dir.path(), venv.as_os_str(), &[]);
    assert!(
        expected
            .iter()
            .any(|(id, s)| id == "packages.numpy" && s == "pass"),
        "{expected:?}"
    );
    for given in ["bin/python", "bin/python3"] {
        let path = venv.join(given);
        assert_eq!(
            verdict(dir.path(), path.as_os_str(), &[]),
            expected,
            "{given}"
        );
    }
    for given in ["~/exam-venv", "~/exam-venv/bin/python"] {
        assert_eq!(
            verdict(dir.path(), given.as_ref(), &[("HOME", &home)]),
            expected,
            "{given}"
        );
    }
    // The Windows layout resolves the same way: `Scripts\python.exe` in a folder with a
    // pyvenv.cfg is that folder.
    let windows = dir.path().join("win-venv");
    std::fs::create_dir_all(windows.join("Scripts")).unwrap();
    std::fs::write(windows.join("pyvenv.cfg"), "home = C:\\Python38\n").unwrap();
    std::fs::write(windows.join("Scripts/python.exe"), "MZ").unwrap();
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--only", "python.interpreter", "--venv"])
            .arg(windows.join("Scripts/python.exe")),
    );
    let report = json(&run);
    assert_eq!(
        finding_in(&report, "python.interpreter")["observed"]["venv"],
        windows.display().to_string(),
        "{report:#}"
    );
}

#[test]
fn a_venv_path_that_is_a_file_or_no_venv_is_named_and_never_gets_a_venv_made_on_it() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::create_dir(dir.path().join("project")).unwrap();
    make_fifo(&dir.path().join("pipe"));
    for (given, says, may_create) in [
        (
            "passwd",
            "is a regular file, not a virtualenv directory",
            false,
        ),
        (
            "pipe",
            "is a named pipe (FIFO), not a virtualenv directory",
            false,
        ),
        ("project", "is not a virtualenv", false),
        ("nowhere", "does not exist", true),
    ] {
        let run = run_bounded(preflight(dir.path()).args([
            "--json",
            "--only",
            "python.interpreter",
            "--venv",
            given,
        ]));
        let report = json(&run);
        let interpreter = finding_in(&report, "python.interpreter");
        assert!(
            interpreter["summary"].as_str().unwrap().contains(says),
            "{given}: {interpreter:#}"
        );
        let fix = interpreter["fix"].as_str().unwrap();
        assert_eq!(fix.contains("-m venv"), may_create, "{given}: {fix}");
    }
}

#[test]
fn an_unreadable_venv_directory_says_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let venv = dir.path().join("venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    let mut command = preflight(dir.path());
    if rustix::process::geteuid().is_root() {
        // Root reads everything: run as `nobody`, to whom the folder is closed. A copy of the
        // binary, since the build folder may be closed to `nobody` too.
        std::fs::set_permissions(&venv, std::fs::Permissions::from_mode(0o700)).unwrap();
        let copy = dir.path().join("preflight");
        std::fs::copy(bin(), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        command = Command::new(&copy);
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(dir.path());
        command.uid(65534).gid(65534);
    } else {
        std::fs::set_permissions(&venv, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let run = run_bounded(
        command
            .args(["--json", "--only", "python.interpreter", "--venv"])
            .arg(&venv),
    );
    std::fs::set_permissions(&venv, std::fs::Permissions::from_mode(0o755)).unwrap();
    let report = json(&run);
    let summary = finding_in(&report, "python.interpreter")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(summary.contains("permission denied"), "{summary}");
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_venv_at_a_path_that_is_not_utf8_gets_the_same_verdict() {
    use std::os::unix::ffi::OsStrExt;
    let python = pyenv_python("3.8");
    let dir = TempDir::new().unwrap();
    let plain = make_venv(&python, &dir.path().join("venv-plain"));
    let latin1 = make_venv(
        &python,
        &dir.path()
            .join(std::ffi::OsStr::from_bytes(b"venv-caf\xe9")),
    );
    install_numpy(&plain);
    install_numpy(&latin1);
    let expected = verdict(dir.path(), plain.as_os_str(), &[]);
    assert!(
        // A venv without pip fails python.venv; --deep was not asked for; python.certificates
        // is judged on macOS only.
        expected.iter().all(|(id, s)| s == "pass"
            || id == "python.venv"
            || id == "python.deep"
            || id == "python.certificates"),
        "{expected:?}"
    );
    assert_eq!(verdict(dir.path(), latin1.as_os_str(), &[]), expected);
}

// 7. Misleading messages.

#[test]
fn an_oversized_pyvenv_cfg_is_not_a_missing_one() {
    let dir = TempDir::new().unwrap();
    let venv = fake_venv(dir.path(), "echo version=3.8.18\n");
    let padding = "# padding\n".repeat(120_000);
    std::fs::write(
        venv.join("pyvenv.cfg"),
        format!("home = /usr/bin\n{padding}"),
    )
    .unwrap();
    let run = run_bounded(
        preflight(dir.path())
            .args(["--json", "--only", "python.venv", "--venv"])
            .arg(&venv),
    );
    let summary = finding_in(&json(&run), "python.venv")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        summary.contains("pyvenv.cfg is larger than 1024 KiB") && !summary.contains("has no"),
        "{summary}"
    );
}

#[test]
fn an_interpreter_that_is_there_but_cannot_start_says_so_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    /// Lays down an interpreter that cannot start.
    type Make = fn(&Path);
    let cases: [(&str, Make, &str); 3] = [
        (
            "shebang",
            |python| write_executable(python, "#!/nonexistent/bin/python3\nprint('x')\n"),
            "its first line `#!/nonexistent/bin/python3` names a program that does not exist",
        ),
        (
            "not-executable",
            |python| {
                write_executable(python, "#!/bin/sh\necho version=3.8.18\n");
                std::fs::set_permissions(python, std::fs::Permissions::from_mode(0o644)).unwrap();
            },
            "permission denied: it is not executable",
        ),
        (
            "garbage",
            |python| write_executable(python, "\x7fELF but not really\n"),
            "not a program this machine can run",
        ),
    ];
    for (name, make, says) in cases {
        let venv = dir.path().join(name);
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        make(&venv.join("bin/python"));
        let run = run_bounded(
            preflight(dir.path())
                .args(["--json", "--only", "python.interpreter", "--venv"])
                .arg(&venv),
        );
        let summary = finding_in(&json(&run), "python.interpreter")["summary"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            summary.contains("exists but cannot be started: ") && summary.contains(says),
            "{name}: {summary}"
        );
    }
}

// 8. Selections.

#[test]
fn spaces_around_commas_in_only_and_skip_are_allowed() {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(dir.path(), "p.toml", &system_only_profile(0));
    let run = run_bounded(
        preflight(dir.path())
            .args([
                "--json",
                "--only",
                " system.os , system.memory,",
                "--skip",
                "system.memory ,",
            ])
            .arg("--profile")
            .arg(&profile),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<String> = statuses(&json(&run))
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["system.os"]);
}

#[test]
fn json_list_and_json_profiles_print_json() {
    let dir = TempDir::new().unwrap();
    let list = run_bounded(preflight(dir.path()).args(["--json", "--only", "python", "list"]));
    assert_eq!(list.code, 0, "{}", list.stderr);
    let listed = json(&list);
    assert_eq!(listed["profile"], "tf-cert-2023-01");
    let checks = listed["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    assert!(
        checks.iter().all(|c| c["category"] == "python"),
        "{listed:#}"
    );
    assert!(
        checks.iter().any(|c| c["id"] == "python.version"
            && c["kind"] == "python"
            && c["severity"] == "fail"),
        "{listed:#}"
    );
    let profiles = run_bounded(preflight(dir.path()).args(["--json", "profiles"]));
    assert_eq!(profiles.code, 0, "{}", profiles.stderr);
    let profiles = json(&profiles);
    let entries = profiles.as_array().unwrap();
    assert!(entries.iter().any(|p| p["name"] == "tf-cert"
        && p["alias_of"] == "tf-cert-2023-01"
        && p["default"] == true));
    assert!(
        entries
            .iter()
            .any(|p| p["name"] == "tf-cert-2.13" && p["verified"] == false)
    );
    assert!(
        entries.iter().all(|p| p.get("error").is_none()),
        "{profiles:#}"
    );
}

// Bounded, clean text.

#[test]
fn a_childs_escape_sequences_and_endless_output_reach_every_format_harmless_and_bounded() {
    let dir = TempDir::new().unwrap();
    // A 100 KB line of output is the last line a failing interpreter leaves.
    let long = fake_venv(
        dir.path(),
        "printf 'boom\\n' >&2\nprintf '%0100000d\\n' 0 >&2\nexit 1\n",
    );
    for format in ["human", "json", "junit", "markdown"] {
        let run = run_bounded(
            preflight(dir.path())
                .args([
                    "--format",
                    format,
                    "--color",
                    "never",
                    "--only",
                    "python.interpreter",
                    "--venv",
                ])
                .arg(&long),
        );
        assert!(
            run.stdout.len() < 20_000,
            "{format}: {} bytes",
            run.stdout.len()
        );
        assert!(run.stdout.contains("0000"), "{format}: {}", run.stdout);
    }
    // Red text, a window-title change and a bell: removed, never obeyed.
    std::fs::remove_dir_all(&long).unwrap();
    let venv = fake_venv(
        dir.path(),
        "printf 'boom \\033[31mred\\033]0;owned\\007 end\\n' >&2\nexit 1\n",
    );
    for format in ["human", "json", "junit", "markdown"] {
        let run = run_bounded(
            preflight(dir.path())
                .args([
                    "--format",
                    format,
                    "--color",
                    "never",
                    "--only",
                    "python.interpreter",
                    "--venv",
                ])
                .arg(&venv),
        );
        assert!(
            !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
            "{format}: {}",
            run.stdout
        );
        // JSON would escape them as \u001b: gone there too.
        assert!(!run.stdout.contains("u001b"), "{format}: {}", run.stdout);
        assert!(run.stdout.contains("boom red"), "{format}: {}", run.stdout);
    }
}
