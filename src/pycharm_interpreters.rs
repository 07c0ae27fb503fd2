//! The link between PyCharm and the exam environment: which interpreters the chosen install
//! knows (its SDK table, found where the IDE itself looks), which one a project runs on, and
//! whether one of them is the exam environment however its path is spelled. Read through
//! the Host only; what the files say comes from [`crate::pycharm_sdks`].

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::host::{Host, OsFamily, canonicalize, exists, is_dir, is_file, read_bounded, read_dir};
use crate::pycharm_places::{self, ConfigPlace};
use crate::pycharm_sdks::{
    self, ModuleSdk, PROJECT_FILE_LIMIT, PYTHON_SDK, Sdk, TABLE_LIMIT, expand, is_remote,
};

/// Which environment an interpreter runs: a virtualenv (by its directory) or, outside any
/// venv, the interpreter file itself. Both canonical, so a path spelled through a symbolic
/// link, `bin/python` or `bin/python3`, `Scripts\python.exe` all name the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Venv(PathBuf),
    Interpreter(PathBuf),
}

impl Environment {
    /// The environment `interpreter` runs, or `None` when there is no such file. Python
    /// decides it is in a venv by a `pyvenv.cfg` beside the interpreter or one folder up,
    /// found from the path it was started by (not the one its links lead to): a venv's
    /// `bin/python` links to its base interpreter, which must not count as the venv.
    pub fn of(interpreter: &Path) -> Option<Environment> {
        if !is_file(interpreter) {
            return None;
        }
        let dir = interpreter.parent().and_then(|d| canonicalize(d).ok());
        if let Some(dir) = dir {
            for candidate in [Some(dir.as_path()), dir.parent()].into_iter().flatten() {
                if is_file(candidate.join("pyvenv.cfg")) {
                    return Some(Environment::Venv(candidate.to_path_buf()));
                }
            }
        }
        Some(Environment::Interpreter(
            canonicalize(interpreter).unwrap_or_else(|_| interpreter.to_path_buf()),
        ))
    }

    /// The same environment, comparing paths as the host's file system does: Windows and
    /// macOS (APFS and HFS+ by default) ignore case.
    pub fn same_as(&self, other: &Environment, os: OsFamily) -> bool {
        let fold = |p: &Path| {
            let text = p.to_string_lossy().into_owned();
            if matches!(os, OsFamily::Windows | OsFamily::Macos) {
                text.to_lowercase()
            } else {
                text
            }
        };
        match (self, other) {
            (Environment::Venv(a), Environment::Venv(b))
            | (Environment::Interpreter(a), Environment::Interpreter(b)) => fold(a) == fold(b),
            _ => false,
        }
    }
}

/// What became of one SDK's interpreter on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkState {
    /// The file is there: the environment it runs.
    Present(Environment),
    /// No file at that path: PyCharm lists the SDK as invalid.
    Missing,
    /// On another machine (SSH, Docker, WSL): not judged here.
    Remote,
    /// No `homePath` at all.
    NoPath,
}

/// One Python SDK of the table, with its path expanded and looked at.
#[derive(Debug, Clone)]
pub struct KnownSdk {
    pub sdk: Sdk,
    pub path: Option<PathBuf>,
    pub state: SdkState,
}

impl KnownSdk {
    /// `"Python 3.8 (exam)" (/home/ada/exam/venv/bin/python)`, saying when it is gone.
    pub fn describe(&self) -> String {
        let path = self
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| self.sdk.home.clone())
            .unwrap_or_else(|| "no path".into());
        let state = match self.state {
            SdkState::Present(_) => "",
            SdkState::Missing => ", no longer exists: PyCharm shows it as invalid",
            SdkState::Remote => ", on another machine",
            SdkState::NoPath => "",
        };
        format!("\"{}\" ({path}{state})", self.sdk.name)
    }

    fn observed(&self) -> Value {
        json!({
            "name": self.sdk.name,
            "version": self.sdk.version,
            "home": self.sdk.home,
            "path": self.path.as_ref().map(|p| p.display().to_string()),
            "exists": matches!(self.state, SdkState::Present(_)),
            "remote": self.state == SdkState::Remote,
            "flavor": self.sdk.flavor,
            "uv": self.sdk.uv,
        })
    }
}

/// What the chosen install knows, as far as its files could be read.
#[derive(Debug, Clone)]
pub enum Table {
    /// None of the config directories exists: the IDE has never been started (it creates
    /// its config directory at first start), so it knows no interpreter.
    NoConfigDir,
    /// The config directory is there but `options/jdk.table.xml` is not: no interpreter was
    /// ever added.
    NoTable,
    /// The config directory or the table could not be read: why.
    Unreadable(String),
    Read(Vec<KnownSdk>),
}

/// The SDK table of one install, and where it came from.
#[derive(Debug, Clone)]
pub struct Known {
    pub place: ConfigPlace,
    /// The config directory used: the first of `place.dirs` that exists.
    pub config_dir: Option<PathBuf>,
    pub table_file: Option<PathBuf>,
    pub table: Table,
}

impl Known {
    /// Read the SDK table of the install at `root` (with `data_dir` from its
    /// product-info.json) from its config directory as the IDE computes it.
    pub fn read(host: &Host, root: &Path, data_dir: &str, before_2020_1: bool) -> Known {
        let place = pycharm_places::config_place(host, root, data_dir, before_2020_1);
        let Some(config_dir) = place.dirs.iter().find(|d| exists(d)).cloned() else {
            return Known {
                place,
                config_dir: None,
                table_file: None,
                table: Table::NoConfigDir,
            };
        };
        let table_file = config_dir.join("options").join("jdk.table.xml");
        let table = if let Err(e) = read_dir(&config_dir) {
            Table::Unreadable(format!("{} cannot be read: {e}", config_dir.display()))
        } else if !exists(&table_file) {
            Table::NoTable
        } else {
            match read_bounded(&table_file, TABLE_LIMIT)
                .map_err(|e| e.to_string())
                .and_then(|bytes| pycharm_sdks::parse_sdk_table(&bytes))
            {
                Ok(sdks) => Table::Read(
                    sdks.into_iter()
                        .map(|sdk| known_sdk(host, root, sdk))
                        .collect(),
                ),
                Err(why) => Table::Unreadable(format!("{} {why}", table_file.display())),
            }
        };
        Known {
            place,
            config_dir: Some(config_dir),
            table_file: Some(table_file),
            table,
        }
    }

    /// The SDKs read, none when the table was not read.
    pub fn sdks(&self) -> &[KnownSdk] {
        match &self.table {
            Table::Read(sdks) => sdks,
            _ => &[],
        }
    }

    /// The first SDK that runs `environment`.
    pub fn find(&self, environment: &Environment, os: OsFamily) -> Option<&KnownSdk> {
        self.sdks()
            .iter()
            .find(|k| matches!(&k.state, SdkState::Present(e) if e.same_as(environment, os)))
    }

    /// The SDK PyCharm finds by `name`, as it does: the first of that name.
    pub fn named(&self, name: &str) -> Option<&KnownSdk> {
        self.sdks().iter().find(|k| k.sdk.name == name)
    }

    /// Where the table was looked for and what it held, for `observed`.
    pub fn observe(&self) -> Vec<(&'static str, Value)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        vec![
            (
                "config_dirs",
                self.place
                    .dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .into(),
            ),
            ("config_moved_by", self.place.moved_by.clone().into()),
            ("config_dir", path(&self.config_dir).into()),
            ("sdk_table", path(&self.table_file).into()),
            (
                "sdks",
                self.sdks()
                    .iter()
                    .map(KnownSdk::observed)
                    .collect::<Vec<_>>()
                    .into(),
            ),
        ]
    }

    /// What moved the config directory, the file read, and with `every_sdk` one line per
    /// SDK read, for `-v`.
    pub fn details(&self, every_sdk: bool) -> Vec<String> {
        let mut lines: Vec<String> = self
            .place
            .moved_by
            .iter()
            .map(|m| format!("config directory set by {m}"))
            .collect();
        if let Some(file) = &self.table_file {
            lines.push(format!("read {}", file.display()));
        }
        if every_sdk {
            lines.extend(
                self.sdks()
                    .iter()
                    .map(|k| format!("PyCharm knows {}", k.describe())),
            );
        }
        lines
    }
}

fn known_sdk(host: &Host, root: &Path, sdk: Sdk) -> KnownSdk {
    let home = host.home.clone().unwrap_or_default();
    let Some(written) = sdk.home.clone() else {
        return KnownSdk {
            sdk,
            path: None,
            state: SdkState::NoPath,
        };
    };
    if is_remote(&written) {
        return KnownSdk {
            sdk,
            path: None,
            state: SdkState::Remote,
        };
    }
    let path = expand(
        &written,
        &[("USER_HOME", &home), ("APPLICATION_HOME_DIR", root)],
        host.os,
    );
    let state = match Environment::of(&path) {
        Some(environment) => SdkState::Present(environment),
        None => SdkState::Missing,
    };
    KnownSdk {
        sdk,
        path: Some(path),
        state,
    }
}

/// The interpreter a project runs on, as its `.idea/` files say.
#[derive(Debug, Clone)]
pub struct ProjectSdk {
    /// The SDK's name, by which the table is searched; `None` when none is set.
    pub name: Option<String>,
    /// The SDK type the project names, when not `Python SDK`.
    pub other_type: Option<String>,
    /// The files that decided it.
    pub files: Vec<PathBuf>,
}

/// The interpreter of the project at `dir` (its `.idea/`): the module's own (`jdkName` in
/// its `.iml`), else, for `inheritedJdk` or no module file, the project's (`misc.xml`'s
/// `project-jdk-name`). Modules come from `modules.xml`, else every `.iml` in `.idea/`; the
/// first module with an interpreter decides (PyCharm projects have one). Errors say which
/// file could not be read.
pub fn project_sdk(host: &Host, dir: &Path) -> Result<ProjectSdk, String> {
    let idea = dir.join(".idea");
    let read = |path: &Path| -> Result<Option<Vec<u8>>, String> {
        if !exists(path) {
            return Ok(None);
        }
        read_bounded(path, PROJECT_FILE_LIMIT)
            .map(Some)
            .map_err(|e| format!("{} {e}", path.display()))
    };
    let macros = |module_dir: &Path| -> Vec<(&'static str, PathBuf)> {
        vec![
            ("PROJECT_DIR", dir.to_path_buf()),
            ("MODULE_DIR", module_dir.to_path_buf()),
            ("USER_HOME", host.home.clone().unwrap_or_default()),
        ]
    };
    let mut modules: Vec<PathBuf> = Vec::new();
    let modules_xml = idea.join("modules.xml");
    if let Some(bytes) = read(&modules_xml)? {
        let listed = pycharm_sdks::parse_modules(&bytes)
            .map_err(|e| format!("{} {e}", modules_xml.display()))?;
        let macros = macros(&idea);
        let macros: Vec<(&str, &Path)> = macros.iter().map(|(k, v)| (*k, v.as_path())).collect();
        modules.extend(listed.iter().map(|m| expand(m, &macros, host.os)));
    } else if let Ok(entries) = read_dir(&idea) {
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "iml"))
            .collect();
        found.sort();
        modules = found;
    }
    let mut files = Vec::new();
    for module in &modules {
        let Some(bytes) = read(module)? else { continue };
        files.push(module.clone());
        match pycharm_sdks::parse_module(&bytes).map_err(|e| format!("{} {e}", module.display()))? {
            ModuleSdk::Own(name, kind) => {
                return Ok(ProjectSdk {
                    other_type: kind.filter(|k| k != PYTHON_SDK),
                    name: Some(name).filter(|n| !n.is_empty()),
                    files,
                });
            }
            ModuleSdk::Inherited => break,
            ModuleSdk::None => {}
        }
    }
    let misc = idea.join("misc.xml");
    let project = match read(&misc)? {
        Some(bytes) => {
            files.push(misc.clone());
            pycharm_sdks::parse_misc(&bytes).map_err(|e| format!("{} {e}", misc.display()))?
        }
        None => None,
    };
    let (name, kind) = match project {
        Some((name, kind)) => (Some(name), kind),
        None => (None, None),
    };
    Ok(ProjectSdk {
        name,
        other_type: kind.filter(|k| k != PYTHON_SDK),
        files,
    })
}

/// The project to judge: `--project DIR`, else the working directory when it holds
/// `.idea/`; `None` when neither.
pub fn project_dir(host: &Host, given: Option<&Path>) -> Option<PathBuf> {
    match given {
        Some(dir) => Some(host.user_path(dir)),
        None => is_dir(host.cwd.join(".idea")).then(|| host.cwd.clone()),
    }
}

/// The words of this PyCharm version's settings: `Settings` (`Preferences` on a Mac before
/// 2023.2, where JetBrains' help says "Settings/Preferences").
fn settings_menu(os: OsFamily, new_ui: bool) -> &'static str {
    match (os, new_ui) {
        (OsFamily::Macos, true) => "PyCharm > Settings",
        (OsFamily::Macos, false) => "PyCharm > Preferences",
        _ => "File > Settings",
    }
}

/// The steps that add `interpreter` (an existing venv's) to PyCharm `version`, in that
/// version's words (docs/exam-facts.md cites JetBrains' help for both): 2023.2 and later
/// "Add Interpreter > Add Local Interpreter", earlier the gear icon's "Add...". An unknown
/// version gets both.
pub fn add_steps(
    ide: &str,
    version: Option<&pep440_rs::Version>,
    os: OsFamily,
    interpreter: &Path,
) -> String {
    let path = interpreter.display();
    let new = |menu| {
        format!(
            "{menu} > Project: <your project> > Python Interpreter > Add Interpreter > Add Local Interpreter > Virtualenv Environment > Existing, paste {path} as the interpreter, then OK"
        )
    };
    let old = |menu| {
        format!(
            "{menu} > Project: <your project> > Python Interpreter > the gear icon beside the interpreter list > Add... > Virtualenv Environment > Existing environment, paste {path} into Interpreter, then OK"
        )
    };
    let cut = pep440_rs::Version::new([2023, 2]);
    match version {
        Some(v) if *v >= cut => format!("In {ide}: {}.", new(settings_menu(os, true))),
        Some(_) => format!("In {ide}: {}.", old(settings_menu(os, false))),
        None => format!(
            "In {ide}: {} (before 2023.2: {}).",
            new(settings_menu(os, true)),
            old(settings_menu(os, false))
        ),
    }
}

/// How to switch a project to an interpreter PyCharm already knows, by its name.
pub fn select_steps(
    ide: &str,
    version: Option<&pep440_rs::Version>,
    os: OsFamily,
    sdk: &str,
) -> String {
    let new_ui = version.is_none_or(|v| *v >= pep440_rs::Version::new([2023, 2]));
    format!(
        "Open the project in {ide}, then {} > Project: <your project> > Python Interpreter and pick \"{sdk}\" from the list, then OK.",
        settings_menu(os, new_ui)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_use_each_versions_words() {
        let path = Path::new("/home/ada/exam/venv/bin/python");
        let v = |s: &str| s.parse::<pep440_rs::Version>().unwrap();
        let new = add_steps("PyCharm", Some(&v("2023.2")), OsFamily::Linux, path);
        assert!(
            new.contains(
                "Add Interpreter > Add Local Interpreter > Virtualenv Environment > Existing"
            ),
            "{new}"
        );
        assert!(new.contains("/home/ada/exam/venv/bin/python"), "{new}");
        let old = add_steps("PyCharm", Some(&v("2020.2.5")), OsFamily::Macos, path);
        assert!(old.contains("PyCharm > Preferences"), "{old}");
        assert!(
            old.contains("gear icon") && old.contains("Existing environment"),
            "{old}"
        );
        let unknown = add_steps("PyCharm", None, OsFamily::Windows, path);
        assert!(
            unknown.contains("Add Local Interpreter") && unknown.contains("before 2023.2"),
            "{unknown}"
        );
    }
}
