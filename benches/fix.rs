//! `preflight fix --yes` against building the same virtualenv by hand (`python -m venv` and one
//! `pip install`), both from a loopback package index of tiny wheels: `cargo bench --bench fix`.
//!
//! Needs pyenv's Python 3.8 (`$(pyenv root)/versions/3.8.*`). Prints the medians and their
//! ratio; the goal is `fix` within 1.1x of the manual steps. Each run builds a fresh venv, so
//! both sides pay for ensurepip; `fix` also finds the Python and checks the result. On Linux it
//! also prints the CPU time the processes used (from /proc/self/stat), which a busy machine
//! disturbs much less than wall-clock time.

#[path = "../tests/support/loopback_index.rs"]
mod loopback_index;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;
const PINS: [&str; 2] = ["examlib==1.0", "examdep==2.0"];

fn pyenv_root() -> Option<PathBuf> {
    let out = Command::new("pyenv").arg("root").output().ok()?;
    Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()))
}

fn python_3_8(root: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("3.8."))
        })
        .map(|p| p.join("bin/python3"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

/// Both sides see the same environment: the loopback index, no pip configuration files.
fn command(program: &Path, work: &Path, index: &str, root: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .current_dir(work)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", work.join("home"))
        .env("PYENV_ROOT", root)
        .env("PIP_INDEX_URL", index)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// User plus system CPU time of every waited-for child and descendant so far, in clock ticks.
fn children_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command name: state is field 3, cutime 16, cstime 17 (proc(5)).
    let cutime: u64 = fields.get(13)?.parse().ok()?;
    let cstime: u64 = fields.get(14)?.parse().ok()?;
    Some(cutime + cstime)
}

fn clock_ticks_per_second() -> Option<f64> {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

fn succeed(mut command: Command, what: &str) {
    let status = command.status().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what} failed: {status}");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let Some(root) = pyenv_root() else {
        println!("skipped: pyenv is not installed");
        return;
    };
    let Some(python) = python_3_8(&root) else {
        println!("skipped: no Python 3.8 under {}", root.display());
        return;
    };
    let index = loopback_index::exam_index();
    let work = std::env::temp_dir().join(format!("preflight-fix-bench-{}", std::process::id()));
    std::fs::create_dir_all(work.join("home")).unwrap();
    let profile = work.join("bench.toml");
    std::fs::write(
        &profile,
        format!(
            "[profile]\nname = \"bench\"\n\n[[check]]\nkind = \"python\"\nversion = \"==3.8.*\"\n\n[[check]]\nkind = \"packages\"\npins = [{}]\n",
            PINS.map(|p| format!("\"{p}\"")).join(", ")
        ),
    )
    .unwrap();
    let preflight = PathBuf::from(env!("CARGO_BIN_EXE_preflight"));
    let (mut by_fix, mut by_hand) = (Vec::new(), Vec::new());
    let (mut cpu_fix, mut cpu_hand) = (Vec::new(), Vec::new());
    let ticks = clock_ticks_per_second();
    let cpu = |before: Option<u64>| -> Option<Duration> {
        let used = children_cpu_ticks()?.checked_sub(before?)?;
        Some(Duration::from_secs_f64(used as f64 / ticks?))
    };
    // Alternate the two so that a change in the machine's load hits both alike.
    for run in 0..RUNS {
        let venv = work.join(format!("fix-{run}"));
        let mut fix = command(&preflight, &work, &index.url(), &root);
        fix.args(["fix", "--yes", "--profile"])
            .arg(&profile)
            .arg("--venv")
            .arg(&venv);
        let (started, cpu_before) = (Instant::now(), children_cpu_ticks());
        succeed(fix, "preflight fix --yes");
        by_fix.push(started.elapsed());
        cpu_fix.extend(cpu(cpu_before));

        let venv = work.join(format!("hand-{run}"));
        let (started, cpu_before) = (Instant::now(), children_cpu_ticks());
        let mut create = command(&python, &work, &index.url(), &root);
        create.args(["-m", "venv"]).arg(&venv);
        succeed(create, "python -m venv");
        let mut install = command(&venv.join("bin/python"), &work, &index.url(), &root);
        install.args(["-m", "pip", "install"]).args(PINS);
        succeed(install, "pip install");
        by_hand.push(started.elapsed());
        cpu_hand.extend(cpu(cpu_before));
    }
    let (fix, hand) = (median(by_fix), median(by_hand));
    println!(
        "preflight fix --yes (venv, pip install, re-check)   median {:>8.0} ms   ({RUNS} runs)",
        fix.as_secs_f64() * 1000.0
    );
    println!(
        "python -m venv + pip install by hand                median {:>8.0} ms   ({RUNS} runs)",
        hand.as_secs_f64() * 1000.0
    );
    println!(
        "ratio fix / by hand: {:.2}x (goal: within 1.10x)",
        fix.as_secs_f64() / hand.as_secs_f64()
    );
    if cpu_fix.len() == RUNS && cpu_hand.len() == RUNS {
        let (fix, hand) = (median(cpu_fix), median(cpu_hand));
        println!(
            "CPU time: fix {:.0} ms, by hand {:.0} ms, ratio {:.2}x",
            fix.as_secs_f64() * 1000.0,
            hand.as_secs_f64() * 1000.0,
            fix.as_secs_f64() / hand.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
