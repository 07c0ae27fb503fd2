//! The report model: what every check produces, and the one verdict every output reads.

use serde::Serialize;
use serde_json::{Map, Value};

/// The sections of a report, in the order a candidate fixes them, which is also the order of
/// the report's sections and of its "What to do" steps: the machine, the Python the virtualenv
/// is made from and the virtualenv, its pins, PyCharm and its plugin, the camera, the network.
/// `Ord` is this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    System,
    Python,
    Packages,
    Pycharm,
    Webcam,
    Network,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::System,
        Category::Python,
        Category::Packages,
        Category::Pycharm,
        Category::Webcam,
        Category::Network,
    ];

    /// The name used in ids, `--only`/`--skip` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::System => "system",
            Category::Python => "python",
            Category::Packages => "packages",
            Category::Pycharm => "pycharm",
            Category::Network => "network",
            Category::Webcam => "webcam",
        }
    }

    /// The heading people read.
    pub fn heading(self) -> &'static str {
        match self {
            Category::System => "System",
            Category::Python => "Python",
            Category::Packages => "Packages",
            Category::Pycharm => "PyCharm",
            Category::Network => "Network",
            Category::Webcam => "Webcam",
        }
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The JSON report's schema version; bump it when a field changes meaning or disappears.
/// 2: `error` status and `summary.error`; `summary.strict` and `summary.verdict`, and
/// `summary.ready` now follows `--strict`; `softened` on each finding.
pub const SCHEMA_VERSION: u32 = 2;

/// A finding's outcome, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    /// Could not decide: the check overran its deadline or crashed. Never a pass.
    Error,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Error => "error",
            Status::Fail => "fail",
        }
    }

    /// Counts against "ready" (warnings only under `--strict`).
    pub fn is_problem(self, strict: bool) -> bool {
        match self {
            Status::Fail | Status::Error => true,
            Status::Warn => strict,
            Status::Pass | Status::Skip => false,
        }
    }
}

/// One line of the report: a single fact about the machine, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub category: Category,
    pub title: String,
    pub status: Status,
    pub summary: String,
    pub details: Vec<String>,
    pub fix: Option<String>,
    pub observed: Map<String, Value>,
    pub duration_ms: u64,
    /// A policy failure the profile's `severity = "warn"` turned into a warning.
    pub softened: bool,
    /// The id of the failing finding this one follows from (its root cause), set by
    /// [`link_causes`]; `None` for a root cause or a finding that holds.
    pub caused_by: Option<String>,
    /// The spec's candidate causes, read by [`link_causes`].
    #[serde(skip)]
    pub(crate) causes: &'static [&'static str],
    /// This failure misses only the profile's policy (see [`Finding::fail_policy`]).
    #[serde(skip)]
    pub(crate) policy_only: bool,
}

impl Finding {
    pub fn new(id: impl Into<String>, category: Category, title: impl Into<String>) -> Self {
        Finding {
            id: id.into(),
            category,
            title: title.into(),
            status: Status::Pass,
            summary: String::new(),
            details: Vec::new(),
            fix: None,
            observed: Map::new(),
            duration_ms: 0,
            softened: false,
            caused_by: None,
            causes: &[],
            policy_only: false,
        }
    }

    fn with_status(mut self, status: Status, summary: impl Into<String>) -> Self {
        self.status = status;
        self.summary = summary.into();
        self.policy_only = false;
        self
    }

    pub fn pass(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Pass, summary)
    }

    pub fn warn(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Warn, summary)
    }

    /// The environment cannot work, or does not hold what it must: fails under any profile.
    pub fn fail(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Fail, summary)
    }

    /// The environment misses the profile's policy only (a version other than the pin): a
    /// profile's `severity = "warn"` may soften this to a warning, when the spec's stakes
    /// are [`Stakes::Policy`](crate::check::Stakes::Policy).
    pub fn fail_policy(self, summary: impl Into<String>) -> Self {
        let mut finding = self.with_status(Status::Fail, summary);
        finding.policy_only = true;
        finding
    }

    /// Could not decide (a deadline passed, the check crashed).
    pub fn error(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Error, summary)
    }

    pub fn skip(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Skip, summary)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    pub fn details<I, S>(mut self, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.details.extend(lines.into_iter().map(Into::into));
        self
    }

    pub fn observe(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.observed.insert(key.to_string(), value.into());
        self
    }

    /// Turn a policy-only failure into a warning, saying so.
    pub(crate) fn soften(&mut self) {
        debug_assert!(self.status == Status::Fail && self.policy_only);
        self.status = Status::Warn;
        self.softened = true;
        self.details.push(
            "a warning, not a failure: the profile softens its policy here (severity = \"warn\")"
                .into(),
        );
    }
}

/// Link each finding that does not hold to the finding that explains it: the first of its
/// spec's causes that failed or could not be decided, followed to its own root. A policy miss
/// (a Python other than the pin that still installs the pins) explains nothing else. Links
/// already set are kept; what counts as a problem does not change.
pub fn link_causes(findings: &mut [Finding]) {
    let explains = |f: &Finding| matches!(f.status, Status::Fail | Status::Error) && !f.policy_only;
    let direct: Vec<Option<usize>> = findings
        .iter()
        .map(|f| {
            if f.status == Status::Pass || f.caused_by.is_some() {
                return None;
            }
            f.causes.iter().find_map(|id| {
                findings
                    .iter()
                    .position(|c| c.id == *id && c.id != f.id && explains(c))
            })
        })
        .collect();
    for i in 0..findings.len() {
        let Some(mut root) = direct[i] else { continue };
        // Causes form chains (a pin, the Python version, the interpreter); a chain is never
        // longer than the report, which also stops a cycle a profile could build.
        for _ in 0..findings.len() {
            match direct[root] {
                Some(next) if next != i => root = next,
                _ => break,
            }
        }
        findings[i].caused_by = Some(findings[root].id.clone());
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub verified: bool,
    /// One of preflight's own profiles, whose renders recall the exam program's rules.
    #[serde(skip)]
    pub built_in: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostInfo {
    /// The machine's host name, so organisers can tell reports apart.
    pub name: Option<String>,
    pub os: String,
    pub os_version: Option<String>,
    pub arch: String,
}

/// The exit code of a run whose verdict is ready (with or without warnings), and of a
/// command that did what it was asked.
pub const EXIT_READY: u8 = 0;
/// The exit code of a run whose verdict is not ready, and of a `fix` that could not build.
pub const EXIT_NOT_READY: u8 = 1;
/// The exit code of a usage or profile error, and of output that could not be written.
pub const EXIT_USAGE: u8 = 2;
/// The exit code after Ctrl-C, as shells report a process ended by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The one answer to "can I sit the exam on this machine?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    ReadyWithWarnings,
    NotReady,
}

impl Verdict {
    pub fn is_ready(self) -> bool {
        self != Verdict::NotReady
    }

    /// The process exit code: [`EXIT_READY`] or [`EXIT_NOT_READY`].
    pub fn exit_code(self) -> u8 {
        if self.is_ready() {
            EXIT_READY
        } else {
            EXIT_NOT_READY
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub error: usize,
    pub skip: usize,
    /// `--strict`: warnings are problems too.
    pub strict: bool,
    /// Failures and errors, and warnings under `--strict`: what stands between this
    /// machine and "ready".
    pub problems: usize,
    pub verdict: Verdict,
    /// `verdict` is ready or ready with warnings; the exit code is 0 exactly when this is true.
    pub ready: bool,
}

impl Summary {
    /// The verdict: the only place "ready" is decided.
    pub fn of(findings: &[Finding], strict: bool) -> Self {
        let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
        let problems = findings
            .iter()
            .filter(|f| f.status.is_problem(strict))
            .count();
        let warn = count(Status::Warn);
        let verdict = if problems > 0 {
            Verdict::NotReady
        } else if warn > 0 {
            Verdict::ReadyWithWarnings
        } else {
            Verdict::Ready
        };
        Summary {
            pass: count(Status::Pass),
            warn,
            fail: count(Status::Fail),
            error: count(Status::Error),
            skip: count(Status::Skip),
            strict,
            problems,
            verdict,
            ready: verdict.is_ready(),
        }
    }
}

/// The whole run, in profile order. Field order is the JSON field order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// When the run ended, RFC 3339 in UTC.
    pub generated_at: String,
    /// How long the run took, from the start of the first check to the report.
    pub duration_ms: u64,
    pub profile: ProfileInfo,
    pub host: HostInfo,
    pub summary: Summary,
    pub checks: Vec<Finding>,
}

impl Report {
    /// The findings section by section, in [`Category`] order, each section in report order;
    /// a category without findings has no section. Every renderer lists findings this way.
    pub fn by_category(&self) -> Vec<(Category, Vec<&Finding>)> {
        Category::ALL
            .into_iter()
            .map(|category| {
                let members = self.checks.iter().filter(|f| f.category == category);
                (category, members.collect::<Vec<_>>())
            })
            .filter(|(_, members)| !members.is_empty())
            .collect()
    }

    pub fn new(
        profile: ProfileInfo,
        host: HostInfo,
        mut checks: Vec<Finding>,
        strict: bool,
    ) -> Self {
        link_causes(&mut checks);
        Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: crate::TOOL_NAME.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            duration_ms: 0,
            profile,
            host,
            summary: Summary::of(&checks, strict),
            checks,
        }
    }

    pub fn verdict(&self) -> Verdict {
        self.summary.verdict
    }

    /// The process exit code, read from the verdict.
    pub fn exit_code(&self) -> u8 {
        self.verdict().exit_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_have_distinct_names() {
        let names: std::collections::BTreeSet<_> =
            Category::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Category::ALL.len());
    }

    fn with(statuses: &[Status]) -> Vec<Finding> {
        statuses
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut f = Finding::new(format!("system.x{i}"), Category::System, "x");
                f.status = *s;
                f
            })
            .collect()
    }

    #[test]
    fn one_verdict_for_every_mix() {
        use Status::*;
        let cases: &[(&[Status], bool, Verdict, usize)] = &[
            (&[Pass, Skip], false, Verdict::Ready, 0),
            (&[Pass, Warn], false, Verdict::ReadyWithWarnings, 0),
            (&[Pass, Warn], true, Verdict::NotReady, 1),
            (&[Pass, Fail, Warn], false, Verdict::NotReady, 1),
            (&[Pass, Error], false, Verdict::NotReady, 1),
            (&[Error, Fail, Warn], true, Verdict::NotReady, 3),
        ];
        for (statuses, strict, verdict, problems) in cases {
            let summary = Summary::of(&with(statuses), *strict);
            assert_eq!(summary.verdict, *verdict, "{statuses:?} strict={strict}");
            assert_eq!(summary.problems, *problems, "{statuses:?} strict={strict}");
            assert_eq!(summary.ready, verdict.is_ready());
            assert_eq!(summary.strict, *strict);
            assert_eq!(verdict.exit_code(), u8::from(*verdict == Verdict::NotReady));
        }
    }

    fn spec_finding(id: &str, causes: &'static [&'static str], status: Status) -> Finding {
        let mut f = Finding::new(id, Category::Python, id);
        f.causes = causes;
        f.status = status;
        f
    }

    #[test]
    fn consequences_link_to_their_root_cause() {
        use Status::*;
        const PIN: &[&str] = &["python.interpreter", "python.version"];
        let mut findings = vec![
            spec_finding("python.interpreter", &[], Fail),
            spec_finding("python.version", &["python.interpreter"], Skip),
            spec_finding("packages.numpy", PIN, Skip),
            spec_finding("packages.scipy", PIN, Pass),
            spec_finding("pycharm.install", &[], Pass),
            spec_finding("pycharm.plugin", &["pycharm.install"], Fail),
        ];
        link_causes(&mut findings);
        let links: Vec<Option<&str>> = findings.iter().map(|f| f.caused_by.as_deref()).collect();
        assert_eq!(
            links,
            [
                None,
                Some("python.interpreter"),
                Some("python.interpreter"),
                None,
                None,
                None
            ]
        );
        let before = Summary::of(&findings, false);
        assert_eq!(before.problems, 2, "linking changes no count");
    }

    #[test]
    fn a_policy_miss_explains_nothing_but_a_fact_does() {
        let pin = |f: Finding| {
            let mut f = f;
            f.causes = &["python.version"];
            f
        };
        let version = Finding::new("python.version", Category::Python, "v");
        let numpy = pin(Finding::new("packages.numpy", Category::Packages, "numpy").fail("x"));
        let mut policy = vec![
            version.clone().fail_policy("3.9, wanted 3.8"),
            numpy.clone(),
        ];
        link_causes(&mut policy);
        assert_eq!(policy[1].caused_by, None);
        let mut fact = vec![version.fail("TF cannot install on 3.11"), numpy];
        link_causes(&mut fact);
        assert_eq!(fact[1].caused_by.as_deref(), Some("python.version"));
    }

    #[test]
    fn a_cycle_of_causes_ends() {
        let mut findings = vec![
            spec_finding("python.a", &["python.b"], Status::Fail),
            spec_finding("python.b", &["python.a"], Status::Fail),
        ];
        link_causes(&mut findings);
        assert!(findings.iter().all(|f| f.caused_by.is_some()));
    }

    #[test]
    fn only_policy_failures_are_marked_softenable() {
        let f = Finding::new("packages.numpy", Category::Packages, "numpy");
        assert!(f.clone().fail_policy("1.24 installed").policy_only);
        assert!(!f.clone().fail("not installed").policy_only);
        // A later judgement replaces an earlier one entirely.
        assert!(!f.fail_policy("x").fail("y").policy_only);
    }
}
