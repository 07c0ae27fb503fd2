//! `pip check`'s truth from metadata, without starting pip: every installed distribution's
//! `Requires-Dist`, evaluated as pip evaluates it (PEP 508 markers against the probed
//! interpreter, no extra, pre-releases allowed), and, as `uv pip check` adds, a
//! `Requires-Python` that excludes this interpreter, a name installed twice, and a wheel
//! whose tags cannot run here. Unreadable metadata is a problem of its own, never skipped.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};
use pep508_rs::{
    MarkerEnvironment, MarkerEnvironmentBuilder, Requirement, VerbatimUrl, VersionOrUrl,
};
use serde_json::{Value, json};

use super::PythonEnv;
use super::commands::pip_install;
use super::dist::{Distribution, distributions_in, normalize};
use super::probe::Probe;
use super::tags::{Interpreter, parse_glibc};
use super::wanted::Pin;
use crate::check::{Context, FindingSpec};
use crate::host::canonicalize;
use crate::platform::shell::command_line;
use crate::report::Finding;

/// PEP 508's marker environment from the probe's answer; why not, when a value is missing or
/// not a version.
pub fn marker_environment(probe: &Probe) -> Result<MarkerEnvironment, String> {
    let get = |key: &str| {
        probe
            .markers
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("the interpreter did not report `{key}`"))
    };
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: get("implementation_name")?,
        implementation_version: get("implementation_version")?,
        os_name: get("os_name")?,
        platform_machine: get("platform_machine")?,
        platform_python_implementation: get("platform_python_implementation")?,
        platform_release: get("platform_release")?,
        platform_system: get("platform_system")?,
        platform_version: get("platform_version")?,
        python_full_version: get("python_full_version")?,
        python_version: get("python_version")?,
        sys_platform: get("sys_platform")?,
    })
    .map_err(|e| format!("the interpreter's marker values do not parse: {e}"))
}

/// What wheel tags the probed interpreter runs.
pub fn tag_interpreter(probe: &Probe) -> Option<Interpreter> {
    let version = probe.version()?;
    let (major, minor) = match version.release() {
        [major, minor, ..] => (*major, *minor),
        _ => return None,
    };
    Some(Interpreter {
        implementation: probe.markers.get("implementation_name")?.clone(),
        major,
        minor,
        abiflags: probe.abiflags.clone().unwrap_or_default(),
        debug_build: probe.debug_build,
        pointer_bits: probe.pointer_bits.unwrap_or(64),
        sys_platform: probe.markers.get("sys_platform")?.clone(),
        machine: probe.markers.get("platform_machine")?.clone(),
        glibc: probe.libc.as_deref().and_then(parse_glibc),
    })
}

/// What kind of problem, in `pip check`'s and `uv pip check`'s terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A requirement whose distribution is not installed (pip check).
    Missing,
    /// A requirement the installed version does not satisfy (pip check).
    Conflict,
    /// Metadata that cannot be read or parsed (pip check warns; uv names it).
    Unreadable,
    /// `Requires-Python` excludes this interpreter (uv).
    RequiresPython,
    /// One name, two metadata folders (uv).
    Duplicate,
    /// The wheel's tags cannot run on this interpreter (pip 24.2+, uv).
    Platform,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::Conflict => "conflict",
            Kind::Unreadable => "unreadable",
            Kind::RequiresPython => "requires_python",
            Kind::Duplicate => "duplicate",
            Kind::Platform => "platform",
        }
    }
}

/// One broken fact about the installed distributions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    /// The distribution the problem is about (the requiring one for a requirement), as its
    /// metadata names it.
    pub distribution: String,
    /// Its version, when readable.
    pub version: Option<String>,
    /// The requirement as pip prints it (`protobuf<3.20,>=3.9.2`), or the `Requires-Python`.
    pub requirement: Option<String>,
    /// The required distribution's normalized name.
    pub required: Option<String>,
    /// The installed version of the required distribution; `None` when missing.
    pub installed: Option<String>,
    /// The metadata folders concerned.
    pub paths: Vec<PathBuf>,
    /// For unreadable metadata, why; for a platform problem, the wheel's tags.
    pub reason: Option<String>,
    /// Inside the dependency closure of the profile's pins.
    pub in_closure: bool,
}

impl Problem {
    /// One line in the issue's words: "tensorboard 2.9.1 requires protobuf<3.20,>=3.9.2, but
    /// protobuf 4.21.12 is installed".
    pub fn sentence(&self, python: &str) -> String {
        let who = match &self.version {
            Some(v) => format!("{} {v}", self.distribution),
            None => self.distribution.clone(),
        };
        let requirement = self.requirement.as_deref().unwrap_or("");
        let required = self.required.as_deref().unwrap_or("");
        let installed = self.installed.as_deref().unwrap_or("");
        let reason = self.reason.as_deref().unwrap_or("");
        let paths = || {
            self.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        };
        match self.kind {
            Kind::Missing => format!("{who} requires {requirement}, which is not installed"),
            Kind::Conflict => {
                format!("{who} requires {requirement}, but {required} {installed} is installed")
            }
            Kind::Unreadable => format!("{who}: its metadata cannot be read: {reason}"),
            Kind::RequiresPython => {
                format!("{who} requires Python {requirement}, but this is Python {python}")
            }
            Kind::Duplicate => format!(
                "{} is installed twice ({}); Python uses the first",
                self.distribution,
                paths()
            ),
            Kind::Platform => {
                format!("{who} was built for another platform (wheel tags {reason})")
            }
        }
    }

    /// The problem as data, for the JSON report.
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.as_str(),
            "distribution": self.distribution,
            "version": self.version,
            "requirement": self.requirement,
            "required": self.required,
            "installed": self.installed,
            "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "reason": self.reason,
            "in_closure": self.in_closure,
        })
    }
}

/// A distribution as the check judges it: the first of its name along the search path.
struct InUse<'a> {
    dist: &'a Distribution,
    name: String,
    version: Option<Version>,
    /// Requirements that apply here (markers true), parsed.
    requires: Vec<(Requirement<VerbatimUrl>, String)>,
}

/// What the check found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub problems: Vec<Problem>,
    /// How many distributions were read (every metadata folder).
    pub distributions: usize,
    /// The normalized names in the pins' dependency closure that are installed.
    pub closure: BTreeSet<String>,
    /// For each required name, every applying specifier on it (from every requirer), for a
    /// fix that satisfies them all: name as written, extras, specifier strings.
    pub wanted: BTreeMap<String, Wanted>,
}

#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub name: String,
    pub extras: BTreeSet<String>,
    pub specifiers: Vec<VersionSpecifier>,
}

impl Wanted {
    /// The requirement for `pip install` that satisfies every requirer: the tightest lower
    /// and upper bounds, the exclusions inside them, and any exact or compatible-release
    /// specifier as written: `protobuf>=3.19.5,<3.20`.
    pub fn requirement(&self) -> String {
        use pep440_rs::Operator::*;
        let extras = if self.extras.is_empty() {
            String::new()
        } else {
            format!(
                "[{}]",
                self.extras.iter().cloned().collect::<Vec<_>>().join(",")
            )
        };
        let mut lower: Option<&VersionSpecifier> = None;
        let mut upper: Option<&VersionSpecifier> = None;
        let mut kept: Vec<&VersionSpecifier> = Vec::new();
        for s in &self.specifiers {
            match s.operator() {
                GreaterThan | GreaterThanEqual => {
                    let tighter = lower.is_none_or(|l| {
                        s.version() > l.version()
                            || (s.version() == l.version() && *s.operator() == GreaterThan)
                    });
                    if tighter {
                        lower = Some(s);
                    }
                }
                LessThan | LessThanEqual => {
                    let tighter = upper.is_none_or(|u| {
                        s.version() < u.version()
                            || (s.version() == u.version() && *s.operator() == LessThan)
                    });
                    if tighter {
                        upper = Some(s);
                    }
                }
                _ => kept.push(s),
            }
        }
        let bounds: Vec<&VersionSpecifier> = lower.into_iter().chain(upper).collect();
        // An exclusion outside the bounds excludes nothing more.
        kept.retain(|s| {
            !matches!(s.operator(), NotEqual | NotEqualStar)
                || bounds.iter().all(|b| b.contains(s.version()))
        });
        let mut parts: Vec<String> = lower.iter().map(|s| s.to_string()).collect();
        parts.extend(kept.iter().map(|s| s.to_string()));
        parts.extend(upper.iter().map(|s| s.to_string()));
        let mut unique: Vec<String> = Vec::new();
        for part in parts {
            if !unique.contains(&part) {
                unique.push(part);
            }
        }
        format!("{}{extras}{}", self.name, unique.join(","))
    }
}

/// Judge the distributions (each site-packages in `sys.path` order, each's in file-name
/// order) against `markers`, `python` (the interpreter's full version) and its wheel `tags`;
/// `roots` are the pins' normalized names.
pub fn check(
    dirs: &[Vec<Distribution>],
    markers: &MarkerEnvironment,
    python: &Version,
    tags: Option<&Interpreter>,
    roots: &[String],
) -> Outcome {
    let mut outcome = Outcome {
        distributions: dirs.iter().map(Vec::len).sum(),
        ..Outcome::default()
    };
    let mut by_name: BTreeMap<String, Vec<&Distribution>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for dist in dirs.iter().flatten() {
        let key = normalize(dist.name());
        if !by_name.contains_key(&key) {
            order.push(key.clone());
        }
        by_name.entry(key).or_default().push(dist);
    }
    let mut problems: Vec<Problem> = Vec::new();
    let mut in_use: BTreeMap<String, InUse> = BTreeMap::new();
    for key in &order {
        let all = &by_name[key];
        let dist = all[0];
        if all.len() > 1 {
            problems.push(Problem {
                kind: Kind::Duplicate,
                distribution: dist.name().to_string(),
                version: None,
                requirement: None,
                required: None,
                installed: None,
                paths: all.iter().map(|d| d.path.clone()).collect(),
                reason: None,
                in_closure: false,
            });
        }
        if let Some(used) = judge_one(dist, markers, python, tags, &mut problems) {
            in_use.insert(key.clone(), used);
        }
    }
    for key in &order {
        let Some(used) = in_use.get(key) else {
            continue;
        };
        for (requirement, written) in &used.requires {
            let required = requirement.name.as_ref().to_string();
            let specifiers = match &requirement.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(s)) => Some(s),
                _ => None,
            };
            let entry = outcome
                .wanted
                .entry(required.clone())
                .or_insert_with(|| Wanted {
                    name: written_name(written).to_string(),
                    ..Wanted::default()
                });
            entry
                .extras
                .extend(requirement.extras.iter().map(|e| e.to_string()));
            entry
                .specifiers
                .extend(specifiers.iter().flat_map(|s| s.iter()).cloned());
            let problem = |kind, installed: Option<String>| Problem {
                kind,
                distribution: used.name.clone(),
                version: used.version.as_ref().map(Version::to_string),
                requirement: Some(pip_requirement(written, specifiers)),
                required: Some(required.clone()),
                installed,
                paths: vec![used.dist.path.clone()],
                reason: None,
                in_closure: false,
            };
            match by_name.contains_key(&required) {
                false => problems.push(problem(Kind::Missing, None)),
                true => {
                    // An unreadable required distribution is named as such already.
                    let Some(installed) = in_use.get(&required).and_then(|d| d.version.as_ref())
                    else {
                        continue;
                    };
                    if specifiers.is_some_and(|s| !s.contains(installed)) {
                        problems.push(problem(Kind::Conflict, Some(installed.to_string())));
                    }
                }
            }
        }
    }
    outcome.closure = closure(roots, &in_use);
    for problem in &mut problems {
        problem.in_closure = outcome.closure.contains(&normalize(&problem.distribution));
    }
    // What fails first, then by distribution: the order says nothing else.
    problems.sort_by(|a, b| {
        (!a.in_closure, normalize(&a.distribution), a.kind).cmp(&(
            !b.in_closure,
            normalize(&b.distribution),
            b.kind,
        ))
    });
    outcome.problems = problems;
    outcome
}

/// Read one distribution's facts; `None` (with a problem) when its metadata is unusable.
fn judge_one<'a>(
    dist: &'a Distribution,
    markers: &MarkerEnvironment,
    python: &Version,
    tags: Option<&Interpreter>,
    problems: &mut Vec<Problem>,
) -> Option<InUse<'a>> {
    let unreadable = |reason: String, version: Option<String>| Problem {
        kind: Kind::Unreadable,
        distribution: dist.name().to_string(),
        version,
        requirement: None,
        required: None,
        installed: None,
        paths: vec![dist.path.clone()],
        reason: Some(reason),
        in_closure: false,
    };
    let headers = match &dist.headers {
        Ok(h) => h,
        Err(reason) => {
            problems.push(unreadable(reason.clone(), None));
            return None;
        }
    };
    let version = match headers.version.as_deref().map(Version::from_str) {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            problems.push(unreadable(format!("its version does not parse: {e}"), None));
            return None;
        }
        None => {
            problems.push(unreadable("it has no Version header".into(), None));
            return None;
        }
    };
    let shown = Some(version.to_string());
    let mut requires = Vec::new();
    for line in &headers.requires_dist {
        match Requirement::<VerbatimUrl>::from_str(line) {
            Ok(r) => {
                if r.evaluate_markers(markers, &[]) {
                    requires.push((r, line.clone()));
                }
            }
            Err(e) => {
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                problems.push(unreadable(
                    format!("Requires-Dist `{line}` does not parse: {first}"),
                    shown.clone(),
                ));
                return None;
            }
        }
    }
    if let Some(spec) = headers.requires_python.as_deref() {
        match VersionSpecifiers::from_str(spec) {
            Ok(s) if !s.contains(python) => problems.push(Problem {
                kind: Kind::RequiresPython,
                distribution: dist.name().to_string(),
                version: shown.clone(),
                requirement: Some(spec.to_string()),
                required: None,
                installed: Some(python.to_string()),
                paths: vec![dist.path.clone()],
                reason: None,
                in_closure: false,
            }),
            Ok(_) => {}
            Err(e) => problems.push(unreadable(
                format!("Requires-Python `{spec}` does not parse: {e}"),
                shown.clone(),
            )),
        }
    }
    match (&dist.wheel_tags, tags) {
        (Some(Err(reason)), _) => problems.push(unreadable(reason.clone(), shown.clone())),
        (Some(Ok(wheel)), Some(tags)) if !tags.supports_any(wheel) => problems.push(Problem {
            kind: Kind::Platform,
            distribution: dist.name().to_string(),
            version: shown.clone(),
            requirement: None,
            required: None,
            installed: None,
            paths: vec![dist.path.clone()],
            reason: Some(if wheel.is_empty() {
                "none".into()
            } else {
                format!("{}; this is {}", wheel.join(", "), tags.describe())
            }),
            in_closure: false,
        }),
        _ => {}
    }
    Some(InUse {
        dist,
        name: dist.name().to_string(),
        version: Some(version),
        requires,
    })
}

/// The names reached from `roots` along requirements that apply here. A pinned `tensorflow`
/// that is not installed under that name is answered by the variant that is (`tensorflow-cpu`,
/// `tensorflow-macos`...), whose requirements are followed instead.
fn closure(roots: &[String], in_use: &BTreeMap<String, InUse>) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    if roots.iter().any(|r| r == "tensorflow") && !in_use.contains_key("tensorflow") {
        queue.extend(
            super::compat::TENSORFLOW_VARIANTS
                .iter()
                .map(|v| v.to_string())
                .filter(|v| in_use.contains_key(v)),
        );
    }
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(used) = in_use.get(&name) {
            queue.extend(
                used.requires
                    .iter()
                    .map(|(r, _)| r.name.as_ref().to_string()),
            );
        }
    }
    seen
}

/// The project name at the start of a requirement line, as written (`Iota_Pkg`).
fn written_name(line: &str) -> &str {
    let line = line.trim_start();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    &line[..end]
}

/// A requirement as pip check prints it: the name as written, then the specifiers sorted as
/// strings and joined by commas (`protobuf<3.20,>=3.9.2`); markers left out.
fn pip_requirement(line: &str, specifiers: Option<&VersionSpecifiers>) -> String {
    let mut parts: Vec<String> = specifiers
        .map(|s| s.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    parts.sort();
    format!("{}{}", written_name(line), parts.join(","))
}

/// Site-packages read while the interpreter starts, with their distributions.
pub type ReadEarly = Vec<(PathBuf, Vec<Distribution>)>;

/// Every distribution in each of `dirs`.
pub fn read(dirs: &[PathBuf]) -> ReadEarly {
    dirs.iter()
        .map(|dir| (dir.clone(), distributions_in(dir)))
        .collect()
}

/// The `packages.dependencies` finding: the distributions of the site-packages the
/// interpreter sees (its own and, when enabled, the user site), in `sys.path` order, judged
/// against its answer; `early` holds those already read while it started.
pub fn finding(
    spec: &FindingSpec,
    ctx: &Context,
    env: &PythonEnv,
    early: ReadEarly,
    pins: &[Pin],
) -> Finding {
    let finding = spec.finding();
    let Some(located) = env.located() else {
        return finding
            .skip("not decided: no Python environment was found (see python.interpreter)");
    };
    let Some(probe) = env.probe_ok() else {
        let why = env
            .probe_timed_out()
            .unwrap_or_else(|| "the interpreter did not answer".into());
        // python.interpreter fails for it: the run is not ready either way.
        return finding.skip(format!("not decided: {why} (see python.interpreter)"));
    };
    let markers = match marker_environment(probe) {
        Ok(m) => m,
        Err(e) => return finding.error(format!("not decided: {e}")),
    };
    let Some(python) = probe
        .markers
        .get("python_full_version")
        .and_then(|v| Version::from_str(v).ok())
        .or_else(|| probe.version())
    else {
        return finding.error("not decided: the interpreter's version does not parse");
    };
    let mut dirs = env.site_packages(&ctx.host);
    // First along sys.path wins, as in pip.
    dirs.sort_by_key(|d| {
        probe
            .sys_path
            .iter()
            .position(|p| p == d)
            .unwrap_or(usize::MAX)
    });
    let mut early = early;
    let read: Vec<Vec<Distribution>> = dirs
        .iter()
        .map(|dir| {
            let same = canonicalize(dir).ok();
            match early
                .iter()
                .position(|(read, _)| same.is_some() && canonicalize(read).ok() == same)
            {
                Some(at) => early.swap_remove(at).1,
                None => distributions_in(dir),
            }
        })
        .collect();
    let roots: Vec<String> = pins.iter().map(|p| p.key.clone()).collect();
    let tags = tag_interpreter(probe);
    let outcome = check(&read, &markers, &python, tags.as_ref(), &roots);
    let python_text = python.to_string();
    let finding = finding
        .observe("distributions", outcome.distributions)
        .observe("closure", outcome.closure.len())
        .observe(
            "problems",
            Value::Array(outcome.problems.iter().map(Problem::to_json).collect()),
        );
    let problems = &outcome.problems;
    if problems.is_empty() {
        return finding.pass(format!(
            "{} distributions, every installed requirement holds",
            outcome.distributions
        ));
    }
    let lines: Vec<String> = problems
        .iter()
        .map(|p| {
            let sentence = p.sentence(&python_text);
            if p.in_closure {
                sentence
            } else {
                format!("{sentence} (outside the pins' dependencies)")
            }
        })
        .collect();
    let summary = match problems.len() {
        1 => problems[0].sentence(&python_text),
        n => format!(
            "{} (and {} more)",
            problems[0].sentence(&python_text),
            n - 1
        ),
    };
    let finding = finding.details(lines).fix(fix(
        ctx,
        &located.interpreter.display().to_string(),
        probe,
        &outcome,
        pins,
    ));
    if problems.iter().any(|p| p.in_closure) {
        finding.fail(summary)
    } else {
        finding.warn(summary)
    }
}

/// The command that repairs the problems, for this shell: the venv's pip installing every
/// requirer's range of each broken requirement at once (a pinned one as its pin), or
/// reinstalling a distribution built for another Python; what to do where no command can.
fn fix(ctx: &Context, python: &str, probe: &Probe, outcome: &Outcome, pins: &[Pin]) -> String {
    let as_pinned = |name: &str| {
        pins.iter()
            .find(|p| p.key == name)
            .map(|p| p.requirement.clone())
    };
    let mut install: Vec<String> = Vec::new();
    let mut reinstall: Vec<String> = Vec::new();
    let mut other = false;
    // Inside the closure first: those are what the exam needs.
    for problem in &outcome.problems {
        let target = match problem.kind {
            Kind::Missing | Kind::Conflict => problem.required.clone(),
            Kind::RequiresPython | Kind::Platform => Some(normalize(&problem.distribution)),
            Kind::Duplicate | Kind::Unreadable => {
                other = true;
                None
            }
        };
        let Some(name) = target else { continue };
        let requirement = as_pinned(&name).unwrap_or_else(|| match outcome.wanted.get(&name) {
            Some(wanted) => wanted.requirement(),
            None => name.clone(),
        });
        let list = match problem.kind {
            Kind::Missing | Kind::Conflict => &mut install,
            _ => &mut reinstall,
        };
        if !list.contains(&requirement) {
            list.push(requirement);
        }
    }
    let pip_first = if probe.pip.is_none() {
        format!(
            "This environment has no pip: first run `{}`, then ",
            command_line(ctx.host.os, python, &["-m", "ensurepip", "--upgrade"])
        )
    } else {
        String::new()
    };
    let command = if !install.is_empty() {
        let requirements: Vec<&str> = install.iter().map(String::as_str).collect();
        Some(pip_install(ctx.host.os, python, &requirements))
    } else if !reinstall.is_empty() {
        let mut args: Vec<&str> = vec!["--force-reinstall", "--no-deps"];
        args.extend(reinstall.iter().map(String::as_str));
        Some(pip_install(ctx.host.os, python, &args))
    } else {
        None
    };
    let rest = "recreate the virtualenv (or remove the stray metadata folder named above)";
    match (command, other) {
        (Some(command), false) => format!("{pip_first}{command}"),
        (Some(command), true) => format!("{pip_first}{command}; and {rest}"),
        (None, _) => {
            let mut text = rest.to_string();
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::dist::Headers;

    pub(crate) fn env(system: &str, sys_platform: &str, machine: &str) -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.8.18",
            os_name: if system == "Windows" { "nt" } else { "posix" },
            platform_machine: machine,
            platform_python_implementation: "CPython",
            platform_release: "6.1.0",
            platform_system: system,
            platform_version: "#1 SMP",
            python_full_version: "3.8.18",
            python_version: "3.8",
            sys_platform,
        })
        .unwrap()
    }

    fn dist(name: &str, version: &str, requires: &[&str]) -> Distribution {
        Distribution {
            path: PathBuf::from(format!("/sp/{name}-{version}.dist-info")),
            folder_name: name.to_string(),
            headers: Ok(Headers {
                name: Some(name.into()),
                version: Some(version.into()),
                requires_dist: requires.iter().map(|r| r.to_string()).collect(),
                requires_python: None,
            }),
            wheel_tags: None,
        }
    }

    fn sentences(outcome: &Outcome) -> Vec<String> {
        outcome
            .problems
            .iter()
            .map(|p| p.sentence("3.8.18"))
            .collect()
    }

    #[test]
    fn the_issues_protobuf_and_keras_cases_in_its_words() {
        let linux = env("Linux", "linux", "x86_64");
        let python = Version::from_str("3.8.18").unwrap();
        let dirs = vec![vec![
            dist(
                "tensorflow",
                "2.9.0",
                &["keras (<2.10.0,>=2.9.0rc0)", "protobuf (>=3.9.2)"],
            ),
            dist("tensorboard", "2.9.1", &["protobuf (<3.20,>=3.9.2)"]),
            dist("protobuf", "4.21.12", &[]),
            dist("black", "23.1", &["click>=8.0.0"]),
        ]];
        let roots = vec!["tensorflow".to_string()];
        let outcome = check(&dirs, &linux, &python, None, &roots);
        assert_eq!(
            sentences(&outcome),
            [
                "tensorflow 2.9.0 requires keras<2.10.0,>=2.9.0rc0, which is not installed",
                "black 23.1 requires click>=8.0.0, which is not installed",
                "tensorboard 2.9.1 requires protobuf<3.20,>=3.9.2, but protobuf 4.21.12 is installed",
            ]
        );
        // tensorboard is not required by tensorflow here: outside the closure, as black is.
        let inside: Vec<bool> = outcome.problems.iter().map(|p| p.in_closure).collect();
        assert_eq!(inside, [true, false, false]);
        // The fix's range satisfies every requirer of protobuf at once.
        let mut several = outcome.wanted["protobuf"].clone();
        several.specifiers.extend(
            VersionSpecifiers::from_str(">=3.13,<4,!=4.21.1,!=3.19.1,<6.0.0.dev0")
                .unwrap()
                .iter()
                .cloned(),
        );
        assert_eq!(several.requirement(), "protobuf>=3.13,!=3.19.1,<3.20");
        assert_eq!(
            outcome.wanted["protobuf"].requirement(),
            "protobuf>=3.9.2,<3.20"
        );
        assert_eq!(
            outcome.wanted["keras"].requirement(),
            "keras>=2.9.0rc0,<2.10.0"
        );
    }

    /// On Windows `tensorflow` (2.11 and later) is a shim requiring `tensorflow-intel` by
    /// marker (research-21 section 6.0b): followed there, never elsewhere.
    #[test]
    fn tensorflow_intel_is_followed_by_marker() {
        let shim = dist(
            "tensorflow",
            "2.12.0",
            &[
                "tensorflow-intel (==2.12.0) ; platform_system == \"Windows\"",
                "tensorflow-cpu-aws (==2.12.0) ; platform_system == \"Linux\" and (platform_machine == \"arm64\" or platform_machine == \"aarch64\")",
            ],
        );
        let intel = dist(
            "tensorflow-intel",
            "2.12.0",
            &["keras (<2.13,>=2.12.0)", "numpy (<1.24,>=1.22)"],
        );
        let python = Version::from_str("3.8.18").unwrap();
        let roots = vec!["tensorflow".to_string()];
        let windows = env("Windows", "win32", "AMD64");
        let dirs = vec![vec![
            shim.clone(),
            intel.clone(),
            dist("keras", "2.12.0", &[]),
            dist("numpy", "1.23.5", &[]),
        ]];
        let outcome = check(&dirs, &windows, &python, None, &roots);
        assert!(outcome.problems.is_empty(), "{:?}", sentences(&outcome));
        assert!(outcome.closure.contains("keras"));
        // Without tensorflow-intel on Windows: pip check's own "which is not installed".
        let outcome = check(&[vec![shim.clone()]], &windows, &python, None, &roots);
        assert_eq!(
            sentences(&outcome),
            ["tensorflow 2.12.0 requires tensorflow-intel==2.12.0, which is not installed"]
        );
        assert!(outcome.problems[0].in_closure);
        // On Linux x86-64 neither marker holds: nothing is required, nothing followed.
        let linux = env("Linux", "linux", "x86_64");
        let outcome = check(&[vec![shim.clone()]], &linux, &python, None, &roots);
        assert!(outcome.problems.is_empty(), "{:?}", sentences(&outcome));
        // A tensorflow-intel installed there anyway is judged as pip judges it, but outside
        // the closure: its missing requirements warn.
        let outcome = check(&[vec![shim, intel]], &linux, &python, None, &roots);
        assert!(!outcome.closure.contains("tensorflow-intel"));
        assert_eq!(outcome.problems.len(), 2);
        assert!(outcome.problems.iter().all(|p| !p.in_closure));
    }

    /// A `tensorflow` pin answered by `tensorflow-macos` follows that one's requirements.
    #[test]
    fn a_pinned_tensorflow_answered_by_a_variant_is_followed() {
        let mac = env("Darwin", "darwin", "arm64");
        let python = Version::from_str("3.8.18").unwrap();
        let dirs = vec![vec![dist(
            "tensorflow-macos",
            "2.12.0",
            &["keras (<2.13,>=2.12.0)"],
        )]];
        let outcome = check(&dirs, &mac, &python, None, &["tensorflow".to_string()]);
        assert_eq!(
            sentences(&outcome),
            ["tensorflow-macos 2.12.0 requires keras<2.13,>=2.12.0, which is not installed"]
        );
        assert!(outcome.problems[0].in_closure);
    }

    #[test]
    fn markers_extras_prereleases_and_unreadable_metadata() {
        let linux = env("Linux", "linux", "x86_64");
        let python = Version::from_str("3.8.18").unwrap();
        let mut broken = dist("broken", "1.0", &["??bad"]);
        broken.path = PathBuf::from("/sp/broken-1.0.dist-info");
        let mut unreadable = dist("gone", "1.0", &[]);
        unreadable.headers = Err("cannot read /sp/gone-1.0.dist-info/METADATA: denied".into());
        let mut highpy = dist("highpy", "1.0", &[]);
        if let Ok(h) = highpy.headers.as_mut() {
            h.requires_python = Some(">=3.9".into());
        }
        let dirs = vec![vec![
            dist(
                "alpha",
                "1.0",
                &[
                    "delta; extra == \"x\"",
                    "epsilon; python_version < \"3\"",
                    "zeta>=1.0",
                    "eta<2",
                    "theta>=1; sys_platform == \"linux\"",
                ],
            ),
            dist("zeta", "1.1rc1", &[]),
            dist("eta", "2.0.dev1", &[]),
            broken,
            unreadable,
            highpy,
        ]];
        let outcome = check(&dirs, &linux, &python, None, &[]);
        assert_eq!(
            sentences(&outcome),
            [
                "alpha 1.0 requires theta>=1, which is not installed",
                "alpha 1.0 requires eta<2, but eta 2.0.dev1 is installed",
                "broken 1.0: its metadata cannot be read: Requires-Dist `??bad` does not parse: Expected package name starting with an alphanumeric character, found `?`",
                "gone: its metadata cannot be read: cannot read /sp/gone-1.0.dist-info/METADATA: denied",
                "highpy 1.0 requires Python >=3.9, but this is Python 3.8.18",
            ]
        );
    }

    #[test]
    fn a_name_installed_twice_is_named_with_both_folders() {
        let linux = env("Linux", "linux", "x86_64");
        let python = Version::from_str("3.8.18").unwrap();
        let dirs = vec![vec![dist("dup", "1.0", &[])], vec![dist("Dup", "2.0", &[])]];
        let outcome = check(&dirs, &linux, &python, None, &["dup".into()]);
        assert_eq!(outcome.problems.len(), 1);
        assert_eq!(outcome.problems[0].kind, Kind::Duplicate);
        assert_eq!(outcome.problems[0].paths.len(), 2);
        assert!(outcome.problems[0].in_closure);
    }

    #[test]
    fn the_marker_environment_comes_from_the_probe() {
        let probe = Probe::parse(
            "version=3.8.18\nmarker_implementation_name=cpython\nmarker_implementation_version=3.8.18\nmarker_os_name=posix\nmarker_sys_platform=linux\nmarker_python_version=3.8\nmarker_python_full_version=3.8.18\nmarker_platform_python_implementation=CPython\nmarker_platform_system=Linux\nmarker_platform_release=6.18.44-fc-v1252\nmarker_platform_version=#1 SMP PREEMPT_DYNAMIC @0\nmarker_platform_machine=x86_64\nabiflags=\ndebug_build=False\npointer_bits=64\nlibc=glibc 2.36\n",
        )
        .unwrap();
        let env = marker_environment(&probe).unwrap();
        let holds = |line: &str| {
            Requirement::<VerbatimUrl>::from_str(line)
                .unwrap()
                .evaluate_markers(&env, &[])
        };
        assert!(holds(
            "a; python_version >= \"3.8\" and sys_platform == \"linux\""
        ));
        assert!(holds(
            "a; platform_release >= \"6\" and os_name == \"posix\""
        ));
        assert!(!holds("a; platform_system == \"Windows\""));
        assert!(!holds("a; python_full_version < \"3.8.1\""));
        // Markers of the real TensorFlow 2.9 venv that packaging evaluates true there.
        for line in [
            "cffi>=1.14 ; python_full_version == '3.8.*' and platform_python_implementation != 'PyPy'",
            "typing-extensions>=4.13.2 ; python_full_version < '3.11'",
            "numpy (>=1.18.5) ; platform_machine != \"aarch64\" and platform_machine != \"arm64\" and python_version < \"3.10\"",
            "importlib-resources ; python_version < \"3.9\"",
            "zipp >=3.1.0 ; python_version < \"3.10\"",
            "importlib-metadata >=4.4 ; python_version < \"3.10\"",
        ] {
            assert!(holds(line), "{line}");
        }
        let tags = tag_interpreter(&probe).unwrap();
        assert_eq!(tags.glibc, Some((2, 36)));
        assert!(tags.supports("cp38-cp38-manylinux2014_x86_64"));
        // A probe that did not report a marker value says which.
        let old = Probe::parse("version=2.7.18\n").unwrap();
        assert!(
            marker_environment(&old)
                .unwrap_err()
                .contains("implementation_name")
        );
    }
}
