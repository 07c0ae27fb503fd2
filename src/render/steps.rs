//! The "What to do" list every renderer for people shows: one step per root cause, in the
//! order that works (the machine, the Python, the virtualenv, the pins, PyCharm and its
//! plugin, the camera, the network).

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
        .filter(|f| is_root_problem(f))
        .collect();
    // Fixing comes in category order (see `Category`); a stable sort keeps report order within.
    roots.sort_by_key(|f| f.category);
    let mut steps: Vec<Step<'_>> = Vec::new();
    for root in roots {
        // A finding without a fix of its own (an overrun, a crash) still gets a step:
        // its explanation says how to fix what it checks.
        let action = match root.fix.as_deref() {
            Some(fix) => fix.to_string(),
            None => format!("see how to fix it: `preflight explain {}`", root.id),
        };
        if let Some(step) = steps.iter_mut().find(|s| s.action == action) {
            step.titles.push(&root.title);
            step.ids.push(&root.id);
            continue;
        }
        steps.push(Step {
            number: steps.len() + 1,
            titles: vec![&root.title],
            ids: vec![&root.id],
            action,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Category, HostInfo, ProfileInfo};

    fn report(findings: Vec<Finding>) -> Report {
        let profile = ProfileInfo {
            name: "test".into(),
            title: String::new(),
            description: String::new(),
            source: String::new(),
            verified: true,
            built_in: false,
        };
        let host = HostInfo {
            name: None,
            os: "Linux".into(),
            os_version: None,
            arch: "x86_64".into(),
        };
        Report::new(profile, host, findings, false)
    }

    fn finding(id: &str, category: Category) -> Finding {
        Finding::new(id, category, id)
    }

    #[test]
    fn steps_follow_the_fixing_order_share_fixes_and_end_with_a_rerun() {
        let pip = "python -m pip install numpy==1.22.4 scipy==1.7.3";
        let mut plugin = finding("pycharm.plugin", Category::Pycharm).skip("no install");
        plugin.caused_by = Some("pycharm.install".into());
        let report = report(vec![
            finding("system.memory", Category::System)
                .warn("3 GiB")
                .fix("close programs"),
            finding("network.datasets", Category::Network)
                .fail("dns")
                .fix("check DNS"),
            finding("webcam.camera", Category::Webcam)
                .fail("none")
                .fix("plug one in"),
            finding("pycharm.install", Category::Pycharm)
                .fail("none")
                .fix("install it"),
            plugin,
            finding("packages.numpy", Category::Packages)
                .fail("missing")
                .fix(pip),
            finding("packages.scipy", Category::Packages)
                .fail("missing")
                .fix(pip),
            finding("python.version", Category::Python)
                .fail("3.12")
                .fix("get 3.8"),
            finding("python.venv", Category::Python).pass("ok"),
        ]);
        let steps = plan(&report);
        let ids: Vec<Vec<&str>> = steps.iter().map(|s| s.ids.clone()).collect();
        assert_eq!(
            ids,
            [
                vec!["system.memory"],
                vec!["python.version"],
                vec!["packages.numpy", "packages.scipy"],
                vec!["pycharm.install"],
                vec!["webcam.camera"],
                vec!["network.datasets"],
                vec![],
            ]
        );
        assert_eq!(steps[2].action, pip);
        assert!(
            steps[6].action.starts_with("Run preflight again"),
            "{:?}",
            steps[6]
        );
        assert_eq!(
            steps.iter().map(|s| s.number).collect::<Vec<_>>(),
            (1..=7).collect::<Vec<_>>()
        );
        assert_eq!(step_for(&steps, "packages.scipy"), Some(3));
        assert_eq!(step_for(&steps, "pycharm.plugin"), None);
    }

    #[test]
    fn a_root_without_a_fix_points_at_explain_and_a_clean_run_has_no_steps() {
        let undecided = report(vec![
            finding("system.disk", Category::System).error("could not decide"),
        ]);
        let steps = plan(&undecided);
        assert_eq!(steps.len(), 1);
        assert_eq!(
            steps[0].action,
            "see how to fix it: `preflight explain system.disk`"
        );
        assert!(
            plan(&report(vec![
                finding("system.os", Category::System).pass("ok")
            ]))
            .is_empty()
        );
    }
}
