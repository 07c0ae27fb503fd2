//! Where PyCharm lives beyond the standard folders (Flatpak, distribution packages, tarballs
//! found through `.desktop` entries, JetBrains Toolbox 2.x's own record of custom locations),
//! where an install keeps its plugins and its settings (the SDK table among them) as the IDE
//! itself computes them (`idea.properties`), and what a plugin's `plugin.xml` says, read with
//! a real XML parser.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use configparser::ini::{Ini, IniDefault};
use quick_xml::events::Event;
use serde::Deserialize;

use crate::host::{Host, OsFamily, read_dir, read_small};

/// The Flatpak application ids PyCharm is published under.
pub const FLATPAK_IDS: [&str; 2] = [
    "com.jetbrains.PyCharm-Community",
    "com.jetbrains.PyCharm-Professional",
];

/// Linux install roots beyond `/opt`, snap and Toolbox's default folder: Flatpak (system and
/// user installations), distribution packages under `/usr/share`, and tarballs unpacked
/// anywhere that a `.desktop` entry points at. Candidates only: the caller reads each.
pub fn linux_install_roots(host: &Host) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let home = host.home.clone();
    let mut flatpak_bases = vec![host.system_path("/var/lib/flatpak/app")];
    flatpak_bases.extend(home.as_ref().map(|h| h.join(".local/share/flatpak/app")));
    for base in &flatpak_bases {
        for id in FLATPAK_IDS {
            // The Flathub build copies the IDE to /app/pycharm inside the sandbox.
            roots.push(base.join(id).join("current/active/files/pycharm"));
        }
    }
    roots.extend(children_named(&host.system_path("/usr/share"), "pycharm"));
    for dir in application_dirs(host) {
        let Ok(entries) = read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "desktop"))
            .collect();
        files.sort();
        for file in files {
            if let Ok(text) = read_small(&file) {
                roots.extend(desktop_entry_roots(&text));
            }
        }
    }
    roots
}

/// `applications/` under the user's and the system's data directories (XDG).
fn application_dirs(host: &Host) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let user = host
        .env("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| host.home.as_ref().map(|h| h.join(".local/share")));
    dirs.extend(user.map(|d| d.join("applications")));
    let system = host
        .env("XDG_DATA_DIRS")
        .unwrap_or("/usr/local/share:/usr/share");
    for dir in system.split(':').filter(|d| !d.is_empty()) {
        dirs.push(host.system_path(dir).join("applications"));
    }
    dirs
}

/// The entries of `dir` whose names start with `prefix` in any case (`PyCharm-2023.1`), sorted.
pub(crate) fn children_named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .to_ascii_lowercase()
                .starts_with(prefix)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The install roots a `.desktop` entry for PyCharm points at: its `Exec=` program and its
/// `Icon=` file, when either sits in an install's `bin/`.
pub fn desktop_entry_roots(text: &str) -> Vec<PathBuf> {
    let mut defaults = IniDefault::default();
    defaults.case_sensitive = true;
    defaults.delimiters = vec!['='];
    defaults.comment_symbols = vec!['#'];
    defaults.enable_inline_comments = false;
    let mut ini = Ini::new_from_defaults(defaults);
    let Ok(map) = ini.read(text.to_string()) else {
        return Vec::new();
    };
    let Some(entry) = map.get("Desktop Entry") else {
        return Vec::new();
    };
    let value = |key: &str| entry.get(key).cloned().flatten().unwrap_or_default();
    let exec = value("Exec");
    let icon = value("Icon");
    let about_pycharm = [&exec, &icon, &value("Name"), &value("StartupWMClass")]
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("pycharm"));
    if !about_pycharm {
        return Vec::new();
    }
    let program = match exec.trim().strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or(""),
        None => exec.split_whitespace().next().unwrap_or(""),
    };
    [program, icon.trim()]
        .into_iter()
        .map(Path::new)
        // Desktop entries are Linux files: `/home/...` is absolute there.
        .filter(|p| p.has_root())
        // `pycharm.sh`, `pycharm.svg`, `pycharm.png`: not `/usr/bin/flatpak`.
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .to_ascii_lowercase()
                    .starts_with("pycharm")
            })
        })
        .filter_map(|p| {
            let bin = p.parent()?;
            (bin.file_name()? == "bin").then(|| bin.parent().map(Path::to_path_buf))?
        })
        .collect()
}

/// The Flatpak application an install root belongs to (`.../flatpak/app/<id>/...`).
pub fn flatpak_id(root: &Path) -> Option<String> {
    let parts: Vec<&str> = root
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => p.to_str(),
            _ => None,
        })
        .collect();
    parts
        .windows(3)
        .find(|w| w[0] == "flatpak" && w[1] == "app")
        .map(|w| w[2].to_string())
        .filter(|id| FLATPAK_IDS.contains(&id.as_str()))
}

/// Where JetBrains Toolbox keeps its own files on this OS.
fn toolbox_dir(host: &Host) -> Option<PathBuf> {
    match host.os {
        OsFamily::Windows => host
            .env("LOCALAPPDATA")
            .map(|d| Path::new(d).join("JetBrains").join("Toolbox")),
        OsFamily::Macos => host
            .home
            .as_ref()
            .map(|h| h.join("Library/Application Support/JetBrains/Toolbox")),
        _ => host
            .home
            .as_ref()
            .map(|h| h.join(".local/share/JetBrains/Toolbox")),
    }
}

#[derive(Deserialize)]
struct ToolboxState {
    #[serde(default)]
    tools: Vec<ToolboxTool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolboxTool {
    #[serde(default)]
    tool_id: String,
    #[serde(default)]
    display_name: String,
    install_location: Option<String>,
}

/// Toolbox 2.x records each tool it installed, with its location, in `state.json`: the only
/// way to find an IDE put in a custom "Tools install location".
pub fn toolbox_state_roots(host: &Host) -> Vec<PathBuf> {
    let Some(state) = toolbox_dir(host).map(|d| d.join("state.json")) else {
        return Vec::new();
    };
    let Ok(text) = read_small(&state) else {
        return Vec::new();
    };
    toolbox_state_locations(&text)
        .into_iter()
        .map(|location| {
            // A Mac app's description sits in Contents/.
            if location.extension().is_some_and(|e| e == "app") {
                location.join("Contents")
            } else {
                location
            }
        })
        .collect()
}

/// The PyCharm install locations listed in a Toolbox `state.json`.
pub fn toolbox_state_locations(text: &str) -> Vec<PathBuf> {
    let Ok(state) = serde_json::from_str::<ToolboxState>(text) else {
        return Vec::new();
    };
    state
        .tools
        .into_iter()
        .filter(|t| {
            t.tool_id.to_ascii_lowercase().starts_with("pycharm")
                || t.display_name.to_ascii_lowercase().starts_with("pycharm")
        })
        .filter_map(|t| t.install_location.map(PathBuf::from))
        .collect()
}

/// Where an install keeps its plugins, and what decided it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginPlace {
    /// The directory the IDE uses, then older layouts worth a look.
    pub dirs: Vec<PathBuf>,
    /// Which `idea.properties` moved it, when one did.
    pub moved_by: Option<String>,
}

/// Where an install keeps its settings (`options/jdk.table.xml`, the interpreters it knows),
/// and what decided it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPlace {
    /// The directory the IDE uses first, then the other layout worth a look.
    pub dirs: Vec<PathBuf>,
    /// Which `idea.properties` moved it, when one did.
    pub moved_by: Option<String>,
}

/// What the IDE reads before it decides its directories: the OS's default config directory
/// for this install (inside the sandbox for Flatpak) and the `idea.properties` settings.
struct IdeaSettings {
    home: PathBuf,
    flatpak: Option<PathBuf>,
    default_config: PathBuf,
    properties: HashMap<String, (String, PathBuf)>,
}

impl IdeaSettings {
    /// `idea.properties` files are read from `PYCHARM_PROPERTIES`, the config directory,
    /// `~/idea.properties`, then `<install>/bin/` (the first file to set a property wins).
    fn read(host: &Host, root: &Path, data: &str) -> Self {
        let home = host.home.clone().unwrap_or_default();
        let flatpak = flatpak_id(root).map(|id| home.join(".var/app").join(id));
        let default_config = match host.os {
            OsFamily::Macos => home
                .join("Library/Application Support/JetBrains")
                .join(data),
            OsFamily::Windows => host
                .env("APPDATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join("AppData/Roaming"))
                .join("JetBrains")
                .join(data),
            _ => match &flatpak {
                Some(sandbox) => sandbox.join("config/JetBrains").join(data),
                None => host
                    .env("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".config"))
                    .join("JetBrains")
                    .join(data),
            },
        };
        let mut files = Vec::new();
        files.extend(host.env("PYCHARM_PROPERTIES").map(PathBuf::from));
        files.push(default_config.join("idea.properties"));
        files.push(home.join("idea.properties"));
        files.push(root.join("bin/idea.properties"));
        let mut properties: HashMap<String, (String, PathBuf)> = HashMap::new();
        for file in files {
            let Ok(bytes) = crate::host::read_bounded(&file, crate::host::SMALL_FILE_LIMIT) else {
                continue;
            };
            let Some(read) = read_properties(&bytes) else {
                continue;
            };
            for (key, value) in read {
                properties.entry(key).or_insert((value, file.clone()));
            }
        }
        IdeaSettings {
            home,
            flatpak,
            default_config,
            properties,
        }
    }

    /// A property's value as the IDE expands it, with the file that set it.
    fn get(&self, key: &str) -> Option<(PathBuf, String)> {
        let (value, file) = self.properties.get(key)?;
        Some((
            PathBuf::from(expand_properties(value, &self.home, &self.properties)),
            format!("{key} in {}", file.display()),
        ))
    }
}

/// The plugin directory as the IDE computes it (see `IdeaSettings::read` for the files
/// read): `idea.plugins.path` names the directory, else `idea.config.path` moves it to
/// `<config>/plugins`, else the OS's default.
pub fn plugin_place(host: &Host, root: &Path, data: &str) -> PluginPlace {
    let settings = IdeaSettings::read(host, root, data);
    if let Some((dir, moved_by)) = settings.get("idea.plugins.path") {
        return PluginPlace {
            dirs: vec![dir],
            moved_by: Some(moved_by),
        };
    }
    if let Some((dir, moved_by)) = settings.get("idea.config.path") {
        return PluginPlace {
            dirs: vec![dir.join("plugins")],
            moved_by: Some(moved_by),
        };
    }
    let IdeaSettings {
        home,
        flatpak,
        default_config,
        ..
    } = settings;
    let mut dirs = Vec::new();
    match host.os {
        OsFamily::Macos => {
            dirs.push(default_config.join("plugins"));
            // Before 2020.1.
            dirs.push(home.join("Library/Application Support").join(data));
        }
        OsFamily::Windows => {
            dirs.push(default_config.join("plugins"));
            dirs.push(home.join(format!(".{data}")).join("config").join("plugins"));
        }
        _ => {
            let share = match &flatpak {
                Some(sandbox) => sandbox.join("data"),
                None => host
                    .env("XDG_DATA_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".local/share")),
            };
            dirs.push(share.join("JetBrains").join(data));
            dirs.push(home.join(format!(".{data}")).join("config").join("plugins"));
        }
    }
    // Toolbox 1.x keeps plugins beside the build: `<build>.plugins`.
    dirs.push(toolbox_plugins(root));
    PluginPlace {
        dirs,
        moved_by: None,
    }
}

/// The config directory as the IDE computes it: `idea.config.path` from the same
/// `idea.properties` files as [`plugin_place`], else the OS's default (2020.1 and later),
/// else the layout before 2020.1 (`~/.<selector>/config`, macOS `~/Library/Preferences/
/// <selector>`). `before_2020_1` puts the old layout first, for the releases that used it.
pub fn config_place(host: &Host, root: &Path, data: &str, before_2020_1: bool) -> ConfigPlace {
    let settings = IdeaSettings::read(host, root, data);
    if let Some((dir, moved_by)) = settings.get("idea.config.path") {
        return ConfigPlace {
            dirs: vec![dir],
            moved_by: Some(moved_by),
        };
    }
    let legacy = match host.os {
        OsFamily::Macos => settings.home.join("Library/Preferences").join(data),
        _ => settings.home.join(format!(".{data}")).join("config"),
    };
    let mut dirs = vec![settings.default_config, legacy];
    if before_2020_1 {
        dirs.reverse();
    }
    ConfigPlace {
        dirs,
        moved_by: None,
    }
}

/// A properties file's keys and values (the last of a repeated key), decoded as
/// `java_properties::read` decodes (a BOM's encoding, else windows-1252) but in one call: the
/// crate's own streaming decoder panics on a file that starts with a BOM and ends inside a
/// character (`FF FE 61`).
fn read_properties(bytes: &[u8]) -> Option<HashMap<String, String>> {
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    let mut read = HashMap::new();
    java_properties::PropertiesIter::new_with_encoding(text.as_bytes(), encoding_rs::UTF_8)
        .read_into(|key, value| {
            read.insert(key, value);
        })
        .ok()?;
    Some(read)
}

/// `${user.home}` and references to other properties, as the IDE expands them.
fn expand_properties(
    value: &str,
    home: &Path,
    properties: &HashMap<String, (String, PathBuf)>,
) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 2..start + end];
        match name {
            "user.home" => out.push_str(&home.display().to_string()),
            other => match properties.get(other) {
                // One level is enough for real files and cannot loop.
                Some((v, _)) => {
                    out.push_str(&v.replace("${user.home}", &home.display().to_string()))
                }
                None => out.push_str(&rest[start..start + end + 1]),
            },
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// What a plugin says of itself in `META-INF/plugin.xml`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

/// The `<id>`, `<name>` and `<version>` children of `<idea-plugin>`: comments, CDATA,
/// entities and elements nested deeper (a `<name>` under `<vendor>`) are read as XML means them.
pub fn descriptor(xml: &str) -> Result<Descriptor, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut found = Descriptor::default();
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(start) => {
                path.push(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
                text.clear();
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| e.to_string())?);
            }
            Event::CData(c) => {
                text.push_str(&c.decode().map_err(|e| e.to_string())?);
            }
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    text.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::End(_) => {
                if path.len() == 2 && path[0] == "idea-plugin" {
                    let value = Some(text.trim().to_string()).filter(|v| !v.is_empty());
                    let slot = match path[1].as_str() {
                        "id" => Some(&mut found.id),
                        "name" => Some(&mut found.name),
                        "version" => Some(&mut found.version),
                        _ => None,
                    };
                    if let Some(slot) = slot
                        && slot.is_none()
                    {
                        *slot = value;
                    }
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(found)
}

/// Where Toolbox 1.x keeps an install's plugins: `<build>.plugins` beside the build folder,
/// which on macOS holds the app (`<build>/PyCharm CE.app/Contents` is the root).
fn toolbox_plugins(root: &Path) -> PathBuf {
    let in_app = root.file_name().is_some_and(|n| n == "Contents")
        && root
            .parent()
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("app"));
    let build = match root.parent().and_then(Path::parent) {
        Some(build) if in_app => build,
        _ => root,
    };
    PathBuf::from(format!("{}.plugins", build.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_xml_is_read_as_xml() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- <name>Not This</name> -->
<idea-plugin url="https://example.invalid">
  <id>com.google.developers.certification</id>
  <name><![CDATA[Google Developers Certification]]></name>
  <vendor email="x@example.invalid"><name>Not the plugin</name></vendor>
  <version>1.2.3</version>
  <description><![CDATA[<name>Nor this</name> &amp; more]]></description>
</idea-plugin>"#;
        let d = descriptor(xml).unwrap();
        assert_eq!(d.id.as_deref(), Some("com.google.developers.certification"));
        assert_eq!(d.name.as_deref(), Some("Google Developers Certification"));
        assert_eq!(d.version.as_deref(), Some("1.2.3"));
        let entity = descriptor("<idea-plugin><name>A &amp; B&#33;</name></idea-plugin>").unwrap();
        assert_eq!(entity.name.as_deref(), Some("A & B!"));
        assert!(descriptor("<idea-plugin><name>x</idea-plugin>").is_err());
    }

    #[test]
    fn desktop_entries_lead_to_install_roots() {
        // As PyCharm's own "Create Desktop Entry" writes it for a tarball install.
        let entry = "[Desktop Entry]
Version=1.0
Type=Application
Name=PyCharm Community Edition
Icon=/home/ana/apps/pycharm-community-2023.1.2/bin/pycharm.svg
Exec=\"/home/ana/apps/pycharm-community-2023.1.2/bin/pycharm.sh\" %f
Comment=Python IDE for Professional Developers
Categories=Development;IDE;
Terminal=false
StartupWMClass=jetbrains-pycharm-ce
StartupNotify=true
";
        assert_eq!(
            desktop_entry_roots(entry),
            [
                PathBuf::from("/home/ana/apps/pycharm-community-2023.1.2"),
                PathBuf::from("/home/ana/apps/pycharm-community-2023.1.2")
            ]
        );
        let other = "[Desktop Entry]\nName=Firefox\nExec=/usr/lib/firefox/bin/firefox %u\n";
        assert!(desktop_entry_roots(other).is_empty());
        let flatpak = "[Desktop Entry]\nName=PyCharm\nExec=/usr/bin/flatpak run --branch=stable com.jetbrains.PyCharm-Community\nIcon=com.jetbrains.PyCharm-Community\n";
        assert!(desktop_entry_roots(flatpak).is_empty());
    }

    #[test]
    fn toolbox_state_names_custom_locations() {
        let state = r#"{"appVersion":"2.1.3.18901","tools":[
          {"channelId":"c1","toolId":"PyCharm-C","productCode":"PC","tag":"PyCharm","displayName":"PyCharm Community","displayVersion":"2023.3.2","buildNumber":"233.13135.95","installLocation":"/data/ides/pycharm-community","launchCommand":"bin/pycharm.sh"},
          {"channelId":"c2","toolId":"IDEA-U","productCode":"IU","tag":"IDEA","displayName":"IntelliJ IDEA Ultimate","displayVersion":"2023.3.2","buildNumber":"233.1","installLocation":"/data/ides/intellij-idea-ultimate","launchCommand":"bin/idea.sh"}
        ]}"#;
        assert_eq!(
            toolbox_state_locations(state),
            [PathBuf::from("/data/ides/pycharm-community")]
        );
        assert!(toolbox_state_locations("not json").is_empty());
    }

    #[test]
    fn flatpak_roots_are_recognised() {
        assert_eq!(
            flatpak_id(Path::new(
                "/var/lib/flatpak/app/com.jetbrains.PyCharm-Community/current/active/files/pycharm"
            ))
            .as_deref(),
            Some("com.jetbrains.PyCharm-Community")
        );
        assert_eq!(flatpak_id(Path::new("/opt/pycharm-2023.1")), None);
    }
}
