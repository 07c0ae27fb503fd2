//! What a check is, and what it may use while it runs.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::host::Host;
use crate::python_env::PythonEnv;
use crate::report::Finding;

/// How one finding is explained by `preflight explain ID`.
#[derive(Debug, Clone)]
pub struct Explain {
    /// What the check verifies.
    pub what: String,
    /// Why it matters on exam day.
    pub why: String,
    /// How to fix it when it does not hold.
    pub fix: String,
}

impl Explain {
    pub fn new(what: impl Into<String>, why: impl Into<String>, fix: impl Into<String>) -> Self {
        Explain {
            what: what.into(),
            why: why.into(),
            fix: fix.into(),
        }
    }
}

/// A finding a check will report, known before it runs: used by `list`, `explain`,
/// `--only`/`--skip`, and to report a check that overran its deadline.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: String,
    pub category: String,
    pub title: String,
    pub explain: Explain,
}

impl Planned {
    pub fn new(
        id: impl Into<String>,
        category: &str,
        title: impl Into<String>,
        explain: Explain,
    ) -> Self {
        Planned {
            id: id.into(),
            category: category.to_string(),
            title: title.into(),
            explain,
        }
    }

    /// An empty finding with this plan's id, category and title, ready to be judged.
    pub fn finding(&self) -> Finding {
        Finding::new(&self.id, &self.category, &self.title)
    }
}

pub trait Check: Send + Sync {
    /// The findings this check reports, in report order.
    fn plan(&self) -> Vec<Planned>;

    /// Look at the machine through `ctx` and judge it. Never prints, never panics on bad
    /// input: what could not be decided is a finding too.
    fn run(&self, ctx: &Context) -> Vec<Finding>;

    /// How long this check may take before the runner reports it as failed.
    fn timeout(&self, options: &RunOptions) -> Duration {
        options.timeout
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--venv`: the virtualenv to judge, as the user gave it.
    pub venv: Option<PathBuf>,
    pub offline: bool,
    pub deep: bool,
    pub timeout: Duration,
    pub deep_timeout: Duration,
}

impl RunOptions {
    /// The deadline of one slow step inside a check (a request, a tool it runs): most of
    /// the check's own, so the check, not the runner, reports what overran.
    pub fn step_deadline(&self) -> Duration {
        self.timeout.mul_f64(0.9)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            venv: None,
            offline: false,
            deep: false,
            timeout: Duration::from_secs(10),
            deep_timeout: Duration::from_secs(120),
        }
    }
}

/// Facts of the profile that several kinds reason about.
#[derive(Debug, Clone, Default)]
pub struct ProfileFacts {
    pub name: String,
    /// The TensorFlow release of the profile's era, when it pins one.
    pub tensorflow: Option<pep440_rs::Version>,
}

/// Everything a running check may use, shared by all checks of a run.
pub struct Context {
    pub host: Host,
    pub options: RunOptions,
    pub profile: ProfileFacts,
    python: OnceLock<PythonEnv>,
}

impl Context {
    pub fn new(host: Host, options: RunOptions, profile: ProfileFacts) -> Self {
        Context {
            host,
            options,
            profile,
            python: OnceLock::new(),
        }
    }

    /// The Python environment the exam will use, located and probed once per run by
    /// whichever check asks first; the others wait for that answer.
    pub fn python(&self) -> &PythonEnv {
        self.python
            .get_or_init(|| PythonEnv::discover(&self.host, &self.options))
    }
}
