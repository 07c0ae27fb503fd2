//! What each operating system says, as pure parsers over its tools' and files' text; the
//! checks keep only the judging.

pub mod macos;
pub mod shell;
pub mod windows;
