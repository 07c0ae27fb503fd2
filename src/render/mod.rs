//! Renderers: each turns a finished `Report` into text. None of them runs a probe.

pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod steps;
pub mod text;

use crate::net::redact;
use crate::report::{Finding, Report};
use text::clean;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    /// The report as Markdown, to paste into a support ticket or chat.
    Markdown,
}

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub verbose: bool,
    /// Columns to wrap the human report to (see [`text::width`]).
    pub width: usize,
    /// The terminal shows Unicode marks; ASCII ones otherwise.
    pub unicode: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            verbose: false,
            width: text::DEFAULT_WIDTH,
            unicode: true,
        }
    }
}

impl RenderOptions {
    pub fn width(&self) -> usize {
        self.width.max(text::MIN_WIDTH)
    }
}

/// `report` in `format`, every text in it first made fit to print by [`guard`].
pub fn render(report: &Report, format: Format, options: RenderOptions) -> String {
    let report = &guard(report);
    match format {
        Format::Human => human::render(report, options),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// What one line of a finding may hold: far more than any judgement needs, far less than a
/// runaway child's output.
const LINE_LIMIT: usize = 2_000;
/// What one observed value (a path list, a banner) or one fix may hold.
const VALUE_LIMIT: usize = 8_000;

/// The last guard before anything is printed, in every format: every text of the report (a
/// proxy variable, an index URL, a child's error output, package metadata, a fix naming a
/// file, the profile's own words) redacted by [`redact`], its terminal escape sequences and
/// control characters removed and its length bounded, whichever check forgot. A fix keeps
/// its line breaks.
pub fn guard(report: &Report) -> Report {
    fn guard_value(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => *text = clean(text, VALUE_LIMIT, "…"),
            serde_json::Value::Array(items) => items.iter_mut().for_each(guard_value),
            serde_json::Value::Object(map) => map.values_mut().for_each(guard_value),
            _ => {}
        }
    }
    fn guard_finding(finding: &mut Finding) {
        for text in [&mut finding.title, &mut finding.summary] {
            *text = clean(text, LINE_LIMIT, "…");
        }
        for line in &mut finding.details {
            *line = clean(line, LINE_LIMIT, "…");
        }
        if let Some(fix) = &mut finding.fix {
            *fix = redact(fix).chars().take(VALUE_LIMIT).collect();
        }
        if let Some(cause) = &mut finding.caused_by {
            *cause = clean(cause, LINE_LIMIT, "…");
        }
        finding.observed.values_mut().for_each(guard_value);
    }
    let mut report = report.clone();
    report.checks.iter_mut().for_each(guard_finding);
    let profile = &mut report.profile;
    for text in [
        &mut profile.name,
        &mut profile.title,
        &mut profile.description,
        &mut profile.source,
    ] {
        *text = clean(text, LINE_LIMIT, "…");
    }
    let host = &mut report.host;
    for text in [&mut host.name, &mut host.os_version].into_iter().flatten() {
        *text = clean(text, LINE_LIMIT, "…");
    }
    report
}
