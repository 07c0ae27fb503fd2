//! Files: every read of the machine's files goes through these helpers, which refuse what
//! could block (a FIFO, a device) or is too large before it is read.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Anything larger than this where a small text file is expected is refused, not read.
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// Read a file expected to be small; a larger one is an error, never a huge allocation.
pub fn read_small(path: &Path) -> io::Result<String> {
    let bytes = read_bounded(path, SMALL_FILE_LIMIT)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Read at most `limit` bytes of a regular file; a file with more is refused with
/// `InvalidData`, anything else (a FIFO, a device) as [`open_regular`] says.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("is larger than {} KiB, not read", limit / 1024),
        ));
    }
    Ok(bytes)
}

/// Open a file for reading only when it is a regular file. Opening a FIFO waits for a writer
/// and reading a device may never end, before any deadline: those are refused, saying what
/// they are (`is a named pipe (FIFO), not a regular file`), with `InvalidInput`.
pub fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    refuse_unless_regular(&std::fs::metadata(path)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Should the file be swapped for a FIFO after the check, the open still returns at
        // once, and the second check below refuses it. No effect on regular files.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    refuse_unless_regular(&file.metadata()?)?;
    Ok(file)
}

fn refuse_unless_regular(meta: &std::fs::Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("is {}, not a regular file", file_kind(&meta.file_type())),
    ))
}

/// What a file is, in words: "a directory", "a named pipe (FIFO)", "a character device".
pub fn file_kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The entries of a directory.
pub fn read_dir(path: impl AsRef<Path>) -> io::Result<std::fs::ReadDir> {
    std::fs::read_dir(path)
}

/// What `path` is, following symbolic links.
pub fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    std::fs::metadata(path)
}

/// What `path` is itself: a symbolic link is not followed (a dangling one is there too).
pub fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    std::fs::symlink_metadata(path)
}

/// Where a symbolic link points.
pub fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    std::fs::read_link(path)
}

/// The path with every symbolic link and `..` resolved.
pub fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    std::fs::canonicalize(path)
}

/// Something is at `path`, following symbolic links (a dangling link is not).
pub fn exists(path: impl AsRef<Path>) -> bool {
    path.as_ref().exists()
}

/// `path` is a regular file, following symbolic links.
pub fn is_file(path: impl AsRef<Path>) -> bool {
    path.as_ref().is_file()
}

/// `path` is a directory, following symbolic links.
pub fn is_dir(path: impl AsRef<Path>) -> bool {
    path.as_ref().is_dir()
}
