//! Process trees: every child preflight starts runs in a tree of its own (a process group on
//! Unix, a job object on Windows) that is stopped as a whole, at a deadline, on an interrupt
//! ([`stop_all_children`]), or when the child is done.

use std::collections::BTreeMap;
use std::io;
use std::process::{Child, Command};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a stopped process group gets to clean up after SIGINT before it is killed.
#[cfg(unix)]
const STOP_GRACE: Duration = Duration::from_secs(3);

/// How many children preflight has started, and a signal for each start.
static CHILDREN_STARTED: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// How many children preflight has started so far in this process.
pub fn children_started() -> u64 {
    *CHILDREN_STARTED.0.lock().unwrap_or_else(|p| p.into_inner())
}

fn child_started() {
    let (count, signal) = &CHILDREN_STARTED;
    *count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    signal.notify_all();
}

/// Wait until more than `before` children have started, or `done` says there is nothing to
/// wait for, or `limit` has passed.
pub fn wait_for_child_after(before: u64, limit: Duration, done: impl Fn() -> bool) {
    // `done` is asked between short waits: a thread that ends without starting a child
    // sends no signal.
    const POLL: Duration = Duration::from_millis(1);
    let until = Instant::now() + limit;
    let (count, signal) = &CHILDREN_STARTED;
    let mut started = count.lock().unwrap_or_else(|p| p.into_inner());
    while *started <= before && !done() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        started = match signal.wait_timeout(started, left.min(POLL)) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
}

/// The one way preflight starts a child: in a tree of its own (so a timeout also stops what
/// it started), registered so that [`stop_all_children`] stops it on an interrupt, and
/// counted. Refused once preflight is stopping.
pub(super) fn start(command: &mut Command) -> io::Result<(Child, ChildGroup)> {
    let started = {
        // Spawned and registered under one lock, so a signal cannot slip in between.
        let mut groups = child_groups();
        if groups.stopping {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "preflight is stopping",
            ));
        }
        let (child, tree) = spawn_tree(command)?;
        groups.live.insert(child.id(), tree);
        let group = ChildGroup(child.id());
        (child, group)
    };
    child_started();
    Ok(started)
}

/// A child and everything it starts, to be stopped together: its process group on Unix
/// (its id is the child's pid), a job object on Windows, where a virtualenv's `python.exe`
/// is a redirector that starts the base interpreter as a child of its own.
struct Tree {
    /// The process group's id.
    #[cfg(not(windows))]
    id: u32,
    /// `None` where Windows refused a job (an old Windows inside a job of its own): then
    /// only the child itself can be stopped.
    #[cfg(windows)]
    job: Option<job::Job>,
}

impl Tree {
    fn kill(&self) {
        #[cfg(unix)]
        {
            use rustix::process::{Pid, Signal, kill_process_group};
            // The group's id stays reserved while any member lives, so this never hits a
            // stranger; with no member left it is a harmless ESRCH.
            if let Some(pid) = i32::try_from(self.id).ok().and_then(Pid::from_raw) {
                let _ = kill_process_group(pid, Signal::KILL);
            }
        }
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.terminate();
        }
        #[cfg(not(any(unix, windows)))]
        let _ = self.id;
    }
}

/// Start `command` in a tree of its own: a new process group on Unix; on Windows a job
/// object, the child started suspended so that it starts nothing before it is in the job.
fn spawn_tree(command: &mut Command) -> io::Result<(Child, Tree)> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command.spawn()?;
        let id = child.id();
        Ok((child, Tree { id }))
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        use windows_sys::Win32::System::Threading::CREATE_SUSPENDED;
        command.creation_flags(CREATE_SUSPENDED);
        let mut child = command.spawn()?;
        let job = job::Job::new()
            .and_then(|job| job.assign(&child).map(|()| job))
            .ok();
        if let Err(e) = job::resume(child.id()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        Ok((child, Tree { job }))
    }
    #[cfg(not(any(unix, windows)))]
    {
        let child = command.spawn()?;
        let id = child.id();
        Ok((child, Tree { id }))
    }
}

/// Windows job objects, the one place this module calls the Windows API for processes.
#[cfg(windows)]
mod job {
    use std::io;
    use std::os::windows::io::AsRawHandle;
    use std::process::Child;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
    };
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject,
    };
    use windows_sys::Win32::System::Threading::{OpenThread, ResumeThread, THREAD_SUSPEND_RESUME};

    /// The exit code a stopped process gets: 1, as `Child::kill` gives.
    const STOPPED: u32 = 1;

    /// An open job object whose processes all end when it is closed (dropped), and sooner
    /// with [`Job::terminate`].
    pub struct Job(HANDLE);

    // SAFETY: a job handle is a kernel handle, usable from any thread until it is closed,
    // and only `Drop` closes it.
    unsafe impl Send for Job {}

    impl Job {
        pub fn new() -> io::Result<Job> {
            // SAFETY: both arguments may be null: default security, no name.
            let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if handle.is_null() {
                return Err(io::Error::last_os_error());
            }
            let job = Job(handle);
            let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            // SAFETY: `limits` is the structure this information class names, passed with its
            // size, and it outlives the call; the job handle is open.
            let ok = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&raw const limits).cast(),
                    size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                )
            };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(job)
        }

        pub fn assign(&self, child: &Child) -> io::Result<()> {
            // SAFETY: the job's handle is open until `Drop`; the child's while `child` lives.
            let ok = unsafe { AssignProcessToJobObject(self.0, child.as_raw_handle() as HANDLE) };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// End every process in the job now.
        pub fn terminate(&self) {
            // SAFETY: the job's handle is open until `Drop`.
            unsafe { TerminateJobObject(self.0, STOPPED) };
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is open and closed only here, once.
            unsafe { CloseHandle(self.0) };
        }
    }

    /// Resume a process started suspended: its one thread, found in a snapshot of the
    /// system's threads (the standard library keeps no handle to it).
    pub fn resume(pid: u32) -> io::Result<()> {
        // SAFETY: a flag and an ignored process id; the handle is checked and closed below.
        let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
        if snapshot == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let mut entry = THREADENTRY32 {
            dwSize: size_of::<THREADENTRY32>() as u32,
            ..THREADENTRY32::default()
        };
        let mut resumed = 0;
        // SAFETY: the snapshot is open and `entry` has its `dwSize` set, as the call requires.
        let mut more = unsafe { Thread32First(snapshot, &mut entry) } != 0;
        while more {
            if entry.th32OwnerProcessID == pid {
                // SAFETY: a thread id from the snapshot; the handle is checked and closed.
                let thread = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) };
                if !thread.is_null() {
                    // SAFETY: an open thread handle with THREAD_SUSPEND_RESUME access, closed
                    // right after.
                    unsafe {
                        if ResumeThread(thread) != u32::MAX {
                            resumed += 1;
                        }
                        CloseHandle(thread);
                    }
                }
            }
            // SAFETY: as for `Thread32First`.
            more = unsafe { Thread32Next(snapshot, &mut entry) } != 0;
        }
        // SAFETY: the snapshot is open and closed only here.
        unsafe { CloseHandle(snapshot) };
        if resumed == 0 {
            return Err(io::Error::other("its first thread could not be resumed"));
        }
        Ok(())
    }
}

/// The trees of the children [`start`] started that may still have members, so that a
/// signal handler can stop them all before preflight exits.
struct ChildGroups {
    live: BTreeMap<u32, Tree>,
    /// Set once preflight is stopping: no new child is started after that.
    stopping: bool,
}

static CHILD_GROUPS: Mutex<ChildGroups> = Mutex::new(ChildGroups {
    live: BTreeMap::new(),
    stopping: false,
});

fn child_groups() -> MutexGuard<'static, ChildGroups> {
    CHILD_GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registered child's tree, by the child's pid: dropping it kills the whole tree and
/// forgets it.
pub(super) struct ChildGroup(u32);

impl ChildGroup {
    /// Stop the child and what it started: on Unix its process group politely first
    /// (SIGINT, as Ctrl-C would, so pip can clean up), waiting a short grace for the child;
    /// then whatever is left at once, as on Windows, where the job ends at once.
    pub(super) fn stop(self, child: &mut Child) {
        #[cfg(unix)]
        {
            use rustix::process::{Pid, Signal, kill_process_group};
            if let Some(pid) = i32::try_from(self.0).ok().and_then(Pid::from_raw) {
                let _ = kill_process_group(pid, Signal::INT);
                use wait_timeout::ChildExt;
                let _ = child.wait_timeout(STOP_GRACE);
            }
        }
        // Whether or not the leader went: what is left of its group (background jobs of a
        // shell ignore SIGINT) or its job goes now.
        self.kill(child);
    }

    /// Kill the child's tree and the child now, and reap the child.
    pub(super) fn kill(self, child: &mut Child) {
        drop(self);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        let mut groups = child_groups();
        if let Some(tree) = groups.live.remove(&self.0) {
            tree.kill();
        }
    }
}

/// Kill every child's tree still alive and start no new child: for a signal handler, right
/// before the process exits, and at the end of a run. On Linux, after [`adopt_orphans`],
/// the orphans that came back to preflight are killed too. Returns how many trees were
/// stopped.
pub fn stop_all_children() -> usize {
    let mut groups = child_groups();
    groups.stopping = true;
    for tree in groups.live.values() {
        tree.kill();
    }
    #[cfg(target_os = "linux")]
    orphans::kill_adopted();
    groups.live.len()
}

/// Make preflight the subreaper of everything it starts (Linux: `PR_SET_CHILD_SUBREAPER`):
/// a grandchild that left its process group (`setsid`, a daemonizing helper) is out of reach
/// of the group's kill, but once its parent ends it becomes preflight's child rather than
/// init's, and [`stop_all_children`] kills it. For the binary, at start-up; elsewhere (macOS,
/// Windows, where the job object already holds every descendant) it does nothing.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    orphans::adopt();
}

#[cfg(target_os = "linux")]
mod orphans {
    use std::sync::atomic::{AtomicBool, Ordering};

    use rustix::process::{Pid, Signal, getpid, kill_process};

    static ADOPTING: AtomicBool = AtomicBool::new(false);

    pub(super) fn adopt() {
        if rustix::process::set_child_subreaper(Some(getpid())).is_ok() {
            ADOPTING.store(true, Ordering::SeqCst);
        }
    }

    /// Kill every process whose parent is preflight. Killing one may orphan its own
    /// children, who come back here too: a few rounds, until only zombies are left. Nothing
    /// is reaped here: a thread may be waiting on one of them as its `Child` (a second reaper
    /// would take its exit status away), and preflight exits right after, so the zombies go
    /// to init.
    pub(super) fn kill_adopted() {
        if !ADOPTING.load(Ordering::SeqCst) {
            return;
        }
        let me = getpid();
        for _ in 0..20 {
            let running: Vec<Pid> = children_of(me)
                .into_iter()
                .filter(|(_, zombie)| !zombie)
                .map(|(pid, _)| pid)
                .collect();
            if running.is_empty() {
                return;
            }
            for pid in running {
                let _ = kill_process(pid, Signal::KILL);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The children of `parent` from `/proc/PID/stat` (`pid (comm) state ppid ...`), and
    /// whether each is a zombie.
    fn children_of(parent: Pid) -> Vec<(Pid, bool)> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = super::super::read_small(&entry.path().join("stat")).ok()?;
                let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
                let state = fields.next()?;
                let ppid: i32 = fields.next()?.parse().ok()?;
                (ppid == parent.as_raw_nonzero().get())
                    .then(|| Pid::from_raw(pid).map(|pid| (pid, state == "Z")))
                    .flatten()
            })
            .collect()
    }
}
