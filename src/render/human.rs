//! The report for people, one screen: a passing category is one line; problems are expanded
//! under their category with what they cause; a numbered "What to do" list; the verdict
//! last. `-v` shows every finding with its observed facts. Wrapped to the terminal's width
//! with a hanging indent; ASCII marks where the terminal cannot show Unicode.

use owo_colors::{OwoColorize, Style};
use serde_json::Value;

use super::RenderOptions;
use super::steps::{self, Step};
use super::text;
use crate::report::{Category, Finding, Report, Status, Verdict};

/// Shown under the header of a built-in profile (facts: docs/exam-facts.md).
pub const PROGRAM_NOTICE: &str =
    "The exam program closed in 2024; these profiles serve practice and courses.";

/// Where a finding's first line starts, and where its wrapped lines and details start.
const FINDING_INDENT: usize = 2;
const HANG: usize = 4;

/// Binds words that wrapping must keep together; printed as a space.
const NBSP: char = '\u{a0}';

struct Theme {
    color: bool,
    unicode: bool,
    width: usize,
}

impl Theme {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.color {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }

    fn mark(&self, status: Status) -> (&'static str, Style) {
        let (unicode, ascii, style) = match status {
            Status::Pass => ("[✓]", "[ok]", Style::new().green().bold()),
            Status::Warn => ("[!]", "[!!]", Style::new().yellow().bold()),
            Status::Error => ("[?]", "[??]", Style::new().magenta().bold()),
            Status::Fail => ("[✗]", "[XX]", Style::new().red().bold()),
            Status::Skip => ("[-]", "[--]", Style::new().dimmed()),
        };
        (if self.unicode { unicode } else { ascii }, style)
    }

    fn symbol(&self, unicode: &'static str, ascii: &'static str) -> &'static str {
        if self.unicode { unicode } else { ascii }
    }

    /// Machine text made safe to print.
    fn clean(&self, text: &str) -> String {
        text::clean(text, text::MAX_TEXT_CHARS, self.symbol("…", "..."))
    }

    /// `text` wrapped, first line at `indent` (after `mark`, painted), the rest at `hang`.
    fn block(
        &self,
        out: &mut String,
        indent: usize,
        mark: Option<Status>,
        hang: usize,
        text: &str,
    ) {
        let pad = " ".repeat(indent);
        let (first, painted) = match mark {
            Some(status) => {
                let (symbol, style) = self.mark(status);
                (
                    format!("{pad}{symbol} "),
                    Some((symbol, self.paint(symbol, style))),
                )
            }
            None => (pad, None),
        };
        let lines = text::wrap(text, &first, &" ".repeat(hang), self.width);
        for (i, line) in lines.into_iter().enumerate() {
            let line = line.replace(NBSP, " ");
            match &painted {
                Some((symbol, painted)) if i == 0 => {
                    out.push_str(&line.replacen(symbol, painted, 1));
                }
                _ => out.push_str(&line),
            }
            out.push('\n');
        }
    }
}

pub fn render(report: &Report, options: RenderOptions) -> String {
    let theme = Theme {
        color: options.color,
        unicode: options.unicode,
        width: options.width(),
    };
    let plan = steps::plan(report);
    let mut out = String::new();
    header(&mut out, report, &theme);

    for (category, members) in report.by_category() {
        self::category(
            &mut out,
            report,
            category,
            &members,
            &plan,
            &theme,
            options.verbose,
        );
    }

    if !plan.is_empty() {
        out.push('\n');
        out.push_str(&theme.paint("What to do", Style::new().bold()));
        out.push('\n');
        for step in &plan {
            self::step(&mut out, step, &theme);
        }
    }

    out.push('\n');
    summary(&mut out, report, &theme);
    out
}

fn header(out: &mut String, report: &Report, theme: &Theme) {
    let profile = &report.profile;
    let verified = if profile.verified {
        "verified"
    } else {
        "unverified"
    };
    theme.block(
        out,
        0,
        None,
        2,
        &format!(
            "{} {} {} profile {} ({verified})",
            report.tool.name,
            report.tool.version,
            theme.symbol("·", "-"),
            theme.clean(&profile.name)
        ),
    );
    for line in [&profile.title, &profile.description] {
        if !line.is_empty() {
            theme.block(out, 2, None, 2, &theme.clean(line));
        }
    }
    if profile.built_in {
        theme.block(out, 2, None, 2, PROGRAM_NOTICE);
    }
    out.push('\n');
}

fn is_problem(status: Status) -> bool {
    matches!(status, Status::Warn | Status::Fail | Status::Error)
}

/// "1 failed, 2 passed": the counts of `findings`, worst first, zeros left out.
pub(crate) fn counts<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<String> {
    let statuses: Vec<Status> = findings.into_iter().map(|f| f.status).collect();
    let n = |s: Status| statuses.iter().filter(|x| **x == s).count();
    [
        (n(Status::Fail), "failed", "failed"),
        (n(Status::Error), "undecided", "undecided"),
        (n(Status::Warn), "warning", "warnings"),
        (n(Status::Pass), "passed", "passed"),
        (n(Status::Skip), "skipped", "skipped"),
    ]
    .into_iter()
    .filter(|(count, _, _)| *count > 0)
    .map(|(count, one, many)| format!("{count} {}", if count == 1 { one } else { many }))
    .collect()
}

/// "6 follow from Python version": findings of a category that another finding explains.
pub(crate) fn follows<'a>(report: &'a Report, members: &[&'a Finding]) -> Vec<String> {
    let mut causes: Vec<(&str, usize)> = Vec::new();
    for f in members {
        if let Some(cause) = f.caused_by.as_deref() {
            match causes.iter_mut().find(|(id, _)| *id == cause) {
                Some((_, count)) => *count += 1,
                None => causes.push((cause, 1)),
            }
        }
    }
    causes
        .into_iter()
        .map(|(id, count)| {
            let title = report
                .checks
                .iter()
                .find(|f| f.id == id)
                .map_or(id, |f| f.title.as_str());
            let verb = if count == 1 { "follows" } else { "follow" };
            format!("{count} {verb} from {title}")
        })
        .collect()
}

fn category(
    out: &mut String,
    report: &Report,
    category: Category,
    members: &[&Finding],
    plan: &[Step<'_>],
    theme: &Theme,
    verbose: bool,
) {
    let own: Vec<&Finding> = members
        .iter()
        .copied()
        .filter(|f| f.caused_by.is_none())
        .collect();
    // A skip does not hide a pass: the category is skipped only when nothing else ran.
    let worst = members
        .iter()
        .map(|f| f.status)
        .filter(|s| *s != Status::Skip)
        .max()
        .unwrap_or(Status::Skip);
    let mut line = counts(own.iter().copied()).join(", ");
    let follows = follows(report, members);
    if !follows.is_empty() {
        if !line.is_empty() {
            line.push_str("; ");
        }
        line.push_str(&follows.join("; "));
    }
    theme.block(
        out,
        0,
        Some(worst),
        HANG,
        &format!("{}: {line}", category.heading()),
    );
    for f in own {
        if verbose || is_problem(f.status) {
            finding(out, report, f, FINDING_INDENT, plan, theme, verbose);
        }
    }
}

fn finding(
    out: &mut String,
    report: &Report,
    f: &Finding,
    indent: usize,
    plan: &[Step<'_>],
    theme: &Theme,
    verbose: bool,
) {
    let hang = indent + HANG;
    let mut text = format!("{}: {}", theme.clean(&f.title), theme.clean(&f.summary));
    if let Some(number) = steps::step_for(plan, &f.id) {
        text.push_str(&format!(" (step {number})"));
    }
    if verbose {
        // Joined by no-break spaces so that wrapping keeps the tag on one line.
        text.push_str(&format!(
            " [{}{NBSP}{}{NBSP}{}{NBSP}ms]",
            f.id,
            theme.symbol("·", "-"),
            f.duration_ms
        ));
    }
    theme.block(out, indent, Some(f.status), hang, &text);
    if verbose || is_problem(f.status) {
        for line in &f.details {
            theme.block(out, hang, None, hang, &theme.clean(line));
        }
    }
    if verbose {
        let bullet = theme.symbol("•", "-");
        for (key, value) in &f.observed {
            let text = format!("{bullet} {key}: {}", theme.clean(&observed(value)));
            theme.block(out, hang, None, hang + 2, &text);
        }
    }
    if f.caused_by.is_some() {
        return;
    }
    let consequences: Vec<&Finding> = steps::consequences(report, &f.id).collect();
    if consequences.is_empty() {
        return;
    }
    if verbose {
        for c in consequences {
            finding(out, report, c, hang, plan, theme, verbose);
        }
        return;
    }
    theme.block(
        out,
        hang,
        None,
        hang + 2,
        &format!("Because of this: {}", because(&consequences, theme)),
    );
}

/// "tensorflow, numpy (failed); Exam plugin (not decided)".
fn because(consequences: &[&Finding], theme: &Theme) -> String {
    [
        (Status::Fail, "failed"),
        (Status::Error, "undecided"),
        (Status::Warn, "warned"),
        (Status::Skip, "not decided"),
    ]
    .into_iter()
    .filter_map(|(status, label)| {
        let titles: Vec<String> = consequences
            .iter()
            .filter(|c| c.status == status)
            .map(|c| theme.clean(&c.title))
            .collect();
        (!titles.is_empty()).then(|| format!("{} ({label})", titles.join(", ")))
    })
    .collect::<Vec<_>>()
    .join("; ")
}

/// An observed fact as one line: strings bare, lists joined, anything else as JSON.
pub(crate) fn observed(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(observed).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn step(out: &mut String, step: &Step<'_>, theme: &Theme) {
    let prefix = format!("  {}. ", step.number);
    let hang = " ".repeat(prefix.len());
    let mut lines = step.action.lines();
    let first = lines.next().unwrap_or_default();
    let first = if step.titles.is_empty() {
        theme.clean(first)
    } else {
        format!(
            "{}: {}",
            theme.clean(&step.titles.join(", ")),
            theme.clean(first)
        )
    };
    for line in text::wrap(&first, &prefix, &hang, theme.width) {
        out.push_str(&line);
        out.push('\n');
    }
    for line in lines {
        theme.block(out, hang.len(), None, hang.len(), &theme.clean(line));
    }
}

fn summary(out: &mut String, report: &Report, theme: &Theme) {
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
    let (verdict, style) = match report.verdict() {
        Verdict::NotReady => {
            let strict = if s.strict && s.warn > 0 {
                " (--strict: warnings count)"
            } else {
                ""
            };
            let noun = if s.problems == 1 {
                "problem"
            } else {
                "problems"
            };
            // Consequences count as problems, but the reader acts on their causes.
            let causes = report
                .checks
                .iter()
                .filter(|f| f.status.is_problem(s.strict) && f.caused_by.is_none())
                .count();
            let from = if causes < s.problems {
                format!(
                    " from {causes} {}",
                    if causes == 1 { "cause" } else { "causes" }
                )
            } else {
                String::new()
            };
            (
                format!("not ready: {} {noun}{from}{strict}", s.problems),
                Style::new().red().bold(),
            )
        }
        Verdict::ReadyWithWarnings => (
            "ready, with warnings worth a look".to_string(),
            Style::new().yellow().bold(),
        ),
        Verdict::Ready => ("ready".to_string(), Style::new().green().bold()),
    };
    let painted = theme.paint(&verdict, style);
    let mut lines = text::wrap(
        &format!("Summary: {counts}. {verdict}."),
        "",
        "  ",
        theme.width,
    );
    // The verdict is the last line's to say, whole: where it would wrap, it gets its own lines.
    if !lines.last().is_some_and(|l| l.contains(&verdict)) {
        lines = text::wrap(&format!("Summary: {counts}."), "", "  ", theme.width);
        lines.extend(text::wrap(&format!("{verdict}."), "", "  ", theme.width));
    }
    for line in lines {
        // A verdict wrapped over two lines stays uncoloured rather than colour a fragment.
        out.push_str(&line.replacen(&verdict, &painted, 1));
        out.push('\n');
    }
}
