//! `packages`: the pinned packages, read from their metadata; known breakages between them;
//! and, with `--deep`, importing them and training a tiny model (`python.deep`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pep440_rs::Version;
use serde::Deserialize;

use crate::check::{
    Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, RunOptions, Stakes,
};
use crate::host::canonicalize;
use crate::host::{Host, OsFamily};
use crate::python::PythonEnv;
use crate::python::commands::{pip_install, unset_variable};
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
        "Known breakages that the packages' metadata does not declare, one table (docs/exam-facts.md): numpy 2 under TensorFlow before 2.18; protobuf 4.21 or later under TensorFlow before 2.12; a keras whose minor release differs from TensorFlow's (2.6 to 2.15); numpy 1.24 or later under TensorFlow 2.6 or older; PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION set in the environment the interpreter gets.",
        "Each of them makes `import tensorflow` or the first `tf.keras` call fail while the installed metadata looks consistent, so pip check can say nothing is broken. PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python only warns: it works, slower.",
        "Run the printed command: the virtualenv's pip installs the profile's pin (or a known-good range); a variable is unset in this shell, and must also go where it is set (a shell profile, the PyCharm run configuration's environment).",
    ],
)
.caused_by(&["python.interpreter"]);

pub static DEEP: FindingSpec = FindingSpec::fixed(
    "python.deep",
    Category::Python,
    "Import and train (--deep)",
    Stakes::Fact,
    [
        "With --deep: imports each pinned package, compares its __version__ with the metadata, and when TensorFlow is pinned builds and fits one tiny model per exam category on random data: a Dense regression, a Conv2D + MaxPooling image classifier, an Embedding + Bidirectional LSTM text classifier over padded sequences, and a windowed tf.data time series with Conv1D + LSTM. Each model is its own step, timed (shown with -v).",
        "Metadata can say a package is there while importing it fails (a missing DLL, a CPU without AVX, numpy 2), and some breakages show only when a layer is built (numpy 1.20 under TensorFlow 2.4/2.5 fails in LSTM layers only).",
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
        wanted.extend(["tensorflow", "numpy", "protobuf", "keras"].map(String::from));
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
        findings.push(self.compat(&COMPAT, &found, &located_python(&env), &ctx.host));
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
        host: &Host,
    ) -> Finding {
        let version = |key: &str| found.get(key).and_then(|i| i.version.as_ref().ok());
        let tf_installed = std::iter::once("tensorflow")
            .chain(TENSORFLOW_VARIANTS.iter().copied())
            .find_map(version);
        let installed = compat::Versions {
            tensorflow: tf_installed.or(self.tensorflow.as_ref()),
            numpy: version("numpy"),
            protobuf: version("protobuf"),
            keras: version("keras"),
            protobuf_implementation: host.env(compat::PROTOBUF_IMPLEMENTATION),
        };
        let breakages = compat::known_breakages(&installed, &self.pins);
        if breakages.is_empty() {
            return spec.finding().pass("no known-broken combination installed");
        }
        let whose = if tf_installed.is_some() {
            ""
        } else {
            " (the profile's tensorflow)"
        };
        let mut finding = spec.finding().observe(
            "breakages",
            breakages
                .iter()
                .map(|b| serde_json::json!({"row": b.row, "what": b.what, "fails": b.fails, "source": b.source}))
                .collect::<Vec<_>>(),
        );
        for b in &breakages {
            finding = finding.detail(format!("{}: {} ({})", b.what, b.effect, b.source));
        }
        finding = finding.fix(breakage_fix(host.os, python, &breakages));
        let summary = breakages
            .iter()
            .map(|b| b.what.as_str())
            .collect::<Vec<_>>()
            .join("; ")
            + whose;
        if breakages.iter().any(|b| b.fails) {
            finding.fail(summary)
        } else {
            finding.warn(summary)
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
        let imports: Vec<deep::Import> = self
            .pins
            .iter()
            .map(|pin| {
                let installed = answer(pin, found);
                deep::Import {
                    dist: installed.map_or_else(|| pin.name.clone(), |i| i.name.clone()),
                    module: deep::module_of(&pin.key),
                    metadata_version: installed
                        .and_then(|i| i.version.as_ref().ok())
                        .map(|v| v.to_string()),
                }
            })
            .collect();
        let tensorflow_pinned = imports.iter().any(|i| i.module == "tensorflow");
        let ran = deep::run(
            &ctx.host,
            &located.interpreter,
            &imports,
            tensorflow_pinned,
            deadline.step().min(ctx.options.deep_timeout),
        );
        deep::judge(spec.finding(), &imports, tensorflow_pinned, ran)
    }
}

/// One command line that repairs every breakage: the variables unset, then one pip install.
fn breakage_fix(os: OsFamily, python: &str, breakages: &[compat::Breakage]) -> String {
    let mut steps: Vec<String> = Vec::new();
    let mut requirements: Vec<&str> = Vec::new();
    for b in breakages {
        match &b.remedy {
            compat::Remedy::Unset(name) => {
                let command = unset_variable(os, name);
                if !steps.contains(&command) {
                    steps.push(command);
                }
            }
            compat::Remedy::Install(req) if !requirements.contains(&req.as_str()) => {
                requirements.push(req)
            }
            compat::Remedy::Install(_) => {}
        }
    }
    if !requirements.is_empty() {
        steps.push(pip_install(os, python, &requirements));
    }
    steps.join("; ")
}
