//! The door to the machine: files (`files.rs`), variables (`env.rs`), programs (`process.rs`)
//! and the process trees they start (`tree.rs`). Tests build a `Host` over a temporary root
//! with chosen variables and facts. The hardware and OS facts a `Host` carries are gathered
//! by [`crate::platform::facts`].
//!
//! What the door covers: `clippy.toml` forbids the standard library's file, path and
//! environment calls outside this module, so those reads go through the helpers here (a file
//! is type-checked before it is opened), and so do `fix --yes`'s writes (`write.rs`: never
//! through a link, only to regular files). What it does not: the file
//! helpers read whatever path they are given, so a test's `Host` isolates a check only where
//! the check builds its paths from the host ([`Host::system_path`], its home, variables and
//! working directory); starting a process outside [`Host::run`] and [`Host::run_streaming`],
//! and what other crates read (sysinfo and the Windows registry for the facts, sockets in
//! [`crate::net`], the video ioctls in [`crate::video`]) are kept out by review, not by the
//! linter.
#![allow(clippy::disallowed_methods)]

mod env;
mod files;
mod process;
mod tree;
mod write;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

pub use self::files::{
    SMALL_FILE_LIMIT, canonicalize, exists, file_kind, is_dir, is_file, metadata, open_regular,
    read_bounded, read_dir, read_link, read_small, symlink_metadata,
};
pub use self::process::{Crash, ProcessError, ProcessOutput, Streamed};
pub use self::tree::{adopt_orphans, children_started, stop_all_children, wait_for_child_after};
pub use self::write::{create_dir, create_new, open_append, process_alive, remove_file, rename};
use crate::platform::facts;
pub use crate::platform::facts::{LazyFacts, SystemFacts};
use crate::video::{KernelVideoDevices, Probe, VideoDevices};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Linux,
    Macos,
    Windows,
    Other,
}

impl OsFamily {
    pub fn current() -> Self {
        match std::env::consts::OS {
            "linux" => OsFamily::Linux,
            "macos" => OsFamily::Macos,
            "windows" => OsFamily::Windows,
            _ => OsFamily::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OsFamily::Linux => "Linux",
            OsFamily::Macos => "macOS",
            OsFamily::Windows => "Windows",
            OsFamily::Other => std::env::consts::OS,
        }
    }
}

pub struct Host {
    /// Where absolute system paths (`/opt`, `/sys`, `/Applications`) are looked up: `/` in
    /// production, a temporary directory in tests.
    pub root: PathBuf,
    pub os: OsFamily,
    pub home: Option<PathBuf>,
    pub cwd: PathBuf,
    pub facts: LazyFacts,
    env: BTreeMap<String, String>,
    /// Variables whose value is not valid Unicode, kept apart ([`Host::env_os`]).
    not_unicode: BTreeMap<String, std::ffi::OsString>,
    video: Arc<dyn VideoDevices>,
}

impl Host {
    /// The real machine this process runs on.
    pub fn from_machine() -> Self {
        let (env, not_unicode) = env::of_this_process();
        let os = OsFamily::current();
        let root = PathBuf::from("/");
        Host {
            facts: LazyFacts::of_this_machine(&root, os),
            root,
            os,
            home: std::env::home_dir(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            env,
            not_unicode,
            video: Arc::new(KernelVideoDevices),
        }
    }

    /// A host over `root` with exactly the variables given; home comes from `HOME` (or
    /// `USERPROFILE` on Windows), the working directory is `root`. Its system facts are what
    /// the files under `root` say and what a test sets: none of the machine the test runs on.
    pub fn simulated(root: impl Into<PathBuf>, os: OsFamily, env: &[(&str, &str)]) -> Self {
        let root = root.into();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let home_var = if os == OsFamily::Windows {
            "USERPROFILE"
        } else {
            "HOME"
        };
        let facts = LazyFacts::from_files_under(&root, os);
        let mut host = Host {
            cwd: root.clone(),
            root,
            os,
            home: None,
            facts,
            env,
            not_unicode: BTreeMap::new(),
            video: Arc::new(KernelVideoDevices),
        };
        host.home = host.env(home_var).map(PathBuf::from);
        host
    }

    /// Answer video device probes with `devices` instead of the kernel (tests).
    pub fn set_video_devices(&mut self, devices: impl VideoDevices + 'static) {
        self.video = Arc::new(devices);
    }

    /// Open a video node and ask its driver what it is.
    pub fn probe_video(&self, node: &Path) -> Probe {
        self.video.probe(node)
    }

    /// A fixed system location such as `/opt` or `/sys/class/video4linux`, under the root.
    pub fn system_path(&self, absolute: &str) -> PathBuf {
        let mut path = self.root.clone();
        for part in Path::new(absolute).components() {
            if let Component::Normal(p) = part {
                path.push(p);
            }
        }
        path
    }

    /// A path the user gave, resolved against the working directory; a leading `~` is the
    /// home directory, as a shell would expand it (`--venv=~/exam` reaches us unexpanded).
    /// A trailing slash (as tab completion writes it) and `.` parts are dropped: `venv/` is
    /// the directory `venv`, so `venv/.bak-TIME` can never be made of it. `..` is kept: what
    /// it means depends on links, which only the file system knows.
    pub fn user_path(&self, given: &Path) -> PathBuf {
        self.resolve_user_path(given).components().collect()
    }

    fn resolve_user_path(&self, given: &Path) -> PathBuf {
        let mut parts = given.components();
        if let (Some(Component::Normal(first)), Some(home)) = (parts.next(), &self.home)
            && first == "~"
        {
            let rest = parts.as_path();
            return if rest.as_os_str().is_empty() {
                home.clone()
            } else {
                home.join(rest)
            };
        }
        if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.cwd.join(given)
        }
    }

    /// Find a program on the host's `PATH`, as a shell would.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        let path = self.env("PATH")?;
        which::which_in(program, Some(path), &self.cwd).ok()
    }

    /// Every match for a program on the host's `PATH`, in search order: the first may be a
    /// stand-in (the Microsoft Store's python alias) that a caller must look past.
    pub fn which_all(&self, program: &str) -> Vec<PathBuf> {
        let Some(path) = self.env("PATH") else {
            return Vec::new();
        };
        which::which_in_all(program, Some(path), &self.cwd)
            .map(|found| found.collect())
            .unwrap_or_default()
    }

    /// Free bytes on the file system holding `path` (or its nearest existing ancestor).
    pub fn free_space(&self, path: &Path) -> Option<u64> {
        let existing = path.ancestors().find(|p| p.exists())?;
        facts::free_space_at(existing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writing one fact of a simulated host used to gather the rest from this machine (its
    /// OS version, kernel, memory, CPU, host name).
    #[test]
    fn a_simulated_host_reports_none_of_this_machines_facts() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut host = Host::simulated(dir.path(), OsFamily::Windows, &[]);
        assert_eq!(host.facts.os_name.as_deref(), Some("Windows"));
        host.facts.total_memory_bytes = Some(16 << 30);
        let facts: &SystemFacts = &host.facts;
        assert_eq!(facts.total_memory_bytes, Some(16 << 30));
        assert_eq!(facts.os_version, None);
        assert_eq!(facts.kernel, None);
        assert_eq!(facts.arch, "");
        assert_eq!(facts.cpu_brand, None);
        assert_eq!(facts.cpu_flags, None);
        assert_eq!(facts.host_name, None);
        // Read without writing first, the same.
        let untouched = Host::simulated(dir.path(), OsFamily::Macos, &[]);
        assert_eq!(untouched.facts.os_name.as_deref(), Some("macOS"));
        assert_eq!(untouched.facts.cpu_flags, None);
        assert_eq!(untouched.facts.total_memory_bytes, None);
    }

    #[test]
    fn free_space_is_measured_here() {
        let dir = tempfile::TempDir::new().unwrap();
        let host = Host::simulated(dir.path(), OsFamily::current(), &[]);
        // A path yet to be made is measured at its nearest existing ancestor.
        let free = host.free_space(&dir.path().join("not/made/yet"));
        assert!(free.is_some_and(|bytes| bytes > 0), "{free:?}");
    }
}
