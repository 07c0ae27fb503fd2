//! Ctrl-C and the signals that end a run, in one place: one handler, installed once at
//! start-up ([`install`]), never replaced.
//!
//! By default an interrupt stops every child process preflight started (the interpreter
//! probe, a `--deep` training run: each in a process group or job of its own, which the
//! terminal's Ctrl-C may not reach) and exits as shells expect of a process a signal stopped:
//! 128 + the signal on Unix (130, 143, 129), 130 for Ctrl-C and Ctrl-Break on Windows.
//! While `fix --yes` builds ([`while_building`]), an interrupt only raises the flag the build
//! polls: the build stops pip's group itself and leaves the virtualenv marked incomplete.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};

/// The interrupt state of the build in progress, if one is.
static BUILDING: Mutex<Option<Arc<Raised>>> = Mutex::new(None);

fn building() -> MutexGuard<'static, Option<Arc<Raised>>> {
    BUILDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// The flag a build polls, and the exit code of the first interrupt that raised it.
#[derive(Default)]
struct Raised {
    flag: AtomicBool,
    code: AtomicU8,
}

/// While this lives, an interrupt raises [`BuildScope::flag`] instead of ending the run.
pub struct BuildScope {
    raised: Arc<Raised>,
}

impl BuildScope {
    /// Raised once an interrupt came during the scope.
    pub fn flag(&self) -> &AtomicBool {
        &self.raised.flag
    }

    /// End the scope: the exit code of the interrupt that came during it (130, 143, 129, as
    /// it would have been outside the scope), if one came. From here on an interrupt ends
    /// the run at once again.
    pub fn end(self) -> Option<u8> {
        *building() = None;
        self.raised
            .flag
            .load(Ordering::SeqCst)
            .then(|| self.raised.code.load(Ordering::SeqCst))
    }
}

impl Drop for BuildScope {
    fn drop(&mut self) {
        let mut current = building();
        if current
            .as_ref()
            .is_some_and(|raised| Arc::ptr_eq(raised, &self.raised))
        {
            *current = None;
        }
    }
}

/// Enter the "fix is building" scope: until the scope is dropped, interrupts raise its flag.
/// Without [`install`] (a library caller) the flag is simply never raised.
pub fn while_building() -> BuildScope {
    let raised = Arc::new(Raised::default());
    *building() = Some(Arc::clone(&raised));
    BuildScope { raised }
}

/// What an interrupt does now: raise the build's flag, or stop every child and exit with
/// `code`. `name` is how the message names the interrupt.
fn interrupted(name: &str, code: u8) {
    if let Some(raised) = building().as_ref() {
        // The first interrupt names the exit code; a second one only raises the flag again.
        let _ = raised
            .code
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        raised.flag.store(true, Ordering::SeqCst);
        return;
    }
    stop_and_exit(name, code);
}

/// Stop every child and exit with `code`: what an interrupt does outside a build, and what
/// `fix` does once the build an interrupt stopped has said so.
pub fn stop_and_exit(name: &str, code: u8) -> ! {
    // Before any child is killed: the main thread, seeing its child die, may reach its end
    // first, and must end with this code, not its own verdict.
    STOPPING.store(code, Ordering::SeqCst);
    let stopped = crate::host::stop_all_children();
    // stderr may be gone too (a closed terminal): never let that stop the exit.
    // Unix stops process groups; Windows terminates the job object each child runs in.
    let what = if cfg!(windows) {
        "child process job(s)"
    } else {
        "child process group(s)"
    };
    let _ = writeln!(
        std::io::stderr(),
        "preflight: stopped by {name}; {stopped} {what} killed"
    );
    std::process::exit(i32::from(code));
}

/// The exit code of the interrupt that is ending the run, 0 while none is.
static STOPPING: AtomicU8 = AtomicU8::new(0);

/// The exit code of an interrupt that is ending the run now, if one is: `main` ends with it.
pub fn stopping() -> Option<u8> {
    Some(STOPPING.load(Ordering::SeqCst)).filter(|code| *code != 0)
}

/// Install the one handler; later calls do nothing. When the OS refuses it, interrupts keep
/// their default action (the run ends at once).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(install_handler);
}

/// SIGINT, SIGTERM and SIGHUP, read on a thread of their own (signal-hook), where taking a
/// lock and writing a message are safe.
#[cfg(unix)]
fn install_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            let name = match signal {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            interrupted(name, 128 + signal as u8);
        }
    });
}

/// The console's control events. Windows runs the handler on a thread of its own.
#[cfg(windows)]
fn install_handler() {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
    // SAFETY: `on_console_event` is a plain `extern "system"` function with the signature
    // PHANDLER_ROUTINE requires, and it lives as long as the process.
    unsafe {
        SetConsoleCtrlHandler(Some(on_console_event), 1);
    }
}

#[cfg(windows)]
unsafe extern "system" fn on_console_event(event: u32) -> windows_sys::core::BOOL {
    use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT};
    match event {
        CTRL_C_EVENT => interrupted("Ctrl-C", 130),
        CTRL_BREAK_EVENT => interrupted("Ctrl-Break", 130),
        // The console is closing, or the user logging off: Windows ends the process once the
        // handler returns, build or not, so the children go first. 129, as SIGHUP on Unix.
        _ => stop_and_exit("the console closing", 129),
    }
    1 // handled: the build goes on to stop pip and say so
}

#[cfg(not(any(unix, windows)))]
fn install_handler() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupt_while_building_raises_the_flag_and_ends_with_the_scope() {
        let scope = while_building();
        interrupted("SIGTERM", 143);
        interrupted("SIGINT", 130);
        assert!(scope.flag().load(Ordering::SeqCst));
        assert_eq!(scope.end(), Some(143), "the first interrupt names the code");
        assert!(building().is_none());
        let next = while_building();
        assert!(
            !next.flag().load(Ordering::SeqCst),
            "a new build starts unraised"
        );
    }
}
