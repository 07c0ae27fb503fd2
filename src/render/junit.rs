//! JUnit XML for CI dashboards: one testsuite per category, one testcase per finding. A
//! failure (and a warning under `--strict`) is a `<failure>`; a finding that could not be
//! decided is an `<error>`; a skip is `<skipped>`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::report::{Finding, Report, Status};

pub fn render(report: &Report) -> String {
    let strict = report.summary.strict;
    let mut junit = JunitReport::new(format!("preflight {}", report.profile.name));
    for (category, members) in report.by_category() {
        let mut suite = TestSuite::new(category.as_str());
        for f in members {
            suite.add_test_case(test_case(f, strict));
        }
        junit.add_test_suite(suite);
    }
    let total: u64 = report.checks.iter().map(|f| f.duration_ms).sum();
    junit.set_time(Duration::from_millis(total));
    junit.to_string().unwrap_or_else(|e| {
        // The model holds only strings and numbers; a failure here is a bug, said in XML.
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- preflight could not write JUnit: {} -->\n<testsuites/>\n",
            e.to_string().replace("--", "- -")
        )
    })
}

fn test_case(f: &Finding, strict: bool) -> TestCase {
    let body = body(f);
    let status = match f.status {
        Status::Fail => non_success(NonSuccessKind::Failure, f, body.clone()),
        Status::Warn if strict => non_success(NonSuccessKind::Failure, f, body.clone()),
        Status::Error => non_success(NonSuccessKind::Error, f, body.clone()),
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(clean(&f.summary));
            status
        }
        Status::Pass | Status::Warn => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(f.id.as_str(), status);
    case.set_classname(format!("preflight.{}", f.category.as_str()));
    case.set_time(Duration::from_millis(f.duration_ms));
    if matches!(f.status, Status::Pass | Status::Warn) && !(strict && f.status == Status::Warn) {
        let prefix = if f.status == Status::Warn {
            "warning: "
        } else {
            ""
        };
        case.set_system_out(format!("{prefix}{body}"));
    }
    case
}

fn non_success(kind: NonSuccessKind, f: &Finding, body: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status
        .set_message(clean(&f.summary))
        .set_type(f.status.as_str())
        .set_description(body);
    status
}

fn body(f: &Finding) -> String {
    let mut text = f.summary.clone();
    for line in &f.details {
        text.push('\n');
        text.push_str(line);
    }
    match (&f.caused_by, &f.fix) {
        // A consequence's own fix may not work before its cause is fixed: name the cause.
        (Some(cause), _) => {
            text.push_str("\nfollows from: ");
            text.push_str(cause);
        }
        (None, Some(fix)) => {
            text.push_str("\nfix: ");
            text.push_str(fix);
        }
        (None, None) => {}
    }
    clean(&text)
}

/// XML 1.0 cannot hold most control characters, even escaped: drop them.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\n' | '\t' | '\r') || (*c as u32) >= 0x20)
        .collect()
}
