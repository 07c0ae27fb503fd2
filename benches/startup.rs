//! Wall-clock benchmark of whole `preflight` runs: `cargo bench --bench startup`.
//!
//! Each scenario runs the release binary (or a reference command) many times and prints the
//! median, min and max, after one warm-up run (a second run by the user finds the page cache
//! warm too). Scenarios:
//!
//! - `--offline --only system` and `--only webcam`: the fixed cost of a run.
//! - The whole offline run on a real virtualenv (pyenv's Python for the default profile) whose
//!   site-packages holds 20,000 `.dist-info` folders plus the profile's pins; goal 50 ms,
//!   against `python -c pass` there, in turns. It is built once under target/ and reused while
//!   the Python and the pins stay the same.
//! - With `PREFLIGHT_BENCH_VENV` set to a virtualenv holding a real TensorFlow install: the
//!   whole offline run there against `python -c pass`, run in alternation so that both see the
//!   same load; goal at most 1.2x.

// Benchmarks build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/common/venv.rs"]
#[allow(dead_code)] // the tests' helpers for FIFOs and pip-less venvs are not used here
mod venv;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;
/// `.dist-info` folders in the large site-packages, besides the pins and pip's own.
const MANY_DISTRIBUTIONS: usize = 20_000;

fn time(label: &str, mut command: Command) -> Option<Duration> {
    command.stdout(Stdio::null()).stderr(Stdio::null());
    if command.status().is_err() {
        println!("{label:<48} could not start");
        return None;
    }
    let samples: Vec<Duration> = (0..RUNS).map(|_| elapsed(&mut command)).collect();
    Some(print_samples(label, samples))
}

fn elapsed(command: &mut Command) -> Duration {
    let started = Instant::now();
    let _ = command.status();
    started.elapsed()
}

/// Prints and returns the median.
fn print_samples(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let runs = samples.len();
    let median = samples[runs / 2];
    println!(
        "{label:<48} median {:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms   ({runs} runs)",
        ms(median),
        ms(samples[0]),
        ms(samples[runs - 1])
    );
    median
}

/// `a` and `b` run in turns, so that a change in the machine's load touches both alike;
/// returns both medians.
fn time_alternating(
    (label_a, mut a): (&str, Command),
    (label_b, mut b): (&str, Command),
) -> Option<(Duration, Duration)> {
    for (label, command) in [(label_a, &mut a), (label_b, &mut b)] {
        command.stdout(Stdio::null()).stderr(Stdio::null());
        if command.status().is_err() {
            println!("{label:<48} could not start");
            return None;
        }
    }
    let (mut samples_a, mut samples_b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        samples_a.push(elapsed(&mut a));
        samples_b.push(elapsed(&mut b));
    }
    Some((
        print_samples(label_a, samples_a),
        print_samples(label_b, samples_b),
    ))
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

/// What the default profile wants: its Python release (`3.8`) and its pins.
fn default_profile_wants() -> (Option<String>, Vec<String>) {
    use preflight::profile::{self, DEFAULT_PROFILE};
    let built_in = profile::built_in(DEFAULT_PROFILE).expect("the default profile is built in");
    let parsed = profile::parse(built_in.text, built_in.name, "built-in")
        .expect("the default profile parses");
    let pins = parsed.pins().map(|pin| pin.requirement.clone()).collect();
    (parsed.facts.python.release(), pins)
}

fn must(command: &mut Command, what: &str) {
    let status = command
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what} failed: {status}");
}

/// A name and version for the `n`th filler distribution, shaped like real ones: mixed case,
/// `_`, `-` and `.` separators, and some sharing a pin's first letters (`numpy_financial`,
/// `tensorflow_addons`, `pandas-stubs`) so that a prefix test alone cannot settle them.
fn filler(n: usize) -> (String, String) {
    const STEMS: [&str; 12] = [
        "tensorflow_addons",
        "numpy_financial",
        "pandas-stubs",
        "scipy_optimize_extras",
        "Pillow_heif",
        "azure.mgmt.compute",
        "google-cloud",
        "django_rest",
        "PyYAML_include",
        "jupyter.server",
        "types-requests",
        "zope.interface",
    ];
    let stem = STEMS[n % STEMS.len()];
    (
        format!("{stem}-x{n}"),
        format!("{}.{}.{}", n % 7, n % 13, n % 31),
    )
}

/// One `.dist-info` folder as pip leaves it: METADATA (headers, a blank line, the long
/// description), RECORD, INSTALLER.
fn write_dist_info(site: &Path, name: &str, version: &str) -> std::io::Result<()> {
    // The folder name is the wheel's: the name with runs of `-_.` as `_`.
    let wheel_name = name.replace(['-', '.'], "_");
    let dir = site.join(format!("{wheel_name}-{version}.dist-info"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name}, for the benchmark\nHome-page: https://example.invalid/{wheel_name}\nLicense: MIT\nRequires-Python: >=3.7\nDescription-Content-Type: text/markdown\n\n# {name}\n\n{}\n",
            "A long description follows the headers in real METADATA files. ".repeat(20)
        ),
    )?;
    let record_prefix = format!("{wheel_name}-{version}.dist-info");
    std::fs::write(
        dir.join("RECORD"),
        format!(
            "{wheel_name}/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n{record_prefix}/METADATA,,\n{record_prefix}/INSTALLER,,\n{record_prefix}/RECORD,,\n"
        ),
    )?;
    std::fs::write(dir.join("INSTALLER"), "pip\n")
}

/// A real virtualenv of `python` whose site-packages holds `MANY_DISTRIBUTIONS` filler
/// distributions and the pins at their versions, built under `dir` unless an earlier run
/// left a complete one for the same Python and pins.
fn crowded_venv(dir: &Path, python: &Path, pins: &[String]) -> PathBuf {
    let venv = dir.join("venv");
    let stamp = dir.join("complete");
    let key = format!(
        "{}\n{}\n{MANY_DISTRIBUTIONS}\n",
        python.display(),
        pins.join("\n")
    );
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str()) {
        return venv;
    }
    let _ = std::fs::remove_file(&stamp);
    let _ = std::fs::remove_dir_all(&venv);
    let started = Instant::now();
    must(
        Command::new(python).args(["-m", "venv"]).arg(&venv),
        "python -m venv",
    );
    let site = venv::site_packages(&venv);
    for pin in pins {
        let (name, version) = pin
            .split_once("==")
            .unwrap_or_else(|| panic!("pin `{pin}` names no single version"));
        write_dist_info(&site, name.trim(), version.trim()).expect("write a pin's metadata");
    }
    for n in 0..MANY_DISTRIBUTIONS {
        let (name, version) = filler(n);
        write_dist_info(&site, &name, &version).expect("write a filler distribution");
    }
    std::fs::write(&stamp, key).expect("write the stamp");
    println!(
        "(built {} in {:.1} s)",
        venv.display(),
        started.elapsed().as_secs_f64()
    );
    venv
}

fn crowded_site_packages() {
    let (release, pins) = default_profile_wants();
    let Some(release) = release else {
        println!("(skipped the 20,000-distribution run: the default profile names no Python)");
        return;
    };
    // The benchmark's main measurement: without pyenv's Python it fails, saying so.
    let python = venv::pyenv_python(&release);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-crowded-site-packages");
    let venv = crowded_venv(&dir, &python, &pins);
    let venv_arg = venv.to_string_lossy().into_owned();
    // The interpreter's own start is the floor: its `site` lists this site-packages too.
    let mut pass = Command::new(venv_python(&venv));
    pass.args(["-c", "pass"]);
    if let Some((full, bare)) = time_alternating(
        (
            "preflight --offline, 20,000 .dist-info",
            preflight(&["--offline", "--venv", &venv_arg]),
        ),
        ("python -c pass, 20,000 .dist-info", pass),
    ) {
        println!(
            "20,000 .dist-info: whole offline run {:.2} ms (goal 50 ms), {:.2}x an interpreter start",
            ms(full),
            ms(full) / ms(bare)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    time(
        "preflight --offline --only system",
        preflight(&["--offline", "--only", "system"]),
    );
    time("preflight --only webcam", preflight(&["--only", "webcam"]));
    crowded_site_packages();

    let Some(venv) = std::env::var_os("PREFLIGHT_BENCH_VENV").map(PathBuf::from) else {
        println!(
            "(set PREFLIGHT_BENCH_VENV to a venv with TensorFlow for the full-run comparison)"
        );
        return;
    };
    let venv_arg = venv.to_string_lossy().into_owned();
    let python = venv_python(&venv);
    let mut pass = Command::new(&python);
    pass.args(["-c", "pass"]);
    let Some((full, bare)) = time_alternating(
        (
            "preflight --offline (full profile)",
            preflight(&["--offline", "--venv", &venv_arg]),
        ),
        ("python -c pass", pass),
    ) else {
        return;
    };
    let mut pip_list = Command::new(&python);
    pip_list.args(["-m", "pip", "list", "--disable-pip-version-check"]);
    let pip = time("python -m pip list", pip_list);
    println!(
        "full run = {:.2}x an interpreter start (target <= 1.2)",
        ms(full) / ms(bare)
    );
    if let Some(pip) = pip {
        println!(
            "full run = {:.2}x pip list (target < 0.2)",
            ms(full) / ms(pip)
        );
    }
}
