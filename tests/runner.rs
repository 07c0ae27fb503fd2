//! The runner: concurrency, deadlines, profile order, panics, severity.

use std::sync::Arc;
use std::time::{Duration, Instant};

use preflight::check::{Check, Context, Explain, Planned, ProfileFacts, RunOptions};
use preflight::host::{Host, OsFamily};
use preflight::profile::{ConfiguredCheck, Severity};
use preflight::report::{Finding, Status};
use preflight::runner::{Selection, run};

/// A check that takes `delay` and then reports `status`.
struct Sleepy {
    id: &'static str,
    delay: Duration,
    status: Status,
}

impl Check for Sleepy {
    fn plan(&self) -> Vec<Planned> {
        let explain = Explain {
            what: "sleeps".into(),
            why: "tests".into(),
            fix: "none".into(),
        };
        vec![Planned::new(self.id, "test", "Sleepy", explain)]
    }

    fn run(&self, _ctx: &Context) -> Vec<Finding> {
        std::thread::sleep(self.delay);
        let f = self.plan()[0].finding();
        vec![match self.status {
            Status::Fail => f.fail("failed"),
            Status::Warn => f.warn("warned"),
            Status::Skip => f.skip("skipped"),
            Status::Pass => f.pass("done"),
        }]
    }
}

struct Panics;

impl Check for Panics {
    fn plan(&self) -> Vec<Planned> {
        Sleepy {
            id: "test.panics",
            delay: Duration::ZERO,
            status: Status::Pass,
        }
        .plan()
    }

    fn run(&self, _ctx: &Context) -> Vec<Finding> {
        panic!("deliberate");
    }
}

fn sleepy(id: &'static str, millis: u64, status: Status) -> ConfiguredCheck {
    configured(Sleepy {
        id,
        delay: Duration::from_millis(millis),
        status,
    })
}

fn configured(check: impl Check + 'static) -> ConfiguredCheck {
    ConfiguredCheck {
        kind: "test",
        severity: Severity::Fail,
        check: Arc::new(check),
    }
}

fn context(timeout: Duration) -> Arc<Context> {
    let dir = std::env::temp_dir();
    let host = Host::simulated(dir, OsFamily::Linux, &[]);
    let options = RunOptions {
        timeout,
        ..RunOptions::default()
    };
    Arc::new(Context::new(host, options, ProfileFacts::default()))
}

#[test]
fn checks_run_concurrently_and_keep_profile_order() {
    let checks = vec![
        sleepy("test.slow", 400, Status::Pass),
        sleepy("test.fast", 10, Status::Warn),
        sleepy("test.middle", 200, Status::Fail),
    ];
    let started = Instant::now();
    let findings = run(
        context(Duration::from_secs(5)),
        &checks,
        &Selection::default(),
    );
    let elapsed = started.elapsed();
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["test.slow", "test.fast", "test.middle"]);
    // Sequential would take 610 ms; concurrent about as long as the slowest.
    assert!(elapsed < Duration::from_millis(590), "took {elapsed:?}");
    assert!(findings[0].duration_ms >= 400);
}

#[test]
fn an_overrunning_check_fails_at_its_deadline_and_the_run_goes_on() {
    let checks = vec![
        sleepy("test.hangs", 60_000, Status::Pass),
        sleepy("test.quick", 0, Status::Pass),
    ];
    let started = Instant::now();
    let findings = run(
        context(Duration::from_millis(300)),
        &checks,
        &Selection::default(),
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "the run must end near the deadline, took {elapsed:?}"
    );
    assert!(elapsed >= Duration::from_millis(300));
    assert_eq!(findings[0].id, "test.hangs");
    assert_eq!(findings[0].status, Status::Fail);
    assert!(
        findings[0].summary.contains("did not finish in 0.3 s"),
        "{}",
        findings[0].summary
    );
    assert_eq!(findings[1].status, Status::Pass);
}

#[test]
fn a_panicking_check_is_a_failure_that_says_so() {
    let checks = vec![configured(Panics), sleepy("test.after", 0, Status::Pass)];
    let findings = run(
        context(Duration::from_secs(5)),
        &checks,
        &Selection::default(),
    );
    assert_eq!(findings[0].status, Status::Fail);
    assert!(findings[0].summary.contains("crashed"));
    assert_eq!(findings[0].details, ["deliberate"]);
    assert_eq!(findings[1].status, Status::Pass);
}

#[test]
fn severity_warn_caps_failures() {
    let mut check = sleepy("test.capped", 0, Status::Fail);
    check.severity = Severity::Warn;
    let findings = run(
        context(Duration::from_secs(5)),
        &[check],
        &Selection::default(),
    );
    assert_eq!(findings[0].status, Status::Warn);
}

#[test]
fn selection_filters_by_id_category_and_prefix() {
    let checks = vec![
        sleepy("test.a", 0, Status::Pass),
        sleepy("test.b", 0, Status::Pass),
    ];
    let only_b = Selection {
        only: vec!["test.b".into()],
        skip: vec![],
    };
    let findings = run(context(Duration::from_secs(5)), &checks, &only_b);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].id, "test.b");
    let skip_category = Selection {
        only: vec![],
        skip: vec!["test".into()],
    };
    assert!(run(context(Duration::from_secs(5)), &checks, &skip_category).is_empty());
    assert!(skip_category.validate(&checks).is_ok());
    let bad = Selection {
        only: vec!["nope".into()],
        skip: vec![],
    };
    assert!(
        bad.validate(&checks)
            .unwrap_err()
            .contains("test.a, test.b")
    );
}
