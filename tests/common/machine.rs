//! `Machine`: a simulated computer laid out in a temporary directory (its files, environment,
//! OS tools that play back recorded output, video devices whose drivers answer as told), judged
//! by the real checks through the real runner. Every test that builds a `Host` builds it here,
//! so none reads this machine's home, `/opt`, `/etc` or `/dev` by accident.
//!
//! Paths given to the builder are relative to the machine's root (`"sys/class/..."`); a path
//! already under the root (`m.home().join(...)`) is taken as it is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use preflight::check::{Context, RunOptions};
use preflight::host::{Host, OsFamily};
use preflight::profile;
use preflight::report::Finding;
use preflight::runner::{Selection, run};
use preflight::video::{Probe, VideoDevices};
use tempfile::TempDir;

use super::PROFILE_HEADER;

/// The one user of every simulated machine.
pub const USER: &str = "ada";

pub struct Machine {
    dir: TempDir,
    os: OsFamily,
    env: Vec<(String, String)>,
    drivers: HashMap<String, Probe>,
    arch: Option<String>,
    memory_bytes: Option<u64>,
    cpu_flags: Option<Vec<String>>,
    cwd: Option<PathBuf>,
}

impl Machine {
    /// A Linux machine: `HOME` is `/home/ada` under the root, `USER` is `ada`, nothing is on
    /// `PATH`.
    pub fn linux() -> Self {
        Machine::new(OsFamily::Linux, "HOME", "home/ada", "USER")
    }

    /// A Mac: `HOME` is `/Users/ada` under the root.
    pub fn macos() -> Self {
        Machine::new(OsFamily::Macos, "HOME", "Users/ada", "USER")
    }

    /// A Windows PC: `USERPROFILE` is `C:\Users\ada`, as a folder under the root.
    pub fn windows() -> Self {
        Machine::new(OsFamily::Windows, "USERPROFILE", "Users/ada", "USERNAME")
    }

    fn new(os: OsFamily, home_var: &str, home: &str, user_var: &str) -> Self {
        let dir = TempDir::new().unwrap();
        let home = dir.path().join(home);
        std::fs::create_dir_all(&home).unwrap();
        Machine {
            env: vec![
                (home_var.into(), home.display().to_string()),
                (user_var.into(), USER.into()),
            ],
            dir,
            os,
            drivers: HashMap::new(),
            arch: None,
            memory_bytes: None,
            cpu_flags: None,
            cwd: None,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The user's home folder (it exists).
    pub fn home(&self) -> PathBuf {
        let var = if self.os == OsFamily::Windows {
            "USERPROFILE"
        } else {
            "HOME"
        };
        PathBuf::from(self.var(var).expect("the machine has a home"))
    }

    /// Where `path` is on this machine.
    pub fn path(&self, path: impl AsRef<Path>) -> PathBuf {
        self.root().join(path)
    }

    /// A file holding `contents` (text, or any bytes), with the folders above it.
    pub fn file(self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Self {
        let path = self.path(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// An empty folder.
    pub fn dir(self, path: impl AsRef<Path>) -> Self {
        std::fs::create_dir_all(self.path(path)).unwrap();
        self
    }

    /// A symbolic link at `link` to `target` (Windows lets only administrators make them).
    #[cfg(unix)]
    pub fn symlink(self, link: impl AsRef<Path>, target: impl AsRef<Path>) -> Self {
        let link = self.path(link);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
        self
    }

    /// Set a variable, replacing any earlier value.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        let value = value.as_ref().to_str().unwrap().to_string();
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value));
        self
    }

    /// A variable's value as set on this machine.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An executable script (a program that misbehaves, a fake interpreter). Unix only:
    /// Windows runs no `#!` script.
    #[cfg(unix)]
    pub fn executable(self, path: impl AsRef<Path>, script: &str) -> Self {
        super::write_executable(&self.path(path), script);
        self
    }

    /// An OS tool at `path` that prints `output` (recorded from the real tool), exits with
    /// `code`, and writes the arguments it was given, one a line, to `<path>.args`.
    #[cfg(unix)]
    pub fn tool(self, path: impl AsRef<Path>, output: &str, code: i32) -> Self {
        let path = self.path(path);
        let recording = path.with_extension("recording");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&recording, output).unwrap();
        let script = format!(
            "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > '{args}'\n/bin/cat '{recording}'\nexit {code}\n",
            args = args_file(&path).display(),
            recording = recording.display()
        );
        self.executable(path, &script)
    }

    /// A recorded tool (see `tool`) in `/bin`, which is then put on `PATH`.
    #[cfg(unix)]
    pub fn tool_on_path(self, name: &str, output: &str, code: i32) -> Self {
        let bin = self.path("bin");
        let machine = self.env("PATH", &bin);
        machine.tool(bin.join(name), output, code)
    }

    /// The arguments the recorded tool at `path` was last run with.
    pub fn tool_args(&self, path: impl AsRef<Path>) -> Vec<String> {
        let args =
            std::fs::read_to_string(args_file(&self.path(path))).expect("the recorded tool ran");
        args.lines().map(str::to_string).collect()
    }

    /// A video device as Linux shows it: `/dev/<name>` (a plain file: the driver's answer is
    /// `probe`) and its sysfs entry, which names it `sysfs_name`.
    pub fn video(self, name: &str, sysfs_name: &str, probe: Probe) -> Self {
        self.file(
            format!("sys/class/video4linux/{name}/name"),
            format!("{sysfs_name}\n"),
        )
        .file(format!("dev/{name}"), "")
        .driver_answer(name, probe)
    }

    /// What the driver of `/dev/<name>` answers when a check opens it. A node with no answer
    /// fails to open: no machine built here ever opens a real device.
    pub fn driver_answer(mut self, name: &str, probe: Probe) -> Self {
        self.drivers.insert(name.into(), probe);
        self
    }

    /// The machine's architecture as Rust names it (`x86_64`, `aarch64`).
    pub fn arch(mut self, arch: &str) -> Self {
        self.arch = Some(arch.into());
        self
    }

    pub fn memory_gib(mut self, gib: u64) -> Self {
        self.memory_bytes = Some(gib << 30);
        self
    }

    /// The CPU features the OS reports (as /proc/cpuinfo's `flags`).
    pub fn cpu_flags(mut self, flags: &[&str]) -> Self {
        self.cpu_flags = Some(flags.iter().map(|f| f.to_string()).collect());
        self
    }

    /// The folder preflight is started in (the root unless set).
    pub fn cwd(mut self, path: impl AsRef<Path>) -> Self {
        self.cwd = Some(self.path(path));
        self
    }

    /// The `Host` the checks see: a fresh one each time, over the files as they are now.
    pub fn host(&self) -> Host {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut host = Host::simulated(self.root(), self.os, &env);
        host.set_video_devices(Drivers(self.drivers.clone()));
        if let Some(arch) = &self.arch {
            host.facts.arch = arch.clone();
        }
        if let Some(bytes) = self.memory_bytes {
            host.facts.total_memory_bytes = Some(bytes);
        }
        if let Some(flags) = &self.cpu_flags {
            host.facts.cpu_flags = Some(flags.clone());
        }
        if let Some(cwd) = &self.cwd {
            host.cwd = cwd.clone();
        }
        host
    }

    /// Every finding of a profile run on this machine: `body` follows a test `[profile]`
    /// header, so it may add profile keys (`tensorflow = "2.9.0"`) before its `[[check]]`s.
    pub fn findings(&self, body: &str) -> Vec<Finding> {
        self.findings_with(body, RunOptions::default())
    }

    /// `findings` with run options (`--venv`, `--timeout`).
    pub fn findings_with(&self, body: &str, options: RunOptions) -> Vec<Finding> {
        run_profile(self.host(), body, options)
    }

    /// The one finding `id` of a profile run on this machine.
    pub fn finding(&self, body: &str, id: &str) -> Finding {
        finding(&self.findings(body), id).clone()
    }
}

/// Every finding of a profile run on `host` (a machine's, changed as a test needs): `body`
/// follows a test `[profile]` header.
pub fn run_profile(host: Host, body: &str, options: RunOptions) -> Vec<Finding> {
    let text = format!("{PROFILE_HEADER}{body}");
    let profile = profile::parse(&text, "t.toml", "test")
        .unwrap_or_else(|e| panic!("the test's profile is wrong: {e}\n{text}"));
    let ctx = Arc::new(Context::new(host, options, profile.facts.clone()));
    run(ctx, &profile.checks, &Selection::default())
}

/// The finding `id` among `findings`.
pub fn finding<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings.iter().find(|f| f.id == id).unwrap_or_else(|| {
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        panic!("no finding {id} among {ids:?}")
    })
}

fn args_file(tool: &Path) -> PathBuf {
    tool.with_extension("args")
}

/// What each node's driver answers, by the node's file name.
struct Drivers(HashMap<String, Probe>);

impl VideoDevices for Drivers {
    fn probe(&self, node: &Path) -> Probe {
        let name = node.file_name().unwrap().to_string_lossy();
        self.0
            .get(name.as_ref())
            .cloned()
            .unwrap_or_else(|| Probe::Failed(format!("the test gave no answer for {name}")))
    }
}
