//! Command-line definitions.

use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeSet;
use std::ffi::OsStr;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::Format;

const AFTER_HELP: &str = "\
Exit codes:
  0  ready (warnings allowed)
  1  at least one check failed (with --strict: or warned)
  2  usage or profile error, or the output could not be written

Examples:
  preflight                         check this machine against the default profile
  preflight --venv ~/exam/venv      judge that virtualenv
  preflight --json > report.json    machine-readable report for CI
  preflight --only python,packages  just the Python side
  preflight explain packages.numpy  what a check verifies and how to fix it
  preflight fix --venv ~/exam/venv  plan the exam virtualenv (add --yes to build it)";

#[derive(Debug, Parser)]
#[command(
    name = "preflight",
    version,
    about = "Checks a machine is ready for the TensorFlow Developer Certificate exam (or any pinned TensorFlow setup), and says how to fix what is not.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in profiles; the default is marked.
    Profiles,
    /// List the checks a run would do: id, kind, severity.
    List,
    /// Explain a check: what it verifies, why it matters for the exam, how to fix it.
    Explain {
        /// A check id, as `preflight list` shows it (e.g. `system.cpu`).
        #[arg(value_parser = Hinted(check_ids), hide_possible_values = true)]
        id: String,
    },
    /// Build the virtualenv the profile describes at --venv DIR (default ./venv), then check
    /// it; without --yes, only print the plan.
    Fix(crate::fix::FixArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Built-in profile name or path to a profile TOML file.
    #[arg(long, global = true, value_name = "NAME|FILE", default_value = crate::profile::DEFAULT_PROFILE,
          value_parser = Hinted(profile_names), hide_possible_values = true)]
    pub profile: String,

    /// The exam virtualenv to check [default: $VIRTUAL_ENV, then ./venv, ./.venv, ./env].
    #[arg(long, global = true, value_name = "DIR")]
    pub venv: Option<PathBuf>,

    /// The exam's PyCharm project (a folder with `.idea/`) whose interpreter to check
    /// [default: the working directory, when it holds `.idea/`].
    #[arg(long, global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,

    /// Run only these checks or categories (comma-separated).
    #[arg(long, global = true, value_delimiter = ',', value_name = "LIST",
          value_parser = Hinted(checks_and_categories), hide_possible_values = true)]
    pub only: Vec<String>,

    /// Leave out these checks or categories (comma-separated).
    #[arg(long, global = true, value_delimiter = ',', value_name = "LIST",
          value_parser = Hinted(checks_and_categories), hide_possible_values = true)]
    pub skip: Vec<String>,

    /// Make no network request; network checks are reported as skipped.
    #[arg(long)]
    pub offline: bool,

    /// Also import the pinned packages and train one tiny model per exam category (starts Python a second time).
    #[arg(long)]
    pub deep: bool,

    /// Deadline for the --deep import-and-train step, in seconds.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = parse_seconds)]
    pub deep_timeout: Duration,

    /// Warnings fail the run too (exit 1).
    #[arg(long)]
    pub strict: bool,

    /// Deadline for each check, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// When to colour the output.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,

    /// Show every finding with its observed facts (paths, versions, latencies), ids and timings.
    #[arg(short, long)]
    pub verbose: bool,
}

impl RunArgs {
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

pub(crate) fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err("must be more than 0 and at most 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A free-text value whose likely values shell completions offer: any text parses (a profile
/// may be a file; a custom profile has its own check ids); the profile load validates it.
#[derive(Clone, Copy)]
pub struct Hinted(pub fn() -> Vec<String>);

impl TypedValueParser for Hinted {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.0)().into_iter().map(PossibleValue::new)))
    }
}

/// The built-in profiles and their aliases.
pub fn profile_names() -> Vec<String> {
    crate::profile::built_in_names()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Every check id of the built-in profiles, sorted.
pub fn check_ids() -> Vec<String> {
    let mut ids = BTreeSet::new();
    for built_in in crate::profile::BUILT_IN {
        if let Ok(profile) = crate::profile::parse(built_in.text, built_in.name, "built-in") {
            for configured in &profile.checks {
                ids.extend(configured.check.specs().iter().map(|s| s.id.to_string()));
            }
        }
    }
    ids.into_iter().collect()
}

/// The categories, then every check id of the built-in profiles.
pub fn checks_and_categories() -> Vec<String> {
    crate::report::Category::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .chain(check_ids())
        .collect()
}
