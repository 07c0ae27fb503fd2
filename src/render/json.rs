//! The JSON report (`--json`): one object, `schema_version` first; see `schema/report.schema.json`.

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serializes");
    text.push('\n');
    text
}
