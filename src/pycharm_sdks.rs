//! What PyCharm's own files say about interpreters: the SDK table (`options/jdk.table.xml`
//! in the IDE's config directory) and a project's `.idea/misc.xml`, `.idea/modules.xml` and
//! module `.iml` files. Pure parsers over bytes, read with quick-xml: bounded in depth,
//! strict UTF-8 (PyCharm writes nothing else, and rejects anything else), and never
//! expanding an entity: a `<!DOCTYPE>` is ignored, and an attribute that refers to an entity
//! other than XML's five is an error, not an expansion.

use std::path::{Path, PathBuf};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::host::OsFamily;

/// The most an SDK table may hold before it is refused unread: PyCharm lists every class
/// root of every SDK (a real table with a dozen interpreters is a few hundred KiB).
pub const TABLE_LIMIT: u64 = 16 << 20;
/// The most a project file (misc.xml, modules.xml, an .iml) may hold.
pub const PROJECT_FILE_LIMIT: u64 = 4 << 20;
/// Elements nested deeper than this are refused: PyCharm's files nest six levels.
pub const DEPTH_LIMIT: usize = 64;

/// The `<type>` of a Python interpreter in the SDK table, and of a project's SDK.
pub const PYTHON_SDK: &str = "Python SDK";

/// One `<jdk>` of the SDK table whose type is `Python SDK`, as written (macros unexpanded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sdk {
    pub name: String,
    /// `Python 3.8.10`; absent in some real tables.
    pub version: Option<String>,
    /// The interpreter, as PyCharm wrote it: `$USER_HOME$/exam/venv/bin/python`,
    /// `C:\Users\ada\exam\venv\Scripts\python.exe`.
    pub home: Option<String>,
    /// `<additional SDK_UUID=...>` (in every recorded table from 2023.3 on).
    pub uuid: Option<String>,
    /// `<setting name="FLAVOR_ID">`: `VirtualEnvSdkFlavor`, `CondaEnvSdkFlavor`, `UvSdkFlavor`.
    pub flavor: Option<String>,
    /// Made by PyCharm's uv support (`IS_UV="true"`, or the uv flavour).
    pub uv: bool,
    /// `ASSOCIATED_PROJECT_PATH`: the project PyCharm made this interpreter for.
    pub associated_project: Option<String>,
}

/// An element as it opens: its name, its attributes and its depth (the root is 1).
struct Open<'a> {
    name: &'a str,
    depth: usize,
    attributes: Vec<(String, String)>,
}

impl Open<'_> {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One step of a walk through a file's elements.
enum Step<'a> {
    Open(Open<'a>),
    /// An element of this depth ends.
    Close(usize),
}

/// Walk every element of `bytes`, telling `visit` as each begins and ends. Errors say where,
/// in words: not UTF-8, not well-formed, too deep, an entity.
fn walk(bytes: &[u8], mut visit: impl FnMut(Step<'_>)) -> Result<(), String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("is not UTF-8 text (at byte {})", e.valid_up_to()))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0usize;
    let at = |reader: &quick_xml::Reader<&[u8]>| reader.buffer_position();
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "is not well-formed XML (at byte {}): {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(_) | Event::Empty(_) if depth >= DEPTH_LIMIT => {
                return Err(format!(
                    "nests elements deeper than {DEPTH_LIMIT} levels (at byte {}): not a PyCharm file",
                    at(&reader)
                ));
            }
            // A document has one root element and nothing but markup around it.
            Event::Start(_) | Event::Empty(_) if depth == 0 && roots == 1 => {
                return Err(format!(
                    "has a second root element (at byte {}): not one XML document",
                    at(&reader)
                ));
            }
            Event::Text(text) if depth == 0 && !text.iter().all(u8::is_ascii_whitespace) => {
                return Err(format!(
                    "is not well-formed XML: text outside the root element (at byte {})",
                    at(&reader)
                ));
            }
            Event::Start(start) => {
                roots += usize::from(depth == 0);
                depth += 1;
                visit(Step::Open(opened(&start, depth, at(&reader))?));
            }
            Event::Empty(start) => {
                roots += usize::from(depth == 0);
                visit(Step::Open(opened(&start, depth + 1, at(&reader))?));
                visit(Step::Close(depth + 1));
            }
            Event::End(_) => {
                visit(Step::Close(depth));
                depth = depth.saturating_sub(1);
            }
            Event::Eof if depth > 0 => {
                return Err(format!("ends inside an element ({depth} left open)"));
            }
            Event::Eof if roots == 0 => {
                return Err("is not well-formed XML: it has no root element".into());
            }
            Event::Eof => return Ok(()),
            // Text, comments, CDATA, processing instructions and the DOCTYPE (with any
            // entity it declares) carry nothing read here.
            _ => {}
        }
    }
}

fn opened<'a>(start: &'a BytesStart<'a>, depth: usize, at: u64) -> Result<Open<'a>, String> {
    let name = std::str::from_utf8(start.local_name().into_inner())
        .map_err(|_| format!("has an element name that is not UTF-8 (at byte {at})"))?;
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|e| format!("has a malformed attribute (at byte {at}): {e}"))?;
        let key = std::str::from_utf8(attribute.key.local_name().into_inner())
            .map_err(|_| format!("has an attribute name that is not UTF-8 (at byte {at})"))?;
        // Only XML's five entities and character references are resolved; any other
        // (a DOCTYPE's, which PyCharm never writes) is an error, never an expansion.
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| {
                format!("has an attribute `{key}` that cannot be read (at byte {at}): {e}")
            })?;
        attributes.push((key.to_string(), value.into_owned()));
    }
    // An element name borrowed from `start` lives as long as `start`.
    Ok(Open {
        name,
        depth,
        attributes,
    })
}

/// Every Python interpreter in an SDK table (`<application><component
/// name="ProjectJdkTable"><jdk>`); SDKs of other types (Java, Android) are left out.
pub fn parse_sdk_table(bytes: &[u8]) -> Result<Vec<Sdk>, String> {
    // (the SDK being read, its type) while inside a <jdk> of the table.
    let mut table_depth: Option<usize> = None;
    let mut current: Option<(Sdk, String)> = None;
    let mut found = Vec::new();
    let mut in_additional = false;
    walk(bytes, |step| match step {
        Step::Open(e) => {
            if e.name == "component" && e.attribute("name") == Some("ProjectJdkTable") {
                table_depth = Some(e.depth);
                return;
            }
            let Some(table) = table_depth else { return };
            if e.depth == table + 1 && e.name == "jdk" {
                current = Some((Sdk::default(), String::new()));
                return;
            }
            let Some((sdk, kind)) = current.as_mut() else {
                return;
            };
            let value = || e.attribute("value").map(str::to_string);
            if e.depth == table + 2 {
                match e.name {
                    "name" => sdk.name = value().unwrap_or_default(),
                    "type" => *kind = value().unwrap_or_default(),
                    "version" => sdk.version = value().filter(|v| !v.is_empty()),
                    "homePath" => sdk.home = value().filter(|v| !v.is_empty()),
                    "additional" => {
                        in_additional = true;
                        sdk.uuid = e.attribute("SDK_UUID").map(str::to_string);
                        sdk.uv |= e.attribute("IS_UV") == Some("true");
                        sdk.associated_project =
                            e.attribute("ASSOCIATED_PROJECT_PATH").map(str::to_string);
                    }
                    _ => {}
                }
            } else if e.depth == table + 3
                && in_additional
                && e.name == "setting"
                && e.attribute("name") == Some("FLAVOR_ID")
            {
                sdk.flavor = value();
                sdk.uv |= sdk.flavor.as_deref() == Some("UvSdkFlavor");
            }
        }
        Step::Close(depth) => {
            let Some(table) = table_depth else { return };
            if depth == table + 2 {
                in_additional = false;
            } else if depth == table + 1 {
                if let Some((sdk, kind)) = current.take()
                    && kind == PYTHON_SDK
                {
                    found.push(sdk);
                }
            } else if depth == table {
                table_depth = None;
            }
        }
    })?;
    Ok(found)
}

/// The project's interpreter in `.idea/misc.xml`: `ProjectRootManager`'s
/// `project-jdk-name`, with its `project-jdk-type`.
pub fn parse_misc(bytes: &[u8]) -> Result<Option<(String, Option<String>)>, String> {
    let mut found = None;
    walk(bytes, |step| {
        if let Step::Open(e) = step
            && e.depth == 2
            && e.name == "component"
            && e.attribute("name") == Some("ProjectRootManager")
            && let Some(name) = e.attribute("project-jdk-name").filter(|n| !n.is_empty())
        {
            found = Some((
                name.to_string(),
                e.attribute("project-jdk-type").map(str::to_string),
            ));
        }
    })?;
    Ok(found)
}

/// The module files a project lists in `.idea/modules.xml` (`filepath`, macros unexpanded).
pub fn parse_modules(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    walk(bytes, |step| {
        if let Step::Open(e) = step
            && e.name == "module"
            && e.depth == 4
            && let Some(path) = e.attribute("filepath")
        {
            found.push(path.to_string());
        }
    })?;
    Ok(found)
}

/// Which interpreter a module (`.iml`) runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSdk {
    /// `<orderEntry type="jdk" jdkName=...>`: its own, by name, with its type.
    Own(String, Option<String>),
    /// `<orderEntry type="inheritedJdk">`: the project's (misc.xml).
    Inherited,
    /// Neither: the module has no interpreter.
    None,
}

/// The interpreter entry of a module file's `NewModuleRootManager`.
pub fn parse_module(bytes: &[u8]) -> Result<ModuleSdk, String> {
    let mut found = ModuleSdk::None;
    let mut manager_depth = None;
    walk(bytes, |step| match step {
        Step::Open(e) => {
            if e.name == "component" && e.attribute("name") == Some("NewModuleRootManager") {
                manager_depth = Some(e.depth);
                return;
            }
            if manager_depth.is_none_or(|d| e.depth != d + 1) || e.name != "orderEntry" {
                return;
            }
            match e.attribute("type") {
                Some("jdk") => {
                    found = ModuleSdk::Own(
                        e.attribute("jdkName").unwrap_or_default().to_string(),
                        e.attribute("jdkType").map(str::to_string),
                    )
                }
                Some("inheritedJdk") => found = ModuleSdk::Inherited,
                _ => {}
            }
        }
        Step::Close(depth) => {
            if manager_depth == Some(depth) {
                manager_depth = None;
            }
        }
    })?;
    Ok(found)
}

/// A path PyCharm wrote, with its macros (`$USER_HOME$`, `$APPLICATION_HOME_DIR$`,
/// `$PROJECT_DIR$`, `$MODULE_DIR$`) replaced, as a path of the host's OS: on Windows
/// PyCharm writes `\` and `/` alike, and both are separators there.
pub fn expand(written: &str, macros: &[(&str, &Path)], os: OsFamily) -> PathBuf {
    let mut text = written.to_string();
    for (name, value) in macros {
        let name = format!("${name}$");
        if text.contains(&name) {
            text = text.replace(&name, &value.display().to_string());
        }
    }
    if os == OsFamily::Windows {
        let separator = std::path::MAIN_SEPARATOR.to_string();
        text = text.replace(['\\', '/'], &separator);
    }
    PathBuf::from(text)
}

/// An interpreter on another machine (SSH, Docker, WSL): PyCharm writes these with a
/// scheme (`ssh://`, `docker://`) or, for WSL, as a `\\wsl$\` share.
pub fn is_remote(written: &str) -> bool {
    written.contains("://") || written.starts_with("\\\\wsl") || written.starts_with("//wsl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_yields_its_python_sdks_only() {
        let xml = br#"<application>
  <component name="ProjectJdkTable">
    <jdk version="2">
      <name value="11" />
      <type value="JavaSDK" />
      <homePath value="/usr/lib/jvm/java-11" />
    </jdk>
    <jdk version="2">
      <name value="Python 3.8 (exam)" />
      <type value="Python SDK" />
      <version value="Python 3.8.10" />
      <homePath value="$USER_HOME$/exam/venv/bin/python" />
      <roots><classPath><root type="composite" /></classPath></roots>
      <additional SDK_UUID="0c9f" IS_UV="true">
        <setting name="FLAVOR_ID" value="UvSdkFlavor" />
        <setting name="FLAVOR_DATA" value="{}" />
      </additional>
    </jdk>
  </component>
</application>"#;
        let sdks = parse_sdk_table(xml).unwrap();
        assert_eq!(sdks.len(), 1);
        let sdk = &sdks[0];
        assert_eq!(sdk.name, "Python 3.8 (exam)");
        assert_eq!(sdk.version.as_deref(), Some("Python 3.8.10"));
        assert_eq!(
            sdk.home.as_deref(),
            Some("$USER_HOME$/exam/venv/bin/python")
        );
        assert_eq!(sdk.uuid.as_deref(), Some("0c9f"));
        assert_eq!(sdk.flavor.as_deref(), Some("UvSdkFlavor"));
        assert!(sdk.uv);
    }

    #[test]
    fn entities_are_never_expanded() {
        let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<application><component name="ProjectJdkTable"><jdk version="2">
<name value="&lol2;" /><type value="Python SDK" /></jdk></component></application>"#;
        let error = parse_sdk_table(laughs).unwrap_err();
        assert!(error.contains("`value`"), "{error}");
        // XML's own five and character references are what they say.
        let plain = br#"<application><component name="ProjectJdkTable"><jdk>
<name value="A &amp; B &#x41;" /><type value="Python SDK" /></jdk></component></application>"#;
        assert_eq!(parse_sdk_table(plain).unwrap()[0].name, "A & B A");
    }

    #[test]
    fn malformed_files_are_errors_that_say_why() {
        assert!(
            parse_sdk_table(b"\xff\xfe<a/>")
                .unwrap_err()
                .contains("UTF-8")
        );
        assert!(
            parse_sdk_table(b"<a><b></a>")
                .unwrap_err()
                .contains("well-formed")
        );
        assert!(
            parse_sdk_table(b"<a><b>")
                .unwrap_err()
                .contains("ends inside")
        );
        let deep = "<a>".repeat(DEPTH_LIMIT + 1);
        assert!(
            parse_sdk_table(deep.as_bytes())
                .unwrap_err()
                .contains("deeper")
        );
        let empty_deep = format!(
            "{}<b/>{}",
            "<a>".repeat(DEPTH_LIMIT),
            "</a>".repeat(DEPTH_LIMIT)
        );
        assert!(
            parse_sdk_table(empty_deep.as_bytes())
                .unwrap_err()
                .contains("deeper")
        );
        assert!(
            parse_sdk_table(b"")
                .unwrap_err()
                .contains("no root element")
        );
        assert!(
            parse_sdk_table(b"\x00\x01 binary")
                .unwrap_err()
                .contains("well-formed")
        );
        assert!(
            parse_sdk_table(b"<a/><b/>")
                .unwrap_err()
                .contains("second root")
        );
        let empty = b"<application><component name=\"ProjectJdkTable\" /></application>";
        assert_eq!(parse_sdk_table(empty).unwrap(), Vec::new());
    }

    #[test]
    fn macros_and_separators_become_host_paths() {
        let home = Path::new("/home/ada");
        let path = expand(
            "$USER_HOME$/exam/venv/bin/python",
            &[("USER_HOME", home)],
            OsFamily::Linux,
        );
        assert_eq!(path, PathBuf::from("/home/ada/exam/venv/bin/python"));
        let sep = std::path::MAIN_SEPARATOR;
        let windows = expand(
            r"$USER_HOME$\exam/venv\Scripts\python.exe",
            &[("USER_HOME", Path::new("H"))],
            OsFamily::Windows,
        );
        assert_eq!(
            windows,
            PathBuf::from(format!("H{sep}exam{sep}venv{sep}Scripts{sep}python.exe"))
        );
        assert!(is_remote("ssh://ada@host:22/usr/bin/python3"));
        assert!(is_remote(r"\\wsl$\Ubuntu\usr\bin\python3"));
        assert!(!is_remote("/usr/bin/python3"));
    }

    #[test]
    fn project_files_name_their_interpreter() {
        let misc = br#"<project version="4">
  <component name="ProjectRootManager" version="2" project-jdk-name="Python 3.8 (exam)" project-jdk-type="Python SDK" />
</project>"#;
        assert_eq!(
            parse_misc(misc).unwrap(),
            Some(("Python 3.8 (exam)".into(), Some(PYTHON_SDK.into())))
        );
        let iml = br#"<module type="PYTHON_MODULE" version="4">
  <component name="NewModuleRootManager">
    <orderEntry type="inheritedJdk" />
    <orderEntry type="sourceFolder" forTests="false" />
  </component>
</module>"#;
        assert_eq!(parse_module(iml).unwrap(), ModuleSdk::Inherited);
        let modules = br#"<project version="4"><component name="ProjectModuleManager"><modules>
<module fileurl="file://$PROJECT_DIR$/.idea/exam.iml" filepath="$PROJECT_DIR$/.idea/exam.iml" />
</modules></component></project>"#;
        assert_eq!(
            parse_modules(modules).unwrap(),
            vec!["$PROJECT_DIR$/.idea/exam.iml".to_string()]
        );
    }
}
