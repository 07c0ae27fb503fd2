//! Runs a profile's checks at once on one clock, each under its own deadline, and keeps
//! profile order. Every planned finding gets exactly one outcome: what the check judged, or
//! `error` when it overran its deadline, crashed, or left the finding out.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::check::{Check, Context, Deadline, FindingSpec, Severity, Stakes};
use crate::profile::ConfiguredCheck;
use crate::report::{Category, Finding, Status};

/// `--only` and `--skip`: check ids or categories.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl Selection {
    pub fn wants(&self, id: &str, category: Category) -> bool {
        let named = |names: &[String]| {
            names.iter().any(|n| {
                n == id
                    || n == category.as_str()
                    || id
                        .strip_prefix(n.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        (self.only.is_empty() || named(&self.only)) && !named(&self.skip)
    }

    /// Every name must be a category or a check id of the profile, and something must be
    /// left to run; the error lists what there is.
    pub fn validate(&self, checks: &[ConfiguredCheck]) -> Result<(), String> {
        let specs: Vec<&FindingSpec> = checks.iter().flat_map(|c| c.check.specs()).collect();
        let categories: BTreeSet<&str> = specs.iter().map(|s| s.category.as_str()).collect();
        let ids: Vec<&str> = specs.iter().map(|s| s.id.as_ref()).collect();
        let unknown: Vec<&str> = self
            .only
            .iter()
            .chain(&self.skip)
            .map(String::as_str)
            .filter(|n| !categories.contains(n) && !ids.contains(n))
            .collect();
        let listing = format!(
            "  categories: {}\n  checks: {}",
            categories.into_iter().collect::<Vec<_>>().join(", "),
            ids.join(", ")
        );
        if !unknown.is_empty() {
            return Err(format!(
                "unknown check or category: {}\n{listing}",
                unknown.join(", ")
            ));
        }
        if !specs.iter().any(|s| self.wants(&s.id, s.category)) {
            return Err(format!(
                "--only and --skip leave no check to run\n{listing}"
            ));
        }
        Ok(())
    }
}

/// How long the checks wait for what was started early to start its process: far longer
/// than a process takes to start; on a machine too busy for that, they just start.
const EARLY_START_WAIT: Duration = Duration::from_millis(50);

struct Pending {
    index: usize,
    deadline: Instant,
    timeout: Duration,
}

/// Run every selected check concurrently. A check that overruns its deadline is reported
/// as `error` and left behind; the run does not wait for it.
pub fn run(ctx: Arc<Context>, checks: &[ConfiguredCheck], selection: &Selection) -> Vec<Finding> {
    let (tx, rx) = mpsc::channel::<(usize, Vec<Finding>, Duration)>();
    let mut pending = Vec::new();
    let wanted: Vec<(usize, &ConfiguredCheck)> = checks
        .iter()
        .enumerate()
        .filter(|(_, configured)| {
            configured
                .check
                .specs()
                .iter()
                .any(|s| selection.wants(&s.id, s.category))
        })
        .collect();
    // The interpreter probe is the longest step of a run: it starts first, and the checks
    // start once its process has (or once what was started early is done), so that they
    // do not take the CPU from it while it starts. They all finish long before it answers.
    let children_before = crate::host::children_started();
    let early: Vec<JoinHandle<()>> = wanted
        .iter()
        .filter_map(|(_, configured)| configured.check.start_early(&ctx))
        .collect();
    if !early.is_empty() {
        crate::host::wait_for_child_after(children_before, EARLY_START_WAIT, || {
            early.iter().all(JoinHandle::is_finished)
        });
    }
    for (index, configured) in wanted {
        let timeout = configured.check.timeout(&ctx.options);
        let deadline = ctx.deadline_after(timeout);
        let check = Arc::clone(&configured.check);
        let ctx = Arc::clone(&ctx);
        let tx = tx.clone();
        std::thread::spawn(move || {
            let began = Instant::now();
            let findings = run_guarded(check.as_ref(), &ctx, deadline);
            let _ = tx.send((index, findings, began.elapsed()));
        });
        pending.push(Pending {
            index,
            deadline: deadline.instant(),
            timeout,
        });
    }
    drop(tx);

    let mut results: Vec<Option<Vec<Finding>>> = vec![None; checks.len()];
    while let Some(next) = pending.iter().map(|p| p.deadline).min() {
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
                    results[p.index] = Some(overran(checks[p.index].check.as_ref(), p.timeout));
                    false
                });
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }

    results
        .into_iter()
        .zip(checks)
        .filter_map(|(findings, configured)| Some(reconcile(configured, findings?)))
        .flatten()
        .filter(|f| selection.wants(&f.id, f.category))
        .collect()
}

/// One outcome per spec, in spec order, matched by id; policy failures softened where the
/// profile asks and the spec allows it.
fn reconcile(configured: &ConfiguredCheck, mut findings: Vec<Finding>) -> Vec<Finding> {
    configured
        .check
        .specs()
        .into_iter()
        .map(|spec| {
            let Some(at) = findings.iter().position(|f| f.id == spec.id) else {
                return spec.finding().error(
                    "could not decide: the check reported nothing for this finding (a bug in preflight, please report it)",
                );
            };
            let mut finding = findings.swap_remove(at);
            let softenable = configured.severity == Severity::Warn
                && spec.stakes == Stakes::Policy
                && finding.status == Status::Fail
                && finding.policy_only;
            if softenable {
                finding.soften();
            }
            finding
        })
        .collect()
}

/// A check that panics is a bug; report it as undecided, saying so, instead of dying.
fn run_guarded(check: &dyn Check, ctx: &Context, deadline: Deadline) -> Vec<Finding> {
    match catch_unwind(AssertUnwindSafe(|| check.run(ctx, deadline))) {
        Ok(findings) => findings,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            check
                .specs()
                .iter()
                .map(|s| {
                    s.finding()
                        .error("could not decide: the check crashed (a bug in preflight, please report it)")
                        .detail(message.clone())
                })
                .collect()
        }
    }
}

fn overran(check: &dyn Check, timeout: Duration) -> Vec<Finding> {
    let secs = timeout.as_secs_f64();
    check
        .specs()
        .iter()
        .map(|s| {
            let mut f = s
                .finding()
                .error(format!("could not decide: the check did not finish within {secs:.1} s"))
                .fix("Run again with a longer deadline (`--timeout SECS`); if it keeps hanging, run with -v and report it.");
            f.duration_ms = timeout.as_millis() as u64;
            f
        })
        .collect()
}
