//! The Python environment the exam will use, and every fact about Python and its packages
//! that the checks and `preflight fix` share: where Pythons are ([`discover`]), what makes a
//! virtualenv ([`venv`]), the one interpreter probe ([`probe`]), installed distributions
//! ([`dist`]), TensorFlow's requirements ([`compat`]), the commands a fix prints
//! ([`commands`]) and the `--deep` runner ([`deep`]).
//!
//! Found once per run: the interpreter is started at most once, and package versions come
//! from `.dist-info`/`.egg-info` metadata, never from imports.

pub mod commands;
pub mod compat;
pub mod deep;
pub mod discover;
pub mod dist;
pub mod probe;
pub mod venv;
pub mod wanted;

use std::path::PathBuf;

use crate::check::{Context, Deadline, RunOptions, SharedFact};
use crate::host::{Host, is_dir};
use discover::{Discovery, Located, locate_preferring, py_launcher_list};
use probe::{Probe, ProbeError, probe};
use venv::venv_site_packages;

/// The environment the checks judge: where it is, and what its interpreter answered.
pub struct PythonEnv {
    pub discovery: Discovery,
    pub probe: Option<Result<Probe, ProbeError>>,
}

/// Located and probed once per run, by whichever check asks first.
impl SharedFact for PythonEnv {
    fn gather(ctx: &Context) -> Self {
        PythonEnv::discover_preferring(
            &ctx.host,
            &ctx.options,
            ctx.profile.python.release().as_deref(),
            ctx.base_deadline(),
        )
    }
}

impl PythonEnv {
    /// Locate the environment and probe it, finishing a margin before `deadline` (the
    /// base deadline every waiting check has, so each can still report what happened);
    /// prefer Python `wanted` (`3.8`) where several are installed side by side (Windows: the
    /// `py` launcher and python.org's folders).
    pub fn discover_preferring(
        host: &Host,
        options: &RunOptions,
        wanted: Option<&str>,
        deadline: Deadline,
    ) -> Self {
        let discovery =
            locate_preferring(host, options, wanted, || py_launcher_list(host, deadline));
        let probe = match &discovery {
            Discovery::Found(Located {
                pyvenv_cfg_unreadable: Some(unreadable),
                venv: Some(venv),
                ..
            }) if unreadable.not_regular => Some(Err(ProbeError::Failed(format!(
                "not started: Python reads {} at start-up, and it {}: Python would wait on it forever",
                venv.join("pyvenv.cfg").display(),
                unreadable.reason
            )))),
            Discovery::Found(located) => Some(probe(host, &located.interpreter, deadline.step())),
            _ => None,
        };
        PythonEnv { discovery, probe }
    }

    pub fn located(&self) -> Option<&Located> {
        match &self.discovery {
            Discovery::Found(l) => Some(l),
            _ => None,
        }
    }

    pub fn probe_ok(&self) -> Option<&Probe> {
        self.probe.as_ref()?.as_ref().ok()
    }

    /// "the interpreter probe (PATH) did not answer within 9.5 s" when it ran out of time:
    /// what a finding that waited on it says, rather than that the interpreter did not start.
    pub fn probe_timed_out(&self) -> Option<String> {
        let Some(Err(ProbeError::TimedOut(after))) = &self.probe else {
            return None;
        };
        Some(format!(
            "the interpreter probe ({}) did not answer within {:.1} s",
            self.located()?.interpreter.display(),
            after.as_secs_f64()
        ))
    }

    /// Where installed packages live: what the interpreter said, else the venv's layout.
    pub fn site_packages(&self, host: &Host) -> Vec<PathBuf> {
        if let Some(probe) = self.probe_ok() {
            let mut dirs: Vec<PathBuf> = probe.site_packages.clone();
            if probe.user_site_enabled {
                dirs.extend(probe.user_site.iter().cloned());
            }
            return dirs.into_iter().filter(|d| is_dir(d)).collect();
        }
        match self.located().and_then(|l| l.venv.as_ref()) {
            Some(venv) => venv_site_packages(host, venv),
            None => Vec::new(),
        }
    }
}
