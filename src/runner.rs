//! Runs a profile's checks at once, each under its own deadline, and keeps profile order.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::check::{Check, Context, Planned};
use crate::profile::{ConfiguredCheck, Severity};
use crate::report::{Finding, Status};

/// `--only` and `--skip`: check ids or categories.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl Selection {
    pub fn wants(&self, id: &str, category: &str) -> bool {
        let named = |names: &[String]| {
            names.iter().any(|n| {
                n == id
                    || n == category
                    || id
                        .strip_prefix(n.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        (self.only.is_empty() || named(&self.only)) && !named(&self.skip)
    }

    /// Every name must be a category or a check id of the profile; the error lists them.
    pub fn validate(&self, checks: &[ConfiguredCheck]) -> Result<(), String> {
        let plans: Vec<Planned> = checks.iter().flat_map(|c| c.check.plan()).collect();
        let categories: BTreeSet<&str> = plans.iter().map(|p| p.category.as_str()).collect();
        let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
        let unknown: Vec<&str> = self
            .only
            .iter()
            .chain(&self.skip)
            .map(String::as_str)
            .filter(|n| !categories.contains(n) && !ids.contains(n))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(format!(
            "unknown check or category: {}\n  categories: {}\n  checks: {}",
            unknown.join(", "),
            categories.into_iter().collect::<Vec<_>>().join(", "),
            ids.join(", ")
        ))
    }
}

struct Pending {
    index: usize,
    deadline: Instant,
    timeout: Duration,
    plan: Vec<Planned>,
}

/// Run every selected check concurrently. A check that overruns its deadline is reported
/// as failed and left behind; the run does not wait for it.
pub fn run(ctx: Arc<Context>, checks: &[ConfiguredCheck], selection: &Selection) -> Vec<Finding> {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, Vec<Finding>, Duration)>();
    let mut pending = Vec::new();
    for (index, configured) in checks.iter().enumerate() {
        let plan: Vec<Planned> = configured
            .check
            .plan()
            .into_iter()
            .filter(|p| selection.wants(&p.id, &p.category))
            .collect();
        if plan.is_empty() {
            continue;
        }
        let timeout = configured.check.timeout(&ctx.options);
        let check = Arc::clone(&configured.check);
        let ctx = Arc::clone(&ctx);
        let tx = tx.clone();
        std::thread::spawn(move || {
            let began = Instant::now();
            let findings = run_guarded(check.as_ref(), &ctx);
            let _ = tx.send((index, findings, began.elapsed()));
        });
        pending.push(Pending {
            index,
            deadline: started + timeout,
            timeout,
            plan,
        });
    }
    drop(tx);

    let mut results: Vec<Option<Vec<Finding>>> = vec![None; checks.len()];
    while !pending.is_empty() {
        let next = pending.iter().map(|p| p.deadline).min().unwrap_or(started);
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok((index, mut findings, elapsed)) => {
                let Some(at) = pending.iter().position(|p| p.index == index) else {
                    continue; // already reported as overrun
                };
                pending.swap_remove(at);
                for f in &mut findings {
                    if f.duration_ms == 0 {
                        f.duration_ms = elapsed.as_millis() as u64;
                    }
                }
                results[index] = Some(findings);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                pending.retain(|p| {
                    if p.deadline > now {
                        return true;
                    }
                    results[p.index] = Some(overran(p));
                    false
                });
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }

    results
        .into_iter()
        .zip(checks)
        .filter_map(|(findings, configured)| Some((findings?, configured.severity)))
        .flat_map(|(findings, severity)| {
            findings.into_iter().map(move |mut f| {
                if severity == Severity::Warn && f.status == Status::Fail {
                    f.status = Status::Warn;
                }
                f
            })
        })
        .filter(|f| selection.wants(&f.id, &f.category))
        .collect()
}

/// A check that panics is a bug; report it as a failure that says so instead of dying.
fn run_guarded(check: &dyn Check, ctx: &Context) -> Vec<Finding> {
    match catch_unwind(AssertUnwindSafe(|| check.run(ctx))) {
        Ok(findings) => findings,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            check
                .plan()
                .iter()
                .map(|p| {
                    p.finding()
                        .fail("could not decide: the check crashed (a bug in preflight, please report it)")
                        .detail(message.clone())
                })
                .collect()
        }
    }
}

fn overran(pending: &Pending) -> Vec<Finding> {
    let secs = pending.timeout.as_secs_f64();
    pending
        .plan
        .iter()
        .map(|p| {
            let mut f = p
                .finding()
                .fail(format!("could not decide: the check did not finish in {secs} s"))
                .fix("Run again with a longer deadline (`--timeout SECS`); if it keeps hanging, run with -v and report it.");
            f.duration_ms = pending.timeout.as_millis() as u64;
            f
        })
        .collect()
}
