//! The report for people: grouped by category, a mark per line, the fix right under the
//! problem, a summary last.

use std::fmt::Write;

use owo_colors::{OwoColorize, Style};

use super::RenderOptions;
use crate::check::Category;
use crate::report::{Finding, Report, Status, Verdict};

struct Painter {
    enabled: bool,
}

impl Painter {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.enabled {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }
}

fn mark(status: Status) -> (&'static str, Style) {
    match status {
        Status::Pass => ("[✓]", Style::new().green().bold()),
        Status::Warn => ("[!]", Style::new().yellow().bold()),
        Status::Error => ("[?]", Style::new().magenta().bold()),
        Status::Fail => ("[✗]", Style::new().red().bold()),
        Status::Skip => ("[-]", Style::new().dimmed()),
    }
}

pub fn render(report: &Report, options: RenderOptions) -> String {
    let p = Painter {
        enabled: options.color,
    };
    let mut out = String::new();
    let verified = if report.profile.verified {
        ""
    } else {
        " (unverified)"
    };
    let _ = writeln!(
        out,
        "{} {} · profile {}{}: {}",
        report.tool.name,
        report.tool.version,
        p.paint(&report.profile.name, Style::new().bold()),
        verified,
        report.profile.title
    );
    // The unverified profile's description says why its pins only warn: show it there, and
    // with -v for every profile.
    if (!report.profile.verified || options.verbose) && !report.profile.description.is_empty() {
        let _ = writeln!(out, "  {}", report.profile.description);
    }

    // Categories in order of first appearance; findings keep profile order inside each.
    let mut categories: Vec<Category> = Vec::new();
    for f in &report.checks {
        if !categories.contains(&f.category) {
            categories.push(f.category);
        }
    }
    for category in categories {
        let _ = writeln!(
            out,
            "\n{}",
            p.paint(category.heading(), Style::new().bold().underline())
        );
        let mut previous_fix = None;
        for f in report.checks.iter().filter(|f| f.category == category) {
            finding(&mut out, f, &p, options, previous_fix);
            previous_fix = f.fix.as_deref().filter(|_| is_problem(f));
        }
    }

    let s = &report.summary;
    let mut counts = format!(
        "{} passed, {} {}, {} failed",
        s.pass,
        s.warn,
        if s.warn == 1 { "warning" } else { "warnings" },
        s.fail,
    );
    if s.error > 0 {
        counts.push_str(&format!(", {} undecided", s.error));
    }
    counts.push_str(&format!(", {} skipped", s.skip));
    let verdict = match report.verdict() {
        Verdict::NotReady => {
            let strict = if s.strict && s.warn > 0 {
                " (--strict: warnings count)"
            } else {
                ""
            };
            p.paint(
                &format!(
                    "not ready: {} {} to fix{strict}",
                    s.problems,
                    if s.problems == 1 {
                        "problem"
                    } else {
                        "problems"
                    }
                ),
                Style::new().red().bold(),
            )
        }
        Verdict::ReadyWithWarnings => p.paint(
            "ready, with warnings worth a look",
            Style::new().yellow().bold(),
        ),
        Verdict::Ready => p.paint("ready", Style::new().green().bold()),
    };
    let _ = writeln!(out, "\nSummary: {counts}. {verdict}.");
    out
}

fn is_problem(f: &Finding) -> bool {
    matches!(f.status, Status::Warn | Status::Fail | Status::Error)
}

/// One finding; a fix identical to the one just printed (one pip command for several pins)
/// is pointed at rather than repeated.
fn finding(
    out: &mut String,
    f: &Finding,
    p: &Painter,
    options: RenderOptions,
    previous_fix: Option<&str>,
) {
    let (symbol, style) = mark(f.status);
    let _ = write!(
        out,
        "  {} {}: {}",
        p.paint(symbol, style),
        f.title,
        f.summary
    );
    if options.verbose {
        let _ = write!(
            out,
            "  {}",
            p.paint(
                &format!("[{} · {} ms]", f.id, f.duration_ms),
                Style::new().dimmed()
            )
        );
    }
    out.push('\n');
    let problem = is_problem(f);
    if problem || options.verbose {
        for line in &f.details {
            let _ = writeln!(out, "      {line}");
        }
    }
    if let Some(fix) = f.fix.as_deref().filter(|_| problem) {
        if previous_fix == Some(fix) {
            let _ = writeln!(
                out,
                "      {} same as above",
                p.paint("→ fix:", Style::new().cyan().bold())
            );
            return;
        }
        let mut lines = fix.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(
                out,
                "      {} {first}",
                p.paint("→ fix:", Style::new().cyan().bold())
            );
        }
        for line in lines {
            let _ = writeln!(out, "             {line}");
        }
    }
}
