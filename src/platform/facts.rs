//! The hardware and OS facts a [`Host`](crate::host::Host) carries: gathered from the machine
//! when first read (sysinfo, `/proc/cpuinfo`, the Windows registry), or given by a test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::linux;
#[cfg(windows)]
use super::windows::WindowsVersion;
use crate::host::{OsFamily, read_small};

/// Facts about the hardware and OS. Gathered once; tests may overwrite any field.
#[derive(Debug, Clone, Default)]
pub struct SystemFacts {
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub kernel: Option<String>,
    pub arch: String,
    pub cpu_brand: Option<String>,
    /// Lower-case x86 feature names the CPU reports (`avx`, `avx2`, ...); `None` when unknown.
    pub cpu_flags: Option<Vec<String>>,
    pub total_memory_bytes: Option<u64>,
    pub host_name: Option<String>,
}

/// [`SystemFacts`], gathered when first read: asking the OS for the CPU and memory costs
/// CPU time that the interpreter probe, started at the same moment, should have; the system
/// check reads them on its own thread while the probe runs. Tests may overwrite any field.
#[derive(Debug, Clone)]
pub struct LazyFacts {
    root: PathBuf,
    os: OsFamily,
    /// A real host asks the running OS too; a simulated one reads only files under `root`.
    ask_the_os: bool,
    gathered: OnceLock<SystemFacts>,
}

impl LazyFacts {
    /// The facts of the machine this runs on, with `root` as its file system root.
    pub fn of_this_machine(root: &Path, os: OsFamily) -> Self {
        LazyFacts {
            root: root.to_path_buf(),
            os,
            ask_the_os: true,
            gathered: OnceLock::new(),
        }
    }

    /// Only what the files under `root` say ([`SystemFacts::from_files`]): for a simulated
    /// host, which must show none of the facts of the machine its test runs on.
    pub fn from_files_under(root: &Path, os: OsFamily) -> Self {
        LazyFacts {
            ask_the_os: false,
            ..LazyFacts::of_this_machine(root, os)
        }
    }

    fn gather(&self) -> SystemFacts {
        if self.ask_the_os {
            SystemFacts::gather(&self.root, self.os)
        } else {
            SystemFacts::from_files(&self.root, self.os)
        }
    }
}

impl std::ops::Deref for LazyFacts {
    type Target = SystemFacts;

    fn deref(&self) -> &SystemFacts {
        self.gathered.get_or_init(|| self.gather())
    }
}

impl std::ops::DerefMut for LazyFacts {
    fn deref_mut(&mut self) -> &mut SystemFacts {
        if self.gathered.get().is_none() {
            let facts = self.gather();
            self.gathered = OnceLock::from(facts);
        }
        self.gathered
            .get_mut()
            .unwrap_or_else(|| unreachable!("gathered just above"))
    }
}

/// The x86 features TensorFlow's wheels care about.
const CPU_FEATURES_OF_INTEREST: &[&str] = &["avx", "avx2", "fma", "sse4_2", "hypervisor"];

impl SystemFacts {
    /// What the files under `root` say, and nothing that only the running OS answers: the
    /// OS family's name, and on Linux the CPU's name and features from `proc/cpuinfo`.
    pub fn from_files(root: &Path, os: OsFamily) -> Self {
        let cpuinfo = cpuinfo_under(root, os);
        SystemFacts {
            os_name: Some(os.label().to_string()),
            cpu_brand: cpuinfo.as_deref().and_then(linux::cpu_model_name),
            cpu_flags: cpuinfo.as_deref().and_then(linux_cpu_flags),
            ..SystemFacts::default()
        }
    }

    fn gather(root: &Path, os: OsFamily) -> Self {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        let cpuinfo = cpuinfo_under(root, os);
        let model_name = cpuinfo.as_deref().and_then(linux::cpu_model_name);
        let mut wanted =
            RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram());
        if model_name.is_none() {
            wanted = wanted.with_cpu(CpuRefreshKind::nothing());
        }
        // sysinfo is asked for the CPU only where cpuinfo gave no name.
        let system = System::new_with_specifics(wanted).ok();
        let cpu_brand = model_name.or_else(|| {
            system
                .as_ref()
                .and_then(|s| s.cpus().first().map(|cpu| cpu.brand().trim().to_string()))
                .filter(|b| !b.is_empty())
        });
        let (os_name, os_version) = os_name_and_version();
        SystemFacts {
            os_name,
            os_version,
            kernel: System::kernel_version().ok(),
            arch: std::env::consts::ARCH.to_string(),
            cpu_brand,
            cpu_flags: cpu_flags(cpuinfo.as_deref(), os),
            total_memory_bytes: system.map(|s| s.total_memory()).filter(|m| *m > 0),
            host_name: System::host_name().ok().filter(|n| !n.is_empty()),
        }
    }
}

#[cfg(not(windows))]
fn os_name_and_version() -> (Option<String>, Option<String>) {
    use sysinfo::System;
    (System::name().ok(), System::os_version().ok())
}

/// sysinfo's Windows version is "major (build)", and the major number is missing before
/// Windows 10 (wine answers as Windows 7: "0 (7601)"); the registry names the edition.
#[cfg(windows)]
fn os_name_and_version() -> (Option<String>, Option<String>) {
    let (name, version) = read_windows_version().describe();
    (Some(name), Some(version))
}

/// What `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` says about the running Windows.
#[cfg(windows)]
fn read_windows_version() -> WindowsVersion {
    let Ok(key) =
        windows_registry::LOCAL_MACHINE.open(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion")
    else {
        return WindowsVersion::default();
    };
    let text = |name: &str| {
        key.get_string(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    WindowsVersion {
        product_name: text("ProductName"),
        display_version: text("DisplayVersion"),
        release_id: text("ReleaseId"),
        service_pack: text("CSDVersion"),
        build: text("CurrentBuildNumber"),
        update_revision: key.get_u32("UBR").ok(),
    }
}

/// Linux names the CPU and its features in /proc/cpuinfo, read once: each read asks every
/// CPU for its clock. Other systems have no such file.
fn cpuinfo_under(root: &Path, os: OsFamily) -> Option<String> {
    (os == OsFamily::Linux)
        .then(|| read_small(&root.join("proc/cpuinfo")).ok())
        .flatten()
}

/// The features of interest that a Linux `cpuinfo` lists.
fn linux_cpu_flags(cpuinfo: &str) -> Option<Vec<String>> {
    let mut features = linux::cpu_features(cpuinfo)?;
    features.retain(|f| CPU_FEATURES_OF_INTEREST.contains(&f.as_str()));
    Some(features)
}

/// The features of interest: on Linux from `cpuinfo` (`None` when it could not be read),
/// elsewhere from the running CPU.
fn cpu_flags(cpuinfo: Option<&str>, os: OsFamily) -> Option<Vec<String>> {
    if os == OsFamily::Linux {
        return linux_cpu_flags(cpuinfo?);
    }
    #[cfg(target_arch = "x86_64")]
    {
        let mut found = Vec::new();
        if std::arch::is_x86_feature_detected!("avx") {
            found.push("avx".to_string());
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            found.push("avx2".to_string());
        }
        if std::arch::is_x86_feature_detected!("fma") {
            found.push("fma".to_string());
        }
        if std::arch::is_x86_feature_detected!("sse4.2") {
            found.push("sse4_2".to_string());
        }
        Some(found)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Free bytes the current user may use on the file system holding `path`, which exists.
#[cfg(unix)]
pub(crate) fn free_space_at(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Free bytes the current user may use on the volume holding `path` (quotas count), for any
/// directory: a drive, a mounted folder or a network share.
#[cfg(windows)]
pub(crate) fn free_space_at(path: &Path) -> Option<u64> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let mut available: u64 = 0;
    // SAFETY: `wide` is a NUL-terminated UTF-16 string that outlives the call; the one
    // out-pointer is a valid u64 and the two null ones are documented as optional.
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            wide.as_ptr(),
            &mut available,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    (ok != 0).then_some(available)
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn free_space_at(_path: &Path) -> Option<u64> {
    None
}

#[cfg(all(test, windows))]
mod tests {
    use super::*;

    /// The registry of the Windows (or wine) this runs on.
    #[test]
    fn this_windows_names_its_edition_and_build() {
        let facts = SystemFacts::gather(Path::new("/"), OsFamily::Windows);
        let name = facts.os_name.unwrap();
        let version = facts.os_version.unwrap();
        assert!(name.contains("Windows"), "{name}");
        assert!(version.contains("build "), "{version}");
    }
}
