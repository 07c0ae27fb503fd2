//! What a check is: the kind that builds it from a profile's `[[check]]` table (and that table's
//! errors and severity), the findings it promises before it runs (static specs), and what it
//! may use while it runs (the host, the options, the run's one clock, facts shared between
//! checks). The table of kinds is `registry.rs`; the report's types are `report.rs`.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

use crate::host::Host;
use crate::python::wanted::{Pin, Wanted};
use crate::report::{Category, Finding};

/// What a failure of a finding means, and so whether a profile's `severity = "warn"` may
/// soften it. Facts are never softened: a finding that says the environment cannot work
/// always fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stakes {
    /// A failure says the environment cannot work (the interpreter does not start, a
    /// known-broken combination, no AVX): it fails whatever the profile says.
    Fact,
    /// A failure can also miss only the profile's policy (a version other than the pin);
    /// those failures, and only those, a profile may soften to warnings.
    Policy,
    /// Advice: the finding warns at worst (memory under the advice), it never fails.
    Advice,
}

impl Stakes {
    /// The worst status this finding can end with under a profile's severity, as `list` shows it.
    pub fn effective_severity(self, profile: Severity) -> &'static str {
        match (self, profile) {
            (Stakes::Fact, _) | (Stakes::Policy, Severity::Fail) => "fail",
            (Stakes::Policy, Severity::Warn) => "warn",
            (Stakes::Advice, _) => "warn",
        }
    }
}

/// How one finding is explained by `preflight explain ID`.
#[derive(Debug, Clone)]
pub struct Explain {
    /// What the check verifies.
    pub what: Cow<'static, str>,
    /// Why it matters on exam day.
    pub why: Cow<'static, str>,
    /// How to fix it when it does not hold.
    pub fix: Cow<'static, str>,
}

/// A finding a check promises before it runs: used by `list`, `explain`, `--only`/`--skip`,
/// id validation at load, and to report a check that could not decide. Kinds keep fixed
/// specs as `static` items and fill them by name (`OS.finding()`); specs whose id comes from
/// the profile (a pin, an endpoint) are built once, when the profile is loaded.
#[derive(Debug, Clone)]
pub struct FindingSpec {
    pub id: Cow<'static, str>,
    pub category: Category,
    pub title: Cow<'static, str>,
    pub stakes: Stakes,
    pub explain: Explain,
    /// The findings whose failure explains this one when it does not hold (the pins cannot
    /// install while the Python is wrong), most fundamental first; see
    /// [`link_causes`](crate::report::link_causes).
    pub causes: &'static [&'static str],
}

impl FindingSpec {
    /// A spec known at compile time.
    pub const fn fixed(
        id: &'static str,
        category: Category,
        title: &'static str,
        stakes: Stakes,
        [what, why, fix]: [&'static str; 3],
    ) -> Self {
        FindingSpec {
            id: Cow::Borrowed(id),
            category,
            title: Cow::Borrowed(title),
            stakes,
            explain: Explain {
                what: Cow::Borrowed(what),
                why: Cow::Borrowed(why),
                fix: Cow::Borrowed(fix),
            },
            causes: &[],
        }
    }

    /// A spec whose id and texts come from the profile.
    pub fn configured(
        id: String,
        category: Category,
        title: String,
        stakes: Stakes,
        [what, why, fix]: [String; 3],
    ) -> Self {
        FindingSpec {
            id: Cow::Owned(id),
            category,
            title: Cow::Owned(title),
            stakes,
            explain: Explain {
                what: Cow::Owned(what),
                why: Cow::Owned(why),
                fix: Cow::Owned(fix),
            },
            causes: &[],
        }
    }

    /// Name the findings whose failure explains this one's (most fundamental first).
    pub const fn caused_by(mut self, causes: &'static [&'static str]) -> Self {
        self.causes = causes;
        self
    }

    /// An empty finding with this spec's id, category and title, ready to be judged.
    pub fn finding(&self) -> Finding {
        let mut finding = Finding::new(self.id.as_ref(), self.category, self.title.as_ref());
        finding.causes = self.causes;
        finding
    }
}

/// A check kind: its name in profiles and how it builds a check from its table.
pub struct Kind {
    pub name: &'static str,
    /// Builds a check from its `[[check]]` table (without `kind` and `severity`).
    pub build: fn(KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError>,
}

/// A configuration problem inside one `[[check]]` table, located by byte span.
#[derive(Debug)]
pub struct ConfigError {
    pub span: Option<Range<usize>>,
    pub key: Option<String>,
    pub message: String,
}

/// One `[[check]]` table handed to its kind, with what the kind needs to report errors
/// at the right line.
pub struct KindConfig<'a> {
    table: Spanned<DeTable<'a>>,
    pub profile: &'a ProfileFacts,
}

impl<'a> KindConfig<'a> {
    pub(crate) fn new(table: Spanned<DeTable<'a>>, profile: &'a ProfileFacts) -> Self {
        KindConfig { table, profile }
    }

    /// Deserialize the kind's own keys; unknown keys and wrong types are errors at their line.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        T::deserialize(Deserializer::from(self.table.clone())).map_err(|e| {
            let span = e.span();
            ConfigError {
                key: span.as_ref().and_then(|s| self.key_at(s.start)),
                span: span.or_else(|| Some(self.table.span())),
                message: e.message().to_string(),
            }
        })
    }

    /// An error about `key`'s value (a bad version, say), placed at that key's line.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let span = self
            .table
            .get_ref()
            .get_key_value(key)
            .map(|(k, _)| k.span())
            .unwrap_or_else(|| self.table.span());
        ConfigError {
            span: Some(span),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    /// An error about item `index` of the array `key` (one pin, say), placed at that item's
    /// line; at the key's line when there is no such item.
    pub fn item_error(&self, key: &str, index: usize, message: impl Into<String>) -> ConfigError {
        let item = self
            .table
            .get_ref()
            .get(key)
            .and_then(|value| match value.get_ref() {
                DeValue::Array(items) => items.get(index).map(|item| item.span()),
                _ => None,
            });
        match item {
            Some(span) => ConfigError {
                span: Some(span),
                key: Some(key.to_string()),
                message: message.into(),
            },
            None => self.error(key, message),
        }
    }

    fn key_at(&self, offset: usize) -> Option<String> {
        self.table.get_ref().iter().find_map(|(k, v)| {
            let covers = k.span().start <= offset && offset < v.span().end.max(k.span().end);
            covers.then(|| k.get_ref().to_string())
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
/// A `[[check]]` table's `severity`: whether its policy findings fail or only warn.
pub enum Severity {
    Fail,
    Warn,
}

pub trait Check: Send + Sync {
    /// The findings this check reports, in report order; `run` reports exactly these ids.
    fn specs(&self) -> Vec<&FindingSpec>;

    /// Look at the machine through `ctx` and judge it before `deadline`. Never prints, never
    /// panics on bad input: what could not be decided is a finding too.
    fn run(&self, ctx: &Context, deadline: Deadline) -> Vec<Finding>;

    /// How long this check may take, from the start of the run.
    fn timeout(&self, options: &RunOptions) -> Duration {
        options.timeout
    }

    /// Start the shared fact this check will wait on ([`Context::start_shared`]), before any
    /// check runs; `None` when it waits on none, or it is already on its way.
    fn start_early(&self, _ctx: &Arc<Context>) -> Option<JoinHandle<()>> {
        None
    }

    /// The Python the profile wants, when this kind is the one that says (the `python`
    /// kind): what the checks prefer and judge by, and what `preflight fix` builds from.
    fn wanted_python(&self) -> Option<&Wanted> {
        None
    }

    /// The packages this kind pins (the `packages` kind), for `preflight fix` to install.
    fn pins(&self) -> &[Pin] {
        &[]
    }

    /// What this check has to say about the virtualenv `preflight fix` just built (its
    /// interpreter at `interpreter`), printed after fix's own check of it; `None`: nothing.
    fn after_fix(&self, _host: &Host, _interpreter: &Path) -> Option<String> {
        None
    }
}

/// A check's absolute deadline on the run's one clock. A step inside the check (a request, a
/// process) gets the time left less [`Deadline::MARGIN`], measured when the step starts, so
/// the check can name its own cause before the runner's generic overrun fires.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// What a check keeps for itself after its last step: judging and reporting take
    /// microseconds, but a loaded machine may not schedule the thread at once.
    pub const MARGIN: Duration = Duration::from_millis(500);

    pub fn at(at: Instant) -> Self {
        Deadline { at }
    }

    pub fn instant(self) -> Instant {
        self.at
    }

    /// When the next step must end.
    pub fn step_end(self) -> Instant {
        self.at.checked_sub(Self::MARGIN).unwrap_or(self.at)
    }

    /// How long a step started now may take.
    pub fn step(self) -> Duration {
        self.step_end().saturating_duration_since(Instant::now())
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--venv`: the virtualenv to judge, as the user gave it.
    pub venv: Option<PathBuf>,
    /// `--project`: the PyCharm project (a folder with `.idea/`) whose interpreter to judge.
    pub project: Option<PathBuf>,
    pub offline: bool,
    pub deep: bool,
    pub timeout: Duration,
    pub deep_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            venv: None,
            project: None,
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
    /// The Python the profile wants: its python check's, once the checks are built (see
    /// [`Check::wanted_python`]); until then, and without such a check, any Python its
    /// TensorFlow supports.
    pub python: Wanted,
}

/// A fact about the machine that several checks need and that costs something to gather (the
/// one interpreter probe): gathered once per run by whichever check asks first; the others
/// wait for that answer.
pub trait SharedFact: Any + Send + Sync {
    fn gather(ctx: &Context) -> Self;
}

type Slot = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

/// Everything a running check may use, shared by all checks of a run.
pub struct Context {
    pub host: Host,
    pub options: RunOptions,
    pub profile: ProfileFacts,
    /// The run's one clock: every deadline is measured from here.
    pub started: Instant,
    shared: Mutex<HashMap<TypeId, Slot>>,
    /// The shared facts [`Context::start_shared`] set on their way.
    started_early: Mutex<HashSet<TypeId>>,
}

impl Context {
    pub fn new(host: Host, options: RunOptions, profile: ProfileFacts) -> Self {
        Context {
            host,
            options,
            profile,
            started: Instant::now(),
            shared: Mutex::new(HashMap::new()),
            started_early: Mutex::new(HashSet::new()),
        }
    }

    /// The deadline of a check that may take `timeout` from the start of the run.
    pub fn deadline_after(&self, timeout: Duration) -> Deadline {
        Deadline::at(self.started + timeout)
    }

    /// The base deadline every check has at least: what a shared fact must finish within,
    /// so that any check waiting on it still has time to report.
    pub fn base_deadline(&self) -> Deadline {
        self.deadline_after(self.options.timeout)
    }

    /// Gather the shared fact `T` on a thread of its own, unless that was done already; the
    /// checks that ask for it wait for that one answer.
    pub fn start_shared<T: SharedFact>(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        let first = self
            .started_early
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(TypeId::of::<T>());
        let ctx = Arc::clone(self);
        first.then(|| {
            std::thread::spawn(move || {
                ctx.shared::<T>();
            })
        })
    }

    /// The shared fact `T`, gathered once per run.
    pub fn shared<T: SharedFact>(&self) -> Arc<T> {
        let slot: Slot = {
            let mut slots = self.shared.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(slots.entry(TypeId::of::<T>()).or_default())
        };
        let value = slot.get_or_init(|| Arc::new(T::gather(self)) as Arc<dyn Any + Send + Sync>);
        Arc::clone(value)
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("slots are keyed by their own type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_severity_never_softens_facts() {
        assert_eq!(Stakes::Fact.effective_severity(Severity::Warn), "fail");
        assert_eq!(Stakes::Policy.effective_severity(Severity::Warn), "warn");
        assert_eq!(Stakes::Policy.effective_severity(Severity::Fail), "fail");
        assert_eq!(Stakes::Advice.effective_severity(Severity::Fail), "warn");
    }

    #[test]
    fn a_step_ends_a_margin_before_the_deadline() {
        let now = Instant::now();
        let deadline = Deadline::at(now + Duration::from_secs(10));
        assert_eq!(
            deadline.step_end(),
            now + Duration::from_secs(10) - Deadline::MARGIN
        );
        assert!(deadline.step() <= Duration::from_secs(10) - Deadline::MARGIN);
        let past = Deadline::at(now);
        assert_eq!(past.step(), Duration::ZERO);
    }
}
