//! PyCharm's SDK table and project files, parsed: the recorded real files of
//! tests/recorded/pycharm/ (PyCharm 2017 to 2024.3, Linux and Windows, see SOURCES.md) read
//! as PyCharm wrote them, and property tests: any bytes give an answer or an error, never a
//! panic, and a table PyCharm could have written reads back as written.

use preflight::pycharm_sdks::{
    DEPTH_LIMIT, ModuleSdk, Sdk, parse_misc, parse_module, parse_modules, parse_sdk_table,
};
use proptest::prelude::*;

macro_rules! recorded {
    ($name:literal) => {
        include_bytes!(concat!("recorded/pycharm/", $name)).as_slice()
    };
}

fn table(bytes: &[u8]) -> Vec<Sdk> {
    parse_sdk_table(bytes).unwrap_or_else(|e| panic!("a recorded table is read: {e}"))
}

fn names_and_homes(sdks: &[Sdk]) -> Vec<(&str, &str)> {
    sdks.iter()
        .map(|s| (s.name.as_str(), s.home.as_deref().unwrap_or("")))
        .collect()
}

#[test]
fn pycharm_2017_windows_absolute_paths() {
    let sdks = table(recorded!("jdk.table-2017-windows.xml"));
    assert_eq!(sdks.len(), 6);
    assert_eq!(
        names_and_homes(&sdks)[0],
        (
            r"Python 3.5.2 (C:\Users\xwyst\Envs\jd\Scripts\python.exe)",
            r"C:\Users\xwyst\Envs\jd\Scripts\python.exe"
        )
    );
    assert!(sdks.iter().all(|s| s.uuid.is_none() && s.flavor.is_none()));
}

#[test]
fn pycharm_2018_2_linux_user_home_paths() {
    let sdks = table(recorded!("jdk.table-2018.2-linux.xml"));
    assert_eq!(
        names_and_homes(&sdks),
        [
            ("Python 3.6", "/usr/bin/python3.6"),
            (
                "Python 3.6 (paysafe-service-metadata)",
                "$USER_HOME$/workspace/paysafe-service-metadata/venv/bin/python"
            ),
            (
                "Python 3.6 (exchange-bot-admin)",
                "$USER_HOME$/Documents/exchange-bot-admin/bin/python"
            ),
        ]
    );
    assert_eq!(
        sdks[1].associated_project.as_deref(),
        Some("$USER_HOME$/workspace/paysafe-service-metadata")
    );
}

#[test]
fn pycharm_2020_linux_tables() {
    let sdks = table(recorded!("jdk.table-2020.1-linux-remote.xml"));
    assert_eq!(sdks.len(), 2);
    assert_eq!(
        sdks[0].home.as_deref(),
        Some("$USER_HOME$/.venv/mapy-relevance/bin/python3")
    );
    assert!(
        sdks[1]
            .home
            .as_deref()
            .is_some_and(|h| h.starts_with("sftp://")),
        "{sdks:#?}"
    );
    let community = table(recorded!("jdk.table-2020.2-community-linux.xml"));
    assert_eq!(community.len(), 8);
    // Two SDKs for one venv, as PyCharm names a second one.
    let loft: Vec<&str> = community
        .iter()
        .filter(|s| s.home.as_deref() == Some("$USER_HOME$/.envs/loft/bin/python3.8"))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(loft, ["Python 3.8 (loft)", "Python 3.8 (loft) (2)"]);
}

#[test]
fn pycharm_2021_windows_tables() {
    let sdks = table(recorded!("jdk.table-2021.2-windows.xml"));
    assert_eq!(sdks.len(), 2);
    assert_eq!(
        sdks[1].home.as_deref(),
        Some(r"C:\Users\HomePC\PycharmProjects\djangoProject\venv\Scripts\python.exe")
    );
    assert_eq!(sdks[1].version.as_deref(), Some("Python 3.10.4"));
    let conda = table(recorded!("jdk.table-2021.3-windows-conda.xml"));
    assert_eq!(conda.len(), 2);
    // PyCharm left this one's <version> out.
    assert_eq!(conda[0].version, None);
    assert_eq!(conda[1].version.as_deref(), Some("Python 3.9.7"));
    let community = table(recorded!("jdk.table-2021.3-community-windows.xml"));
    assert_eq!(
        names_and_homes(&community)[1],
        (
            "Python 3.10",
            r"C:\Users\DaniS\AppData\Local\Programs\Python\Python310\python.exe"
        )
    );
}

#[test]
fn pycharm_2023_and_2024_tables_carry_uuids_and_flavours() {
    let sdks = table(recorded!("jdk.table-2023.3-linux.xml"));
    assert_eq!(sdks.len(), 3);
    assert_eq!(
        sdks[2].uuid.as_deref(),
        Some("3c02849c-b8eb-4c7e-8115-09b7eb440274")
    );
    assert_eq!(sdks[2].flavor.as_deref(), Some("UnixPythonSdkFlavor"));
    assert!(!sdks[2].uv);
    let new_project = table(recorded!("jdk.table-2024.3-linux.xml"));
    assert_eq!(
        names_and_homes(&new_project),
        [(
            "Python 3.12 (PythonProject)",
            "$USER_HOME$/PycharmProjects/PythonProject/.venv/bin/python"
        )]
    );
    assert_eq!(
        new_project[0].flavor.as_deref(),
        Some("VirtualEnvSdkFlavor")
    );
}

#[test]
fn a_uv_flavoured_sdk_is_recognised() {
    let sdks = table(recorded!("jdk.table-2024.3-linux-uv.xml"));
    let uv: Vec<&Sdk> = sdks.iter().filter(|s| s.uv).collect();
    assert_eq!(uv.len(), 1, "{sdks:#?}");
    assert_eq!(uv[0].name, "uv (personal-mcp)");
    assert_eq!(
        uv[0].home.as_deref(),
        Some("$USER_HOME$/Projects/personal-mcp/.venv/bin/python")
    );
    assert_eq!(uv[0].flavor.as_deref(), Some("UvSdkFlavor"));
    let unknown = sdks.iter().find(|s| s.name == "Python 3.13 (mcp-obsidian)");
    assert_eq!(
        unknown.and_then(|s| s.flavor.as_deref()),
        Some("UnknownFlavor")
    );
}

#[test]
fn recorded_projects_name_their_interpreter() {
    for (misc, modules, module, sdk) in [
        (
            recorded!("project-2024-deeplearning/.idea/misc.xml"),
            recorded!("project-2024-deeplearning/.idea/modules.xml"),
            recorded!("project-2024-deeplearning/.idea/pro_yzy.iml"),
            "Python 3.11 (Handwritten)",
        ),
        (
            recorded!("project-2024-django_server/.idea/misc.xml"),
            recorded!("project-2024-django_server/.idea/modules.xml"),
            recorded!("project-2024-django_server/.idea/pybo.iml"),
            "Python 3.8 (venvs)",
        ),
        (
            recorded!("project-2025-inz_python/.idea/misc.xml"),
            recorded!("project-2025-inz_python/.idea/modules.xml"),
            recorded!("project-2025-inz_python/.idea/inz_python.iml"),
            "Python 3.10 (inz_python)",
        ),
    ] {
        assert_eq!(
            parse_misc(misc).unwrap(),
            Some((sdk.to_string(), Some("Python SDK".to_string())))
        );
        assert_eq!(parse_modules(modules).unwrap().len(), 1);
        assert_eq!(
            parse_module(module).unwrap(),
            ModuleSdk::Own(sdk.to_string(), Some("Python SDK".to_string()))
        );
    }
}

#[test]
fn hostile_tables_are_errors_not_hangs_or_panics() {
    // Billion laughs: the entities are declared, never expanded.
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        laughs.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">\n",
            format!(
                "&lol{};",
                if level == 1 {
                    String::new()
                } else {
                    (level - 1).to_string()
                }
            )
            .repeat(10)
        ));
    }
    laughs.push_str("]>\n<application><component name=\"ProjectJdkTable\"><jdk version=\"2\"><name value=\"&lol9;\"/><type value=\"Python SDK\"/></jdk></component></application>");
    let error = parse_sdk_table(laughs.as_bytes()).unwrap_err();
    assert!(error.contains("lol9"), "{error}");
    // An entity used only in text is not read at all, let alone expanded.
    let in_text = laughs.replace(
        "<name value=\"&lol9;\"/>",
        "<name value=\"x\">&lol9;</name>",
    );
    assert_eq!(parse_sdk_table(in_text.as_bytes()).unwrap()[0].name, "x");
    // Nested a hundred thousand levels: refused at the bound, at once.
    let deep = "<a>".repeat(100_000);
    assert!(
        parse_sdk_table(deep.as_bytes())
            .unwrap_err()
            .contains("deeper")
    );
    // A recorded table with one byte that is not UTF-8.
    let mut broken = recorded!("jdk.table-2024.3-linux.xml").to_vec();
    broken[100] = 0xff;
    assert!(parse_sdk_table(&broken).unwrap_err().contains("UTF-8"));
}

/// Text safe inside an attribute once escaped: any characters but control ones.
fn attribute_text() -> impl Strategy<Value = String> {
    "[^\\x00-\\x1f]{0,40}"
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

proptest! {
    #[test]
    fn any_bytes_give_an_answer_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_sdk_table(&bytes);
        let _ = parse_misc(&bytes);
        let _ = parse_modules(&bytes);
        let _ = parse_module(&bytes);
    }

    #[test]
    fn recorded_tables_cut_or_changed_anywhere_never_panic(
        cut in 0usize..65_336,
        at in 0usize..65_336,
        byte in any::<u8>(),
    ) {
        for recorded in [
            recorded!("jdk.table-2024.3-linux-uv.xml"),
            recorded!("jdk.table-2017-windows.xml"),
        ] {
            let mut bytes = recorded[..cut.min(recorded.len())].to_vec();
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
            let _ = parse_sdk_table(&bytes);
        }
    }

    #[test]
    fn a_table_pycharm_could_write_reads_back(
        sdks in proptest::collection::vec(
            (attribute_text(), attribute_text(), proptest::option::of(attribute_text()), any::<bool>()),
            0..8,
        ),
        nesting in 0usize..(DEPTH_LIMIT - 8),
    ) {
        let mut xml = String::from("<application>\n  <component name=\"ProjectJdkTable\">\n");
        for (name, home, version, uv) in &sdks {
            xml.push_str(&format!(
                "    <jdk version=\"2\">\n      <name value=\"{}\" />\n      <type value=\"Python SDK\" />\n",
                escape(name)
            ));
            if let Some(version) = version {
                xml.push_str(&format!("      <version value=\"{}\" />\n", escape(version)));
            }
            xml.push_str(&format!("      <homePath value=\"{}\" />\n", escape(home)));
            // Roots nest as deep as the strategy says, within the bound.
            xml.push_str(&"<roots>".repeat(nesting));
            xml.push_str(&"</roots>".repeat(nesting));
            let flavor = if *uv { "UvSdkFlavor" } else { "VirtualEnvSdkFlavor" };
            xml.push_str(&format!(
                "      <additional SDK_UUID=\"u\">\n        <setting name=\"FLAVOR_ID\" value=\"{flavor}\" />\n      </additional>\n    </jdk>\n"
            ));
            // A Java SDK between them is left out.
            xml.push_str("    <jdk version=\"2\"><name value=\"17\" /><type value=\"JavaSDK\" /></jdk>\n");
        }
        xml.push_str("  </component>\n</application>\n");
        let read = parse_sdk_table(xml.as_bytes()).unwrap();
        prop_assert_eq!(read.len(), sdks.len());
        for (sdk, (name, home, version, uv)) in read.iter().zip(&sdks) {
            prop_assert_eq!(&sdk.name, name);
            prop_assert_eq!(sdk.home.as_deref(), Some(home.as_str()).filter(|h| !h.is_empty()));
            prop_assert_eq!(sdk.version.as_deref(), version.as_deref().filter(|v| !v.is_empty()));
            prop_assert_eq!(sdk.uv, *uv);
        }
    }
}
