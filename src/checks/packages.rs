//! `packages`: the pinned packages, read from their metadata; known breakages between them;
//! and, with `--deep`, importing them and training a tiny model (`python.deep`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pep440_rs::Version;
use serde::Deserialize;

use crate::check::{
    Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, RunOptions, Stakes,
};
use crate::host::canonicalize;
use crate::host::{OsFamily, ProcessError};
use crate::python::PythonEnv;
use crate::python::commands::pip_install;
use crate::python::compat::{self, TENSORFLOW_VARIANTS, arm64_tensorflow};
use crate::python::deep;
use crate::python::discover::{Discovery, Located, locate};
use crate::python::dist::{Installed, first_found, installed_in, normalize};
use crate::python::venv::venv_site_packages;
use crate::python::wanted::Pin;
use crate::report::{Category, Finding};

pub const KIND: Kind = Kind {
    name: "packages",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Requirement lines as in requirements.txt: `tensorflow==2.9.0`, `numpy>=1.19.2`, `Pillow`.
    pins: Vec<String>,
}

/// The finding of one pin.
fn pin_spec(pin: &Pin) -> FindingSpec {
    FindingSpec::configured(
        format!("packages.{}", pin.key),
        Category::Packages,
        pin.name.clone(),
        Stakes::Policy,
        [
            format!("The installed version of {} against `{}`, read from its .dist-info metadata.", pin.name, pin.requirement),
            "The exam's code and the plugin's tests expect exactly the pinned versions of this era. A missing package always fails; a version other than the pin fails unless the profile softens pins (severity = \"warn\").".into(),
            format!("Install the pin into the exam virtualenv: `python -m pip install \"{}\"`.", pin.requirement),
        ],
    )
    // A pin cannot install while the interpreter does not start or the pinned
    // TensorFlow does not support its Python.
    .caused_by(&["python.interpreter", "python.version"])
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    let mut pins: Vec<Pin> = Vec::new();
    for (index, line) in parsed.pins.iter().enumerate() {
        let pin = Pin::parse(line).map_err(|e| config.item_error("pins", index, e))?;
        if pins.iter().any(|p| p.key == pin.key) {
            return Err(config.item_error(
                "pins",
                index,
                format!("`{}` is pinned twice", pin.name),
            ));
        }
        pins.push(pin);
    }
    Ok(Box::new(Packages {
        specs: pins.iter().map(pin_spec).collect(),
        pins,
        tensorflow: config.profile.tensorflow.clone(),
    }))
}

struct Packages {
    pins: Vec<Pin>,
    /// One per pin, in pin order.
    specs: Vec<FindingSpec>,
    tensorflow: Option<Version>,
}

pub static COMPAT: FindingSpec = FindingSpec::fixed(
    "packages.compat",
    Category::Packages,
    "Known breakages",
    Stakes::Fact,
    [
        "Pairs of installed packages known not to work together, such as numpy 2.x under a TensorFlow before 2.16.",
        "TensorFlow before 2.16 was built against numpy 1.x: with numpy 2, `import tensorflow` fails (\"Unable to convert function return value to a Python type\").",
        "Install a numpy 1.x release (the profile's pin, or `numpy<2`).",
    ],
)
.caused_by(&["python.interpreter"]);

pub static DEEP: FindingSpec = FindingSpec::fixed(
    "python.deep",
    Category::Python,
    "Import and train (--deep)",
    Stakes::Fact,
    [
        "With --deep: imports each pinned package, compares its __version__ with the metadata, and trains a tiny Keras model on random data when TensorFlow is pinned.",
        "Metadata can say a package is there while importing it fails (a missing DLL, a CPU without AVX, numpy 2).",
        "Follow the hint printed with the import error; a crash by SIGILL (exit code 0xC000001D on Windows) means the CPU lacks AVX.",
    ],
)
.caused_by(&["python.interpreter"]);

impl Check for Packages {
    fn specs(&self) -> Vec<&FindingSpec> {
        self.specs.iter().chain([&COMPAT, &DEEP]).collect()
    }

    fn pins(&self) -> &[Pin] {
        &self.pins
    }

    fn timeout(&self, options: &RunOptions) -> Duration {
        if options.deep {
            options.timeout + options.deep_timeout
        } else {
            options.timeout
        }
    }

    fn start_early(&self, ctx: &Arc<Context>) -> Option<JoinHandle<()>> {
        ctx.start_shared::<PythonEnv>()
    }

    fn run(&self, ctx: &Context, deadline: Deadline) -> Vec<Finding> {
        let mut wanted: Vec<String> = self.pins.iter().map(|p| p.key.clone()).collect();
        wanted.extend(TENSORFLOW_VARIANTS.iter().map(|v| v.to_string()));
        wanted.extend(["tensorflow".to_string(), "numpy".to_string()]);
        let (env, early) = read_while_probing(ctx, &wanted);
        let Some(located) = env.located() else {
            return self
                .specs()
                .iter()
                .map(|spec| {
                    spec.finding().skip(
                        "not decided: no Python environment was found (see python.interpreter)",
                    )
                })
                .collect();
        };
        let site = env.site_packages(&ctx.host);
        let found = first_found(site.iter().map(|dir| {
            let same = canonicalize(dir).ok();
            early
                .iter()
                .find(|(read, _)| same.is_some() && canonicalize(read).ok() == same)
                .map(|(_, found)| found.clone())
                .unwrap_or_else(|| installed_in(dir, &wanted))
        }));
        let python_version = env.probe_ok().and_then(|p| p.version());
        let timed_out = env.probe_timed_out();

        let mut findings: Vec<Finding> = self
            .pins
            .iter()
            .zip(&self.specs)
            .map(|(pin, spec)| judge(pin, spec, &found, python_version.as_ref()))
            .map(|finding| match &timed_out {
                Some(timed_out) => finding.detail(format!(
                    "Read from the virtualenv's own site-packages: {timed_out}."
                )),
                None => finding,
            })
            .collect();
        let apple_silicon = ctx.host.os == OsFamily::Macos
            && (ctx.host.facts.arch == "aarch64"
                || env.probe_ok().and_then(|p| p.machine.as_deref()) == Some("arm64"));
        let mut failing: Vec<String> = Vec::new();
        for (pin, finding) in self.pins.iter().zip(findings.iter_mut()) {
            if finding.status != crate::report::Status::Fail {
                continue;
            }
            if apple_silicon
                && pin.key == "tensorflow"
                && let Some(tf) = pin.version()
            {
                let python = python_version.as_ref().and_then(|v| match v.release() {
                    [major, minor, ..] => Some((*major, *minor)),
                    _ => None,
                });
                match arm64_tensorflow(&tf, python) {
                    Some("tensorflow") => {}
                    Some(package) => {
                        failing.push(format!("{package}{}", pin.spec));
                        continue;
                    }
                    None => {
                        if finding.fix.is_none() {
                            finding.fix = Some(format!(
                                "No build of tensorflow {tf} exists for Apple Silicon (tensorflow has arm64 wheels from 2.13, tensorflow-macos from 2.5): sit this exam era on an x86-64 machine whose CPU has AVX."
                            ));
                        }
                        continue;
                    }
                }
            }
            failing.push(pin.requirement.clone());
        }
        let failing: Vec<&str> = failing.iter().map(String::as_str).collect();
        if !failing.is_empty() {
            let command = pip_install(
                ctx.host.os,
                &located.interpreter.display().to_string(),
                &failing,
            );
            for f in findings
                .iter_mut()
                .filter(|f| f.status == crate::report::Status::Fail && f.fix.is_none())
            {
                f.fix = Some(command.clone());
            }
        }
        findings.push(self.compat(&COMPAT, &found, &located_python(&env), ctx.host.os));
        findings.push(self.deep(ctx, deadline, &DEEP, &env, &found));
        findings
    }
}

/// A site-packages and the pins' metadata found in it.
type ReadEarly = (PathBuf, BTreeMap<String, Installed>);

/// The shared environment, and meanwhile, on a thread of its own, the pins' metadata in the
/// virtualenv's site-packages as its layout names them: a site-packages with thousands of
/// distributions is read while the interpreter starts, not after it answered. Which
/// site-packages count is still the interpreter's to say; the caller uses these where they
/// are the same directories.
fn read_while_probing(ctx: &Context, wanted: &[String]) -> (Arc<PythonEnv>, Vec<ReadEarly>) {
    // Paths only: no process is started to find the virtualenv.
    let layout = match locate(&ctx.host, &ctx.options) {
        Discovery::Found(Located {
            venv: Some(venv), ..
        }) => venv_site_packages(&ctx.host, &venv),
        _ => Vec::new(),
    };
    std::thread::scope(|scope| {
        let reading = (!layout.is_empty()).then(|| {
            scope.spawn(|| {
                layout
                    .iter()
                    .map(|dir| (dir.clone(), installed_in(dir, wanted)))
                    .collect::<Vec<_>>()
            })
        });
        let env = ctx.shared::<PythonEnv>();
        let early = reading.and_then(|r| r.join().ok()).unwrap_or_default();
        (env, early)
    })
}

fn located_python(env: &PythonEnv) -> String {
    env.located()
        .map(|l| l.interpreter.display().to_string())
        .unwrap_or_else(|| "python".into())
}

/// The installed distribution that answers `pin`: itself, or a TensorFlow variant.
fn answer<'a>(pin: &Pin, found: &'a BTreeMap<String, Installed>) -> Option<&'a Installed> {
    found.get(&pin.key).or_else(|| {
        (pin.key == "tensorflow")
            .then(|| TENSORFLOW_VARIANTS.iter().find_map(|v| found.get(*v)))
            .flatten()
    })
}

fn judge(
    pin: &Pin,
    spec: &FindingSpec,
    found: &BTreeMap<String, Installed>,
    python: Option<&Version>,
) -> Finding {
    let finding = spec.finding().observe("wanted", pin.spec.to_string());
    let Some(installed) = answer(pin, found) else {
        if pin.key == "tensorflow"
            && let (Some(python), Some(tf)) = (python, pin.version())
            && let Err(range) = compat::supports(&tf, python)
        {
            return finding
                .fail(format!(
                    "not installed, and cannot be: tensorflow {tf} supports Python {range}, this is Python {python}"
                ))
                .fix("First recreate the virtualenv with a supported Python (see python.version), then install the pins.");
        }
        let wanted = if pin.spec.is_empty() {
            String::new()
        } else {
            format!(" (wanted {})", pin.spec)
        };
        return finding.fail(format!("not installed{wanted}"));
    };
    let finding = finding
        .observe("distribution", installed.name.clone())
        .observe("metadata", installed.metadata.display().to_string());
    let as_variant = if normalize(&installed.name) != pin.key {
        format!(" (as {})", installed.name)
    } else {
        String::new()
    };
    match &installed.version {
        Err(problem) => finding.fail(format!(
            "installed, but its metadata is unusable: {problem}"
        )),
        Ok(version) => {
            let finding = finding.observe("version", version.to_string());
            if pin.spec.contains(version) {
                finding.pass(format!("{version}{as_variant}"))
            } else {
                finding.fail_policy(format!(
                    "{version}{as_variant} installed, wanted {}",
                    pin.spec
                ))
            }
        }
    }
}

impl Packages {
    fn compat(
        &self,
        spec: &FindingSpec,
        found: &BTreeMap<String, Installed>,
        python: &str,
        os: OsFamily,
    ) -> Finding {
        let numpy = found.get("numpy").and_then(|i| i.version.as_ref().ok());
        let tf_installed = std::iter::once("tensorflow")
            .chain(TENSORFLOW_VARIANTS.iter().copied())
            .find_map(|k| found.get(k))
            .and_then(|i| i.version.as_ref().ok().map(|v| (i.name.clone(), v.clone())));
        let tf = tf_installed.clone().or_else(|| {
            self.tensorflow
                .clone()
                .map(|v| ("tensorflow".to_string(), v))
        });
        match (numpy, tf) {
            (Some(numpy), Some((tf_name, tf))) if compat::breaks_with_numpy(&tf, numpy) => {
                let numpy_pin = self
                    .pins
                    .iter()
                    .find(|p| p.key == "numpy")
                    .map_or_else(|| "numpy<2".to_string(), |p| p.requirement.clone());
                let whose = if tf_installed.is_some() {
                    "installed"
                } else {
                    "the profile's"
                };
                spec
                    .finding()
                    .fail(format!("numpy {numpy} with {whose} {tf_name} {tf}: `import tensorflow` will fail"))
                    .detail("TensorFlow before 2.16 was built against numpy 1.x; under numpy 2 it fails with \"Unable to convert function return value to a Python type\".")
                    .observe("numpy", numpy.to_string())
                    .observe("tensorflow", tf.to_string())
                    .fix(pip_install(os, python, &[&numpy_pin]))
            }
            _ => spec.finding().pass("no known-broken combination installed"),
        }
    }

    fn deep(
        &self,
        ctx: &Context,
        deadline: Deadline,
        spec: &FindingSpec,
        env: &PythonEnv,
        found: &BTreeMap<String, Installed>,
    ) -> Finding {
        if !ctx.options.deep {
            return spec
                .finding()
                .skip("not run: pass --deep to import the packages and train a tiny model");
        }
        let (Some(located), Some(_)) = (env.located(), env.probe_ok()) else {
            return spec
                .finding()
                .fail("could not run: the interpreter did not start (see python.interpreter)");
        };
        // Every pin is imported, installed or not: a missing one fails here too, with the
        // interpreter's own words, so --deep can never pass for an environment that lacks one.
        let imports: Vec<(String, String, Option<String>)> = self
            .pins
            .iter()
            .map(|pin| {
                let installed = answer(pin, found);
                let dist = installed.map_or_else(|| pin.name.clone(), |i| i.name.clone());
                let version = installed
                    .and_then(|i| i.version.as_ref().ok())
                    .map(|v| v.to_string());
                (dist, deep::module_of(&pin.key), version)
            })
            .collect();
        let tensorflow_pinned = imports.iter().any(|(_, module, _)| module == "tensorflow");
        let modules: Vec<(&str, &str)> = imports
            .iter()
            .map(|(dist, module, _)| (dist.as_str(), module.as_str()))
            .collect();
        let run = deep::run(
            &ctx.host,
            &located.interpreter,
            &modules,
            tensorflow_pinned,
            deadline.step().min(ctx.options.deep_timeout),
        );
        let (output, steps) = match run {
            Ok(ran) => ran,
            Err(ProcessError::TimedOut { after, .. }) => {
                return spec
                    .finding()
                    .fail(format!("importing and training did not finish within {:.1} s", after.as_secs_f64()))
                    .fix("Run again with a longer deadline (`--deep-timeout SECS`); a first TensorFlow import can be slow on a cold disk.");
            }
            Err(e) => {
                return spec
                    .finding()
                    .fail(format!("could not run the interpreter: {e}"));
            }
        };
        let mut finding = spec.finding().observe("steps", steps.clone());
        if let Some(crash) = output.crash() {
            let done = steps.iter().filter(|s| s.get("import").is_some()).count();
            let during = match imports.get(done) {
                Some((dist, _, _)) => format!("while importing {dist}"),
                None => "while training the model".to_string(),
            };
            finding = finding
                .observe("crash", crash.name.clone())
                .fail(format!("Python crashed with {} {during}", crash.name));
            return if crash.illegal_instruction {
                finding
                    .detail("The CPU lacks an instruction TensorFlow's wheel was built for, usually AVX.")
                    .fix("Use a machine whose CPU has AVX, or on Apple Silicon a native arm64 Python with tensorflow-macos.")
            } else {
                finding.details(last_lines(&output.stderr, 3))
            };
        }
        let mut failures = Vec::new();
        let mut mismatches = Vec::new();
        for (dist, _, metadata_version) in &imports {
            let Some(step) = steps.iter().find(|s| s["import"] == dist.as_str()) else {
                failures.push(format!("{dist}: the import run ended before reaching it"));
                continue;
            };
            if step["ok"] == true {
                if let (Some(imported), Some(meta)) = (step["version"].as_str(), metadata_version)
                    && Version::from_str(imported).ok() != Version::from_str(meta).ok()
                {
                    mismatches.push(format!("{dist}: imported {imported}, metadata says {meta}"));
                }
            } else {
                let error = deep::exception_text(step);
                finding = finding.details(hint(&error)).details(deep::causes(step));
                failures.push(format!("import {dist}: {error}"));
            }
        }
        if !failures.is_empty() {
            return finding.fail(failures.join("; "));
        }
        if !output.status.success() {
            return finding
                .fail(format!(
                    "the import run exited with {}",
                    output
                        .status
                        .code()
                        .map_or("no code".to_string(), |c| c.to_string())
                ))
                .details(last_lines(&output.stderr, 3));
        }
        let mut summary = match imports.len() {
            1 => "imported 1 package".to_string(),
            n => format!("imported {n} packages"),
        };
        if tensorflow_pinned {
            match steps.iter().find(|s| s.get("train").is_some()) {
                Some(step) if step["ok"] == true => {
                    let seconds = step["seconds"].as_f64().unwrap_or(0.0);
                    finding = finding.observe("train_seconds", seconds);
                    summary.push_str(&format!("; a tiny Keras model trained in {seconds:.1} s"));
                }
                Some(step) => {
                    let error = deep::exception_text(step);
                    return finding
                        .details(hint(&error))
                        .details(deep::causes(step))
                        .fail(format!("training a tiny model failed: {error}"));
                }
                None => {
                    return finding
                        .fail("the training step did not report (the import run ended early)");
                }
            }
        }
        if mismatches.is_empty() {
            finding.pass(summary)
        } else {
            finding
                .warn(format!("{summary}, but versions disagree"))
                .details(mismatches)
                .fix("Another copy shadows the installed one: look for stray packages on PYTHONPATH or in the user site-packages.")
        }
    }
}

/// The last non-empty lines a crashed process wrote, for context.
fn last_lines(text: &str, count: usize) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|l| l.chars().take(300).collect())
        .collect()
}

/// What to try for a well-known import error.
fn hint(error: &str) -> Vec<String> {
    let mut hints = Vec::new();
    if error.contains("Unable to convert function return value")
        || error.contains("numpy.core.multiarray failed")
        || error.contains("_ARRAY_API")
    {
        hints.push("hint: numpy 2.x under a TensorFlow built for numpy 1.x: install the profile's numpy pin (or `numpy<2`).".into());
    }
    if error.contains("_no_nep50_warning") {
        hints.push("hint: this numpy is too old for the installed TensorFlow: numpy 1.23.0 or later fixes it.".into());
    }
    if error.contains("DLL load failed") {
        hints.push(
            "hint: on Windows, install the latest Microsoft Visual C++ Redistributable.".into(),
        );
    }
    if error.contains("CERTIFICATE_VERIFY_FAILED") {
        hints.push(
            "hint: on macOS with python.org's Python, run \"Install Certificates.command\".".into(),
        );
    }
    hints
}
