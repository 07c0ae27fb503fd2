//! JUnit XML for CI dashboards: one testsuite per category, one testcase per finding.

use std::fmt::Write;

use super::RenderOptions;
use crate::report::{Finding, Report, Status};

pub fn render(report: &Report, options: RenderOptions) -> String {
    let failed =
        |f: &Finding| f.status == Status::Fail || (options.strict && f.status == Status::Warn);
    let mut categories: Vec<&str> = Vec::new();
    for f in &report.checks {
        if !categories.contains(&f.category.as_str()) {
            categories.push(&f.category);
        }
    }
    let total_time: u64 = report.checks.iter().map(|f| f.duration_ms).sum();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
        escape(&format!("preflight {}", report.profile.name)),
        report.checks.len(),
        report.checks.iter().filter(|f| failed(f)).count(),
        report.summary.skip,
        seconds(total_time)
    );
    for category in categories {
        let members: Vec<&Finding> = report
            .checks
            .iter()
            .filter(|f| f.category == category)
            .collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(category),
            members.len(),
            members.iter().filter(|f| failed(f)).count(),
            members.iter().filter(|f| f.status == Status::Skip).count(),
            seconds(members.iter().map(|f| f.duration_ms).sum())
        );
        for f in members {
            let _ = write!(
                out,
                "    <testcase classname=\"preflight.{}\" name=\"{}\" time=\"{}\">",
                escape(&f.category),
                escape(&f.id),
                seconds(f.duration_ms)
            );
            let body = body(f);
            if failed(f) {
                let _ = write!(
                    out,
                    "\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    ",
                    escape(&f.summary),
                    f.status.as_str(),
                    escape(&body)
                );
            } else if f.status == Status::Skip {
                let _ = write!(
                    out,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    escape(&f.summary)
                );
            } else {
                let prefix = if f.status == Status::Warn {
                    "warning: "
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "\n      <system-out>{}{}</system-out>\n    ",
                    prefix,
                    escape(&body)
                );
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn body(f: &Finding) -> String {
    let mut text = f.summary.clone();
    for line in &f.details {
        text.push('\n');
        text.push_str(line);
    }
    if let Some(fix) = &f.fix {
        text.push_str("\nfix: ");
        text.push_str(fix);
    }
    text
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// XML-escape text for both attributes and element content; drop characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
