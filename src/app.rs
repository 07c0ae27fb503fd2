//! What each command does, from parsed arguments to text and an exit code.

use std::io::Write;
use std::sync::Arc;

use clap::CommandFactory;

use crate::check::{Context, FindingSpec, RunOptions, Severity, Stakes};
use crate::cli::{Cli, ColorChoice, Command, RunArgs};
use crate::host::Host;
use crate::net::redact;
use crate::profile::{self, Profile};
use crate::render::{self, Format, RenderOptions};
use crate::report::{EXIT_READY, EXIT_USAGE, HostInfo, ProfileInfo, Report};
use crate::runner::{self, Selection};

/// Where a command writes, and whether stdout is a terminal (for colour).
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
    /// The terminal's width in columns, when stdout is one.
    pub terminal_width: Option<usize>,
}

/// Carry out a parsed command line on `host`; returns the exit code.
pub fn execute(cli: Cli, host: Host, io: Io<'_>) -> u8 {
    let Io {
        out,
        err,
        stdout_is_terminal,
        terminal_width,
    } = io;
    if let Some(Command::Completions { shell }) = cli.command {
        // Into memory first: clap_complete panics when its writer fails.
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "preflight", &mut script);
        return emit(out, err, &script, EXIT_READY);
    }
    let json = cli.run.format() == Format::Json;
    if let Some(Command::Profiles) = cli.command {
        let text = if json {
            list_profiles_json()
        } else {
            list_profiles()
        };
        return emit(out, err, text.as_bytes(), EXIT_READY);
    }
    let profile = match profile::load(&cli.run.profile, &host) {
        Ok(p) => p,
        Err(e) => return usage_error(err, &e.to_string()),
    };
    // `--only "python, system"`: the spaces around commas are not part of the names.
    let names = |given: &[String]| -> Vec<String> {
        given
            .iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect()
    };
    let selection = Selection {
        only: names(&cli.run.only),
        skip: names(&cli.run.skip),
    };
    if let Err(message) = selection.validate(&profile.checks) {
        return usage_error(err, &message);
    }
    let text = match &cli.command {
        Some(Command::List) if json => list_checks_json(&profile, &selection),
        Some(Command::List) => list_checks(&profile, &selection),
        Some(Command::Explain { id }) => match explain(&profile, id, cli.run.format()) {
            Ok(text) => text,
            Err(message) => return usage_error(err, &message),
        },
        Some(Command::Fix(_)) if cli.run.format() != Format::Human => {
            return usage_error(
                err,
                "preflight fix prints a plan and what it did, not a report: --json and --format are not supported with it.\n  Run `preflight fix` without them; then `preflight --json --venv DIR` reports on the virtualenv it built.",
            );
        }
        Some(Command::Fix(args)) => {
            let terminal = Terminal {
                is_terminal: stdout_is_terminal,
                width: terminal_width,
            };
            return crate::fix::run(args, &cli.run, host, profile, terminal, out, err);
        }
        _ => {
            let terminal = Terminal {
                is_terminal: stdout_is_terminal,
                width: terminal_width,
            };
            return run(&cli.run, host, profile, &selection, terminal, out, err);
        }
    };
    emit(out, err, text.as_bytes(), EXIT_READY)
}

/// Write a command's whole output, then end with `code`. Output that could not be written
/// (a full disk) is an error on stderr and exit 2: an empty report must never look like a
/// success. A closed pipe (`| head`) means the reader wanted no more: quietly `code`.
pub fn emit(out: &mut dyn Write, err: &mut dyn Write, text: &[u8], code: u8) -> u8 {
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write the output: {e}");
            EXIT_USAGE
        }
    }
}

fn usage_error(err: &mut dyn Write, message: &str) -> u8 {
    let _ = writeln!(err, "error: {}", redact(message));
    EXIT_USAGE
}

/// One run of the checks, apart from the command line and from how its report is shown:
/// the CLI's run and `preflight fix`'s check of the virtualenv it built both make one.
pub struct Request<'a> {
    pub profile: &'a Profile,
    pub selection: &'a Selection,
    pub options: RunOptions,
    /// `--strict`: warnings are problems too.
    pub strict: bool,
}

/// Run the checks `request` selects on `host`: the report, its texts as the checks wrote
/// them; `render::render` guards every text before it is shown.
pub fn check(host: Host, request: &Request<'_>) -> Report {
    let profile = request.profile;
    let ctx = Arc::new(Context::new(
        host,
        request.options.clone(),
        profile.facts.clone(),
    ));
    let started = ctx.started;
    let findings = runner::run(Arc::clone(&ctx), &profile.checks, request.selection);
    // After the run: the facts are gathered when first read, by the system check if it ran.
    let host = &ctx.host;
    let host_info = HostInfo {
        name: host.facts.host_name.clone(),
        os: host.os.label().to_string(),
        os_version: host.facts.os_version.clone(),
        arch: host.facts.arch.clone(),
    };
    let mut report = Report::new(
        ProfileInfo {
            name: profile.name.clone(),
            title: profile.title.clone(),
            description: profile.description.clone(),
            source: profile.source.clone(),
            verified: profile.verified,
            built_in: profile::built_in_names().contains(&profile.name.as_str()),
        },
        host_info,
        findings,
        request.strict,
    );
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// How a report is shown on this terminal: colour as `--color` and the environment say, the
/// width, and whether the locale can show more than ASCII.
pub(crate) fn render_options(
    color: ColorChoice,
    verbose: bool,
    host: &Host,
    terminal: &Terminal,
) -> RenderOptions {
    // A dumb terminal shows neither colour nor anything but ASCII.
    let dumb = host.env("TERM") == Some("dumb");
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal.is_terminal && host.env("NO_COLOR").is_none() && !dumb,
    };
    RenderOptions {
        color,
        verbose,
        width: render::text::width(host.env("COLUMNS"), terminal.width),
        unicode: !dumb && render::text::locale_is_utf8(|key| host.env(key)),
    }
}

/// Render `report` and write it; the exit code is the verdict's unless the output could not
/// be written.
pub(crate) fn show(
    report: &Report,
    format: Format,
    options: RenderOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let text = render::render(report, format, options);
    emit(out, err, text.as_bytes(), report.exit_code())
}

/// The CLI's run: the checks as the command line asks, shown in its format.
fn run(
    args: &RunArgs,
    host: Host,
    profile: Profile,
    selection: &Selection,
    terminal: Terminal,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let render_options = render_options(args.color, args.verbose, &host, &terminal);
    let request = Request {
        profile: &profile,
        selection,
        options: RunOptions {
            venv: args.venv.clone(),
            project: args.project.clone(),
            offline: args.offline,
            deep: args.deep,
            timeout: args.timeout,
            deep_timeout: args.deep_timeout,
        },
        strict: args.strict,
    };
    let report = check(host, &request);
    show(&report, args.format(), render_options, out, err)
}

/// What stdout is.
pub(crate) struct Terminal {
    pub(crate) is_terminal: bool,
    pub(crate) width: Option<usize>,
}

fn list_profiles() -> String {
    let mut text = String::new();
    let width = profile::built_in_names()
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    for (alias, target) in profile::ALIASES {
        let default = if *alias == profile::DEFAULT_PROFILE {
            " (default)"
        } else {
            ""
        };
        text.push_str(&format!("{alias:width$}  = {target}{default}\n"));
    }
    for built_in in profile::BUILT_IN {
        let title = match profile::parse(built_in.text, built_in.name, "built-in") {
            Ok(p) if p.verified => p.title,
            Ok(p) => format!("{} (unverified)", p.title),
            Err(e) => format!("(broken: {e})"),
        };
        text.push_str(&format!("{:width$}  {title}\n", built_in.name));
    }
    text
}

/// `--json profiles`: one object per name `--profile` accepts.
fn list_profiles_json() -> String {
    let mut entries: Vec<serde_json::Value> = profile::ALIASES
        .iter()
        .map(|(alias, target)| {
            serde_json::json!({
                "name": alias,
                "alias_of": target,
                "default": *alias == profile::DEFAULT_PROFILE,
            })
        })
        .collect();
    for built_in in profile::BUILT_IN {
        let mut entry = serde_json::json!({
            "name": built_in.name,
            "default": built_in.name == profile::DEFAULT_PROFILE,
        });
        match profile::parse(built_in.text, built_in.name, "built-in") {
            Ok(p) => {
                entry["title"] = p.title.into();
                entry["verified"] = p.verified.into();
            }
            Err(e) => entry["error"] = e.to_string().into(),
        }
        entries.push(entry);
    }
    to_json_text(&entries)
}

/// `--json list`: the checks a run would do, as `list` shows them.
fn list_checks_json(profile: &Profile, selection: &Selection) -> String {
    let checks: Vec<serde_json::Value> = profile
        .checks
        .iter()
        .flat_map(|c| {
            c.check
                .specs()
                .into_iter()
                .filter(|s| selection.wants(&s.id, s.category))
                .map(move |s| {
                    serde_json::json!({
                        "id": s.id,
                        "category": s.category,
                        "kind": c.kind,
                        "severity": s.stakes.effective_severity(c.severity),
                        "title": s.title,
                    })
                })
        })
        .collect();
    to_json_text(&serde_json::json!({ "profile": profile.name, "checks": checks }))
}

fn to_json_text(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

fn list_checks(profile: &Profile, selection: &Selection) -> String {
    let rows: Vec<(&str, &str, &str, &str)> = profile
        .checks
        .iter()
        .flat_map(|c| {
            c.check
                .specs()
                .into_iter()
                .filter(|s| selection.wants(&s.id, s.category))
                .map(move |s| {
                    let severity = s.stakes.effective_severity(c.severity);
                    (s.id.as_ref(), c.kind, severity, s.title.as_ref())
                })
        })
        .collect();
    let id_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(2).max(2);
    let kind_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(4).max(4);
    let mut text = format!(
        "{:id_width$}  {:kind_width$}  SEVERITY  TITLE\n",
        "ID", "KIND"
    );
    for (id, kind, severity, title) in rows {
        text.push_str(&format!(
            "{id:id_width$}  {kind:kind_width$}  {severity:8}  {title}\n"
        ));
    }
    text
}

/// `explain ID`, as text or (`--json`) one object; Markdown and JUnit are for reports.
fn explain(profile: &Profile, id: &str, format: Format) -> Result<String, String> {
    if matches!(format, Format::Junit | Format::Markdown) {
        return Err(
            "explain prints one check's description as text or JSON (--json): --format junit and markdown are for reports".into(),
        );
    }
    let specs: Vec<(&FindingSpec, Severity)> = profile
        .checks
        .iter()
        .flat_map(|c| c.check.specs().into_iter().map(move |s| (s, c.severity)))
        .collect();
    let Some((spec, severity)) = specs.iter().find(|(s, _)| s.id == id) else {
        let ids: Vec<&str> = specs.iter().map(|(s, _)| s.id.as_ref()).collect();
        return Err(format!(
            "profile `{}` has no check `{id}`\n  checks: {}",
            profile.name,
            ids.join(", ")
        ));
    };
    let when_it_does_not_hold = match (spec.stakes, severity) {
        (Stakes::Fact, _) => "fails: it says the environment cannot work, so no profile softens it",
        (Stakes::Policy, Severity::Fail) => "fails",
        (Stakes::Policy, Severity::Warn) => {
            "warns where only the profile's policy is missed (this profile sets severity = \"warn\"); fails where the environment cannot work"
        }
        (Stakes::Advice, _) => "warns: it is advice",
    };
    if format == Format::Json {
        return Ok(to_json_text(&serde_json::json!({
            "id": spec.id,
            "title": spec.title,
            "category": spec.category.as_str(),
            "severity": spec.stakes.effective_severity(*severity),
            "what": spec.explain.what,
            "why": spec.explain.why,
            "when_it_does_not_hold": format!("it {when_it_does_not_hold}"),
            "fix": spec.explain.fix,
        })));
    }
    Ok(format!(
        "{id}: {title} ({category})\n\nWhat it checks:\n  {what}\n\nWhy it matters:\n  {why}\n\nWhen it does not hold, it {when_it_does_not_hold}.\n\nHow to fix:\n  {fix}\n",
        title = spec.title,
        category = spec.category.as_str(),
        what = spec.explain.what,
        why = spec.explain.why,
        fix = spec.explain.fix,
    ))
}
