//! `package-index`: the package index pip will really use, found as pip finds it
//! (`PIP_INDEX_URL`, then pip's config files, then pip's own default read from its source in
//! the venv), and reached like any other endpoint. No index host is written here.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::check::{Category, Check, Context, Deadline, FindingSpec, Stakes};
use crate::checks::network::{DEFAULT_SLOW, reach};
use crate::host::{OsFamily, read_small};
use crate::net::redact;
use crate::python_env::PythonEnv;
use crate::registry::{ConfigError, Kind, KindConfig};
use crate::report::Finding;

pub const KIND: Kind = Kind {
    name: "package-index",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The project page requested from the index's simple API.
    #[serde(default = "default_project")]
    project: String,
}

fn default_project() -> String {
    "pip".into()
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    Ok(Box::new(PackageIndex {
        project: parsed.project,
    }))
}

struct PackageIndex {
    project: String,
}

pub static INDEX: FindingSpec = FindingSpec::fixed(
    "network.package-index",
    Category::Network,
    "Package index",
    Stakes::Fact,
    [
        "Finds the index pip will use (PIP_INDEX_URL, pip.conf/pip.ini, else pip's default) and requests a project page from it.",
        "The exam plugin installs the pinned requirements with pip; a blocked or misconfigured index stops the exam project from being set up.",
        "Fix the index-url in pip's configuration (`pip config list` shows it), or the network path to it.",
    ],
);

impl Check for PackageIndex {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&INDEX]
    }

    fn run(&self, ctx: &Context, deadline: Deadline) -> Vec<Finding> {
        let spec = &INDEX;
        let (index, source) = match find_index(ctx) {
            Ok(found) => found,
            Err(reason) => {
                let finding = spec.finding();
                return vec![if ctx.options.offline {
                    finding.skip("not checked (--offline)")
                } else {
                    finding
                        .fail(format!("cannot tell which index pip uses: {reason}"))
                        .fix("Set the index explicitly (`pip config set global.index-url URL`), or repair pip in the virtualenv (`python -m ensurepip --upgrade`).")
                }];
            }
        };
        let url = format!("{}/{}/", index.trim_end_matches('/'), self.project);
        let finding = reach(ctx, deadline, spec, &url, None, None, DEFAULT_SLOW)
            .observe("index", redact(&index))
            .observe("index_source", source.clone());
        let finding = finding.detail(format!("index {} (from {source})", redact(&index)));
        vec![Finding {
            summary: format!("{}: {}", redact(&index), finding.summary),
            ..finding
        }]
    }
}

/// The index-url pip would use, and where it came from.
fn find_index(ctx: &Context) -> Result<(String, String), String> {
    let host = &ctx.host;
    if let Some(url) = host.env("PIP_INDEX_URL") {
        return Ok((url.to_string(), "PIP_INDEX_URL".into()));
    }
    let python = ctx.shared::<PythonEnv>();
    let venv = python.located().and_then(|l| l.venv.clone());
    // Later files override earlier ones, as in pip: global, user, site, then PIP_CONFIG_FILE.
    let mut found = None;
    for file in config_files(ctx, venv.as_deref()) {
        if let Ok(text) = read_small(&file)
            && let Some(url) = index_url_in(&text)
        {
            found = Some((url, file.display().to_string()));
        }
    }
    if let Some(found) = found {
        return Ok(found);
    }
    let pip_init = python
        .probe_ok()
        .and_then(|p| p.pip.clone())
        .ok_or("pip was not found in the environment and no index-url is configured")?;
    let models = Path::new(&pip_init)
        .parent()
        .map(|p| p.join("_internal").join("models").join("index.py"))
        .ok_or("pip's location is unusable")?;
    let source =
        read_small(&models).map_err(|e| format!("cannot read {}: {e}", models.display()))?;
    default_index_in(&source)
        .map(|url| (url, format!("pip's default ({})", models.display())))
        .ok_or_else(|| format!("{} does not name pip's default index", models.display()))
}

fn config_files(ctx: &Context, venv: Option<&Path>) -> Vec<PathBuf> {
    let host = &ctx.host;
    let home = host.home.clone().unwrap_or_default();
    let mut files = Vec::new();
    let name = if host.os == OsFamily::Windows {
        "pip.ini"
    } else {
        "pip.conf"
    };
    match host.os {
        OsFamily::Windows => {
            if let Some(data) = host.env("ProgramData") {
                files.push(Path::new(data).join("pip").join(name));
            }
            // pip's legacy user file, still read before the one under %APPDATA%.
            files.push(home.join("pip").join(name));
            if let Some(appdata) = host.env("APPDATA") {
                files.push(Path::new(appdata).join("pip").join(name));
            }
        }
        OsFamily::Macos => {
            files.push(host.system_path("/Library/Application Support/pip/pip.conf"));
            files.push(home.join(".pip").join(name));
            files.push(home.join("Library/Application Support/pip").join(name));
            files.push(home.join(".config/pip").join(name));
        }
        _ => {
            let dirs = host.env("XDG_CONFIG_DIRS").unwrap_or("/etc/xdg");
            for dir in dirs.split(':').filter(|d| !d.is_empty()) {
                files.push(host.system_path(dir).join("pip").join(name));
            }
            files.push(host.system_path("/etc").join(name));
            files.push(home.join(".pip").join(name));
            let config = host
                .env("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            files.push(config.join("pip").join(name));
        }
    }
    if let Some(venv) = venv {
        files.push(venv.join(name));
    }
    if let Some(file) = host.env("PIP_CONFIG_FILE") {
        files.push(host.user_path(Path::new(file)));
    }
    files
}

/// `index-url` from an INI file: `[install]` wins over `[global]`, as for `pip install`.
fn index_url_in(text: &str) -> Option<String> {
    let mut section = String::new();
    let mut global = None;
    let mut install = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        if key.trim().replace('_', "-") != "index-url" {
            continue;
        }
        let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match section.as_str() {
            "global" => global = value,
            "install" => install = value,
            _ => {}
        }
    }
    install.or(global)
}

/// pip's built-in default: the URL given to `PyPI = PackageIndex(...)` in its source.
fn default_index_in(source: &str) -> Option<String> {
    let start = source.find("PyPI = PackageIndex(")?;
    let rest = &source[start..];
    let open = rest.find(['"', '\''])?;
    let quote = rest.as_bytes()[open] as char;
    let tail = &rest[open + 1..];
    let end = tail.find(quote)?;
    let base = tail[..end].trim_end_matches('/');
    // pip's simple API lives under `simple/` of that base.
    Some(format!("{base}/simple"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_section_wins_over_global() {
        let text = "[global]\nindex-url = https://a.example.com/simple\n\n[install]\nindex_url=https://b.example.com/simple\n";
        assert_eq!(
            index_url_in(text).as_deref(),
            Some("https://b.example.com/simple")
        );
        assert_eq!(index_url_in("[global]\ntimeout = 60\n"), None);
    }

    #[test]
    fn reads_pips_default_from_its_source() {
        let source = "class PackageIndex:\n    pass\n\nPyPI = PackageIndex(\n    \"https://index.example.org/\", file_storage_domain=\"files.example.org\"\n)\n";
        assert_eq!(
            default_index_in(source).as_deref(),
            Some("https://index.example.org/simple")
        );
    }
}
