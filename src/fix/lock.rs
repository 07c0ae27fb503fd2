//! The lock `fix --yes` holds on the virtualenv while it builds, so that a second `fix`
//! never moves the first one's work aside or installs into it at the same time.
//!
//! It is a file inside the virtualenv (so the "writes only into the virtualenv" promise
//! holds): created with create-new semantics before anything else is written there, naming
//! its holder (pid and start time), and removed when the build ends. A lock whose holder no
//! longer runs (preflight was killed) is stale and taken over.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::host;

/// The lock's name inside the virtualenv.
pub const LOCK_FILE: &str = ".preflight-fix.lock";

/// A lock held by this process; dropping it removes the file.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

/// Who holds a lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub started: String,
}

impl Holder {
    fn parse(text: &str) -> Option<Holder> {
        let mut pid = None;
        let mut started = String::new();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", value)) => pid = value.trim().parse().ok(),
                Some(("started", value)) => started = value.trim().to_string(),
                _ => {}
            }
        }
        Some(Holder { pid: pid?, started })
    }

    /// "preflight fix (pid 4242, started 20261204-201500 UTC)".
    pub fn describe(&self) -> String {
        format!(
            "another `preflight fix` (pid {}, started {} UTC)",
            self.pid, self.started
        )
    }
}

/// The live holder of the lock in `dir`, if another run holds it now.
pub fn held_by_other(dir: &Path) -> Option<Holder> {
    let text = host::read_small(&dir.join(LOCK_FILE)).ok()?;
    let holder = Holder::parse(&text)?;
    (holder.pid != std::process::id() && host::process_alive(holder.pid)).then_some(holder)
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum Refused {
    Held(Holder),
    Io(String),
}

impl Lock {
    /// Take the lock in `dir` (an existing directory), taking over a stale one.
    pub fn take(dir: &Path, now: SystemTime) -> Result<Lock, Refused> {
        let path = dir.join(LOCK_FILE);
        // Twice at most: the second try follows the removal of a stale lock.
        for _ in 0..2 {
            match host::create_new(&path) {
                Ok(mut file) => {
                    let text = format!(
                        "pid={}\nstarted={}\n",
                        std::process::id(),
                        super::utc_stamp(now)
                    );
                    let lock = Lock { path };
                    file.write_all(text.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| {
                            Refused::Io(format!("could not write {}: {e}", lock.path.display()))
                        })?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let meta = host::symlink_metadata(&path)
                        .map_err(|e| Refused::Io(format!("{}: {e}", path.display())))?;
                    if !meta.is_file() {
                        return Err(Refused::Io(format!(
                            "{} is {}, not preflight's lock; remove it if you put it there",
                            path.display(),
                            host::file_kind(&meta.file_type())
                        )));
                    }
                    let text = host::read_small(&path).unwrap_or_default();
                    match Holder::parse(&text) {
                        Some(holder)
                            if holder.pid != std::process::id()
                                && host::process_alive(holder.pid) =>
                        {
                            return Err(Refused::Held(holder));
                        }
                        // Its holder is gone (or it is half written by a killed run): stale.
                        _ => {
                            let _ = host::remove_file(&path);
                        }
                    }
                }
                Err(e) => {
                    return Err(Refused::Io(format!(
                        "could not create {}: {e}",
                        path.display()
                    )));
                }
            }
        }
        Err(Refused::Io(format!(
            "{} keeps reappearing: another `preflight fix` is taking it",
            path.display()
        )))
    }

    /// The directory holding the lock was renamed to `to`: the lock goes with it and is
    /// released there.
    pub fn moved_to(mut self, to: &Path) {
        self.path = to.join(LOCK_FILE);
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = host::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_is_named_and_a_dead_one_is_taken_over() {
        let dir = tempfile::TempDir::new().unwrap();
        let now = SystemTime::now();
        let lock = Lock::take(dir.path(), now).unwrap();
        let text = host::read_small(&dir.path().join(LOCK_FILE)).unwrap();
        let holder = Holder::parse(&text).unwrap();
        assert_eq!(holder.pid, std::process::id());
        drop(lock);
        assert!(!host::exists(dir.path().join(LOCK_FILE)));
        // A holder that is not running: pid far above any pid_max.
        #[allow(clippy::disallowed_methods)]
        std::fs::write(
            dir.path().join(LOCK_FILE),
            "pid=2000000000\nstarted=20260101-000000\n",
        )
        .unwrap();
        assert_eq!(held_by_other(dir.path()), None);
        let taken = Lock::take(dir.path(), now).unwrap();
        drop(taken);
    }
}
