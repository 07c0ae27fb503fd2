//! pip's configuration, read the way pip reads it: the same files in the same order, merged
//! across all of them first (`section.name` keys, later files over earlier), then `[global]`,
//! then the command's own section (`[install]`), then `PIP_*` variables. Every setting
//! remembers the file and section, or the variable, that decided it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use configparser::ini::{Ini, IniDefault};

use crate::host::{Host, OsFamily, exists, is_dir, is_file, read_small};

/// The settings this tool reasons about. pip reads many more; only these are looked up.
pub const KNOWN: &[&str] = &[
    "index-url",
    "extra-index-url",
    "find-links",
    "no-index",
    "cert",
    "client-cert",
    "trusted-host",
    "proxy",
    "no-proxy-env",
    "use-feature",
    "use-deprecated",
];

/// Which group of pip's files a file belongs to, in pip's override order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Global,
    User,
    Site,
    /// The file named by `PIP_CONFIG_FILE`.
    EnvFile,
}

impl Variant {
    pub fn label(self) -> &'static str {
        match self {
            Variant::Global => "global",
            Variant::User => "user",
            Variant::Site => "site",
            Variant::EnvFile => "PIP_CONFIG_FILE",
        }
    }
}

/// One file pip would read, in the order pip reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub variant: Variant,
    pub path: PathBuf,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File { path: PathBuf, section: String },
    Variable(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path, section } => write!(f, "{} [{section}]", path.display()),
            Source::Variable(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

/// What became of one file pip would read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Read,
    Absent,
    /// pip stops with an error on such a file; so does every install.
    Unreadable(String),
}

/// pip's configuration for one command.
#[derive(Debug, Clone, Default)]
pub struct PipConfig {
    /// Every file pip would consider, with what became of it.
    pub files: Vec<(ConfigFile, FileState)>,
    /// `PIP_CONFIG_FILE` names the null device: pip reads no file at all.
    pub files_disabled: bool,
    /// `PIP_CONFIG_FILE` names an existing file: pip then skips the user's files.
    pub user_files_skipped: bool,
    settings: BTreeMap<String, Setting>,
}

impl PipConfig {
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.get(name)
    }

    /// A list setting's items, and where the list came from.
    pub fn list(&self, name: &str) -> Option<(Vec<String>, &Source)> {
        let setting = self.settings.get(name)?;
        let items = setting
            .value
            .split_whitespace()
            .map(str::to_string)
            .collect();
        Some((items, &setting.source))
    }

    /// A boolean setting as pip's `strtobool` reads it; `Err` names the bad value.
    pub fn flag(&self, name: &str) -> Result<Option<(bool, &Source)>, String> {
        let Some(setting) = self.settings.get(name) else {
            return Ok(None);
        };
        match setting.value.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" | "t" | "true" | "on" | "1" => Ok(Some((true, &setting.source))),
            "n" | "no" | "f" | "false" | "off" | "0" => Ok(Some((false, &setting.source))),
            other => Err(format!(
                "{name} = {other:?} (from {}) is not a yes/no value",
                setting.source
            )),
        }
    }

    /// The files pip cannot load: pip refuses to run while one exists.
    pub fn unreadable(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files.iter().filter_map(|(file, state)| match state {
            FileState::Unreadable(why) => Some((file.path.as_path(), why.as_str())),
            _ => None,
        })
    }

    /// The files that were read, in order.
    pub fn read_files(&self) -> impl Iterator<Item = &ConfigFile> {
        self.files
            .iter()
            .filter(|(_, state)| *state == FileState::Read)
            .map(|(file, _)| file)
    }
}

/// The files pip reads on this host, in its order: global, user (legacy then current), the
/// environment's own (`sys.prefix`), then `PIP_CONFIG_FILE`. `prefix` is the environment's
/// `sys.prefix` (the venv directory for a venv).
pub fn config_files(host: &Host, prefix: Option<&Path>) -> Vec<ConfigFile> {
    let home = host.home.clone().unwrap_or_default();
    let mut files = Vec::new();
    let mut push = |variant, path: PathBuf| files.push(ConfigFile { variant, path });
    let name = basename(host.os);
    match host.os {
        OsFamily::Windows => {
            let program_data = host.env("ProgramData").unwrap_or(r"C:\ProgramData");
            push(
                Variant::Global,
                Path::new(program_data).join("pip").join(name),
            );
            push(Variant::User, home.join("pip").join(name));
            if let Some(appdata) = host.env("APPDATA") {
                push(Variant::User, Path::new(appdata).join("pip").join(name));
            }
        }
        OsFamily::Macos => {
            push(
                Variant::Global,
                host.system_path("/Library/Application Support/pip")
                    .join(name),
            );
            push(Variant::User, home.join(".pip").join(name));
            // pip uses the Application Support folder only when it exists.
            let app_support = home.join("Library/Application Support/pip");
            let user_dir = if is_dir(&app_support) {
                app_support
            } else {
                home.join(".config/pip")
            };
            push(Variant::User, user_dir.join(name));
        }
        OsFamily::Linux | OsFamily::Other => {
            let dirs = host.env("XDG_CONFIG_DIRS").unwrap_or("/etc/xdg");
            for dir in dirs.split(':').filter(|d| !d.is_empty()) {
                push(
                    Variant::Global,
                    host.system_path(dir).join("pip").join(name),
                );
            }
            push(Variant::Global, host.system_path("/etc").join(name));
            push(Variant::User, home.join(".pip").join(name));
            let config = host
                .env("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            push(Variant::User, config.join("pip").join(name));
        }
    }
    if let Some(prefix) = prefix {
        push(Variant::Site, prefix.join(name));
    }
    if let Some(file) = host.env("PIP_CONFIG_FILE") {
        push(Variant::EnvFile, host.user_path(Path::new(file)));
    }
    files
}

fn basename(os: OsFamily) -> &'static str {
    if os == OsFamily::Windows {
        "pip.ini"
    } else {
        "pip.conf"
    }
}

/// The null device as Python's `os.devnull` spells it: pip compares the path as a string.
fn devnull(os: OsFamily) -> &'static str {
    if os == OsFamily::Windows {
        "nul"
    } else {
        "/dev/null"
    }
}

/// Read pip's configuration for `command` (`install`) as pip would on this host.
pub fn load(host: &Host, prefix: Option<&Path>, command: &str) -> PipConfig {
    let candidates = config_files(host, prefix);
    let env_file = host.env("PIP_CONFIG_FILE");
    let mut config = PipConfig {
        files_disabled: env_file == Some(devnull(host.os)),
        user_files_skipped: env_file.is_some_and(|f| exists(host.user_path(Path::new(f)))),
        ..PipConfig::default()
    };
    let mut parsed = Vec::new();
    for file in candidates {
        if config.files_disabled
            || (config.user_files_skipped && file.variant == Variant::User)
            || (file.variant == Variant::EnvFile && env_file == Some(devnull(host.os)))
        {
            continue;
        }
        let state = if !is_file(&file.path) {
            FileState::Absent
        } else {
            match read_small(&file.path)
                .map_err(|e| e.to_string())
                .and_then(|text| parse(&text))
            {
                Ok(entries) => {
                    parsed.push((file.path.clone(), entries));
                    FileState::Read
                }
                Err(why) => FileState::Unreadable(why),
            }
        };
        config.files.push((file, state));
    }
    let variables: Vec<(String, String, String)> = KNOWN
        .iter()
        .filter_map(|name| {
            let variable = format!("PIP_{}", name.to_ascii_uppercase().replace('-', "_"));
            let value = host.env(&variable)?.to_string();
            Some((variable, name.to_string(), value))
        })
        .collect();
    config.settings = merge(&parsed, &variables, command);
    config
}

/// One setting as written in a file: section, normalized name, value.
pub type Entry = (String, String, String);

/// Parse one file as Python's `RawConfigParser` does for pip: `=` or `:`, full-line `#`/`;`
/// comments only, indented continuation lines, names case-insensitive, sections not.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    // A name no real section can have: anything under it stood before the first header.
    const BEFORE_ANY_SECTION: &str = "\u{0}before-any-section";
    let mut defaults = IniDefault::default();
    defaults.default_section = BEFORE_ANY_SECTION.into();
    defaults.case_sensitive = true;
    defaults.multiline = true;
    defaults.enable_inline_comments = false;
    let mut ini = Ini::new_from_defaults(defaults);
    let map = ini.read(text.to_string())?;
    let mut entries = Vec::new();
    for (section, values) in map {
        for (key, value) in values {
            if section == BEFORE_ANY_SECTION {
                return Err(format!("`{key}` stands before any [section]"));
            }
            let Some(value) = value else {
                return Err(format!("[{section}] `{key}` has no `=` or `:`"));
            };
            entries.push((section.clone(), normalize(&key), value));
        }
    }
    Ok(entries)
}

/// pip's `_normalize_name`: lower case, `_` as `-`, no leading `--`.
fn normalize(name: &str) -> String {
    let name = name.trim().to_lowercase().replace('_', "-");
    name.strip_prefix("--").map(str::to_string).unwrap_or(name)
}

/// pip's merge: every `section.name` across all files, later files over earlier; then the
/// `[global]` values, then the command's section, then the variables, each over the last.
/// Empty values are ignored, as pip ignores them.
pub fn merge(
    files: &[(PathBuf, Vec<Entry>)],
    variables: &[(String, String, String)],
    command: &str,
) -> BTreeMap<String, Setting> {
    let mut by_section: BTreeMap<(String, String), Setting> = BTreeMap::new();
    for (path, entries) in files {
        for (section, name, value) in entries {
            by_section.insert(
                (section.clone(), name.clone()),
                Setting {
                    value: value.clone(),
                    source: Source::File {
                        path: path.clone(),
                        section: section.clone(),
                    },
                },
            );
        }
    }
    let mut settings = BTreeMap::new();
    for wanted in ["global", command] {
        for ((section, name), setting) in &by_section {
            if section == wanted && !setting.value.trim().is_empty() {
                settings.insert(name.clone(), setting.clone());
            }
        }
    }
    for (variable, name, value) in variables {
        if !value.trim().is_empty() {
            settings.insert(
                name.clone(),
                Setting {
                    value: value.clone(),
                    source: Source::Variable(variable.clone()),
                },
            );
        }
    }
    settings
}

#[cfg(test)]
// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> (PathBuf, Vec<Entry>) {
        (PathBuf::from(path), parse(text).unwrap())
    }

    #[test]
    fn install_in_an_earlier_file_beats_global_in_a_later_one() {
        // pip merges files first, then orders sections: [install] wins wherever it is.
        let files = [
            file(
                "/etc/pip.conf",
                "[install]\nindex-url = https://site.example/simple\n",
            ),
            file(
                "/home/u/.config/pip/pip.conf",
                "[global]\nindex-url = https://user.example/simple\n",
            ),
        ];
        let merged = merge(&files, &[], "install");
        let setting = &merged["index-url"];
        assert_eq!(setting.value, "https://site.example/simple");
        assert_eq!(setting.source.to_string(), "/etc/pip.conf [install]");
    }

    #[test]
    fn later_files_win_within_a_section_and_variables_win_over_files() {
        let files = [
            file(
                "/a",
                "[global]\nindex-url = https://a.example/simple\ncert = /a.pem\n",
            ),
            file("/b", "[global]\nindex_url: https://b.example/simple\n"),
        ];
        let variables = [(
            "PIP_CERT".to_string(),
            "cert".to_string(),
            "/env.pem".to_string(),
        )];
        let merged = merge(&files, &variables, "install");
        assert_eq!(merged["index-url"].value, "https://b.example/simple");
        assert_eq!(merged["cert"].value, "/env.pem");
        assert_eq!(merged["cert"].source.to_string(), "PIP_CERT");
    }

    #[test]
    fn empty_values_and_other_commands_are_ignored() {
        let files = [file(
            "/a",
            "[global]\nindex-url = https://a.example/simple\n[install]\nindex-url =\n[download]\nproxy = http://p.example:3128\n",
        )];
        let merged = merge(&files, &[], "install");
        assert_eq!(merged["index-url"].value, "https://a.example/simple");
        assert!(!merged.contains_key("proxy"));
    }

    #[test]
    fn continuation_lines_make_lists_and_comments_stay_out() {
        let entries = parse(
            "[global]\n# a comment\nextra-index-url =\n    https://one.example/simple\n    ; not an index\n    https://two.example/simple\ntrusted-host = one.example # stays, as in pip\n",
        )
        .unwrap();
        let merged = merge(&[(PathBuf::from("/a"), entries)], &[], "install");
        let config = PipConfig {
            settings: merged,
            ..PipConfig::default()
        };
        let (extras, _) = config.list("extra-index-url").unwrap();
        assert_eq!(
            extras,
            ["https://one.example/simple", "https://two.example/simple"]
        );
        // RawConfigParser has no inline comments: the `#` is part of the value.
        assert_eq!(
            config.get("trusted-host").unwrap().value,
            "one.example # stays, as in pip"
        );
    }

    #[test]
    fn files_pip_refuses_are_errors() {
        assert!(parse("index-url = https://a.example/simple\n").is_err());
        assert!(parse("[global\nindex-url = x\n").is_err());
        assert!(parse("[global]\njust-a-word\n").is_err());
        assert_eq!(
            parse("[global]\n--Index_URL = x\n").unwrap(),
            [("global".into(), "index-url".into(), "x".into())]
        );
    }

    #[test]
    fn sections_are_case_sensitive_as_in_pip() {
        let files = [file(
            "/a",
            "[Global]\nindex-url = https://a.example/simple\n",
        )];
        assert!(merge(&files, &[], "install").is_empty());
    }

    fn paths(files: &[ConfigFile]) -> Vec<(Variant, String)> {
        files
            .iter()
            .map(|f| (f.variant, f.path.display().to_string().replace('\\', "/")))
            .collect()
    }

    #[test]
    fn windows_files_include_the_legacy_user_file() {
        let dir = tempfile::TempDir::new().unwrap();
        let host = Host::simulated(
            dir.path(),
            OsFamily::Windows,
            &[
                ("USERPROFILE", "C:/Users/ana"),
                ("APPDATA", "C:/Users/ana/AppData/Roaming"),
                ("ProgramData", "C:/ProgramData"),
                ("PIP_CONFIG_FILE", "C:/corp/pip.ini"),
            ],
        );
        let files = paths(&config_files(&host, Some(Path::new("C:/venvs/exam"))));
        assert_eq!(
            files[..4],
            [
                (Variant::Global, "C:/ProgramData/pip/pip.ini".into()),
                (Variant::User, "C:/Users/ana/pip/pip.ini".into()),
                (
                    Variant::User,
                    "C:/Users/ana/AppData/Roaming/pip/pip.ini".into()
                ),
                (Variant::Site, "C:/venvs/exam/pip.ini".into()),
            ]
        );
        // PIP_CONFIG_FILE comes last (resolved against the working directory when relative).
        assert_eq!(files[4].0, Variant::EnvFile);
        assert!(files[4].1.ends_with("C:/corp/pip.ini"), "{files:?}");
    }

    #[test]
    fn macos_user_file_depends_on_the_application_support_folder() {
        let dir = tempfile::TempDir::new().unwrap();
        let home = dir.path().join("Users/ana");
        std::fs::create_dir_all(&home).unwrap();
        let home_str = home.display().to_string();
        let host = Host::simulated(dir.path(), OsFamily::Macos, &[("HOME", &home_str)]);
        let user_file = |host: &Host| {
            config_files(host, None)
                .into_iter()
                .filter(|f| f.variant == Variant::User)
                .map(|f| f.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            user_file(&host),
            [
                home.join(".pip/pip.conf"),
                home.join(".config/pip/pip.conf")
            ]
        );
        std::fs::create_dir_all(home.join("Library/Application Support/pip")).unwrap();
        assert_eq!(
            user_file(&host)[1],
            home.join("Library/Application Support/pip/pip.conf")
        );
        assert_eq!(
            config_files(&host, None)[0].path,
            dir.path().join("Library/Application Support/pip/pip.conf")
        );
    }

    #[test]
    fn linux_files_follow_xdg_and_the_null_device_disables_them_all() {
        let dir = tempfile::TempDir::new().unwrap();
        let home = dir.path().join("home/ana");
        let xdg = dir.path().join("etc/xdg");
        std::fs::create_dir_all(xdg.join("pip")).unwrap();
        std::fs::create_dir_all(home.join(".config/pip")).unwrap();
        std::fs::write(
            xdg.join("pip/pip.conf"),
            "[global]\nindex-url = https://global.example/simple\n",
        )
        .unwrap();
        std::fs::write(
            home.join(".config/pip/pip.conf"),
            "[global]\nindex-url = https://user.example/simple\n",
        )
        .unwrap();
        let home_str = home.display().to_string();
        let mut host = Host::simulated(dir.path(), OsFamily::Linux, &[("HOME", &home_str)]);
        let config = load(&host, None, "install");
        assert_eq!(
            config.get("index-url").unwrap().value,
            "https://user.example/simple"
        );
        assert_eq!(config.read_files().count(), 2);

        host.set_env("PIP_CONFIG_FILE", "/dev/null");
        let config = load(&host, None, "install");
        assert!(config.files_disabled);
        assert!(config.get("index-url").is_none());
        assert_eq!(config.read_files().count(), 0);

        // An existing PIP_CONFIG_FILE makes pip skip the user's files, not the global ones.
        let env_file = dir.path().join("corp.conf");
        std::fs::write(&env_file, "[install]\ntimeout = 5\n").unwrap();
        host.set_env("PIP_CONFIG_FILE", &env_file.display().to_string());
        let config = load(&host, None, "install");
        assert!(config.user_files_skipped);
        assert_eq!(
            config.get("index-url").unwrap().value,
            "https://global.example/simple"
        );
    }
}
