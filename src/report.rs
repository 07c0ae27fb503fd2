//! The report model: what every check produces and every renderer reads.

use serde::Serialize;
use serde_json::{Map, Value};

/// The JSON report's schema version; bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One line of the report: a single fact about the machine, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub category: String,
    pub title: String,
    pub status: Status,
    pub summary: String,
    pub details: Vec<String>,
    pub fix: Option<String>,
    pub observed: Map<String, Value>,
    pub duration_ms: u64,
}

impl Finding {
    pub fn new(
        id: impl Into<String>,
        category: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        Finding {
            id: id.into(),
            category: category.into(),
            title: title.into(),
            status: Status::Pass,
            summary: String::new(),
            details: Vec::new(),
            fix: None,
            observed: Map::new(),
            duration_ms: 0,
        }
    }

    fn with_status(mut self, status: Status, summary: impl Into<String>) -> Self {
        self.status = status;
        self.summary = summary.into();
        self
    }

    pub fn pass(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Pass, summary)
    }

    pub fn warn(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Warn, summary)
    }

    pub fn fail(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Fail, summary)
    }

    pub fn skip(self, summary: impl Into<String>) -> Self {
        self.with_status(Status::Skip, summary)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }

    pub fn details<I, S>(mut self, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.details.extend(lines.into_iter().map(Into::into));
        self
    }

    pub fn observe(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.observed.insert(key.to_string(), value.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub title: String,
    pub source: String,
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostInfo {
    pub os: String,
    pub os_version: Option<String>,
    pub arch: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    /// Nothing failed; warnings are allowed.
    pub ready: bool,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
        let fail = count(Status::Fail);
        Summary {
            pass: count(Status::Pass),
            warn: count(Status::Warn),
            fail,
            skip: count(Status::Skip),
            ready: fail == 0,
        }
    }
}

/// The whole run, in profile order. Field order is the JSON field order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub profile: ProfileInfo,
    pub host: HostInfo,
    pub summary: Summary,
    pub checks: Vec<Finding>,
}

impl Report {
    pub fn new(profile: ProfileInfo, host: HostInfo, checks: Vec<Finding>) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: crate::TOOL_NAME.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            profile,
            host,
            summary: Summary::of(&checks),
            checks,
        }
    }

    /// The process exit code: 0 ready, 1 a failure (or a warning when strict).
    pub fn exit_code(&self, strict: bool) -> u8 {
        let failed = self.summary.fail > 0 || (strict && self.summary.warn > 0);
        u8::from(failed)
    }
}
