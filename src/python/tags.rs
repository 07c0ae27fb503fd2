//! Whether an installed wheel's `WHEEL` tags can run on the probed interpreter: the rule
//! pip (24.2 and later) and `uv pip check` apply, kept simple. A wheel is unsupported when
//! none of its tags (`py2.py3-none-any` expanded into each interpreter x ABI x platform) is
//! one the interpreter accepts. Accepted, for CPython X.Y, as packaging's `sys_tags` orders
//! them: `cpXY` with its own ABI, `abi3` or `none`; an older `cpXW` with `abi3`; `pyXY`,
//! `pyX`, `pyXW` (W < Y) with `none`; each on this platform, and those with `none` also on
//! `any`. Platforms: Linux's `linux_ARCH`, `manylinux*` up to this glibc and `musllinux*`
//! without glibc; macOS's `macosx_*` for this architecture's binary formats (the macOS
//! version is not compared); Windows's `win_amd64`, `win32`, `win_arm64`. Other
//! implementations than CPython have their interpreter tag left unjudged.

/// What the probe says about the interpreter, for tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interpreter {
    /// `sys.implementation.name`: `cpython`, `pypy`.
    pub implementation: String,
    pub major: u64,
    pub minor: u64,
    /// `sys.abiflags` (`""`, `"d"`, `"t"`; `"m"` before 3.8); empty on Windows.
    pub abiflags: String,
    pub debug_build: bool,
    pub pointer_bits: u32,
    /// `sys.platform`: `linux`, `darwin`, `win32`.
    pub sys_platform: String,
    /// `platform.machine()`: `x86_64`, `aarch64`, `arm64`, `AMD64`, `ARM64`.
    pub machine: String,
    /// glibc's (major, minor), from `os.confstr("CS_GNU_LIBC_VERSION")`; `None` elsewhere
    /// and under musl.
    pub glibc: Option<(u64, u64)>,
}

/// `"glibc 2.36"` as (2, 36).
pub fn parse_glibc(text: &str) -> Option<(u64, u64)> {
    let version = text.trim().strip_prefix("glibc ")?;
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit());
    Some((major, minor.parse().ok()?))
}

impl Interpreter {
    /// Whether any of a WHEEL file's `Tag:` values runs here.
    pub fn supports_any(&self, tags: &[String]) -> bool {
        tags.iter().any(|tag| self.supports(tag))
    }

    /// Whether one (possibly compressed) tag runs here.
    pub fn supports(&self, tag: &str) -> bool {
        let tag = tag.trim().to_ascii_lowercase();
        let parts: Vec<&str> = tag.split('-').collect();
        let [interpreters, abis, platforms] = parts[..] else {
            return false;
        };
        interpreters.split('.').any(|interpreter| {
            abis.split('.').any(|abi| {
                platforms
                    .split('.')
                    .any(|platform| self.supports_one(interpreter, abi, platform))
            })
        })
    }

    fn supports_one(&self, interpreter: &str, abi: &str, platform: &str) -> bool {
        let any = platform == "any";
        if !any && !self.platform_runs(platform) {
            return false;
        }
        if let Some(python) = interpreter.strip_prefix("py") {
            return abi == "none" && self.python_tag_fits(python);
        }
        if self.implementation != "cpython" {
            // pp73, graalpy...: not judged (see the module's comment).
            return true;
        }
        let Some(cp) = interpreter.strip_prefix("cp") else {
            return false;
        };
        let own = format!("{}{}", self.major, self.minor);
        if cp == own {
            let own_abi = format!("cp{own}{}", self.abiflags);
            let debug_plain = self.debug_build && abi == format!("cp{own}");
            let free_threaded = self.abiflags.contains('t');
            return match abi {
                "none" => true,
                "abi3" => !any && !free_threaded,
                _ => !any && (abi == own_abi || debug_plain),
            };
        }
        // An older CPython's stable ABI: cp32 and later of the same major.
        let older = cp
            .strip_prefix(&self.major.to_string())
            .and_then(|minor| minor.parse::<u64>().ok())
            .is_some_and(|minor| minor >= 2 && minor < self.minor);
        older && abi == "abi3" && !any && !self.abiflags.contains('t')
    }

    /// `py3`, `py38`, `py37` fit 3.8; `py39`, `py2` do not.
    fn python_tag_fits(&self, version: &str) -> bool {
        let major = self.major.to_string();
        let Some(minor) = version.strip_prefix(&major) else {
            return false;
        };
        minor.is_empty() || minor.parse::<u64>().is_ok_and(|minor| minor <= self.minor)
    }

    fn platform_runs(&self, platform: &str) -> bool {
        if self.sys_platform.starts_with("linux") {
            self.linux_runs(platform)
        } else if self.sys_platform == "darwin" {
            self.macos_runs(platform)
        } else if self.sys_platform == "win32" || self.sys_platform == "cygwin" {
            platform == self.windows_platform()
        } else {
            // Another OS: not judged.
            true
        }
    }

    fn linux_arch(&self) -> String {
        let machine = self.machine.to_ascii_lowercase();
        match (machine.as_str(), self.pointer_bits) {
            ("x86_64", 32) => "i686".into(),
            ("aarch64", 32) => "armv8l".into(),
            _ => machine,
        }
    }

    fn linux_runs(&self, platform: &str) -> bool {
        let arch = self.linux_arch();
        let Some(rest) = platform.strip_suffix(arch.as_str()) else {
            // An armv8l interpreter also runs armv7l wheels.
            return arch == "armv8l"
                && platform
                    .strip_suffix("armv7l")
                    .is_some_and(|rest| self.linux_family_runs(rest));
        };
        self.linux_family_runs(rest)
    }

    /// `rest` is a platform tag without its architecture: `linux_`, `manylinux2014_`,
    /// `manylinux_2_17_`, `musllinux_1_2_`.
    fn linux_family_runs(&self, rest: &str) -> bool {
        let needs_glibc = |minor: u64| {
            self.glibc
                .is_some_and(|(major, m)| major == 2 && m >= minor)
        };
        match rest {
            "linux_" => true,
            "manylinux1_" => needs_glibc(5),
            "manylinux2010_" => needs_glibc(12),
            "manylinux2014_" => needs_glibc(17),
            _ => {
                if let Some(version) = rest.strip_prefix("manylinux_") {
                    let mut parts = version.trim_end_matches('_').split('_');
                    match (parts.next(), parts.next(), self.glibc) {
                        (Some(major), Some(minor), Some((have_major, have_minor))) => {
                            major.parse::<u64>().is_ok_and(|m| m == have_major)
                                && minor.parse::<u64>().is_ok_and(|m| m <= have_minor)
                        }
                        _ => false,
                    }
                } else {
                    // musl's version is not probed: any musllinux tag fits a musl Python.
                    rest.starts_with("musllinux_") && self.glibc.is_none()
                }
            }
        }
    }

    fn macos_runs(&self, platform: &str) -> bool {
        let Some(rest) = platform.strip_prefix("macosx_") else {
            return false;
        };
        // macosx_MAJOR_MINOR_FORMAT; the format may hold no underscore.
        let Some(format) = rest.splitn(3, '_').nth(2) else {
            return false;
        };
        let formats: &[&str] = match self.machine.as_str() {
            "arm64" => &["arm64", "universal2"],
            "x86_64" => &[
                "x86_64",
                "intel",
                "fat64",
                "fat32",
                "universal2",
                "universal",
            ],
            "i386" => &["i386", "intel", "fat32", "fat", "universal"],
            other => return format == other,
        };
        formats.contains(&format)
    }

    fn windows_platform(&self) -> &'static str {
        if self.pointer_bits == 32 {
            "win32"
        } else if self.machine.eq_ignore_ascii_case("arm64") {
            "win_arm64"
        } else {
            "win_amd64"
        }
    }

    /// What this interpreter runs, in a few words, for a message: `cp38 on linux x86_64`.
    pub fn describe(&self) -> String {
        format!(
            "{}{}{} on {} {}",
            if self.implementation == "cpython" {
                "cp"
            } else {
                self.implementation.as_str()
            },
            self.major,
            self.minor,
            self.sys_platform,
            self.machine
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp38_linux() -> Interpreter {
        Interpreter {
            implementation: "cpython".into(),
            major: 3,
            minor: 8,
            abiflags: String::new(),
            debug_build: false,
            pointer_bits: 64,
            sys_platform: "linux".into(),
            machine: "x86_64".into(),
            glibc: Some((2, 36)),
        }
    }

    /// The compatibility packaging 24.2 computed for these tags on the benchmark's venv
    /// (CPython 3.8.18, glibc 2.36, x86-64; research-21 section 5).
    #[test]
    fn agrees_with_packaging_on_a_cp38_glibc_linux() {
        let python = cp38_linux();
        for (tag, supported) in [
            ("cp39-cp39-manylinux_2_17_x86_64", false),
            ("cp38-cp38-manylinux_2_17_aarch64", false),
            ("cp38-cp38-macosx_11_0_arm64", false),
            ("cp37-abi3-manylinux2014_x86_64", true),
            ("py3-none-any", true),
            ("py2.py3-none-any", true),
            ("cp38-cp38-manylinux_2_17_x86_64", true),
            ("cp38-cp38-musllinux_1_1_x86_64", false),
            ("cp38-cp38-win_amd64", false),
            // Tags seen in the real TensorFlow 2.9 venv.
            ("py2-none-any", false),
            ("py3-none-manylinux2010_x86_64", true),
            ("cp38-abi3-manylinux_2_34_x86_64", true),
            ("cp37-abi3-manylinux_2_28_x86_64", true),
            ("cp38-cp38-manylinux_2_5_x86_64.manylinux1_x86_64", true),
            ("cp38-none-any", true),
            ("cp38-abi3-any", false),
            ("py39-none-any", false),
            ("py37-none-any", true),
            ("cp38-cp38-linux_x86_64", true),
            ("not-a-tag", false),
        ] {
            assert_eq!(python.supports(tag), supported, "{tag}");
        }
        // cryptography's cp38-abi3-manylinux_2_34 wheel needs glibc 2.34 or later.
        let old_glibc = Interpreter {
            glibc: Some((2, 31)),
            ..cp38_linux()
        };
        assert!(!old_glibc.supports("cp38-abi3-manylinux_2_34_x86_64"));
        assert!(old_glibc.supports("cp38-cp38-manylinux2014_x86_64"));
        // A WHEEL with several Tag lines runs where any one of them does.
        assert!(python.supports_any(&["py2-none-any".into(), "py3-none-any".into()]));
        assert!(!python.supports_any(&[]));
    }

    #[test]
    fn musl_arm64_macos_windows_and_free_threading() {
        let musl = Interpreter {
            glibc: None,
            ..cp38_linux()
        };
        assert!(musl.supports("cp38-cp38-musllinux_1_1_x86_64"));
        assert!(!musl.supports("cp38-cp38-manylinux2014_x86_64"));

        let mac_arm = Interpreter {
            sys_platform: "darwin".into(),
            machine: "arm64".into(),
            glibc: None,
            minor: 11,
            ..cp38_linux()
        };
        assert!(mac_arm.supports("cp311-cp311-macosx_12_0_arm64"));
        assert!(mac_arm.supports("cp311-cp311-macosx_10_9_universal2"));
        assert!(!mac_arm.supports("cp311-cp311-macosx_10_9_x86_64"));
        let mac_intel = Interpreter {
            machine: "x86_64".into(),
            ..mac_arm.clone()
        };
        assert!(mac_intel.supports("cp311-cp311-macosx_10_9_x86_64"));
        assert!(!mac_intel.supports("cp311-cp311-macosx_11_0_arm64"));

        let windows = Interpreter {
            sys_platform: "win32".into(),
            machine: "AMD64".into(),
            glibc: None,
            ..cp38_linux()
        };
        assert!(windows.supports("cp38-cp38-win_amd64"));
        assert!(!windows.supports("cp38-cp38-win32"));
        assert!(!windows.supports("cp38-cp38-manylinux2014_x86_64"));
        let windows32 = Interpreter {
            pointer_bits: 32,
            ..windows.clone()
        };
        assert!(windows32.supports("cp38-cp38-win32"));

        let free_threaded = Interpreter {
            minor: 13,
            abiflags: "t".into(),
            ..cp38_linux()
        };
        assert!(free_threaded.supports("cp313-cp313t-manylinux_2_17_x86_64"));
        assert!(!free_threaded.supports("cp313-cp313-manylinux_2_17_x86_64"));
        assert!(!free_threaded.supports("cp313-abi3-manylinux_2_17_x86_64"));
    }

    #[test]
    fn glibc_versions_parse() {
        assert_eq!(parse_glibc("glibc 2.36"), Some((2, 36)));
        assert_eq!(parse_glibc("glibc 2.17-custom"), Some((2, 17)));
        assert_eq!(parse_glibc("musl"), None);
    }
}
