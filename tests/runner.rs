//! The runner: concurrency, one clock, deadlines, profile order, panics, softening.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use preflight::check::{
    Check, Context, Deadline, FindingSpec, ProfileFacts, RunOptions, Severity, Stakes,
};
use preflight::host::{Host, OsFamily};
use preflight::profile::ConfiguredCheck;
use preflight::report::{Category, Finding, Status};
use preflight::runner::{Selection, run};

/// What a test check does when it runs.
#[derive(Clone)]
enum Behaviour {
    /// Judge at once.
    Report(Status),
    /// A policy failure (a version other than the pin).
    MissPolicy,
    /// Sleep far past any deadline without looking at it.
    Hang,
    /// Wait for an answer that never comes, as long as its deadline allows, then say so.
    WaitForAnswer,
    /// Meet the others at `Meeting` before reporting: only possible when run concurrently.
    Meet(Arc<Meeting>),
    Panic,
    /// Report nothing at all.
    Forget,
}

struct Meeting {
    arrived: Mutex<usize>,
    all_here: Condvar,
    expected: usize,
}

impl Meeting {
    fn new(expected: usize) -> Arc<Meeting> {
        Arc::new(Meeting {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
            expected,
        })
    }

    /// True when everyone arrived before the deadline's step ended.
    fn meet(&self, deadline: Deadline) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        while *arrived < self.expected {
            let left = deadline.step();
            if left.is_zero() {
                return false;
            }
            arrived = self.all_here.wait_timeout(arrived, left).unwrap().0;
        }
        true
    }
}

struct TestCheck {
    spec: FindingSpec,
    behaviour: Behaviour,
}

impl Check for TestCheck {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&self.spec]
    }

    fn run(&self, _ctx: &Context, deadline: Deadline) -> Vec<Finding> {
        let f = self.spec.finding();
        vec![match &self.behaviour {
            Behaviour::Report(Status::Fail) => f.fail("failed"),
            Behaviour::Report(Status::Warn) => f.warn("warned"),
            Behaviour::Report(Status::Skip) => f.skip("skipped"),
            Behaviour::Report(Status::Error) => f.error("undecided"),
            Behaviour::Report(Status::Pass) => f.pass("done"),
            Behaviour::MissPolicy => f.fail_policy("1.0 installed, wanted 2.0"),
            Behaviour::Hang => {
                std::thread::sleep(Duration::from_secs(60));
                f.pass("woke up")
            }
            Behaviour::WaitForAnswer => {
                let (_keep, never) = std::sync::mpsc::channel::<()>();
                let step = deadline.step();
                let _ = never.recv_timeout(step);
                f.fail(format!("no answer within {:.1} s", step.as_secs_f64()))
            }
            Behaviour::Meet(meeting) => {
                if meeting.meet(deadline) {
                    f.pass("met the others")
                } else {
                    f.fail("ran alone")
                }
            }
            Behaviour::Panic => panic!("deliberate"),
            Behaviour::Forget => return Vec::new(),
        }]
    }
}

fn check(id: &str, stakes: Stakes, behaviour: Behaviour) -> ConfiguredCheck {
    let spec = FindingSpec::configured(
        id.to_string(),
        Category::System,
        "Test".into(),
        stakes,
        ["what".into(), "why".into(), "fix".into()],
    );
    ConfiguredCheck::new(
        "test",
        Severity::Fail,
        Arc::new(TestCheck { spec, behaviour }),
    )
}

fn fact(id: &str, behaviour: Behaviour) -> ConfiguredCheck {
    check(id, Stakes::Fact, behaviour)
}

fn context(timeout: Duration) -> Arc<Context> {
    // The runner itself touches no file: any root will do.
    let host = Host::simulated(std::env::temp_dir(), OsFamily::Linux, &[]);
    let options = RunOptions {
        timeout,
        ..RunOptions::default()
    };
    Arc::new(Context::new(host, options, ProfileFacts::default()))
}

fn everything() -> Selection {
    Selection::default()
}

#[test]
fn checks_run_concurrently_and_keep_profile_order() {
    // Three checks that can only pass if all three are running at the same time.
    let meeting = Meeting::new(3);
    let checks = vec![
        fact("system.first", Behaviour::Meet(Arc::clone(&meeting))),
        fact("system.second", Behaviour::Meet(Arc::clone(&meeting))),
        fact("system.third", Behaviour::Meet(meeting)),
    ];
    let findings = run(context(Duration::from_secs(20)), &checks, &everything());
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["system.first", "system.second", "system.third"]);
    for f in &findings {
        assert_eq!(f.status, Status::Pass, "{}: {}", f.id, f.summary);
    }
}

#[test]
fn an_overrunning_check_is_undecided_at_its_deadline_and_the_run_goes_on() {
    let checks = vec![
        fact("system.hangs", Behaviour::Hang),
        fact("system.quick", Behaviour::Report(Status::Pass)),
    ];
    let started = Instant::now();
    let findings = run(context(Duration::from_millis(300)), &checks, &everything());
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "the run must end near the deadline, not with the hung check; took {elapsed:?}"
    );
    assert!(elapsed >= Duration::from_millis(300));
    assert_eq!(findings[0].id, "system.hangs");
    assert_eq!(findings[0].status, Status::Error);
    assert!(
        findings[0].summary.contains("did not finish within 0.3 s"),
        "{}",
        findings[0].summary
    );
    assert_eq!(findings[1].status, Status::Pass);
}

#[test]
fn a_check_names_its_own_cause_before_the_runner_overrun() {
    // The step gets the time left less the margin, so the check reports first.
    let checks = vec![fact("system.waits", Behaviour::WaitForAnswer)];
    let findings = run(context(Duration::from_secs(2)), &checks, &everything());
    assert_eq!(findings[0].status, Status::Fail, "{}", findings[0].summary);
    assert!(
        findings[0].summary.starts_with("no answer within 1."),
        "{}",
        findings[0].summary
    );
}

#[test]
fn a_panicking_check_is_undecided_and_says_so() {
    let checks = vec![
        fact("system.panics", Behaviour::Panic),
        fact("system.after", Behaviour::Report(Status::Pass)),
    ];
    let findings = run(context(Duration::from_secs(5)), &checks, &everything());
    assert_eq!(findings[0].status, Status::Error);
    assert!(findings[0].summary.contains("crashed"));
    assert_eq!(findings[0].details, ["deliberate"]);
    assert_eq!(findings[1].status, Status::Pass);
}

#[test]
fn a_finding_the_check_left_out_is_undecided() {
    let findings = run(
        context(Duration::from_secs(5)),
        &[fact("system.forgets", Behaviour::Forget)],
        &everything(),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].status, Status::Error);
    assert!(findings[0].summary.contains("reported nothing"));
}

#[test]
fn severity_warn_softens_policy_failures_only() {
    let soft = |mut c: ConfiguredCheck| {
        c.severity = Severity::Warn;
        c
    };
    let checks = vec![
        soft(check("system.pin", Stakes::Policy, Behaviour::MissPolicy)),
        // A policy spec whose failure is a fact (a package missing entirely).
        soft(check(
            "system.missing",
            Stakes::Policy,
            Behaviour::Report(Status::Fail),
        )),
        // A fact spec: even a failure marked as policy stays a failure.
        soft(check("system.avx", Stakes::Fact, Behaviour::MissPolicy)),
        soft(fact("system.undecided", Behaviour::Report(Status::Error))),
    ];
    let findings = run(context(Duration::from_secs(5)), &checks, &everything());
    let statuses: Vec<Status> = findings.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses,
        [Status::Warn, Status::Fail, Status::Fail, Status::Error]
    );
    assert!(findings[0].softened);
    assert!(findings[0].details.iter().any(|d| d.contains("softens")));
    assert!(!findings[1].softened && !findings[2].softened);
}

#[test]
fn policy_failures_fail_when_the_profile_does_not_soften() {
    let checks = vec![check("system.pin", Stakes::Policy, Behaviour::MissPolicy)];
    let findings = run(context(Duration::from_secs(5)), &checks, &everything());
    assert_eq!(findings[0].status, Status::Fail);
    assert!(!findings[0].softened);
}

#[test]
fn selection_filters_by_id_category_and_prefix() {
    let checks = vec![
        fact("system.a", Behaviour::Report(Status::Pass)),
        fact("system.b", Behaviour::Report(Status::Pass)),
    ];
    let only_b = Selection {
        only: vec!["system.b".into()],
        skip: vec![],
    };
    let findings = run(context(Duration::from_secs(5)), &checks, &only_b);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].id, "system.b");
    let skip_a = Selection {
        only: vec![],
        skip: vec!["system.a".into()],
    };
    assert!(skip_a.validate(&checks).is_ok());
    let skip_category = Selection {
        only: vec![],
        skip: vec!["system".into()],
    };
    let nothing_left = skip_category.validate(&checks).unwrap_err();
    assert!(nothing_left.contains("leave no check"), "{nothing_left}");
    let bad = Selection {
        only: vec!["nope".into()],
        skip: vec![],
    };
    assert!(
        bad.validate(&checks)
            .unwrap_err()
            .contains("system.a, system.b")
    );
}

/// How many times each [`Counted`] fact was gathered, one counter per test.
static GATHERED: [std::sync::atomic::AtomicUsize; 2] = [
    std::sync::atomic::AtomicUsize::new(0),
    std::sync::atomic::AtomicUsize::new(0),
];

/// A shared fact that counts its gatherings; `N` keeps the tests apart.
struct Counted<const N: usize> {
    gathering: usize,
}

impl<const N: usize> preflight::check::SharedFact for Counted<N> {
    fn gather(_ctx: &Context) -> Self {
        let gathering = GATHERED[N].fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Counted { gathering }
    }
}

/// A check that starts the shared fact `Counted<N>` before the run and reports which
/// gathering it got.
struct UsesShared<const N: usize> {
    spec: FindingSpec,
}

impl<const N: usize> Check for UsesShared<N> {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&self.spec]
    }

    fn start_early(&self, ctx: &Arc<Context>) -> Option<std::thread::JoinHandle<()>> {
        ctx.start_shared::<Counted<N>>()
    }

    fn run(&self, ctx: &Context, _deadline: Deadline) -> Vec<Finding> {
        let fact = ctx.shared::<Counted<N>>();
        vec![
            self.spec
                .finding()
                .pass(format!("gathering {}", fact.gathering)),
        ]
    }
}

fn uses_shared<const N: usize>(id: &str) -> ConfiguredCheck {
    let spec = FindingSpec::configured(
        id.to_string(),
        Category::Python,
        "Test".into(),
        Stakes::Fact,
        ["what".into(), "why".into(), "fix".into()],
    );
    ConfiguredCheck::new("test", Severity::Fail, Arc::new(UsesShared::<N> { spec }))
}

#[test]
fn a_fact_started_early_by_two_checks_is_gathered_once_and_both_get_it() {
    let checks = vec![
        fact("system.first", Behaviour::Report(Status::Pass)),
        uses_shared::<0>("python.first"),
        uses_shared::<0>("python.second"),
    ];
    // Nothing in this run starts a process: the checks start once the early fact is done.
    let findings = run(context(Duration::from_secs(20)), &checks, &everything());
    let summaries: Vec<(&str, Status, &str)> = findings
        .iter()
        .map(|f| (f.id.as_str(), f.status, f.summary.as_str()))
        .collect();
    assert_eq!(
        summaries,
        [
            ("system.first", Status::Pass, "done"),
            ("python.first", Status::Pass, "gathering 1"),
            ("python.second", Status::Pass, "gathering 1"),
        ]
    );
    assert_eq!(GATHERED[0].load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_check_left_out_of_the_selection_starts_nothing_early() {
    let checks = vec![
        fact("system.first", Behaviour::Report(Status::Pass)),
        uses_shared::<1>("python.first"),
    ];
    let only_system = Selection {
        only: vec!["system".into()],
        skip: Vec::new(),
    };
    let findings = run(context(Duration::from_secs(20)), &checks, &only_system);
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["system.first"]);
    assert_eq!(GATHERED[1].load(std::sync::atomic::Ordering::SeqCst), 0);
}
