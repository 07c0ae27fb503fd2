//! `python`: the interpreter the exam will use, its version, its virtualenv, its origin.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::thread::JoinHandle;

use pep440_rs::VersionSpecifiers;
use serde::Deserialize;

use crate::check::{Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, Stakes};
use crate::host::{OsFamily, exists, is_dir};
use crate::platform::shell::command_line;
use crate::python::PythonEnv;
use crate::python::commands::{create_venv_command, how_to_get, installed_python};
use crate::python::compat::{self, tensorflow_python_range};
use crate::python::discover::{Discovery, Located};
use crate::python::probe::{Probe, ProbeError};
use crate::python::wanted::Wanted;
use crate::report::{Category, Finding};

pub const KIND: Kind = Kind {
    name: "python",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// PEP 440 specifier the interpreter's version must meet, e.g. `==3.8.*`.
    version: String,
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    let version = VersionSpecifiers::from_str(&parsed.version).map_err(|e| {
        config.error(
            "version",
            format!("not a version specifier (like \"==3.8.*\"): {e}"),
        )
    })?;
    Ok(Box::new(Python {
        wanted: Wanted {
            spec: Some(version),
            tensorflow: config.profile.tensorflow.clone(),
        },
    }))
}

struct Python {
    /// The profile's Python: this check's `version`, and the profile's TensorFlow.
    wanted: Wanted,
}

/// Findings the interpreter must start for.
const STARTED_BY_INTERPRETER: &[&str] = &["python.interpreter"];

pub static INTERPRETER: FindingSpec = FindingSpec::fixed(
    "python.interpreter",
    Category::Python,
    "Interpreter",
    Stakes::Fact,
    [
        "Finds the exam's Python (--venv, $VIRTUAL_ENV, ./venv, ./.venv, ./env, else python3 on PATH) and starts it once.",
        "A virtualenv whose base interpreter was upgraded or removed no longer starts, and PyCharm cannot run the exam's code in it.",
        "Recreate the virtualenv with the Python the profile names (`python3.8 -m venv --clear DIR`) and reinstall the pinned packages.",
    ],
);

pub static VERSION: FindingSpec = FindingSpec::fixed(
    "python.version",
    Category::Python,
    "Python version",
    Stakes::Policy,
    [
        "The interpreter's version against the profile, and whether the pinned TensorFlow supports that Python at all.",
        "Each exam era pins one Python; pip cannot even install a pinned TensorFlow on a Python outside its range.",
        "Install the Python the profile names (from python.org) and create the exam virtualenv with it.",
    ],
)
.caused_by(STARTED_BY_INTERPRETER);

pub static VENV: FindingSpec = FindingSpec::fixed(
    "python.venv",
    Category::Python,
    "Virtualenv",
    Stakes::Fact,
    [
        "That the environment is a real virtualenv (pyvenv.cfg), that system site-packages do not leak in, and that pip is there.",
        "The exam plugin installs its pinned requirements into a virtualenv; packages leaking in from elsewhere shadow the pinned ones.",
        "Create a clean virtualenv: `python3.8 -m venv DIR`, without --system-site-packages.",
    ],
)
.caused_by(STARTED_BY_INTERPRETER);

pub static DISTRIBUTION: FindingSpec = FindingSpec::fixed(
    "python.distribution",
    Category::Python,
    "Python distribution",
    Stakes::Policy,
    [
        "Where the Python came from: python.org, pyenv, a distribution package, Homebrew, the Microsoft Store, or Anaconda.",
        "The handbooks say: Python from python.org, no Anaconda.",
        "Install Python from python.org and create the exam virtualenv with it.",
    ],
)
.caused_by(STARTED_BY_INTERPRETER);

pub static CERTIFICATES: FindingSpec = FindingSpec::fixed(
    "python.certificates",
    Category::Python,
    "CA certificates",
    Stakes::Fact,
    [
        "macOS: that the interpreter's OpenSSL has a CA file (ssl.get_default_verify_paths().openssl_cafile, or SSL_CERT_FILE).",
        "python.org's macOS Pythons ship without CA certificates until \"Install Certificates.command\" runs; until then the exam's dataset downloads fail with CERTIFICATE_VERIFY_FAILED.",
        "Run the Python's \"Install Certificates.command\": `open \"/Applications/Python 3.8/Install Certificates.command\"` (its own version's folder).",
    ],
)
.caused_by(STARTED_BY_INTERPRETER);

impl Check for Python {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&INTERPRETER, &VERSION, &VENV, &DISTRIBUTION, &CERTIFICATES]
    }

    fn wanted_python(&self) -> Option<&Wanted> {
        Some(&self.wanted)
    }

    fn start_early(&self, ctx: &Arc<Context>) -> Option<JoinHandle<()>> {
        ctx.start_shared::<PythonEnv>()
    }

    fn run(&self, ctx: &Context, _deadline: Deadline) -> Vec<Finding> {
        let env = ctx.shared::<PythonEnv>();
        vec![
            self.interpreter(ctx, &env, &INTERPRETER),
            self.version(ctx, &env, &VERSION),
            self.venv(ctx, &env, &VENV),
            distribution(&env, &DISTRIBUTION),
            match env.probe_ok() {
                Some(probe) => certificates(ctx.host.os, probe, &CERTIFICATES),
                None => not_started(&env, &CERTIFICATES),
            },
        ]
    }
}

/// The fix for a virtualenv on the wrong Python: recreate it with the wanted one, installing
/// that first only when this machine has none.
fn recreate_with_wanted(ctx: &Context, wanted: Option<&str>, dir: &Path) -> String {
    let command = create_venv_command(ctx, wanted, dir, true);
    let release = wanted.unwrap_or("3");
    let have_one = ctx.host.os != OsFamily::Windows
        && wanted.is_some_and(|release| installed_python(ctx, release).is_some());
    if have_one {
        format!("Recreate the virtualenv with the Python {release} installed here: `{command}`")
    } else {
        format!(
            "{}, then recreate the virtualenv with it: `{command}`",
            how_to_get(&ctx.host, release)
        )
    }
}

fn not_started(env: &PythonEnv, spec: &FindingSpec) -> Finding {
    match env.probe_timed_out() {
        Some(timed_out) => spec
            .finding()
            .skip(format!("not decided: {timed_out} (see python.interpreter)")),
        None => spec
            .finding()
            .skip("not decided: the interpreter did not start (see python.interpreter)"),
    }
}

impl Python {
    fn interpreter(&self, ctx: &Context, env: &PythonEnv, spec: &FindingSpec) -> Finding {
        let release = self.wanted.release();
        let wanted = release.as_deref();
        let located = match &env.discovery {
            Discovery::Found(located) => located,
            Discovery::Unusable {
                origin,
                path,
                reason,
                occupied,
            } => {
                let point = "Point --venv at the exam's virtualenv: the folder that holds pyvenv.cfg, or the interpreter PyCharm shows under Settings > Project > Python Interpreter";
                let finding = spec
                    .finding()
                    .fail(format!(
                        "{} ({}) {reason}",
                        path.display(),
                        origin.describe()
                    ))
                    .observe("path", path.display().to_string());
                // Something else is there: creating a virtualenv on top of it is no fix.
                return if *occupied {
                    finding.fix(format!("{point}."))
                } else {
                    finding.fix(format!(
                        "{point}; or create one there: `{}`",
                        create_venv_command(ctx, wanted, path, false)
                    ))
                };
            }
            Discovery::StoreAlias(alias) => {
                return spec
                    .finding()
                    .fail(format!(
                        "the Microsoft Store's python alias, not a Python: {} (no virtualenv given or found, and no Python installed)",
                        alias.display()
                    ))
                    .detail("Windows puts this stub on PATH; it offers to install Python from the Store and runs no code, so it was not started.")
                    .observe("alias", alias.display().to_string())
                    .fix(format!(
                        "{}, then create the exam virtualenv: `{}`",
                        how_to_get(&ctx.host, wanted.unwrap_or("3")),
                        create_venv_command(ctx, wanted, Path::new("venv"), false)
                    ));
            }
            Discovery::NoPython => {
                return spec
                    .finding()
                    .fail("no virtualenv given or found, and no python3 or python on PATH")
                    .fix(format!(
                        "{}, then create the exam virtualenv: `{}`",
                        how_to_get(&ctx.host, wanted.unwrap_or("3")),
                        create_venv_command(ctx, wanted, Path::new("venv"), false)
                    ));
            }
        };
        let finding = spec
            .finding()
            .observe("interpreter", located.interpreter.display().to_string())
            .observe("origin", located.origin.describe())
            .observe(
                "venv",
                located.venv.as_ref().map(|v| v.display().to_string()),
            );
        match env.probe.as_ref() {
            Some(Ok(probe)) => finding
                .pass(format!(
                    "{} ({})",
                    located.interpreter.display(),
                    located.origin.describe()
                ))
                .observe("executable", probe.executable.display().to_string()),
            Some(Err(error)) => self.broken(ctx, finding, located, error),
            None => finding.fail("the interpreter was not probed"),
        }
    }

    fn broken(
        &self,
        ctx: &Context,
        finding: Finding,
        located: &Located,
        error: &ProbeError,
    ) -> Finding {
        let release = self.wanted.release();
        let wanted = release.as_deref();
        let recreate = |dir: &Path| {
            format!(
                "Recreate the virtualenv, then reinstall the pinned packages: `{}`",
                create_venv_command(ctx, wanted, dir, true)
            )
        };
        let base_home = located.pyvenv_cfg.as_ref().and_then(|c| c.home.clone());
        match error {
            ProbeError::Missing(path) => match (&located.venv, base_home) {
                (Some(venv), Some(home)) if !exists(&home) => finding
                    .fail(format!(
                        "the virtualenv's base interpreter is gone: {} no longer exists",
                        home.display()
                    ))
                    .detail(format!(
                        "{} was made from the Python in {}, which was upgraded or removed; its `python` cannot start.",
                        venv.display(),
                        home.display()
                    ))
                    .observe("base_home", home.display().to_string())
                    .fix(recreate(venv)),
                (Some(venv), _) => finding
                    .fail(format!("no interpreter at {}", path.display()))
                    .fix(recreate(venv)),
                (None, _) => finding.fail(format!("{} is gone", path.display())),
            },
            ProbeError::TimedOut(after) => finding
                .fail(format!(
                    "{} did not answer within {:.1} s and was stopped",
                    located.interpreter.display(),
                    after.as_secs_f64()
                ))
                .detail("A sitecustomize or .pth file in the environment may hang at start-up.")
                .fix(match &located.venv {
                    Some(venv) => recreate(venv),
                    None => "Check that `python3 -c pass` returns; reinstall Python if it hangs.".into(),
                }),
            ProbeError::CannotStart(reason) => {
                let finding = finding.fail(format!(
                    "{} exists but cannot be started: {reason}",
                    located.interpreter.display()
                ));
                match &located.venv {
                    Some(venv) => finding.fix(recreate(venv)),
                    None => finding.fix("Reinstall Python from python.org."),
                }
            }
            ProbeError::Failed(message) => {
                let finding = finding.fail(format!("{} does not start: {message}", located.interpreter.display()));
                match &located.venv {
                    Some(venv) => finding.fix(recreate(venv)),
                    None => finding.fix("Reinstall Python from python.org."),
                }
            }
        }
    }

    fn version(&self, ctx: &Context, env: &PythonEnv, spec: &FindingSpec) -> Finding {
        let Some(probe) = env.probe_ok() else {
            return not_started(env, spec);
        };
        let Some(version) = probe.version() else {
            return spec
                .finding()
                .fail(format!("cannot read the version `{}`", probe.version));
        };
        let mut finding = spec
            .finding()
            .observe("version", version.to_string())
            .observe("wanted", self.wanted.describe());
        let dir = env
            .located()
            .and_then(|l| l.venv.clone())
            .unwrap_or_else(|| ctx.host.cwd.join("venv"));
        let fix = recreate_with_wanted(ctx, self.wanted.release().as_deref(), &dir);
        if let Some(tf) = &self.wanted.tensorflow
            && let Some((low, high)) = tensorflow_python_range(tf)
        {
            finding = finding.observe("tensorflow_supports", format!("{low}-{high}"));
            if let Err(range) = compat::supports(tf, &version) {
                return finding
                    .fail(format!(
                        "Python {version}: tensorflow {tf} supports Python {range} only, so pip cannot install it here"
                    ))
                    .fix(fix);
            }
        }
        if self.wanted.spec_allows(&version) {
            finding.pass(format!(
                "Python {version} (wanted {})",
                self.wanted.describe()
            ))
        } else {
            finding
                .fail_policy(format!(
                    "Python {version}, but the profile wants {}",
                    self.wanted.describe()
                ))
                .fix(fix)
        }
    }

    fn venv(&self, ctx: &Context, env: &PythonEnv, spec: &FindingSpec) -> Finding {
        let Some(located) = env.located() else {
            return spec.finding().skip("not decided: no environment was found");
        };
        let release = self.wanted.release();
        let wanted = release.as_deref();
        let Some(venv) = &located.venv else {
            return spec
                .finding()
                .warn(format!(
                    "not a virtualenv: {} is a system interpreter",
                    located.interpreter.display()
                ))
                .detail(
                    "The exam plugin installs its pinned packages into a virtualenv of its own.",
                )
                .fix(format!(
                    "Create one and pass it with --venv: `{}`",
                    create_venv_command(ctx, wanted, &ctx.host.cwd.join("venv"), false)
                ));
        };
        let finding = spec.finding().observe("path", venv.display().to_string());
        if let Some(unreadable) = &located.pyvenv_cfg_unreadable {
            return finding
                .fail(format!(
                    "{} {}",
                    venv.join("pyvenv.cfg").display(),
                    unreadable.reason
                ))
                .fix(format!(
                    "Recreate the virtualenv so that it has the pyvenv.cfg `python -m venv` writes: `{}`",
                    create_venv_command(ctx, wanted, venv, true)
                ));
        }
        let Some(cfg) = &located.pyvenv_cfg else {
            return finding
                .fail(format!(
                    "{} has no pyvenv.cfg: not a virtualenv made by `python -m venv`",
                    venv.display()
                ))
                .fix(format!(
                    "Create a real virtualenv: `{}`",
                    create_venv_command(ctx, wanted, venv, true)
                ));
        };
        let mut problems = Vec::new();
        if cfg.include_system_site_packages {
            problems.push(
                "system site-packages leak in (include-system-site-packages = true)".to_string(),
            );
        }
        let Some(probe) = env.probe_ok() else {
            let why = match env.probe_timed_out() {
                Some(_) => "interpreter did not answer in time",
                None => "interpreter did not start",
            };
            return if problems.is_empty() {
                finding.pass(format!("{} (pyvenv.cfg present; {why})", venv.display()))
            } else {
                finding.warn(problems.join("; "))
            };
        };
        problems.extend(leaks(probe));
        let finding = finding.observe("pip", probe.pip.as_ref().map(|p| p.display().to_string()));
        if let (None, Some(why)) = (&probe.pip, &probe.pip_incomplete) {
            // ensurepip leaves a pip of the same version as it is: only a new venv mends it.
            return finding
                .fail(format!("pip is incomplete in the virtualenv: {why}"))
                .details(problems)
                .fix(format!(
                    "Move it aside and build a new one: `preflight fix --yes --recreate --venv {}`",
                    venv.display()
                ));
        }
        if probe.pip.is_none() {
            let python = located.interpreter.display().to_string();
            return finding
                .fail("pip is missing from the virtualenv")
                .details(problems)
                .fix(command_line(
                    ctx.host.os,
                    &python,
                    &["-m", "ensurepip", "--upgrade"],
                ));
        }
        if problems.is_empty() {
            finding.pass(format!("{} (pip present, isolated)", venv.display()))
        } else {
            finding.warn(problems.join("; ")).fix(format!(
                "Recreate it without system site-packages: `{}`",
                create_venv_command(ctx, wanted, venv, true)
            ))
        }
    }
}

/// Package directories on `sys.path` from outside the environment: what shadows its pins.
fn leaks(probe: &Probe) -> Vec<String> {
    let mut found = Vec::new();
    if probe.user_site_enabled
        && let Some(user) = &probe.user_site
        && is_dir(user)
    {
        found.push(format!(
            "the user site-packages {} is on sys.path",
            user.display()
        ));
    }
    found.extend(
        probe
            .sys_path
            .iter()
            .filter(|p| p.ends_with("site-packages") && !p.starts_with(&probe.prefix))
            .filter(|p| Some(p.as_path()) != probe.user_site.as_deref())
            .map(|p| format!("{} is on sys.path from outside the virtualenv", p.display())),
    );
    found
}

/// What the base interpreter's paths and banner say about where it came from.
fn identify(base: &str, banner: &str, has_conda_meta: bool) -> (&'static str, bool) {
    let lower_banner = banner.to_ascii_lowercase();
    let base_lower = base.to_ascii_lowercase().replace('\\', "/");
    if has_conda_meta
        || ["anaconda", "conda-forge", "continuum"]
            .iter()
            .any(|m| lower_banner.contains(m))
        || ["conda", "miniforge", "mambaforge"]
            .iter()
            .any(|m| base_lower.contains(m))
    {
        return ("Anaconda/conda", false);
    }
    let origin = if base_lower.contains("/.pyenv/") || base_lower.contains("/pyenv-win/") {
        "pyenv"
    } else if base_lower.contains("windowsapps") {
        "Microsoft Store"
    } else if base_lower.starts_with("/library/frameworks/python.framework")
        || base_lower.contains("/programs/python/python")
        || base_lower.contains("program files/python")
    {
        "python.org"
    } else if base_lower.starts_with("/opt/homebrew")
        || base_lower.contains("/cellar/")
        || base_lower.contains("linuxbrew")
    {
        "Homebrew"
    } else if base_lower.starts_with("/usr") && !base_lower.starts_with("/usr/local") {
        "the OS's package"
    } else {
        "a local build"
    };
    (origin, true)
}

/// Whether Python can verify TLS servers on macOS, where python.org's Pythons need their
/// "Install Certificates.command" run first.
fn certificates(os: OsFamily, probe: &Probe, spec: &FindingSpec) -> Finding {
    if os != OsFamily::Macos {
        return spec.finding().skip(format!(
            "not checked on {}: python.org's Pythons lack CA certificates on macOS only",
            os.label()
        ));
    }
    let finding = spec
        .finding()
        .observe(
            "openssl_cafile",
            probe
                .openssl_cafile
                .as_ref()
                .map(|p| p.display().to_string()),
        )
        .observe(
            "cafile",
            probe.cafile.as_ref().map(|p| p.display().to_string()),
        );
    if let Some(cafile) = &probe.cafile {
        return finding.pass(format!("CA file {}", cafile.display()));
    }
    let Some(openssl_cafile) = &probe.openssl_cafile else {
        return finding.warn("the interpreter did not say where its CA certificates are");
    };
    let openssl_cafile = openssl_cafile.display();
    let finding = finding.fail(format!(
        "{openssl_cafile} does not exist: downloads over HTTPS (the exam's datasets) will fail with CERTIFICATE_VERIFY_FAILED"
    ));
    // python.org's framework build: /Library/Frameworks/Python.framework/Versions/3.8.
    let release = probe.version().map(|v| {
        v.release()
            .iter()
            .take(2)
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".")
    });
    let from_python_org = probe
        .base_prefix
        .starts_with("/Library/Frameworks/Python.framework/");
    match release {
        Some(release) if from_python_org => finding.fix(format!(
            "open \"/Applications/Python {release}/Install Certificates.command\""
        )),
        _ => finding.fix(format!(
            "Install CA certificates where this Python looks ({openssl_cafile}), or set SSL_CERT_FILE to a CA bundle; python.org's Pythons do it with \"Install Certificates.command\" in /Applications/Python X.Y."
        )),
    }
}

fn distribution(env: &PythonEnv, spec: &FindingSpec) -> Finding {
    let Some(located) = env.located() else {
        return spec.finding().skip("not decided: no environment was found");
    };
    let (base_path, banner) = match env.probe_ok() {
        Some(probe) => (probe.base_prefix.clone(), probe.version_banner.clone()),
        None => match located.pyvenv_cfg.as_ref().and_then(|c| c.home.clone()) {
            Some(home) => (home, String::new()),
            None => return not_started(env, spec),
        },
    };
    let base = base_path.display().to_string();
    let has_conda_meta = is_dir(base_path.join("conda-meta"))
        || base_path
            .parent()
            .is_some_and(|p| is_dir(p.join("conda-meta")));
    let (origin, allowed) = identify(&base, &banner, has_conda_meta);
    let finding = spec
        .finding()
        .observe("origin", origin)
        .observe("base_prefix", base.clone());
    if !allowed {
        return finding
            .fail_policy(format!("Anaconda/conda Python ({base}): the exam's handbooks forbid it"))
            .fix("Install Python from python.org and create the exam virtualenv with it; remove the Anaconda plugin from PyCharm.");
    }
    if origin == "Microsoft Store" {
        return finding
            .warn(format!(
                "Microsoft Store Python ({base}): the handbooks ask for python.org's"
            ))
            .fix("Install Python from python.org and create the exam virtualenv with it.");
    }
    finding.pass(format!("{origin} ({base})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifies_where_python_came_from() {
        assert_eq!(
            identify("/home/a/.pyenv/versions/3.8.18", "", false),
            ("pyenv", true)
        );
        assert!(!identify("/opt/anaconda3", "3.8.5 (default) [GCC 7.3.0]", false).1);
        assert!(!identify("/usr/local", "3.8.5 |Anaconda, Inc.| (default)", false).1);
        assert!(!identify("/x", "", true).1);
        assert_eq!(
            identify(
                "/Library/Frameworks/Python.framework/Versions/3.8",
                "",
                false
            )
            .0,
            "python.org"
        );
        assert_eq!(
            identify(
                "C:\\Users\\a\\AppData\\Local\\Programs\\Python\\Python38",
                "",
                false
            )
            .0,
            "python.org"
        );
        assert_eq!(
            identify(
                "C:\\Program Files\\WindowsApps\\PythonSoftwareFoundation.Python.3.8",
                "",
                false
            )
            .0,
            "Microsoft Store"
        );
        assert_eq!(
            identify("/opt/homebrew/opt/python@3.8/Frameworks", "", false).0,
            "Homebrew"
        );
        assert_eq!(identify("/usr", "", false).0, "the OS's package");
    }

    fn macos_probe(cafile: Option<&str>) -> Probe {
        Probe {
            version: "3.8.10".into(),
            base_prefix: "/Library/Frameworks/Python.framework/Versions/3.8".into(),
            openssl_cafile: Some(
                "/Library/Frameworks/Python.framework/Versions/3.8/etc/openssl/cert.pem".into(),
            ),
            openssl_cafile_exists: Some(cafile.is_some()),
            cafile: cafile.map(std::path::PathBuf::from),
            ..Probe::default()
        }
    }

    #[test]
    fn a_python_org_python_without_certificates_fails_with_the_command() {
        let f = certificates(OsFamily::Macos, &macos_probe(None), &CERTIFICATES);
        assert_eq!(f.status, crate::report::Status::Fail, "{f:?}");
        assert!(
            f.summary.contains("CERTIFICATE_VERIFY_FAILED"),
            "{}",
            f.summary
        );
        assert_eq!(
            f.fix.as_deref(),
            Some("open \"/Applications/Python 3.8/Install Certificates.command\"")
        );
        let cafile = "/Library/Frameworks/Python.framework/Versions/3.8/etc/openssl/cert.pem";
        let f = certificates(OsFamily::Macos, &macos_probe(Some(cafile)), &CERTIFICATES);
        assert_eq!(f.status, crate::report::Status::Pass, "{f:?}");
        // Elsewhere the check does not apply.
        let f = certificates(OsFamily::Linux, &macos_probe(None), &CERTIFICATES);
        assert_eq!(f.status, crate::report::Status::Skip, "{f:?}");
        // Not python.org's: no Install Certificates.command to name.
        let mut brew = macos_probe(None);
        brew.base_prefix =
            "/opt/homebrew/opt/python@3.8/Frameworks/Python.framework/Versions/3.8".into();
        let f = certificates(OsFamily::Macos, &brew, &CERTIFICATES);
        assert_eq!(f.status, crate::report::Status::Fail, "{f:?}");
        assert!(f.fix.unwrap().contains("SSL_CERT_FILE"));
    }
}
