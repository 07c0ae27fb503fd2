//! Wall-clock benchmark of whole `preflight` runs: `cargo bench --bench startup`.
//!
//! Each scenario runs the release binary (or a reference command) many times and prints the
//! median, min and max. Set `PREFLIGHT_BENCH_VENV` to a virtualenv holding a real TensorFlow
//! install to compare a full offline run with `pip list` and a bare interpreter start there.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn time(label: &str, mut command: Command) -> Option<Duration> {
    command.stdout(Stdio::null()).stderr(Stdio::null());
    // One warm-up run fills the page cache, as it would be on a second run by the user.
    if command.status().is_err() {
        println!("{label:<48} could not start");
        return None;
    }
    let mut samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let _ = command.status();
            started.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[RUNS / 2];
    println!(
        "{label:<48} median {:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms   ({RUNS} runs)",
        ms(median),
        ms(samples[0]),
        ms(samples[RUNS - 1])
    );
    Some(median)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn preflight(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preflight"));
    command.args(args);
    command
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    time(
        "preflight --offline --only system",
        preflight(&["--offline", "--only", "system"]),
    );
    time("preflight --only webcam", preflight(&["--only", "webcam"]));

    let Some(venv) = std::env::var_os("PREFLIGHT_BENCH_VENV").map(PathBuf::from) else {
        println!(
            "(set PREFLIGHT_BENCH_VENV to a venv with TensorFlow for the full-run comparison)"
        );
        return;
    };
    let venv_arg = venv.to_string_lossy().into_owned();
    let full = time(
        "preflight --offline (full profile)",
        preflight(&["--offline", "--venv", &venv_arg]),
    );
    let python = venv_python(&venv);
    let mut pass = Command::new(&python);
    pass.args(["-c", "pass"]);
    let bare = time("python -c pass", pass);
    let mut pip_list = Command::new(&python);
    pip_list.args(["-m", "pip", "list", "--disable-pip-version-check"]);
    let pip = time("python -m pip list", pip_list);
    if let (Some(full), Some(bare), Some(pip)) = (full, bare, pip) {
        println!(
            "full run = {:.2}x an interpreter start (target < 2), {:.2}x pip list (target < 0.2)",
            ms(full) / ms(bare),
            ms(full) / ms(pip)
        );
    }
}
