//! Writes: the only ones preflight makes, for `fix --yes` inside the virtualenv it builds.
//! A file is created or opened without following a symbolic link (or, on Windows, a reparse
//! point) at its name, and refused unless it is a regular file: a link planted at the log's
//! name never makes preflight write elsewhere, and a FIFO there never blocks it.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use super::files::file_kind;

/// Create one directory (its parent must exist). `mkdir` never follows a link at the name:
/// anything there, a dangling link too, is `AlreadyExists`.
pub fn create_dir(path: &Path) -> io::Result<()> {
    std::fs::create_dir(path)
}

/// Create a new regular file for writing; anything already at the name (a file, a link, a
/// FIFO) is `AlreadyExists`, and nothing is opened through a link.
pub fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    open_own(&mut options, path)
}

/// Open a regular file to append to, creating it when it is not there. A symbolic link at
/// the name is refused (`ELOOP` on Unix, the link itself on Windows), and so is a FIFO or a
/// device, without waiting for it: `InvalidInput`, saying what it is.
pub fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    open_own(&mut options, path).map_err(|e| {
        if is_link_refusal(&e) {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a symbolic link, not a regular file",
            )
        } else {
            e
        }
    })
}

/// Remove a file; a symbolic link is removed itself, never what it points to.
pub fn remove_file(path: &Path) -> io::Result<()> {
    std::fs::remove_file(path)
}

/// Rename `from` to `to` (a symbolic link is moved itself).
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)
}

fn open_own(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        // NOFOLLOW: a link at the name is an error, not a way out of the venv. NONBLOCK: a
        // FIFO opens at once (or fails with ENXIO) instead of waiting for a reader; it has
        // no effect on regular files.
        options.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT;
        // The link (or junction) itself is opened, and refused below as not a regular file.
        options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let file = options.open(path).map_err(name_fifo)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is {}, not a regular file", file_kind(&meta.file_type())),
        ));
    }
    Ok(file)
}

/// A FIFO nobody reads fails a non-blocking open for writing with ENXIO, which says nothing
/// to a person.
fn name_fifo(error: io::Error) -> io::Error {
    #[cfg(unix)]
    if error.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a named pipe (FIFO), not a regular file",
        );
    }
    error
}

fn is_link_refusal(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// Whether process `pid` still runs (a lock's holder). A process this user may not signal
/// is alive too.
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, test_kill_process};
        let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            return false;
        };
        !matches!(test_kill_process(pid), Err(rustix::io::Errno::SRCH))
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::Foundation::{CloseHandle, STILL_ACTIVE};
        use windows_sys::Win32::System::Threading::{
            GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
        };
        // SAFETY: an access right and a pid; the handle is checked and closed below.
        let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
        if process.is_null() {
            return false;
        }
        let mut code = 0u32;
        // SAFETY: an open process handle and a valid out pointer; closed right after.
        unsafe {
            let ok = GetExitCodeProcess(process, &mut code) != 0;
            CloseHandle(process);
            ok && code == STILL_ACTIVE as u32
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    #[cfg_attr(
        windows,
        ignore = "under wine a symbolic link is a Unix link that wine follows whatever the open flags say; run it on a real Windows"
    )]
    fn a_link_at_the_name_is_never_written_through() {
        let dir = tempfile::TempDir::new().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        let link = dir.path().join("log");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        #[cfg(windows)]
        if std::os::windows::fs::symlink_file(&outside, &link).is_err() {
            // Windows without the right to make links: nothing to test here, say so.
            panic!("this test needs the right to create symbolic links");
        }
        let appended = open_append(&link).map(|mut f| f.write_all(b"x"));
        assert!(appended.is_err(), "{appended:?}");
        let created = create_new(&link).map(|mut f| f.write_all(b"x"));
        assert_eq!(
            created.unwrap_err().kind(),
            io::ErrorKind::AlreadyExists,
            "a link is something at the name"
        );
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        // A regular file is appended to, and created when missing.
        let log = dir.path().join("real.log");
        open_append(&log).unwrap().write_all(b"a").unwrap();
        open_append(&log).unwrap().write_all(b"b").unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "ab");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_at_the_name_is_refused_at_once() {
        let dir = tempfile::TempDir::new().unwrap();
        let fifo = dir.path().join("log");
        // As a user makes one (rustix has no mkfifo on macOS).
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", fifo.display());
        let error = open_append(&fifo).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("FIFO"), "{error}");
        // With a reader waiting, the open succeeds at once, and the check refuses it.
        use std::os::unix::fs::OpenOptionsExt;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&fifo)
            .unwrap();
        let error = open_append(&fifo).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        drop(reader);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(process_alive(std::process::id()));
    }
}
