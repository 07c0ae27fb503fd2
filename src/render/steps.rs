//! The "What to do" list every renderer for people shows: one step per root cause, in the
//! order that works (the machine, the Python, the virtualenv, the pins, PyCharm and its
//! plugin, the camera, the network).

use crate::check::Category;
use crate::report::{Finding, Report, Status};

/// One step: the action, and the root-cause findings it fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<'a> {
    pub number: usize,
    /// Titles of the findings it fixes; empty for the closing "run again" step.
    pub titles: Vec<&'a str>,
    pub ids: Vec<&'a str>,
    /// One command or one concrete action (the root finding's fix).
    pub action: String,
}

/// Fixing comes in this order: a machine that cannot run TensorFlow first, then the Python
/// the virtualenv is made from, the virtualenv, its pins, PyCharm, the camera, the network.
fn rank(category: Category) -> u8 {
    match category {
        Category::System => 0,
        Category::Python => 1,
        Category::Packages => 2,
        Category::Pycharm => 3,
        Category::Webcam => 4,
        Category::Network => 5,
    }
}

/// A root cause: a problem or warning no other finding explains.
pub fn is_root_problem(f: &Finding) -> bool {
    f.caused_by.is_none() && matches!(f.status, Status::Warn | Status::Fail | Status::Error)
}

/// Findings that do not hold because of a root cause: judged anew once it is fixed.
pub fn consequences<'a>(report: &'a Report, root: &'a str) -> impl Iterator<Item = &'a Finding> {
    report
        .checks
        .iter()
        .filter(move |f| f.caused_by.as_deref() == Some(root) && f.status != Status::Pass)
}

/// The steps, numbered from 1. Root causes that share a fix (one pip command for several
/// pins) are one step. When some findings follow from others, the last step is to run
/// preflight again, since they are judged only once their cause is fixed.
pub fn plan(report: &Report) -> Vec<Step<'_>> {
    let mut roots: Vec<&Finding> = report
        .checks
        .iter()
        .filter(|f| is_root_problem(f) && f.fix.is_some())
        .collect();
    roots.sort_by_key(|f| rank(f.category));
    let mut steps: Vec<Step<'_>> = Vec::new();
    for root in roots {
        let action = root.fix.as_deref().unwrap_or_default();
        if let Some(step) = steps.iter_mut().find(|s| s.action == action) {
            step.titles.push(&root.title);
            step.ids.push(&root.id);
            continue;
        }
        steps.push(Step {
            number: steps.len() + 1,
            titles: vec![&root.title],
            ids: vec![&root.id],
            action: action.to_string(),
        });
    }
    let waiting = report
        .checks
        .iter()
        .filter(|f| f.caused_by.is_some() && f.status != Status::Pass)
        .count();
    if waiting > 0 && !steps.is_empty() {
        steps.push(Step {
            number: steps.len() + 1,
            titles: Vec::new(),
            ids: Vec::new(),
            action: format!(
                "Run preflight again to judge the {waiting} {} that {} on these steps.",
                if waiting == 1 { "finding" } else { "findings" },
                if waiting == 1 { "depends" } else { "depend" },
            ),
        });
    }
    steps
}

/// The step that fixes finding `id`, if any.
pub fn step_for(steps: &[Step<'_>], id: &str) -> Option<usize> {
    steps.iter().find(|s| s.ids.contains(&id)).map(|s| s.number)
}
