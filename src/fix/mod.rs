//! `preflight fix`: build the exam virtualenv the profile describes, then prove it works by
//! running the python and packages checks on it.
//!
//! Safety: without `--yes` nothing is changed. With it, only the virtualenv directory is
//! written (and its log); an existing directory is used only when it already is a fitting
//! virtualenv (or one an interrupted `fix` left), and otherwise moved aside, never deleted,
//! and only with `--recreate`.

mod choose;
mod lock;
mod pip_output;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use pep440_rs::Version;

use crate::app::{self, Request};
use crate::check::RunOptions;
use crate::cli::RunArgs;
use crate::host::{self, Host, OsFamily, ProcessError, Streamed};
use crate::net::{RedactingWriter, redact};
use crate::platform::shell::command_line;
use crate::profile::Profile;
use crate::python::commands::how_to_get;
use crate::python::venv::{PipInstall, pip_install_in, venv_interpreter, venv_site_packages};
use crate::python::wanted::Wanted;
use crate::render::Format;
use crate::report::{EXIT_INTERRUPTED, EXIT_NOT_READY, EXIT_READY, EXIT_USAGE};
use crate::runner::Selection;

pub use choose::Candidate;
pub use lock::LOCK_FILE;
use lock::{Holder, Lock, Refused};
pub use pip_output::{PipFailure, Transcript};

/// Left in the virtualenv while `fix` builds it; removed once pip has installed every pin. A
/// directory holding it was made by `fix`, so the next `fix` may finish it or move it aside.
pub const INCOMPLETE_MARKER: &str = ".preflight-fix-incomplete";
/// pip's full output, kept in the virtualenv.
pub const LOG_FILE: &str = "preflight-fix.log";

/// How long `python -m venv` (which runs ensurepip) may take.
const VENV_TIMEOUT: Duration = Duration::from_secs(300);
/// Less room than this where `python -m venv` failed is a full disk: a virtualenv with pip
/// takes about 20 MB.
const VENV_ROOM: u64 = 32 << 20;

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Carry the plan out; without it, `fix` prints the plan and changes nothing.
    #[arg(long)]
    pub yes: bool,

    /// Move an existing directory at the virtualenv's place aside (to DIR.bak-TIME) and
    /// build a new one there. Nothing is deleted.
    #[arg(long)]
    pub recreate: bool,

    /// Also import the pinned packages and train a tiny model when checking the result.
    #[arg(long)]
    pub deep: bool,

    /// Deadline for `pip install`, in seconds.
    #[arg(long, value_name = "SECS", default_value = "1800", value_parser = crate::cli::parse_seconds)]
    pub install_timeout: Duration,
}

/// What is at the virtualenv's place now.
#[derive(Debug)]
enum Existing {
    Nothing,
    /// A virtualenv whose interpreter answered.
    Venv {
        candidate: Candidate,
        pip: PipInstall,
        incomplete: bool,
    },
    /// Something else: a file, a directory that is no virtualenv, a broken virtualenv.
    Other {
        what: String,
        incomplete: bool,
    },
}

/// What `fix` will do with the directory.
#[derive(Debug)]
enum DirAction {
    Create,
    MoveAsideAndCreate { to: PathBuf, why: String },
    Reuse { resume: bool },
}

struct Plan {
    dir: PathBuf,
    action: DirAction,
    /// The interpreter to build from (or the venv's own, when reused).
    python: Candidate,
    pins: Vec<String>,
}

/// `preflight fix`: print the plan, and with `--yes` carry it out; returns the exit code.
/// Output that cannot be written (a full disk) is an error, exit 2, as for a report; a plan
/// that could not be shown is not carried out.
pub(crate) fn run(
    args: &FixArgs,
    run_args: &RunArgs,
    host: Host,
    profile: Profile,
    terminal: crate::app::Terminal,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    // Every message passes redaction: they quote pip, its configuration and paths.
    let mut out = RedactingWriter::new(out);
    let mut err = RedactingWriter::new(err);
    let mut watched = Watched {
        inner: &mut out,
        error: None,
    };
    let code = plan_and_build(
        args,
        run_args,
        host,
        profile,
        terminal,
        &mut watched,
        &mut err,
    );
    let _ = watched.flush();
    match watched.error {
        None => code,
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe && code != EXIT_USAGE => code,
        Some(e) => {
            let _ = writeln!(err, "error: cannot write the output: {e}");
            EXIT_USAGE
        }
    }
}

/// A writer that remembers its first error, for the callers that write line by line.
struct Watched<'a, 'b> {
    inner: &'a mut RedactingWriter<&'b mut dyn Write>,
    error: Option<std::io::Error>,
}

impl<'b> Watched<'_, 'b> {
    /// The stream under redaction, for a report that is redacted as it is rendered.
    fn inner_mut(&mut self) -> std::io::Result<&mut &'b mut dyn Write> {
        self.inner.inner_mut()
    }

    fn failed(&self) -> bool {
        self.error.is_some()
    }

    fn keep<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && self.error.is_none()
        {
            self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
        result
    }
}

impl Write for Watched<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.keep(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.keep(result)
    }
}

fn plan_and_build(
    args: &FixArgs,
    run_args: &RunArgs,
    host: Host,
    profile: Profile,
    terminal: crate::app::Terminal,
    out: &mut Watched<'_, '_>,
    err: &mut RedactingWriter<&mut dyn Write>,
) -> u8 {
    let wanted = profile.facts.python.clone();
    let dir = host.user_path(run_args.venv.as_deref().unwrap_or(Path::new("venv")));
    let probe_timeout = run_args.timeout;
    let _ = writeln!(
        out,
        "preflight fix · profile {}: {}",
        profile.name, profile.title
    );

    // Another run building here now: nothing to plan until it ends.
    if let Some(holder) = lock::held_by_other(&dir) {
        let _ = writeln!(out, "\n{}", busy(&dir, &holder));
        return EXIT_NOT_READY;
    }
    let existing = look_at(&host, &dir, &wanted, probe_timeout);
    let action = match decide(&dir, &existing, args.recreate) {
        Ok(action) => action,
        Err(message) => {
            let _ = writeln!(out, "\nerror: {message}");
            return EXIT_NOT_READY;
        }
    };
    let python = match (&action, existing) {
        (DirAction::Reuse { .. }, Existing::Venv { candidate, .. }) => candidate,
        _ => {
            let looked_at = choose::find(&host, &wanted, probe_timeout);
            match looked_at.accepted() {
                Some(c) => c.clone(),
                None => {
                    no_python(&host, &wanted, &looked_at, out);
                    return EXIT_NOT_READY;
                }
            }
        }
    };
    let plan = Plan {
        dir,
        action,
        python,
        pins: profile.pins().map(|pin| pin.requirement.clone()).collect(),
    };
    print_plan(&host, &plan, &wanted, args, out);
    if args.yes && (out.flush().is_err() || out.failed()) {
        // Nobody saw the plan: nothing is carried out.
        let _ = writeln!(
            err,
            "error: the plan could not be shown; nothing was changed."
        );
        return EXIT_USAGE;
    }
    if !args.yes {
        let _ = writeln!(
            out,
            "\nDry run: nothing was changed. Run again with --yes to carry this out."
        );
        return EXIT_READY;
    }

    // An interrupt while building stops pip's group (pip runs in a group of its own and does
    // not see the terminal's Ctrl-C) and keeps the marker; after the scope, it ends the run
    // with the exit code it would have had in any other phase.
    let scope = crate::interrupt::while_building();
    let built = build(&host, &plan, args, scope.flag(), out);
    let interrupt = scope.end();
    match built {
        Ok(()) => {}
        Err(Stop::Interrupted) => {
            let _ = writeln!(
                out,
                "\nInterrupted: the build was stopped (pip too, when it was running). {} is marked incomplete ({INCOMPLETE_MARKER}); run `preflight fix --yes` again to finish it.",
                plan.dir.display()
            );
            let _ = out.flush();
            return interrupt.unwrap_or(EXIT_INTERRUPTED);
        }
        Err(Stop::Failed(lines)) => {
            let _ = writeln!(out);
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            return EXIT_NOT_READY;
        }
    }
    if let Some(code) = interrupt {
        // It came as the build finished: the virtualenv is complete, the run ends here.
        let _ = writeln!(
            out,
            "\nInterrupted after the build: {} is complete.",
            plan.dir.display()
        );
        let _ = out.flush();
        crate::interrupt::stop_and_exit("an interrupt", code);
    }

    let _ = writeln!(out, "\nChecking the virtualenv again:\n");
    let interpreter = venv_interpreter(&host, &plan.dir);
    let categories: Vec<String> = ["python", "packages"]
        .iter()
        .filter(|c| {
            profile
                .checks
                .iter()
                .flat_map(|check| check.check.specs())
                .any(|s| s.category.as_str() == **c)
        })
        .map(|c| c.to_string())
        .collect();
    let selection = Selection {
        only: categories,
        skip: Vec::new(),
    };
    // What the checks say of the new venv (the pycharm check: whether PyCharm knows it, and
    // if not that version's steps), read before the recheck takes the host.
    let after: Vec<String> = profile
        .checks
        .iter()
        .filter_map(|c| c.check.after_fix(&host, &interpreter))
        .collect();
    let recheck = Request {
        profile: &profile,
        selection: &selection,
        options: RunOptions {
            venv: Some(plan.dir.clone()),
            project: run_args.project.clone(),
            offline: true,
            deep: args.deep || run_args.deep,
            timeout: run_args.timeout,
            deep_timeout: run_args.deep_timeout,
        },
        strict: run_args.strict,
    };
    let render_options = app::render_options(run_args.color, run_args.verbose, &host, &terminal);
    let report = app::check(host, &recheck);
    // The report is guarded as it is rendered, and keeps its colours.
    let (Ok(report_out), Ok(report_err)) = (out.inner_mut(), err.inner_mut()) else {
        return EXIT_NOT_READY;
    };
    let code = app::show(
        &report,
        Format::Human,
        render_options,
        report_out,
        report_err,
    );
    for said in after {
        let _ = writeln!(out, "\n{said}");
    }
    code
}

/// Look at the virtualenv's place without changing anything.
fn look_at(host: &Host, dir: &Path, wanted: &Wanted, timeout: Duration) -> Existing {
    let incomplete = host::exists(dir.join(INCOMPLETE_MARKER));
    // A symbolic link to a directory is judged as that directory; a dangling one is not nothing.
    let meta = match host::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if host::symlink_metadata(dir).is_ok() {
                return Existing::Other {
                    what: "is a symbolic link to nothing".into(),
                    incomplete,
                };
            }
            return Existing::Nothing;
        }
        Err(e) => {
            return Existing::Other {
                what: format!("cannot be read ({e})"),
                incomplete,
            };
        }
    };
    if !meta.is_dir() {
        return Existing::Other {
            what: "is a file, not a directory".into(),
            incomplete,
        };
    }
    if !host::is_file(dir.join("pyvenv.cfg")) {
        let empty = host::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        return Existing::Other {
            what: if empty {
                "is an empty directory, not a virtualenv".into()
            } else {
                "is a directory that is not a virtualenv (no pyvenv.cfg)".into()
            },
            incomplete,
        };
    }
    let interpreter = venv_interpreter(host, dir);
    let candidate = choose::query(
        host,
        &interpreter,
        "the virtualenv's own",
        wanted,
        timeout,
        true,
    );
    if candidate.version.is_none() {
        return Existing::Other {
            what: format!(
                "is a virtualenv whose interpreter {}",
                candidate.verdict.clone().err().unwrap_or_default()
            ),
            incomplete,
        };
    }
    // The same judgement as the report's "pip present": by pip's install record.
    let pip = pip_install_in(venv_site_packages(host, dir));
    Existing::Venv {
        candidate,
        pip,
        incomplete,
    }
}

/// What to do with what is there; an error says why nothing will be done.
fn decide(dir: &Path, existing: &Existing, recreate: bool) -> Result<DirAction, String> {
    let aside = || moved_aside_name(dir);
    let shown = dir.display();
    match existing {
        Existing::Nothing => match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() && !host::is_dir(parent) => {
                Err(format!(
                    "the directory {} does not exist; preflight fix creates only the virtualenv itself.\n  Create it first, or choose another directory with --venv DIR.",
                    parent.display()
                ))
            }
            _ => Ok(DirAction::Create),
        },
        Existing::Venv {
            candidate,
            pip,
            incomplete,
        } => {
            let fits = candidate.verdict.is_ok() && matches!(pip, PipInstall::Complete(_));
            if fits && !recreate {
                return Ok(DirAction::Reuse {
                    resume: *incomplete,
                });
            }
            let why = match (&candidate.verdict, pip) {
                (Err(reason), _) => format!("its Python does not fit: {reason}"),
                (Ok(()), PipInstall::Absent) => "it has no pip".to_string(),
                (Ok(()), PipInstall::Incomplete { why, .. }) => {
                    format!("its pip is incomplete: {why}")
                }
                (Ok(()), PipInstall::Complete(_)) => "--recreate was given".to_string(),
            };
            if recreate || *incomplete {
                let why = if *incomplete && !recreate {
                    format!("an interrupted `preflight fix` left it, and {why}")
                } else {
                    why
                };
                return Ok(DirAction::MoveAsideAndCreate { to: aside(), why });
            }
            Err(format!(
                "{shown} is a virtualenv, but {why}.\n  Nothing was changed. Run again with --recreate to move it aside to {} and build a new one there, or choose another directory with --venv DIR.",
                aside().display()
            ))
        }
        Existing::Other { what, incomplete } => {
            if recreate || *incomplete {
                let why = if *incomplete && !recreate {
                    format!("an interrupted `preflight fix` left it, and it {what}")
                } else {
                    format!("it {what}; --recreate was given")
                };
                return Ok(DirAction::MoveAsideAndCreate { to: aside(), why });
            }
            Err(format!(
                "{shown} {what}; preflight fix never touches it.\n  Nothing was changed. Run again with --recreate to move it aside to {} (nothing is deleted), or choose another directory with --venv DIR.",
                aside().display()
            ))
        }
    }
}

/// `DIR.bak-<UTC time>`, with a counter if that is taken too.
fn moved_aside_name(dir: &Path) -> PathBuf {
    let stamp = utc_stamp(SystemTime::now());
    let base = format!("{}.bak-{stamp}", dir.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while host::symlink_metadata(&candidate).is_ok() {
        n += 1;
        candidate = PathBuf::from(format!("{base}-{n}"));
    }
    candidate
}

/// `20260125-142501`: a UTC time that sorts and is valid in file names everywhere.
fn utc_stamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn no_python(host: &Host, wanted: &Wanted, looked_at: &choose::Looked, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "\nerror: no Python this profile accepts ({}) was found.",
        wanted.describe()
    );
    if looked_at.candidates.is_empty() {
        let places = match host.os {
            OsFamily::Windows => "the py launcher's list, python.org's install folders",
            OsFamily::Macos => "python.org's frameworks",
            _ => "",
        };
        let places = [places, "pyenv's versions"].join(", ");
        let _ = writeln!(
            out,
            "  No Python was found in {} or on PATH.",
            places.trim_start_matches(", ")
        );
    } else {
        let _ = writeln!(out, "  Looked at:");
        for c in &looked_at.candidates {
            let _ = writeln!(
                out,
                "    {} ({}): {}",
                c.program.display(),
                c.source,
                c.verdict.clone().err().unwrap_or_default()
            );
        }
    }
    if let Some(alias) = &looked_at.store_alias {
        let _ = writeln!(
            out,
            "  {} is the Microsoft Store's alias, not a Python: it only offers to install one, so it was not started.",
            alias.display()
        );
    }
    let release = wanted.release().unwrap_or_else(|| "3".into());
    let _ = writeln!(out, "  {}.", how_to_get(host, &release));
    let _ = writeln!(out, "  Then run `preflight fix` again.");
}

fn print_plan(host: &Host, plan: &Plan, wanted: &Wanted, args: &FixArgs, out: &mut dyn Write) {
    let dir = plan.dir.display();
    let python = plan
        .python
        .executable
        .clone()
        .unwrap_or_else(|| plan.python.program.clone());
    let version = plan
        .python
        .version
        .as_ref()
        .map_or_else(String::new, Version::to_string);
    let _ = writeln!(out, "\nPlan:");
    let mut step = 0;
    let mut say = |text: String| {
        step += 1;
        let _ = writeln!(out, "  {step}. {text}");
    };
    match &plan.action {
        DirAction::Reuse { resume } => {
            let how = if *resume {
                "finish the virtualenv an interrupted `preflight fix` left"
            } else {
                "use the existing virtualenv"
            };
            say(format!(
                "Python: {how} at {dir} (Python {version}, accepted: {})",
                wanted.describe()
            ));
        }
        DirAction::Create | DirAction::MoveAsideAndCreate { .. } => {
            say(format!(
                "Python: {} (Python {version}, from {}; accepted: {})",
                python.display(),
                plan.python.source,
                wanted.describe()
            ));
            if let DirAction::MoveAsideAndCreate { to, why } = &plan.action {
                say(format!(
                    "Move {dir} aside to {} ({why}); nothing is deleted",
                    to.display()
                ));
            }
            say(format!(
                "Create the virtualenv: {}",
                command_line(
                    host.os,
                    &python.display().to_string(),
                    &["-m", "venv", &dir.to_string()]
                )
            ));
        }
    }
    if plan.pins.is_empty() {
        say("Install packages: the profile pins none".into());
    } else {
        say(format!(
            "Install {} with the virtualenv's pip, in one `pip install` (your pip configuration applies; full log in {}):\n       {}",
            pinned(plan.pins.len()),
            plan.dir.join(LOG_FILE).display(),
            plan.pins.join(" ")
        ));
    }
    let deep = if args.deep { " with --deep" } else { "" };
    say(format!("Check python and packages again{deep}"));
    say(format!(
        "PyCharm: pick {} as the project's interpreter",
        venv_interpreter(host, &plan.dir).display()
    ));
}

fn pinned(count: usize) -> String {
    match count {
        1 => "1 pinned package".into(),
        n => format!("{n} pinned packages"),
    }
}

enum Stop {
    Interrupted,
    Failed(Vec<String>),
}

/// Carry the plan out. Writes only inside the virtualenv directory (and renames an old one),
/// through the host's write helpers: never through a link, only to regular files, and only
/// with the virtualenv's lock held.
fn build(
    host: &Host,
    plan: &Plan,
    args: &FixArgs,
    cancel: &AtomicBool,
    out: &mut dyn Write,
) -> Result<(), Stop> {
    let dir = &plan.dir;
    let failed = |line: String| Stop::Failed(vec![format!("error: {line}")]);
    let stop_if_cancelled = || {
        if cancel.load(Ordering::SeqCst) {
            Err(Stop::Interrupted)
        } else {
            Ok(())
        }
    };
    let now = SystemTime::now();
    let _ = writeln!(out);
    if let DirAction::MoveAsideAndCreate { to, .. } = &plan.action {
        // A directory is locked before it is moved: one another `fix` is building is not
        // moved aside under it.
        let old_lock = if host::is_dir(dir) {
            Some(Lock::take(dir, now).map_err(|r| refused(dir, r))?)
        } else {
            None
        };
        host::rename(dir, to).map_err(|e| {
            failed(format!(
                "could not move {} aside to {}: {e}; nothing was changed",
                dir.display(),
                to.display()
            ))
        })?;
        if let Some(lock) = old_lock {
            lock.moved_to(to);
        }
        let _ = writeln!(out, "Moved {} aside to {}.", dir.display(), to.display());
    }
    if !matches!(plan.action, DirAction::Reuse { .. }) {
        // Only the directory itself: its parent must exist (checked when planning).
        host::create_dir(dir)
            .map_err(|e| failed(format!("could not create {}: {e}", dir.display())))?;
    }
    // Before anything else is written into it.
    let _lock = Lock::take(dir, now).map_err(|r| refused(dir, r))?;
    stop_if_cancelled()?;
    let marker = dir.join(INCOMPLETE_MARKER);
    write_marker(&marker).map_err(|e| failed(refusal(&marker, &e)))?;
    let log_path = dir.join(LOG_FILE);
    // Appended to, so the log of an interrupted run survives the run that finishes it.
    let mut log = host::open_append(&log_path)
        .map(RedactingWriter::new)
        .map_err(|e| failed(refusal(&log_path, &e)))?;
    let _ = writeln!(log, "# preflight fix, {} UTC", utc_stamp(now));
    stop_if_cancelled()?;

    if !matches!(plan.action, DirAction::Reuse { .. }) {
        let python = plan
            .python
            .executable
            .clone()
            .unwrap_or_else(|| plan.python.program.clone());
        let _ = writeln!(out, "Creating the virtualenv {} ...", dir.display());
        let progress = Progress::new();
        progress.say("creating the virtualenv");
        let dir_arg = dir.display().to_string();
        let venv_args = ["-m", "venv", dir_arg.as_str()];
        let _ = writeln!(log, "$ {} {}", python.display(), venv_args.join(" "));
        let mut transcript = Transcript::default();
        let outcome = host.run_streaming(
            &python,
            &venv_args,
            &child_env(),
            VENV_TIMEOUT,
            cancel,
            &mut |line| {
                let _ = writeln!(log, "{line}");
                transcript.push(line);
            },
        );
        progress.clear();
        match outcome {
            Ok(Streamed::Exited(status)) if status.success() => {}
            Ok(Streamed::Exited(status)) => {
                return Err(Stop::Failed(explain_venv_failure(
                    host,
                    plan,
                    &transcript,
                    &status.to_string(),
                )));
            }
            Ok(Streamed::Cancelled) => return Err(Stop::Interrupted),
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    stop_if_cancelled()?;

    if !plan.pins.is_empty() {
        let interpreter = venv_interpreter(host, dir);
        let mut pip_args: Vec<String> = [
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        pip_args.extend(plan.pins.iter().cloned());
        let _ = writeln!(
            out,
            "Installing {} with pip (log: {}) ...",
            pinned(plan.pins.len()),
            log_path.display()
        );
        let _ = writeln!(log, "$ {} {}", interpreter.display(), pip_args.join(" "));
        let mut transcript = Transcript::default();
        let progress = Progress::new();
        progress.say("starting pip");
        let outcome = host.run_streaming(
            &interpreter,
            &pip_args,
            &child_env(),
            args.install_timeout,
            cancel,
            &mut |line| {
                let _ = writeln!(log, "{line}");
                if let Some(activity) = pip_output::activity(line) {
                    progress.say(&redact(&activity));
                }
                transcript.push(line);
            },
        );
        progress.clear();
        let _ = log.flush();
        match outcome {
            Ok(Streamed::Exited(status)) if status.success() => {}
            Ok(Streamed::Exited(status)) => {
                return Err(Stop::Failed(explain_pip_failure(
                    host,
                    plan,
                    &named_truly(host, &transcript),
                    &status.to_string(),
                )));
            }
            Ok(Streamed::Cancelled) => return Err(Stop::Interrupted),
            Err(ProcessError::TimedOut { after, .. }) => {
                return Err(Stop::Failed(vec![
                    format!(
                        "error: pip did not finish within {:.0} s and was stopped; {} is marked incomplete.",
                        after.as_secs_f64(),
                        dir.display()
                    ),
                    "  On a slow connection, allow more time: `preflight fix --yes --install-timeout SECS`.".into(),
                    format!("  pip's full log: {}", log_path.display()),
                ]));
            }
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    host::remove_file(&marker)
        .map_err(|e| failed(format!("could not remove {}: {e}", marker.display())))?;
    Ok(())
}

/// Leave the marker: a new regular file, or the one an interrupted run left. Anything else
/// at its name (a link, a FIFO) is refused, never written through.
fn write_marker(marker: &Path) -> std::io::Result<()> {
    match host::create_new(marker) {
        Ok(mut file) => file.write_all(
            b"preflight fix is building this virtualenv; it is not complete until this file is gone.\n",
        ),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = host::symlink_metadata(marker)?;
            if meta.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("is {}, not a regular file", host::file_kind(&meta.file_type())),
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// Why one of fix's files was not written, and what to do.
fn refusal(path: &Path, error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::InvalidInput {
        format!(
            "{} {error}: preflight fix writes only regular files inside the virtualenv, so nothing was written there.\n  Remove it, or run again with --recreate to move the directory aside.",
            path.display()
        )
    } else {
        format!("could not write {}: {error}", path.display())
    }
}

fn refused(dir: &Path, why: Refused) -> Stop {
    Stop::Failed(vec![match why {
        Refused::Held(holder) => busy(dir, &holder),
        Refused::Io(message) => format!("error: {message}"),
    }])
}

/// The refusal when another run holds the virtualenv's lock.
fn busy(dir: &Path, holder: &Holder) -> String {
    format!(
        "error: {} is building {} now; nothing was changed.\n  Wait for it to end, then run `preflight fix` again. If no such run exists, remove {}.",
        holder.describe(),
        dir.display(),
        dir.join(LOCK_FILE).display()
    )
}

/// Python children report in UTF-8 and without buffering, so each line arrives as printed.
fn child_env() -> [(&'static str, &'static str); 2] {
    [("PYTHONUNBUFFERED", "1"), ("PYTHONIOENCODING", "utf-8")]
}

fn tail_of(transcript: &Transcript) -> Vec<String> {
    transcript
        .error_lines()
        .into_iter()
        .map(|l| format!("  {l}"))
        .collect()
}

/// How long preflight waits for the index when it asks it again after pip failed.
const INDEX_QUESTION: Duration = Duration::from_secs(20);

/// Why pip failed. pip says "no version at all" (`from versions: none`) both for a project
/// the index does not have and for an index that failed or did not answer after its retries
/// (it logs a 503 only at `-vv`): the index pip named is asked once more, to tell them apart.
fn named_truly(host: &Host, transcript: &Transcript) -> PipFailure {
    let failure = transcript.failure();
    let PipFailure::NoDistribution {
        requirements,
        versions_offered,
    } = &failure
    else {
        return failure;
    };
    let (Some("none"), Some(index), Some(requirement)) = (
        versions_offered.as_deref(),
        transcript.index(),
        requirements.first(),
    ) else {
        return failure;
    };
    let project = requirement
        .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .next()
        .unwrap_or(requirement);
    let url = format!(
        "{}/{}/",
        index.trim_end_matches('/'),
        crate::python::dist::normalize(project)
    );
    let deadline = crate::check::Deadline::at(std::time::Instant::now() + INDEX_QUESTION);
    let route = crate::net::Route::from_environment(host, &url);
    match crate::net::get_via(host, &url, deadline, None, &route) {
        crate::net::Outcome::Answered { status, .. } if status >= 500 => PipFailure::IndexFailing {
            status,
            url: crate::net::redact(&url),
        },
        crate::net::Outcome::Failed { cause, message, .. } => PipFailure::IndexUnreachable {
            cause,
            url: crate::net::redact(&url),
            message: crate::net::redact(&message),
        },
        crate::net::Outcome::Answered { .. } => failure,
    }
}

/// Name a pip failure, with what to do about it.
fn explain_pip_failure(
    host: &Host,
    plan: &Plan,
    failure: &PipFailure,
    status: &str,
) -> Vec<String> {
    let dir = plan.dir.display();
    let log = plan.dir.join(LOG_FILE);
    let python = plan
        .python
        .version
        .as_ref()
        .map_or_else(|| "this Python".to_string(), |v| format!("Python {v}"));
    let mut lines = match failure {
        PipFailure::Network { cause, line } => vec![
            format!(
                "error: pip could not reach the package index: {}",
                pip_output::describe_cause(*cause)
            ),
            format!("  pip said: {line}"),
            "  Check the connection (`preflight --only network` tests the package index too); behind a proxy, set HTTPS_PROXY or pip's `proxy` option.".into(),
        ],
        PipFailure::NoDistribution {
            requirements,
            versions_offered,
        } => {
            let mut lines = vec![format!(
                "error: no distribution of {} for this platform ({} {}) and {python}",
                requirements.join(", "),
                host.os.label(),
                host.facts.arch
            )];
            match versions_offered.as_deref() {
                Some("none") => lines.push("  pip saw no version at all: if the name is right, the index may not be reachable (`preflight --only network` tests it).".into()),
                Some(versions) => lines.push(format!("  The index offers these versions: {versions}")),
                None => {}
            }
            lines.push("  The pin cannot be installed here: use a machine (or Python) the pinned release was built for, or a profile whose pins fit this machine.".into());
            lines
        }
        PipFailure::DiskFull { line } => disk_full(host, plan, "pip", line),
        PipFailure::IndexFailing { status, url } => vec![
            format!(
                "error: the package index is failing: it answered HTTP {status} (a server error), so pip saw no version of {}; this is not a missing distribution",
                plan.pins.join(", ")
            ),
            format!("  Asked again: {url}"),
            "  Try again later, or use another index (pip's `index-url` option).".into(),
        ],
        PipFailure::IndexUnreachable {
            cause,
            url,
            message,
        } => vec![
            format!(
                "error: pip could not reach the package index: {}",
                pip_output::describe_cause(*cause)
            ),
            format!("  Asked again: {url}: {message}"),
            "  Check the connection (`preflight --only network` tests the package index too); behind a proxy, set HTTPS_PROXY or pip's `proxy` option.".into(),
        ],
        PipFailure::Other { lines } => {
            let mut out = vec![format!("error: pip install failed ({status}); its last lines:")];
            out.extend(lines.iter().map(|l| format!("  {l}")));
            out
        }
    };
    lines.push(format!(
        "  {dir} is marked incomplete; pip's full log: {}",
        log.display()
    ));
    if matches!(plan.action, DirAction::Reuse { resume: true }) {
        lines.push(recreate_hint(plan));
    }
    lines
}

/// When finishing a half-built virtualenv fails, a new one may not.
fn recreate_hint(plan: &Plan) -> String {
    format!(
        "  If it keeps failing, the interrupted build may have broken {}: `preflight fix --yes --recreate` moves it aside (nothing is deleted) and builds a new one.",
        plan.dir.display()
    )
}

/// The disk filled up under `tool` (pip, or `python -m venv`).
fn disk_full(host: &Host, plan: &Plan, tool: &str, line: &str) -> Vec<String> {
    let free = host
        .free_space(&plan.dir)
        .map(|b| format!(" ({:.1} MiB free now)", b as f64 / f64::from(1 << 20)))
        .unwrap_or_default();
    vec![
        format!(
            "error: the disk holding {} is full{free}",
            plan.dir.display()
        ),
        format!("  {tool} said: {line}"),
        "  Free some space (TensorFlow alone needs about 2 GB installed) and run `preflight fix --yes` again.".into(),
    ]
}

/// Name a failure of `python -m venv`: a full disk as such; whatever it was, the half-made
/// virtualenv is marked incomplete, and the next `fix` moves it aside.
fn explain_venv_failure(
    host: &Host,
    plan: &Plan,
    transcript: &Transcript,
    status: &str,
) -> Vec<String> {
    let dir = plan.dir.display();
    // venv hides ensurepip's own output ("Command [...] returned non-zero exit status 1"),
    // so a full disk shows as a file system with next to no room left.
    let nearly_full = host
        .free_space(&plan.dir)
        .is_some_and(|free| free < VENV_ROOM);
    let last = transcript.error_lines().pop().unwrap_or_default();
    let mut lines = match transcript.failure() {
        PipFailure::DiskFull { line } => disk_full(host, plan, "`python -m venv`", &line),
        _ if nearly_full => disk_full(host, plan, "`python -m venv`", &last),
        _ => {
            let mut lines = vec![format!(
                "error: `python -m venv` failed ({status}). Its output:"
            )];
            lines.extend(tail_of(transcript));
            lines
        }
    };
    lines.push(format!(
        "  {dir} is marked incomplete: the next `preflight fix --yes` moves it aside (nothing is deleted) and builds a new one."
    ));
    lines
}

/// A spinner on stderr naming what pip is doing; nothing when stderr is not a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_and_file_name_safe() {
        let time = UNIX_EPOCH + Duration::from_secs(1_674_656_701); // 2023-01-25 14:25:01 UTC
        assert_eq!(utc_stamp(time), "20230125-142501");
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101-000000");
    }

    #[test]
    fn a_foreign_directory_is_refused_unless_recreate() {
        let dir = Path::new("/x/venv");
        let existing = Existing::Other {
            what: "is a directory that is not a virtualenv (no pyvenv.cfg)".into(),
            incomplete: false,
        };
        let refusal = decide(dir, &existing, false).unwrap_err();
        assert!(refusal.contains("never touches it"), "{refusal}");
        assert!(matches!(
            decide(dir, &existing, true),
            Ok(DirAction::MoveAsideAndCreate { .. })
        ));
        let ours = Existing::Other {
            what: "is an empty directory, not a virtualenv".into(),
            incomplete: true,
        };
        assert!(matches!(
            decide(dir, &ours, false),
            Ok(DirAction::MoveAsideAndCreate { .. })
        ));
    }
}
