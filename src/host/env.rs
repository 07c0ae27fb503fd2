//! Environment variables: the host's own set (the machine's, or exactly a test's), matched
//! by name as the OS matches them, and what a child process is handed.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

use super::{Host, OsFamily};

/// This process's variables whose names are valid Unicode (the others no check could name):
/// those with a Unicode value, and apart those whose value is not (pip reads them too, see
/// [`Host::env_os`]).
pub(super) fn of_this_process() -> (BTreeMap<String, String>, BTreeMap<String, OsString>) {
    let mut not_unicode = BTreeMap::new();
    let env = std::env::vars_os()
        .filter_map(|(k, v)| {
            let key = k.into_string().ok()?;
            match v.into_string() {
                Ok(value) => Some((key, value)),
                Err(raw) => {
                    not_unicode.insert(key, raw);
                    None
                }
            }
        })
        .collect();
    (env, not_unicode)
}

impl Host {
    /// A variable's value even when it is not valid Unicode (a path in a Latin-1 locale);
    /// unset and empty are the same.
    pub fn env_os(&self, key: &str) -> Option<&OsStr> {
        self.env(key).map(OsStr::new).or_else(|| {
            self.not_unicode
                .get(key)
                .map(|v| v.as_os_str())
                .filter(|v| !v.is_empty())
        })
    }

    /// A variable's value; unset and empty are the same. On Windows names match whatever
    /// their case, as Windows itself matches them (`Path` is `PATH`).
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env_key(key)
            .and_then(|stored| self.env.get(stored))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The name under which `key` is stored: itself, or on Windows the same name in any case.
    fn env_key(&self, key: &str) -> Option<&str> {
        if self.os == OsFamily::Windows {
            self.env
                .keys()
                .find(|stored| same_name_ignoring_case(stored, key))
                .map(String::as_str)
        } else {
            self.env
                .get_key_value(key)
                .map(|(stored, _)| stored.as_str())
        }
    }

    /// The first of `keys` that is set, with its name, for variables that come in two cases.
    /// On Windows, where `http_proxy` is also `HTTP_PROXY`, the name is the one of `keys`
    /// spelled as the variable was set, when there is one.
    pub fn env_any<'a>(&self, keys: &[&'a str]) -> Option<(&'a str, &str)> {
        keys.iter().find_map(|key| {
            let value = self.env(key)?;
            let stored = self.env_key(key)?;
            let name = keys.iter().find(|k| **k == stored).unwrap_or(key);
            Some((*name, value))
        })
    }

    /// Set a variable; on Windows this replaces it under whatever case it was stored, so a
    /// child never sees both `Path` and `PATH`.
    pub fn set_env(&mut self, key: &str, value: &str) {
        if let Some(stored) = self.env_key(key).map(str::to_string) {
            self.env.remove(&stored);
        }
        self.env.insert(key.to_string(), value.to_string());
    }

    /// The host's variables with `extra` set on top, each replacing a variable of the same
    /// name as the OS matches names: what a child process is started with.
    pub(super) fn env_with(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        for (key, value) in extra {
            if let Some(stored) = self.env_key(key) {
                env.remove(stored);
            }
            env.insert(key.to_string(), value.to_string());
        }
        env
    }
}

fn same_name_ignoring_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// A program file `which` accepts on this OS: an executable bit on Unix, `.exe` on Windows.
    fn program(dir: &Path, name: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        std::fs::write(&path, "").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    }

    #[test]
    fn windows_variables_match_whatever_their_case() {
        let dir = tempfile::TempDir::new().unwrap();
        let bin = dir.path().join("Python38");
        let python = program(&bin, "python");
        let host = Host::simulated(
            dir.path(),
            OsFamily::Windows,
            &[
                ("Path", bin.to_str().unwrap()),
                ("UserProfile", "C:\\Users\\ada"),
            ],
        );
        assert_eq!(host.env("PATH"), bin.to_str());
        assert_eq!(host.env("path"), bin.to_str());
        assert_eq!(host.home, Some(PathBuf::from("C:\\Users\\ada")));
        assert_eq!(host.which("python"), Some(python));
    }

    #[test]
    fn other_systems_keep_names_apart() {
        let dir = tempfile::TempDir::new().unwrap();
        let bin = dir.path().join("bin");
        program(&bin, "python");
        let host = Host::simulated(
            dir.path(),
            OsFamily::Linux,
            &[("Path", bin.to_str().unwrap())],
        );
        assert_eq!(host.env("PATH"), None);
        assert_eq!(host.which("python"), None);
    }

    #[test]
    fn setting_a_windows_variable_replaces_it_in_any_case() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut host = Host::simulated(dir.path(), OsFamily::Windows, &[("Path", "C:\\old")]);
        host.set_env("PATH", "C:\\new");
        assert_eq!(host.env("Path"), Some("C:\\new"));
        // One variable, so a child process is not handed two spellings of it.
        let names: Vec<&String> = host.env.keys().collect();
        assert_eq!(names, ["PATH"]);
    }

    #[test]
    fn a_windows_variable_is_named_as_it_was_spelled() {
        let dir = tempfile::TempDir::new().unwrap();
        let keys = ["HTTP_PROXY", "http_proxy"];
        let value = "http://127.0.0.1:3128";
        let lower = Host::simulated(dir.path(), OsFamily::Windows, &[("http_proxy", value)]);
        assert_eq!(lower.env_any(&keys), Some(("http_proxy", value)));
        // A spelling none of the keys has: the first key names it.
        let mixed = Host::simulated(dir.path(), OsFamily::Windows, &[("Http_Proxy", value)]);
        assert_eq!(mixed.env_any(&keys), Some(("HTTP_PROXY", value)));
        let linux = Host::simulated(dir.path(), OsFamily::Linux, &[("Http_Proxy", value)]);
        assert_eq!(linux.env_any(&keys), None);
    }
}
