//! The commands a fix prints, for this OS and the shell the user pastes into: making a
//! virtualenv with a Python that is installed here, installing with pip, and the one advice
//! on how to get a Python, shared by the `python` check and `preflight fix`.

use std::path::Path;
use std::time::Duration;

use super::discover::{FoundPython, Reach, major_minor, search_pythons};
use crate::check::Context;
use crate::host::{Host, OsFamily};
use crate::platform::shell::command_line;

/// The command that makes a fresh virtualenv with the profile's Python.
pub fn create_venv_command(ctx: &Context, wanted: Option<&str>, dir: &Path, clear: bool) -> String {
    let os = ctx.host.os;
    let (env_prefix, program, mut args) = venv_builder(ctx, wanted);
    args.extend(["-m".to_string(), "venv".to_string()]);
    if clear {
        args.push("--clear".into());
    }
    args.push(dir.display().to_string());
    format!("{env_prefix}{}", command_line(os, &program, &args))
}

/// The Python a pasted `-m venv` command should start, so that it works on this machine:
/// on Windows the py launcher; elsewhere an installed interpreter of the wanted release,
/// found by where it is installed and not started (a `python3.8` that is pyenv's shim fails
/// unless 3.8 is pyenv's active version); else pyenv's `exec` when pyenv is there (after
/// `pyenv install`), else `python3.X`. Returns an environment prefix, the program and its
/// first arguments.
fn venv_builder(ctx: &Context, wanted: Option<&str>) -> (String, String, Vec<String>) {
    let host = &ctx.host;
    let Some(release) = wanted else {
        return match host.os {
            OsFamily::Windows => (String::new(), "py".into(), vec![]),
            _ => (String::new(), "python3".into(), vec![]),
        };
    };
    if host.os == OsFamily::Windows {
        return (String::new(), "py".into(), vec![format!("-{release}")]);
    }
    if let Some(found) = installed_python(ctx, release) {
        return (
            String::new(),
            found.interpreter.display().to_string(),
            vec![],
        );
    }
    if host.which("pyenv").is_some() {
        return (
            format!("PYENV_VERSION={release} "),
            "pyenv".into(),
            vec!["exec".into(), "python".into()],
        );
    }
    (String::new(), format!("python{release}"), vec![])
}

/// An installed Python of `release` (`3.8`), by the place that names it: pyenv's versions,
/// python.org's frameworks, `python3.8` on PATH unless it is a version manager's shim.
pub fn installed_python(ctx: &Context, release: &str) -> Option<FoundPython> {
    // `pyenv root` is only asked when PYENV_ROOT is unset; this runs on failing paths only.
    let pyenv_timeout = ctx.base_deadline().step().min(PYENV_ROOT_TIMEOUT);
    search_pythons(
        &ctx.host,
        Some(release),
        Reach::Builders { pyenv_timeout },
        Vec::new,
    )
    .pythons
    .into_iter()
    .filter(|found| !is_shim(&found.interpreter))
    .find(|found| {
        found
            .named_version
            .as_deref()
            .and_then(major_minor)
            .as_deref()
            == Some(release)
    })
}

const PYENV_ROOT_TIMEOUT: Duration = Duration::from_secs(2);

/// pyenv's, pyenv-win's and asdf's shims answer for whichever version is active: their name
/// says nothing about what they start.
fn is_shim(interpreter: &Path) -> bool {
    interpreter
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|dir| dir == "shims")
}

/// How to get Python `release` (`3.8`, or `3` for any) on this machine, before a command
/// that needs it can work: one sentence, without a final full stop, for the check and for
/// `fix` alike. python.org's installers on Windows and macOS (the handbooks ask for them);
/// elsewhere pyenv when it is there, else the distribution's packages or pyenv.
pub fn how_to_get(host: &Host, release: &str) -> String {
    match host.os {
        OsFamily::Windows => format!(
            "Install Python {release} with python.org's 64-bit Windows installer (https://www.python.org/downloads/windows/), which adds the `py` launcher"
        ),
        OsFamily::Macos => format!(
            "Install Python {release} with python.org's macOS installer (https://www.python.org/downloads/macos/), and run \"Install Certificates.command\" in /Applications/Python {release}/"
        ),
        _ if host.which("pyenv").is_some() => {
            format!("Install Python {release}: `pyenv install {release}`")
        }
        _ => format!(
            "Install Python {release} (your distribution's python{release} and python{release}-venv packages where it still ships them, or pyenv: `pyenv install {release}`)"
        ),
    }
}

/// `python -m pip install REQ...`, for the shell the user pastes into.
pub fn pip_install(os: OsFamily, python: &str, requirements: &[&str]) -> String {
    let mut args = vec!["-m", "pip", "install"];
    args.extend_from_slice(requirements);
    command_line(os, python, &args)
}

/// The command that removes environment variable `name` from the shell it is pasted into
/// (and, through it, from the interpreter started there): PowerShell's `Remove-Item Env:`
/// on Windows, `unset` elsewhere.
pub fn unset_variable(os: OsFamily, name: &str) -> String {
    match os {
        OsFamily::Windows => format!("Remove-Item Env:{name}"),
        _ => format!("unset {name}"),
    }
}
