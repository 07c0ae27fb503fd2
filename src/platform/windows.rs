//! Windows: parsers for what its tools print.

use std::path::PathBuf;

/// One Python the `py` launcher knows (`py -0p`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LauncherPython {
    /// The tag as listed: `3.12`, `3.8-64`, `3.12-arm64`, or a company's `Vendor/Tag`.
    pub tag: String,
    /// `3.8` from `3.8-64`; `None` for tags that name no version (a vendor's).
    pub release: Option<String>,
    pub path: PathBuf,
    /// The one `py` starts when given no version (marked `*`).
    pub default: bool,
}

/// The installs `py -0p` lists. Two formats exist: the launcher before Python 3.11 prints
/// ` -3.8-64        C:\...\python.exe *`, the one since ` -V:3.12 *        C:\...\python.exe`.
/// Headers and messages ("Installed Pythons found by ...", "No Installed Pythons Found!")
/// are not entries and are skipped; so are entries without a path (`py -0`).
pub fn parse_py_launcher_list(text: &str) -> Vec<LauncherPython> {
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(entry) = line.trim().strip_prefix('-') else {
            continue;
        };
        let entry = entry.strip_prefix("V:").unwrap_or(entry);
        let Some((tag, rest)) = entry.split_once(char::is_whitespace) else {
            continue;
        };
        let mut rest = rest.trim();
        let mut default = false;
        if let Some(after) = rest.strip_prefix('*') {
            default = true;
            rest = after.trim_start();
        }
        if let Some(before) = rest.strip_suffix(" *") {
            default = true;
            rest = before.trim_end();
        }
        if rest.is_empty() || tag.is_empty() {
            continue;
        }
        found.push(LauncherPython {
            tag: tag.to_string(),
            release: release_of_tag(tag),
            path: PathBuf::from(rest),
            default,
        });
    }
    found
}

/// `3.8` from `3.8`, `3.8-64`, `3.8-32`, `3.12-arm64`; `None` for a vendor's tag.
fn release_of_tag(tag: &str) -> Option<String> {
    let version = tag.split('-').next()?;
    let mut parts = version.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let numeric = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    (numeric(major) && numeric(minor) && parts.next().is_none()).then(|| format!("{major}.{minor}"))
}

/// `3.8` from a python.org install folder's name (`Python38`, `Python310`, `Python38-32`,
/// `Python312-arm64`): the installer names it `Python` + major + minor.
pub fn release_of_install_folder(name: &str) -> Option<String> {
    let rest = name
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("python"))
        .map(|_| &name[6..])?;
    let digits = rest.split('-').next()?;
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(1);
    Some(format!("{major}.{}", minor.parse::<u32>().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from users' consoles (a launcher before 3.11, with its header line).
    const OLD_LAUNCHER: &str = "Installed Pythons found by C:\\WINDOWS\\py.exe Launcher for Windows\n -3.8-64        C:\\Users\\vma\\AppData\\Local\\Programs\\Python\\Python38\\python.exe *\n\n";
    const OLD_LAUNCHER_SPACES: &str = "Installed Pythons found by py Launcher for Windows\n -3.9-64        C:\\Program Files\\Python38\\python.exe *\n -3.8-64        C:\\Program Files\\Python38\\python.exe\n -3.7-64        C:\\Program Files\\Python37\\python.exe\n";
    // Recorded from `py --list-paths` of the launcher shipped since Python 3.11.
    const NEW_LAUNCHER: &str = " -V:3.12 *        C:\\Software\\Python\\Python_3_12\\python.exe\n -V:3.11          C:\\Software\\Python\\Python_3_11\\python.exe\n -V:3.10          C:\\Users\\%USERNAME%\\AppData\\Local\\Programs\\Python\\Python310\\python.exe\n";

    #[test]
    fn reads_the_launcher_before_3_11() {
        let found = parse_py_launcher_list(OLD_LAUNCHER);
        assert_eq!(
            found,
            vec![LauncherPython {
                tag: "3.8-64".into(),
                release: Some("3.8".into()),
                path: PathBuf::from(
                    "C:\\Users\\vma\\AppData\\Local\\Programs\\Python\\Python38\\python.exe"
                ),
                default: true,
            }]
        );
        let spaced = parse_py_launcher_list(OLD_LAUNCHER_SPACES);
        assert_eq!(spaced.len(), 3);
        assert_eq!(
            spaced[1].path,
            PathBuf::from("C:\\Program Files\\Python38\\python.exe")
        );
        assert!(spaced[0].default && !spaced[1].default && !spaced[2].default);
        assert_eq!(spaced[2].release.as_deref(), Some("3.7"));
    }

    #[test]
    fn reads_the_launcher_since_3_11() {
        let found = parse_py_launcher_list(NEW_LAUNCHER);
        let summary: Vec<_> = found
            .iter()
            .map(|p| (p.tag.as_str(), p.release.as_deref(), p.default))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("3.12", Some("3.12"), true),
                ("3.11", Some("3.11"), false),
                ("3.10", Some("3.10"), false)
            ]
        );
        assert_eq!(
            found[0].path,
            PathBuf::from("C:\\Software\\Python\\Python_3_12\\python.exe")
        );
    }

    #[test]
    fn vendor_tags_and_messages_are_not_versions() {
        let found = parse_py_launcher_list(
            "No Installed Pythons Found!\n -V:ContinuumAnalytics/Anaconda39-64 C:\\Anaconda3\\python.exe\n -3.8-32\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].release, None);
        assert_eq!(found[0].tag, "ContinuumAnalytics/Anaconda39-64");
        assert!(parse_py_launcher_list("").is_empty());
    }

    #[test]
    fn names_the_release_of_an_install_folder() {
        assert_eq!(
            release_of_install_folder("Python38").as_deref(),
            Some("3.8")
        );
        assert_eq!(
            release_of_install_folder("Python310").as_deref(),
            Some("3.10")
        );
        assert_eq!(
            release_of_install_folder("Python38-32").as_deref(),
            Some("3.8")
        );
        assert_eq!(
            release_of_install_folder("python312-arm64").as_deref(),
            Some("3.12")
        );
        assert_eq!(release_of_install_folder("Python"), None);
        assert_eq!(release_of_install_folder("Pythonista"), None);
        assert_eq!(release_of_install_folder("Launcher"), None);
    }
}
