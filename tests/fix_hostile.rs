//! `preflight fix` in hostile directory states (issue 24): links and FIFOs at its files'
//! names, a second run at the same time, a half-built virtualenv, a trailing slash, a full
//! disk, signals in every phase, orphans that left their group. Unix only: FIFOs, signals,
//! /proc and shell scripts standing in for a slow Python.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]
#![cfg(unix)]
// The helpers for the Linux-only tests (/proc, setsid, unshare) are unused elsewhere.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::venv::{make_fifo, make_venv_with_pip, pyenv_python, site_packages};
use common::*;
use tempfile::TempDir;
use wait_timeout::ChildExt;

/// Far above any run here, so a hang fails the test instead of stalling it.
const HANG: Duration = Duration::from_secs(120);

fn profile(dir: &Path, pins: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let pins: Vec<String> = pins.iter().map(|p| format!("\"{p}\"")).collect();
    let packages = if pins.is_empty() {
        String::new()
    } else {
        format!(
            "\n[[check]]\nkind = \"packages\"\npins = [{}]\n",
            pins.join(", ")
        )
    };
    profile_file(
        dir,
        "exam.toml",
        &format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"python\"\nversion = \"==3.8.*\"\n{packages}"
        ),
    )
}

/// `preflight fix ARGS` in `cwd` with pyenv's Pythons where it looks for them.
fn fix(cwd: &Path, args: &[&str]) -> Command {
    let mut command = preflight(cwd);
    command
        .env("PIP_CONFIG_FILE", "/dev/null")
        .arg("fix")
        .args(args);
    if let Ok(root) = Command::new("pyenv").arg("root").output() {
        command.env("PYENV_ROOT", String::from_utf8_lossy(&root.stdout).trim());
    }
    command
}

fn run_bounded(command: &mut Command) -> Run {
    let child = start(command);
    finish(child)
}

fn start(command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    retry_while_busy(|| command.spawn()).expect("the binary starts")
}

fn finish(mut child: Child) -> Run {
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
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    let Some(code) = status.code() else {
        panic!("preflight was killed ({status}), not exited: {stdout}{stderr}");
    };
    Run {
        code,
        stdout,
        stderr,
    }
}

/// A fake `python3.8`, alone on PATH with the system's tools (no pyenv): the probe is pyenv's
/// real 3.8 (so it is accepted) but names the script as the executable, `-m venv DIR` makes a directory shaped as a venv whose
/// `bin/python` is this script again, `-m pip` says it installed. `slow` names the one
/// phase that hangs instead ("probe" while planning, "venv", "pip", "recheck"): it writes
/// its pid to `DIR/PHASE.pid` first. `extra` runs first in every call.
fn fake_python(work: &Path, slow: &str, extra: &str) -> String {
    let real = pyenv_python("3.8");
    let bin = work.join("fakebin");
    let pids = work.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let script = format!(
        r#"#!/bin/sh
{extra}
real='{real}'; pids='{pids}'; slow='{slow}'
case "$0" in */bin/python) in_venv=1 ;; *) in_venv=0 ;; esac
hang() {{ echo $$ > "$pids/$1.pid"; exec sleep 300; }}
if [ "$1" = -m ] && [ "$2" = venv ]; then
    [ "$slow" = venv ] && hang venv
    mkdir -p "$3/bin" "$3/lib/python3.8/site-packages" || exit 1
    printf 'home = /usr/bin\nversion = 3.8.18\n' > "$3/pyvenv.cfg"
    cp "$0" "$3/bin/python"
    exit 0
fi
if [ "$1" = -m ] && [ "$2" = pip ]; then
    [ "$slow" = pip ] && hang pip
    echo "Successfully installed examlib-1.0"
    exit 0
fi
[ "$in_venv" = 0 ] && [ "$slow" = probe ] && hang probe
[ "$in_venv" = 1 ] && [ "$slow" = recheck ] && hang recheck
# The probe: the real one's answer, with this script as the executable, so that `fix`
# builds with it.
me=$(printf '%s' "$0" | od -An -tx1 | tr -d ' \n')
"$real" "$@" | sed "s/^executable_path=.*/executable_path=$me/"
"#,
        real = real.display(),
        pids = pids.display(),
    );
    write_executable(&bin.join("python3.8"), &script);
    format!("{}:/usr/bin:/bin", bin.display())
}

/// `fix` with only the fake Python to find.
fn fake_fix(cwd: &Path, path: &str, args: &[&str]) -> Command {
    let mut command = preflight(cwd);
    command
        .env("PATH", path)
        .env_remove("PYENV_ROOT")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .arg("fix")
        .args(args);
    command
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn wait_for_pid(path: &Path, child: &mut Child) -> i32 {
    let until = Instant::now() + HANG;
    loop {
        if let Some(pid) = read_pid(path) {
            return pid;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut stdout = String::new();
            let _ = child.stdout.take().unwrap().read_to_string(&mut stdout);
            panic!(
                "preflight ended ({status}) before {}: {stdout}",
                path.display()
            );
        }
        assert!(Instant::now() < until, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Running, not a zombie.
fn alive_in_proc(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
    }
}

fn dies_soon(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if !alive_in_proc(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A real venv of pyenv's 3.8 with pip, which `fix` reuses.
fn real_venv(work: &Path) -> PathBuf {
    make_venv_with_pip(&pyenv_python("3.8"), &work.join("exam-venv"))
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn links_and_fifos_at_fixs_files_are_refused_and_nothing_is_written_through_them() {
    let work = TempDir::new().unwrap();
    let profile = profile(work.path(), &[]);
    let profile = profile.to_str().unwrap();
    let venv = real_venv(work.path());
    let outside = work.path().join("outside.txt");
    std::fs::write(&outside, "precious").unwrap();
    // A lock a killed run left (its holder cannot be running): taken over, not a refusal.
    std::fs::write(
        venv.join(".preflight-fix.lock"),
        "pid=2000000000\nstarted=20260101-000000\n",
    )
    .unwrap();
    let args = ["--yes", "--profile", profile, "--venv", "exam-venv"];
    for name in ["preflight-fix.log", ".preflight-fix-incomplete"] {
        let link = venv.join(name);
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let run = run_bounded(&mut fix(work.path(), &args));
        assert_eq!(run.code, 1, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(&format!(
                "{} is a symbolic link, not a regular file",
                link.display()
            )),
            "{name}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("another `preflight fix`"),
            "{}",
            run.stdout
        );
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        std::fs::remove_file(&link).unwrap();
        let _ = std::fs::remove_file(venv.join(".preflight-fix-incomplete"));
    }
    // A FIFO at the log's name: refused at once, never waited on.
    make_fifo(&venv.join("preflight-fix.log"));
    let run = run_bounded(&mut fix(work.path(), &args));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("is a named pipe (FIFO), not a regular file"),
        "{}",
        run.stdout
    );
    assert!(
        !venv.join(".preflight-fix.lock").exists(),
        "the lock is released"
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_half_installed_pip_is_not_present_and_fix_moves_an_interrupted_build_aside() {
    let work = TempDir::new().unwrap();
    let profile = profile(work.path(), &[]);
    let profile = profile.to_str().unwrap();
    let venv = real_venv(work.path());
    // What a build stopped mid-install (or by a full disk) leaves: pip's folder, not all of
    // its files.
    std::fs::remove_file(site_packages(&venv).join("pip/_vendor/certifi/core.py")).unwrap();
    let mut report = preflight(work.path());
    report.args([
        "--json",
        "--only",
        "python.venv",
        "--profile",
        profile,
        "--venv",
        "exam-venv",
    ]);
    let report = json(&run_bounded(&mut report));
    let finding = finding_in(&report, "python.venv");
    assert_eq!(finding["status"], "fail", "{finding:#}");
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.contains("pip is incomplete") && summary.contains("pip/_vendor/certifi/core.py"),
        "{summary}"
    );
    assert!(
        finding["fix"].as_str().unwrap().contains("--recreate"),
        "{finding:#}"
    );

    // Not reused: refused without the marker, moved aside with it.
    let plan = run_bounded(&mut fix(
        work.path(),
        &["--profile", profile, "--venv", "exam-venv"],
    ));
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("is a virtualenv, but its pip is incomplete")
            && plan.stdout.contains("--recreate"),
        "{}",
        plan.stdout
    );
    std::fs::write(venv.join(".preflight-fix-incomplete"), "").unwrap();
    let plan = run_bounded(&mut fix(
        work.path(),
        &["--profile", profile, "--venv", "exam-venv"],
    ));
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("an interrupted `preflight fix` left it, and its pip is incomplete"),
        "{}",
        plan.stdout
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_second_fix_is_refused_naming_the_first_which_keeps_its_work() {
    let work = TempDir::new().unwrap();
    let path = fake_python(work.path(), "venv", "");
    let profile = profile(work.path(), &[]);
    let profile = profile.to_str().unwrap();
    let args = ["--yes", "--profile", profile, "--venv", "exam-venv"];
    let mut first = start(&mut fake_fix(work.path(), &path, &args));
    let builder = wait_for_pid(&work.path().join("pids/venv.pid"), &mut first);
    for extra in [&[][..], &["--recreate"]] {
        let mut args = args.to_vec();
        args.extend_from_slice(extra);
        let second = run_bounded(&mut fake_fix(work.path(), &path, &args));
        assert_eq!(second.code, 1, "{}{}", second.stdout, second.stderr);
        assert!(
            second.stdout.contains(&format!(
                "another `preflight fix` (pid {}, started ",
                first.id()
            )) && second.stdout.contains("is building"),
            "{}",
            second.stdout
        );
    }
    // Nothing was moved aside: the first one's directory is where it was, lock and all.
    let names: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".bak-")), "{names:?}");
    assert!(work.path().join("exam-venv/.preflight-fix.lock").is_file());
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(first.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let first = finish(first);
    assert_eq!(first.code, 143, "{}{}", first.stdout, first.stderr);
    assert!(dies_soon(builder), "the venv build {builder} survived");
    assert!(
        !work.path().join("exam-venv/.preflight-fix.lock").exists(),
        "the lock is released when the run ends"
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn sigint_sigterm_and_sighup_end_fix_in_every_phase_with_their_codes() {
    use rustix::process::{Pid, Signal, kill_process};
    for phase in ["probe", "venv", "pip", "recheck"] {
        for (signal, code) in [(Signal::INT, 130), (Signal::TERM, 143), (Signal::HUP, 129)] {
            let work = TempDir::new().unwrap();
            let path = fake_python(work.path(), phase, "");
            let profile = profile(work.path(), &["examlib==1.0"]);
            let mut child = start(&mut fake_fix(
                work.path(),
                &path,
                &[
                    "--yes",
                    "--profile",
                    profile.to_str().unwrap(),
                    "--venv",
                    "exam-venv",
                ],
            ));
            let hanging = wait_for_pid(&work.path().join(format!("pids/{phase}.pid")), &mut child);
            kill_process(Pid::from_raw(child.id() as i32).unwrap(), signal).unwrap();
            let run = finish(child);
            assert_eq!(
                run.code, code,
                "{phase}, {signal:?}: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                dies_soon(hanging),
                "{phase}, {signal:?}: the child {hanging} survived"
            );
            assert!(!work.path().join("exam-venv/.preflight-fix.lock").exists());
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_trailing_slash_never_moves_the_directory_into_itself() {
    let work = TempDir::new().unwrap();
    let path = fake_python(work.path(), "none", "");
    let profile = profile(work.path(), &[]);
    let dir = work.path().join("exam-venv");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "my exam notes").unwrap();
    let run = run_bounded(&mut fake_fix(
        work.path(),
        &path,
        &[
            "--yes",
            "--recreate",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv/",
        ],
    ));
    let aside: Vec<PathBuf> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("exam-venv.bak-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(aside[0].join("notes.txt")).unwrap(),
        "my exam notes"
    );
    assert!(
        run.stdout.contains(&format!(
            "Moved {} aside to {}",
            dir.display(),
            aside[0].display()
        )),
        "{}",
        run.stdout
    );
    assert!(dir.join("pyvenv.cfg").is_file(), "{}", run.stdout);
}

/// A tmpfs of 2 MB at `mount_point`, in a mount namespace of this command's own
/// (`unshare`, as root or in a user namespace): no real disk is filled.
#[cfg(target_os = "linux")]
fn on_tiny_disk(mount_point: &Path, command: &Command) -> Command {
    let mut wrapped = Command::new("unshare");
    wrapped.args(["--mount", "--map-root-user", "sh", "-c"]);
    wrapped.arg(format!(
        "mount -t tmpfs -o size=2m tmpfs '{}' || exit 97; exec \"$@\"",
        mount_point.display()
    ));
    wrapped
        .arg("sh")
        .arg(command.get_program())
        .args(command.get_args());
    wrapped.env_clear();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    if let Some(cwd) = command.get_current_dir() {
        wrapped.current_dir(cwd);
    }
    wrapped
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root) and `unshare --mount --map-root-user`"]
fn a_disk_that_fills_up_during_venv_is_named_full_and_the_next_fix_moves_it_aside() {
    let work = TempDir::new().unwrap();
    let profile = profile(work.path(), &[]);
    let disk = work.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let inner = fix(
        &disk,
        &[
            "--yes",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    );
    let run = run_bounded(&mut on_tiny_disk(&disk, &inner));
    assert_ne!(
        run.code, 97,
        "the tmpfs could not be mounted: {}",
        run.stderr
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "error: the disk holding {} is full",
            disk.join("exam-venv").display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("the next `preflight fix --yes` moves it aside"),
        "{}",
        run.stdout
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_grandchild_that_left_its_session_does_not_outlive_fix_or_the_report() {
    let work = TempDir::new().unwrap();
    let orphan_pid = work.path().join("orphan.pid");
    // Each start of the interpreter leaves a process in a session of its own, out of the
    // reach of its process group, as a daemonizing helper would.
    let extra = format!(
        "setsid sh -c 'echo $$ >> {pid}; exec sleep 60' </dev/null >/dev/null 2>&1 &",
        pid = orphan_pid.display()
    );
    let path = fake_python(work.path(), "none", &extra);
    let profile = profile(work.path(), &[]);
    let profile = profile.to_str().unwrap();
    let orphans = |what: &str| -> Vec<i32> {
        let until = Instant::now() + Duration::from_secs(20);
        // The setsid'd shell may write its pid a moment after its parent ended.
        while !orphan_pid.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let text = std::fs::read_to_string(&orphan_pid)
            .unwrap_or_else(|_| panic!("{what}: the fake interpreter never ran"));
        std::fs::remove_file(&orphan_pid).unwrap();
        text.lines().map(|l| l.trim().parse().unwrap()).collect()
    };
    let dry_run = run_bounded(&mut fake_fix(
        work.path(),
        &path,
        &["--profile", profile, "--venv", "exam-venv"],
    ));
    assert_eq!(dry_run.code, 0, "{}{}", dry_run.stdout, dry_run.stderr);
    for pid in orphans("fix") {
        assert!(dies_soon(pid), "fix: the orphan {pid} survived");
    }
    // The report, on a venv whose interpreter is the same fake.
    let venv = work.path().join("report-venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.8.18\n",
    )
    .unwrap();
    std::fs::copy(
        work.path().join("fakebin/python3.8"),
        venv.join("bin/python"),
    )
    .unwrap();
    let mut report = preflight(work.path());
    report
        .env("PATH", &path)
        .env_remove("PYENV_ROOT")
        .args([
            "--json",
            "--only",
            "python.interpreter",
            "--profile",
            profile,
            "--venv",
        ])
        .arg(&venv);
    let report = run_bounded(&mut report);
    json(&report);
    for pid in orphans("the report") {
        assert!(dies_soon(pid), "the report: the orphan {pid} survived");
    }
}

/// Output that cannot be written is an error (exit 2), as for a report; with `--yes`, a plan
/// nobody could read is not carried out.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn fix_on_a_full_stdout_exits_2_and_builds_nothing() {
    let work = TempDir::new().unwrap();
    let profile = profile(work.path(), &[]);
    let profile = profile.to_str().unwrap();
    for yes in [&[][..], &["--yes"]] {
        let mut command = fix(work.path(), yes);
        command.args(["--profile", profile, "--venv", "exam-venv"]);
        let dev_full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(dev_full)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait_timeout(HANG).unwrap().expect("fix ends");
        assert_eq!(status.code(), Some(2), "{yes:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output") && stderr.contains("No space left"),
            "{yes:?}: {stderr}"
        );
        assert!(!work.path().join("exam-venv").exists(), "{yes:?}");
    }
}

/// pip says "from versions: none" for an index that fails or hangs as for a project it does
/// not have; fix names the index's trouble instead.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_index_answering_503_or_hanging_is_named_so_not_as_a_missing_distribution() {
    let (failing, _) = common::http::serve(|_| {
        Some(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .into(),
        )
    });
    let hanging = common::http::serve_connections(|stream| {
        std::thread::sleep(Duration::from_secs(90));
        drop(stream);
    });
    let work = TempDir::new().unwrap();
    let profile = profile(work.path(), &["examlib==1.0"]);
    let profile = profile.to_str().unwrap();
    for (port, named) in [
        (
            failing,
            "error: the package index is failing: it answered HTTP 503",
        ),
        (hanging, "error: pip could not reach the package index: "),
    ] {
        let mut command = fix(
            work.path(),
            &["--yes", "--profile", profile, "--venv", "exam-venv"],
        );
        command
            .env("PIP_INDEX_URL", format!("http://127.0.0.1:{port}/simple/"))
            .env("PIP_NO_CACHE_DIR", "1")
            .env("PIP_TIMEOUT", "2");
        let run = run_bounded(&mut command);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(named), "{named}: {}", run.stdout);
        assert!(
            !run.stdout.contains("no distribution of"),
            "{named}: {}",
            run.stdout
        );
    }
}
