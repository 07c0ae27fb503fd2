//! The report as Markdown (`--format markdown`), to paste into a support ticket or a chat:
//! what to do first, then every finding with its facts, nothing left out.

use std::fmt::Write;

use super::human::{PROGRAM_NOTICE, counts, observed};
use super::steps;
use super::text;
use crate::report::{Finding, Report, Status, Verdict};

/// Markdown keeps more than a terminal line, but machine text is still bounded.
const MAX_CHARS: usize = 2000;

fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Error => "ERROR",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
    }
}

/// Machine text made safe for Markdown: controls and escapes removed, bounded, and a `<`
/// that could open an HTML tag (before a letter, `/`, `!` or `?`) escaped outside code
/// spans. Other text stays as typed, so `numpy<2` or `>=2021.3` reads the same pasted
/// into a chat that does not render Markdown.
fn md(text: &str) -> String {
    let cleaned = text::clean(text, MAX_CHARS, "…");
    let mut out = String::with_capacity(cleaned.len());
    let mut in_code = false;
    let mut chars = cleaned.chars().peekable();
    while let Some(c) = chars.next() {
        let opens_tag = chars
            .peek()
            .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'));
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code && opens_tag => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = match report.verdict() {
        Verdict::Ready => "ready".to_string(),
        Verdict::ReadyWithWarnings => "ready, with warnings".to_string(),
        Verdict::NotReady => format!(
            "not ready, {} {} to fix",
            s.problems,
            if s.problems == 1 {
                "problem"
            } else {
                "problems"
            }
        ),
    };
    let _ = writeln!(out, "## preflight report: {verdict}\n");
    let p = &report.profile;
    let verified = if p.verified { "verified" } else { "unverified" };
    let _ = writeln!(
        out,
        "- **Profile:** `{}` ({verified}): {}",
        md(&p.name),
        md(&p.title)
    );
    if !p.description.is_empty() {
        let _ = writeln!(out, "  {}", md(&p.description));
    }
    let h = &report.host;
    let mut host = vec![md(&h.os)];
    if let Some(version) = &h.os_version {
        host.push(md(version));
    }
    host.push(md(&h.arch));
    if let Some(name) = &h.name {
        host.insert(0, format!("`{}`", md(name)));
    }
    let _ = writeln!(out, "- **Host:** {}", host.join(", "));
    let _ = writeln!(
        out,
        "- **Run:** {} {}, {}, {} ms",
        report.tool.name, report.tool.version, report.generated_at, report.duration_ms
    );
    let _ = writeln!(
        out,
        "- **Counts:** {}{}",
        counts(&report.checks).join(", "),
        if s.strict {
            " (--strict: warnings are problems)"
        } else {
            ""
        }
    );
    if p.built_in {
        let _ = writeln!(out, "\n> {PROGRAM_NOTICE}");
    }

    let plan = steps::plan(report);
    if !plan.is_empty() {
        let _ = writeln!(out, "\n### What to do\n");
        for step in &plan {
            let action: Vec<String> = step.action.lines().map(md).collect();
            let action = action.join("  \n   ");
            if step.titles.is_empty() {
                let _ = writeln!(out, "{}. {action}", step.number);
            } else {
                let _ = writeln!(
                    out,
                    "{}. **{}:** {action}",
                    step.number,
                    md(&step.titles.join(", "))
                );
            }
        }
    }

    let _ = writeln!(out, "\n### Findings");
    for (category, members) in report.by_category() {
        let _ = writeln!(
            out,
            "\n#### {} ({})\n",
            category.heading(),
            counts(members.iter().copied()).join(", ")
        );
        for f in members {
            finding(&mut out, report, f);
        }
    }
    out
}

fn finding(out: &mut String, report: &Report, f: &Finding) {
    let _ = write!(
        out,
        "- **{}** {} (`{}`): {}",
        label(f.status),
        md(&f.title),
        f.id,
        md(&f.summary)
    );
    if let Some(cause) = &f.caused_by {
        let title = report
            .checks
            .iter()
            .find(|c| &c.id == cause)
            .map_or(cause.as_str(), |c| c.title.as_str());
        let _ = write!(out, " (follows from {} `{cause}`)", md(title));
    }
    out.push('\n');
    for line in &f.details {
        let _ = writeln!(out, "  - {}", md(line));
    }
    // A consequence's own fix may not work until its cause is fixed: only root fixes show.
    if let Some(fix) = f.fix.as_deref().filter(|_| f.caused_by.is_none())
        && steps::is_root_problem(f)
    {
        let lines: Vec<String> = fix.lines().map(md).collect();
        let _ = writeln!(out, "  - fix: {}", lines.join(" "));
    }
    for (key, value) in &f.observed {
        // In a code span nothing is markup: only the backtick that would end it is replaced.
        let value = text::clean(&observed(value), MAX_CHARS, "…").replace('`', "'");
        let _ = writeln!(out, "  - {key}: `{value}`");
    }
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn only_what_could_open_a_tag_is_escaped() {
        assert_eq!(md("numpy<2 and >=2021.3"), "numpy<2 and >=2021.3");
        assert_eq!(md("<script>x</script>"), "&lt;script>x&lt;/script>");
        assert_eq!(md("`<b>` stays in code"), "`<b>` stays in code");
        assert_eq!(md("\u{1b}[1mbold\u{1b}[0m"), "bold");
    }
}
