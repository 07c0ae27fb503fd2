//! `preflight fix` against a loopback package index: a small HTTP server in this process
//! serves PEP 503 `simple/` pages and tiny wheels built here; pip finds it through
//! `PIP_INDEX_URL`, with every pip configuration file switched off. Real pyenv Pythons, real
//! `python -m venv`, real pip. Nothing leaves 127.0.0.1. Unix only: they need pyenv's Unix
//! Pythons.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]
#![cfg(unix)]

mod common;
#[path = "support/loopback_index.rs"]
mod loopback_index;

// Some are used only by the Linux tests that read /proc.
#[cfg_attr(not(target_os = "linux"), allow(unused_imports))]
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
#[cfg_attr(not(target_os = "linux"), allow(unused_imports))]
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
#[cfg_attr(not(target_os = "linux"), allow(unused_imports))]
use std::time::{Duration, Instant};

use common::venv::pyenv_python;
use common::*;
use loopback_index::exam_index;
use tempfile::TempDir;

fn exam_profile(dir: &Path, pins: &[&str]) -> PathBuf {
    // The children's home: programs on PATH may write there, and it is not the real one.
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let pins: Vec<String> = pins.iter().map(|p| format!("\"{p}\"")).collect();
    profile_file(
        dir,
        "exam.toml",
        &format!(
            "{PROFILE_HEADER}\n[[check]]\nkind = \"python\"\nversion = \"==3.8.*\"\n\n[[check]]\nkind = \"packages\"\npins = [{}]\n\n[[check]]\nkind = \"pycharm\"\n",
            pins.join(", ")
        ),
    )
}

/// `preflight fix ...` in `cwd`, with pip pointed at `index_url` and every pip configuration
/// file switched off (pip reads none when PIP_CONFIG_FILE is the null device).
fn fix(cwd: &Path, index_url: &str, args: &[&str]) -> Command {
    let mut command = preflight(cwd);
    command
        .env("PIP_INDEX_URL", index_url)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_TIMEOUT", "30")
        .arg("fix")
        .args(args);
    if let Ok(root) = Command::new("pyenv").arg("root").output() {
        command.env("PYENV_ROOT", String::from_utf8_lossy(&root.stdout).trim());
    }
    command
}

/// Every path under `dir`, for before/after comparisons.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                pending.push(path.clone());
            }
            paths.push(path);
        }
    }
    paths.sort();
    paths
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let python = pyenv_python("3.8");
    let index = exam_index();
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==1.0", "examdep==2.0"]);
    let before = tree(work.path());
    let run = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Plan:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Dry run: nothing was changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("examlib==1.0 examdep==2.0"),
        "{}",
        run.stdout
    );
    // The Python it would use is a pyenv 3.8.
    assert!(run.stdout.contains("from pyenv"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(python.parent().unwrap().parent().unwrap().to_str().unwrap()),
        "{}",
        run.stdout
    );
    assert_eq!(tree(work.path()), before);
    assert_eq!(
        index.page_requests.load(Ordering::SeqCst),
        0,
        "a dry run asks no index"
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn yes_builds_a_venv_that_the_recheck_finds_ready_and_a_second_run_reuses_it() {
    let _python = pyenv_python("3.8");
    let index = exam_index();
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==1.0", "examdep==2.0"]);
    let profile = profile.to_str().unwrap();
    let run = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--yes",
            "--deep",
            "--profile",
            profile,
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let venv = work.path().join("exam-venv");
    // The re-check: every python finding passed (python.certificates is macOS-only, so
    // skipped here), --deep's import included, and both pins
    // plus the known-breakages finding.
    assert!(
        run.stdout.contains("Python: 5 passed, 1 skipped\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Packages: 3 passed\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ready."), "{}", run.stdout);
    // It ends with PyCharm's side: no PyCharm in this home, so the steps for any version,
    // with the new venv's interpreter to paste.
    let last = run.stdout.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("PyCharm: no PyCharm install was found; once one is: ")
            && last.contains("Add Local Interpreter")
            && last.contains(&format!("paste {} ", venv.join("bin/python").display())),
        "{}",
        run.stdout
    );
    assert!(!venv.join(".preflight-fix-incomplete").exists());
    // What the re-check saw, finding by finding.
    let mut check = preflight(work.path());
    check.args([
        "--json",
        "--deep",
        "--only",
        "python,packages",
        "--profile",
        profile,
        "--venv",
        "exam-venv",
    ]);
    let report = json(&common::run(&mut check));
    let finding = |id: &str| finding_in(&report, id);
    assert_eq!(finding("packages.examlib")["summary"], "1.0");
    assert_eq!(finding("packages.examdep")["summary"], "2.0");
    assert_eq!(finding("python.deep")["status"], "pass");
    assert!(
        finding("python.deep")["summary"]
            .as_str()
            .unwrap()
            .starts_with("imported 2 packages")
    );
    let log = std::fs::read_to_string(venv.join("preflight-fix.log")).unwrap();
    assert!(log.contains("Collecting examlib==1.0"), "{log}");
    assert!(log.contains("Successfully installed"), "{log}");
    // Only the venv was written in the working directory.
    let top: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut top = top;
    top.sort();
    assert_eq!(top, vec!["exam-venv", "exam.toml", "home"]);

    let again = common::run(&mut fix(
        work.path(),
        &index.url(),
        &["--yes", "--profile", profile, "--venv", "exam-venv"],
    ));
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("use the existing virtualenv"),
        "{}",
        again.stdout
    );
    assert!(
        !again.stdout.contains("Create the virtualenv"),
        "{}",
        again.stdout
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_existing_directory_that_is_no_venv_is_refused_untouched_and_recreate_moves_it_aside() {
    let _python = pyenv_python("3.8");
    let index = exam_index();
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==1.0"]);
    let profile = profile.to_str().unwrap();
    let dir = work.path().join("exam-venv");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "my exam notes").unwrap();
    let before = tree(work.path());

    let refused = run(&mut fix(
        work.path(),
        &index.url(),
        &["--yes", "--profile", profile, "--venv", "exam-venv"],
    ));
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stdout
            .contains("is a directory that is not a virtualenv"),
        "{}",
        refused.stdout
    );
    assert!(refused.stdout.contains("--recreate"), "{}", refused.stdout);
    assert_eq!(
        tree(work.path()),
        before,
        "a refused directory is untouched"
    );

    let recreated = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--yes",
            "--recreate",
            "--profile",
            profile,
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(
        recreated.code, 0,
        "{}{}",
        recreated.stdout, recreated.stderr
    );
    let aside: Vec<PathBuf> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("exam-venv.bak-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{}", recreated.stdout);
    assert_eq!(
        std::fs::read_to_string(aside[0].join("notes.txt")).unwrap(),
        "my exam notes"
    );
    assert!(dir.join("pyvenv.cfg").is_file());
    assert!(
        recreated.stdout.contains(&format!(
            "Moved {} aside to {}",
            dir.display(),
            aside[0].display()
        )),
        "{}",
        recreated.stdout
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_pin_with_no_distribution_is_named() {
    let _python = pyenv_python("3.8");
    let index = exam_index();
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==9.9"]);
    let run = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--yes",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("error: no distribution of examlib==9.9 for this platform"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("The index offers these versions: 1.0"),
        "{}",
        run.stdout
    );
    assert!(
        work.path()
            .join("exam-venv/.preflight-fix-incomplete")
            .exists()
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_unreachable_index_is_named_as_a_network_cause() {
    let _python = pyenv_python("3.8");
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==1.0"]);
    let run = run(&mut fix(
        work.path(),
        &format!("http://127.0.0.1:{port}/simple/"),
        &[
            "--yes",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("error: pip could not reach the package index: connection refused"),
        "{}",
        run.stdout
    );
}

/// Processes whose command line still mentions `needle` after a grace for signals to land
/// (a killed process is listed until the kernel has finished it).
#[cfg(target_os = "linux")]
fn processes_left(needle: &str) -> Vec<String> {
    let started = Instant::now();
    loop {
        let found = processes_mentioning(needle);
        if found.is_empty() || started.elapsed() > Duration::from_secs(10) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Processes whose command line mentions `needle`, from /proc.
#[cfg(target_os = "linux")]
fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(needle))
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn ctrl_c_stops_pip_and_leaves_a_venv_marked_incomplete_that_the_next_fix_finishes() {
    use std::os::unix::process::CommandExt;
    let _python = pyenv_python("3.8");
    let index = exam_index();
    index.stall.store(true, Ordering::SeqCst);
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==1.0"]);
    let profile = profile.to_str().unwrap();
    let dir = work.path().join("exam-venv");
    let mut command = fix(
        work.path(),
        &index.url(),
        &["--yes", "--profile", profile, "--venv", "exam-venv"],
    );
    // Its own group, as a shell's job: the signal goes to preflight, not to this test.
    command
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    // Wait until pip asks the index (the venv exists by then), with a generous deadline.
    while index.page_requests.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "pip never asked the index"
        );
        assert!(child.try_wait().unwrap().is_none(), "preflight ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!processes_mentioning(&dir.display().to_string()).is_empty());
    let group = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process_group(group, rustix::process::Signal::INT).unwrap();

    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("preflight did not stop within 60 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    index.stall.store(false, Ordering::SeqCst);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains("Interrupted: the build was stopped"),
        "{stdout}"
    );
    assert!(dir.join(".preflight-fix-incomplete").exists());
    let left = processes_left(&dir.display().to_string());
    assert!(left.is_empty(), "processes left behind: {left:?}");

    // The next fix recognises it and finishes it.
    let next = run(&mut fix(
        work.path(),
        &index.url(),
        &["--yes", "--profile", profile, "--venv", "exam-venv"],
    ));
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    assert!(
        next.stdout
            .contains("finish the virtualenv an interrupted `preflight fix` left"),
        "{}",
        next.stdout
    );
    assert!(!dir.join(".preflight-fix-incomplete").exists());
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn no_accepted_python_says_how_to_get_one_and_changes_nothing() {
    let _python = pyenv_python("3.8");
    let index = exam_index();
    let work = TempDir::new().unwrap();
    std::fs::create_dir_all(work.path().join("home")).unwrap();
    // No Python 3.99 exists anywhere.
    let profile = profile_file(
        work.path(),
        "future.toml",
        &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"python\"\nversion = \"==3.99.*\"\n"),
    );
    let before = tree(work.path());
    let run = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--yes",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("error: no Python this profile accepts (==3.99.*) was found."),
        "{}",
        run.stdout
    );
    // pyenv is on this machine's PATH (it has pyenv's Pythons), so that is the way named.
    assert!(
        run.stdout.contains("`pyenv install 3.99`"),
        "{}",
        run.stdout
    );
    assert_eq!(tree(work.path()), before);
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_venv_of_the_wrong_python_is_refused_with_its_version() {
    let python = pyenv_python("3.8");
    let index = exam_index();
    let work = TempDir::new().unwrap();
    std::fs::create_dir_all(work.path().join("home")).unwrap();
    let dir = work.path().join("exam-venv");
    let made = Command::new(&python)
        .args(["-m", "venv", "--without-pip"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(made.success());
    let profile = profile_file(
        work.path(),
        "py39.toml",
        &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"python\"\nversion = \"==3.9.*\"\n"),
    );
    let before = tree(work.path());
    let run = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--yes",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    ));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("is a virtualenv, but its Python does not fit: Python 3.8"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("does not meet ==3.9.*"),
        "{}",
        run.stdout
    );
    assert_eq!(tree(work.path()), before);
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn pip_past_its_deadline_is_stopped_and_named() {
    let _python = pyenv_python("3.8");
    let index = exam_index();
    index.stall.store(true, Ordering::SeqCst);
    let work = TempDir::new().unwrap();
    let profile = exam_profile(work.path(), &["examlib==1.0"]);
    let dir = work.path().join("exam-venv");
    let run = run(&mut fix(
        work.path(),
        &index.url(),
        &[
            "--yes",
            "--install-timeout",
            "3",
            "--profile",
            profile.to_str().unwrap(),
            "--venv",
            "exam-venv",
        ],
    ));
    index.stall.store(false, Ordering::SeqCst);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("error: pip did not finish within 3 s and was stopped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--install-timeout SECS"),
        "{}",
        run.stdout
    );
    assert!(dir.join(".preflight-fix-incomplete").exists());
    let left = processes_left(&dir.display().to_string());
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_streamed_process_hands_over_its_lines_and_its_whole_group_is_stopped() {
    use preflight::host::{Host, OsFamily, ProcessError, Streamed};
    use std::sync::atomic::AtomicBool;
    let work = TempDir::new().unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    let host = Host::simulated(work.path(), OsFamily::Linux, &[("PATH", &path)]);
    let sh = host.which("sh").expect("sh on PATH");
    // A grandchild in the same group, with an argument no other process has.
    let script = "echo out; echo err >&2; sleep 73.25 & wait";
    let never = AtomicBool::new(false);
    let mut lines = Vec::new();
    let started = Instant::now();
    let outcome = host.run_streaming(
        &sh,
        &["-c", script],
        &[],
        Duration::from_secs(2),
        &never,
        &mut |line| lines.push(line.to_string()),
    );
    assert!(
        matches!(outcome, Err(ProcessError::TimedOut { .. })),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    lines.sort();
    assert_eq!(lines, vec!["err", "out"]);
    assert_eq!(processes_left("sleep 73.25"), Vec::<String>::new());

    let cancel = AtomicBool::new(true);
    let outcome = host.run_streaming(
        &sh,
        &["-c", "sleep 74.25 & wait"],
        &[],
        Duration::from_secs(60),
        &cancel,
        &mut |_| {},
    );
    assert!(matches!(outcome, Ok(Streamed::Cancelled)), "{outcome:?}");
    assert_eq!(processes_left("sleep 74.25"), Vec::<String>::new());

    let outcome = host.run_streaming(
        &sh,
        &["-c", "echo \"$EXTRA\"; exit 3"],
        &[("EXTRA", "given")],
        Duration::from_secs(60),
        &never,
        &mut |line| assert_eq!(line, "given"),
    );
    match outcome {
        Ok(Streamed::Exited(status)) => assert_eq!(status.code(), Some(3)),
        other => panic!("{other:?}"),
    }
}
