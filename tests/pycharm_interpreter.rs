//! `pycharm.interpreter` and `pycharm.project` through the `Machine` harness: the recorded
//! SDK tables of tests/recorded/pycharm/ (see SOURCES.md) placed where each OS's PyCharm
//! keeps them, on Linux, macOS and Windows machines, the exam venv given with `--venv`; and
//! hostile tables, which are never a pass, a panic or a hang.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::PathBuf;

use common::machine::{Machine, finding};
use common::pycharm::{product_info, sdk_table, venv_interpreter, venv_shape};
use preflight::check::RunOptions;
use preflight::host::OsFamily;
use preflight::report::{Finding, Status};

macro_rules! recorded {
    ($name:literal) => {
        include_str!(concat!("recorded/pycharm/", $name))
    };
}

const CHECK: &str = "\n[[check]]\nkind = \"pycharm\"\n";

/// PyCharm `version` installed under /opt on Linux, its settings folder `data_dir`.
fn linux_install(m: Machine, version: &str, build: &str, data_dir: &str) -> Machine {
    m.file(
        format!("opt/pycharm-{version}/product-info.json"),
        product_info("PyCharm", version, build, data_dir),
    )
}

/// The pycharm findings with `venv` as `--venv` and `project` as `--project`.
fn judge(m: &Machine, venv: Option<PathBuf>, project: Option<PathBuf>) -> Vec<Finding> {
    m.findings_with(
        CHECK,
        RunOptions {
            venv,
            project,
            ..RunOptions::default()
        },
    )
}

fn interpreter(findings: &[Finding]) -> Finding {
    finding(findings, "pycharm.interpreter").clone()
}

/// An observed path, compared as a path: on Windows `a/b` and `a\\b` are one.
fn observed_path(value: &serde_json::Value) -> PathBuf {
    PathBuf::from(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a path: {value}")),
    )
}

/// Whether `text` names `path`, with either separator: a Windows build prints `C:\\x\\home\\a`
/// for the path a test built as `C:\\x\\home/a`.
fn mentions(text: &str, path: &std::path::Path) -> bool {
    let unify = |t: &str| t.replace('\\', "/");
    unify(text).contains(&unify(&path.display().to_string()))
}

fn sdk_names(finding: &Finding) -> Vec<String> {
    finding.observed["sdks"]
        .as_array()
        .unwrap_or_else(|| panic!("no sdks observed: {finding:#?}"))
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn linux_2024_3_knows_its_new_projects_venv() {
    let table = ".config/JetBrains/PyCharm2024.3/options/jdk.table.xml";
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    );
    let m = venv_shape(
        m,
        "home/ada/PycharmProjects/PythonProject/.venv",
        OsFamily::Linux,
    )
    .file(
        format!("home/ada/{table}"),
        recorded!("jdk.table-2024.3-linux.xml"),
    );
    let venv = m.path("home/ada/PycharmProjects/PythonProject/.venv");
    let found = interpreter(&judge(&m, Some(venv.clone()), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert!(
        found.summary.contains("\"Python 3.12 (PythonProject)\""),
        "{}",
        found.summary
    );
    assert_eq!(found.observed["matched"], "Python 3.12 (PythonProject)");
    assert_eq!(
        observed_path(&found.observed["sdk_table"]),
        m.path(format!("home/ada/{table}"))
    );
    let sdk = &found.observed["sdks"][0];
    assert_eq!(
        sdk["home"],
        "$USER_HOME$/PycharmProjects/PythonProject/.venv/bin/python"
    );
    assert_eq!(
        observed_path(&sdk["path"]),
        venv.join("bin/python"),
        "$USER_HOME$ is expanded"
    );
    assert_eq!(sdk["exists"], true);
    assert_eq!(sdk["flavor"], "VirtualEnvSdkFlavor");
    // -v shows what was read.
    assert!(
        found
            .details
            .iter()
            .any(|d| d.starts_with("read ") && d.ends_with("jdk.table.xml")),
        "{:?}",
        found.details
    );
}

#[test]
fn a_uv_sdk_is_the_venv_it_runs() {
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    );
    let m = venv_shape(m, "home/ada/Projects/personal-mcp/.venv", OsFamily::Linux).file(
        "home/ada/.config/JetBrains/PyCharm2024.3/options/jdk.table.xml",
        recorded!("jdk.table-2024.3-linux-uv.xml"),
    );
    // The venv named by its interpreter, as PyCharm shows it, and spelled `python3`.
    let venv = m.path("home/ada/Projects/personal-mcp/.venv/bin/python3");
    let found = interpreter(&judge(&m, Some(venv), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(found.observed["matched"], "uv (personal-mcp)");
    let uv: Vec<&serde_json::Value> = found.observed["sdks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["uv"] == true)
        .collect();
    assert_eq!(uv.len(), 1);
}

#[test]
fn community_2020_2_of_the_exams_era_and_a_remote_sdk() {
    // PyCharm Community 2020.2, what the Dec 2020 handbook asks for.
    let m = Machine::linux().file(
        "opt/pycharm-community-2020.2.5/product-info.json",
        product_info(
            "PyCharm Community Edition",
            "2020.2.5",
            "PC-202.8194.15",
            "PyCharmCE2020.2",
        ),
    );
    let m = venv_shape(m, "home/ada/.envs/loft", OsFamily::Linux)
        .file("home/ada/.envs/loft/bin/python3.8", "")
        .file(
            "home/ada/.config/JetBrains/PyCharmCE2020.2/options/jdk.table.xml",
            recorded!("jdk.table-2020.2-community-linux.xml"),
        );
    let found = interpreter(&judge(&m, Some(m.path("home/ada/.envs/loft")), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(found.observed["matched"], "Python 3.8 (loft)");
    // 2020.1, with a remote interpreter: listed as remote, never taken for the venv.
    let m = linux_install(
        Machine::linux(),
        "2020.1.4",
        "PY-201.8743.11",
        "PyCharm2020.1",
    );
    let m = venv_shape(m, "home/ada/exam/venv", OsFamily::Linux).file(
        "home/ada/.config/JetBrains/PyCharm2020.1/options/jdk.table.xml",
        recorded!("jdk.table-2020.1-linux-remote.xml"),
    );
    let found = interpreter(&judge(&m, Some(m.path("home/ada/exam/venv")), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert_eq!(found.observed["sdks"][1]["remote"], true);
    assert!(
        found
            .details
            .iter()
            .any(|d| d.contains("on another machine")),
        "{:?}",
        found.details
    );
    // Before 2023.2: the gear icon's words.
    assert!(found.fix.unwrap().contains("gear icon"));
}

#[test]
fn an_unknown_venv_warns_naming_what_pycharm_knows_and_how_to_add_it() {
    let m = linux_install(
        Machine::linux(),
        "2023.3",
        "PY-233.11799.259",
        "PyCharm2023.3",
    );
    let m = venv_shape(m, "home/ada/exam/venv", OsFamily::Linux).file(
        "home/ada/.config/JetBrains/PyCharm2023.3/options/jdk.table.xml",
        recorded!("jdk.table-2023.3-linux.xml"),
    );
    let venv = m.path("home/ada/exam/venv");
    let found = interpreter(&judge(&m, Some(venv.clone()), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert!(!found.softened);
    assert_eq!(
        sdk_names(&found),
        ["Python 3.9", "Python 2.7", "Python 2.7 (binpickingui)"]
    );
    // None of the recorded interpreters is on this machine: PyCharm shows them as invalid.
    assert!(
        found.summary.contains("3 of them no longer exist")
            && found.summary.contains("\"Python 2.7 (binpickingui)\""),
        "{}",
        found.summary
    );
    let fix = found.fix.as_deref().unwrap();
    assert!(
        fix.contains(
            "File > Settings > Project: <your project> > Python Interpreter > Add Interpreter > Add Local Interpreter > Virtualenv Environment > Existing"
        ),
        "{fix}"
    );
    assert!(
        mentions(fix, &venv_interpreter(&venv, OsFamily::Linux)),
        "{fix}"
    );
    assert_eq!(found.observed["matched"], serde_json::Value::Null);
}

#[test]
fn the_base_interpreter_of_the_venv_is_not_the_venv() {
    // PyCharm knows /usr/bin/python3.9, and the exam venv was made from it.
    let m = linux_install(
        Machine::linux(),
        "2023.3",
        "PY-233.11799.259",
        "PyCharm2023.3",
    )
    .file("usr/bin/python3.9", "");
    let base = m.path("usr/bin/python3.9");
    let m = venv_shape(m, "home/ada/exam/venv", OsFamily::Linux).file(
        "home/ada/.config/JetBrains/PyCharm2023.3/options/jdk.table.xml",
        sdk_table(&[("Python 3.9", base.to_str().unwrap())]),
    );
    let found = interpreter(&judge(&m, Some(m.path("home/ada/exam/venv")), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert_eq!(found.observed["sdks"][0]["exists"], true);
}

#[test]
fn macos_2023_3_reads_application_support() {
    let m = Machine::macos().file(
        "Applications/PyCharm.app/Contents/Resources/product-info.json",
        product_info("PyCharm", "2023.3.2", "PY-233.13135.95", "PyCharm2023.3"),
    );
    let venv = "Users/ada/workspaces/paltac4d/checkoutroot/binpickingui/venv";
    let m = venv_shape(m, venv, OsFamily::Macos).file(
        "Users/ada/Library/Application Support/JetBrains/PyCharm2023.3/options/jdk.table.xml",
        recorded!("jdk.table-2023.3-linux.xml"),
    );
    let found = interpreter(&judge(&m, Some(m.path(venv)), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(found.observed["matched"], "Python 2.7 (binpickingui)");
}

#[test]
fn macos_unknown_venv_gets_the_settings_menu_of_a_mac() {
    let m = Machine::macos().file(
        "Applications/PyCharm CE.app/Contents/Resources/product-info.json",
        product_info(
            "PyCharm Community Edition",
            "2020.2.5",
            "PC-202.8194.15",
            "PyCharmCE2020.2",
        ),
    );
    let m = venv_shape(m, "Users/ada/exam/venv", OsFamily::Macos).file(
        "Users/ada/Library/Application Support/JetBrains/PyCharmCE2020.2/options/jdk.table.xml",
        recorded!("jdk.table-2018.2-linux.xml"),
    );
    let found = interpreter(&judge(&m, Some(m.path("Users/ada/exam/venv")), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    let fix = found.fix.unwrap();
    // Before 2023.2: the gear icon's Add..., under Preferences on a Mac.
    assert!(
        fix.contains("PyCharm > Preferences")
            && fix.contains("the gear icon")
            && fix.contains("Existing environment"),
        "{fix}"
    );
}

/// A Windows PC with PyCharm 2021.2 in Program Files, the venv of the recorded 2021.2 table's
/// djangoProject, and that table in %APPDATA%, its user's home folder (`C:\Users\HomePC`)
/// replaced by the machine's, in memory: the paths then exist here.
fn windows_2021_2_machine() -> Machine {
    let m = Machine::windows().file(
        "Program Files/JetBrains/PyCharm 2021.2.3/product-info.json",
        product_info("PyCharm", "2021.2.3", "PY-212.5457.59", "PyCharm2021.2"),
    );
    let m = venv_shape(
        m,
        "Users/ada/PycharmProjects/djangoProject/venv",
        OsFamily::Windows,
    );
    let table = recorded!("jdk.table-2021.2-windows.xml")
        .replace(r"C:\Users\HomePC", m.home().to_str().unwrap());
    let (program_files, appdata) = (m.path("Program Files"), m.path("Users/ada/AppData/Roaming"));
    m.file(
        "Users/ada/AppData/Roaming/JetBrains/PyCharm2021.2/options/jdk.table.xml",
        table,
    )
    .env("ProgramFiles", program_files)
    .env("APPDATA", appdata)
}

#[test]
fn windows_scripts_python_exe_with_backslashes() {
    let m = windows_2021_2_machine();
    let venv = m.path("Users/ada/PycharmProjects/djangoProject/venv");
    let found = interpreter(&judge(&m, Some(venv.clone()), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(found.observed["matched"], "Python 3.10 (djangoProject)");
    // The other SDK's venv is not on this machine.
    assert_eq!(found.observed["sdks"][0]["exists"], false);
    // Another venv: the steps are 2021.2's, under File > Settings, with the Windows path.
    let m = venv_shape(m, "Users/ada/exam/venv", OsFamily::Windows);
    let exam = m.path("Users/ada/exam/venv");
    let found = interpreter(&judge(&m, Some(exam.clone()), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    let fix = found.fix.unwrap();
    assert!(
        fix.contains("File > Settings") && fix.contains("gear icon"),
        "{fix}"
    );
    assert!(
        mentions(&fix, &venv_interpreter(&exam, OsFamily::Windows)),
        "{fix}"
    );
}

#[test]
fn before_2020_1_the_table_is_under_the_selector_folder() {
    let m = Machine::linux().file("opt/pycharm-community-2018.2.4/build.txt", "PC-182.4505.26");
    let venv = "home/ada/workspace/paysafe-service-metadata/venv";
    let m = venv_shape(m, venv, OsFamily::Linux).file(
        "home/ada/.PyCharmCE2018.2/config/options/jdk.table.xml",
        recorded!("jdk.table-2018.2-linux.xml"),
    );
    let found = interpreter(&judge(&m, Some(m.path(venv)), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(
        found.observed["matched"],
        "Python 3.6 (paysafe-service-metadata)"
    );
    assert_eq!(
        observed_path(&found.observed["config_dir"]),
        m.path("home/ada/.PyCharmCE2018.2/config")
    );
}

#[test]
fn idea_config_path_moves_the_table() {
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    )
    .file(
        "opt/pycharm-2024.3/bin/idea.properties",
        "idea.config.path=${user.home}/ide/config\n",
    )
    // The default place holds a table that does not know the venv: it is not read.
    .file(
        "home/ada/.config/JetBrains/PyCharm2024.3/options/jdk.table.xml",
        sdk_table(&[]),
    );
    let m = venv_shape(
        m,
        "home/ada/PycharmProjects/PythonProject/.venv",
        OsFamily::Linux,
    )
    .file(
        "home/ada/ide/config/options/jdk.table.xml",
        recorded!("jdk.table-2024.3-linux.xml"),
    );
    let found = interpreter(&judge(
        &m,
        Some(m.path("home/ada/PycharmProjects/PythonProject/.venv")),
        None,
    ));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    let moved = found.observed["config_moved_by"].as_str().unwrap();
    assert!(moved.starts_with("idea.config.path in "), "{moved}");
    assert!(
        found
            .details
            .iter()
            .any(|d| d.starts_with("config directory set by idea.config.path")),
        "{:?}",
        found.details
    );
}

#[test]
fn flatpak_keeps_the_table_in_its_sandbox() {
    let id = "com.jetbrains.PyCharm-Community";
    let m = Machine::linux().file(
        format!("var/lib/flatpak/app/{id}/current/active/files/pycharm/product-info.json"),
        product_info(
            "PyCharm Community Edition",
            "2024.3.1",
            "PC-243.22562.180",
            "PyCharmCE2024.3",
        ),
    );
    let m = venv_shape(
        m,
        "home/ada/PycharmProjects/PythonProject/.venv",
        OsFamily::Linux,
    )
    .file(
        format!("home/ada/.var/app/{id}/config/JetBrains/PyCharmCE2024.3/options/jdk.table.xml"),
        recorded!("jdk.table-2024.3-linux.xml"),
    );
    let found = interpreter(&judge(
        &m,
        Some(m.path("home/ada/PycharmProjects/PythonProject/.venv")),
        None,
    ));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
}

#[test]
fn a_pycharm_never_started_or_without_interpreters_warns() {
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    );
    let m = venv_shape(m, "home/ada/exam/venv", OsFamily::Linux);
    let venv = m.path("home/ada/exam/venv");
    let found = interpreter(&judge(&m, Some(venv.clone()), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert!(found.summary.contains("never started"), "{}", found.summary);
    let m = m.dir("home/ada/.config/JetBrains/PyCharm2024.3/options");
    let found = interpreter(&judge(&m, Some(venv), None));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert!(
        found.summary.contains("knows no interpreter yet"),
        "{}",
        found.summary
    );
    assert!(found.fix.unwrap().contains("Add Local Interpreter"));
}

#[test]
fn without_an_install_or_an_environment_it_is_not_decided() {
    let m = venv_shape(Machine::linux(), "home/ada/exam/venv", OsFamily::Linux);
    let f = judge(&m, Some(m.path("home/ada/exam/venv")), None);
    let found = interpreter(&f);
    assert_eq!(found.status, Status::Skip);
    assert!(found.summary.contains("no readable PyCharm install"));
    // No venv given or found, and no Python on PATH.
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    );
    let found = interpreter(&judge(&m, None, None));
    assert_eq!(found.status, Status::Skip, "{found:#?}");
    assert!(
        found.summary.contains("no Python environment"),
        "{}",
        found.summary
    );
}

/// A machine with PyCharm 2024.3 whose table holds `sdks`, and the exam venv at
/// ~/exam/venv.
fn machine_with_table(sdks: &[(&str, &str)]) -> Machine {
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    );
    venv_shape(m, "home/ada/exam/venv", OsFamily::Linux).file(
        "home/ada/.config/JetBrains/PyCharm2024.3/options/jdk.table.xml",
        sdk_table(sdks),
    )
}

fn hostile_table(contents: impl AsRef<[u8]>) -> Finding {
    let m = machine_with_table(&[]).file(
        "home/ada/.config/JetBrains/PyCharm2024.3/options/jdk.table.xml",
        contents,
    );
    interpreter(&judge(&m, Some(m.path("home/ada/exam/venv")), None))
}

#[test]
fn hostile_tables_are_never_a_pass() {
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        let previous = if level == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", level - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    laughs.push_str(
        "]>\n<application><component name=\"ProjectJdkTable\"><jdk version=\"2\"><name value=\"&lol9;\"/><type value=\"Python SDK\"/><homePath value=\"&lol9;\"/></jdk></component></application>",
    );
    let mut not_utf8 = recorded!("jdk.table-2024.3-linux.xml").as_bytes().to_vec();
    not_utf8[200] = 0xc3;
    not_utf8[201] = 0x28;
    // Past the bound by one byte, and otherwise a real table.
    let mut huge = recorded!("jdk.table-2024.3-linux.xml").as_bytes().to_vec();
    huge.resize(preflight::pycharm_sdks::TABLE_LIMIT as usize + 1, b' ');
    for (what, contents, says) in [
        ("billion laughs", laughs.into_bytes(), "lol9"),
        ("not UTF-8", not_utf8, "UTF-8"),
        (
            "deeply nested",
            "<a>".repeat(200_000).into_bytes(),
            "deeper",
        ),
        ("huge", huge, "larger than"),
        ("not XML", b"\x00\x01 binary".to_vec(), "well-formed"),
    ] {
        let found = hostile_table(contents);
        assert_eq!(found.status, Status::Skip, "{what}: {found:#?}");
        assert!(
            found.summary.starts_with("not decided: ") && found.summary.contains(says),
            "{what}: {}",
            found.summary
        );
    }
}

#[cfg(unix)]
#[test]
fn a_named_pipe_for_a_table_is_refused_not_waited_on() {
    let m = machine_with_table(&[]);
    let table = m.path("home/ada/.config/JetBrains/PyCharm2024.3/options/jdk.table.xml");
    std::fs::remove_file(&table).unwrap();
    common::venv::make_fifo(&table);
    let found = interpreter(&judge(&m, Some(m.path("home/ada/exam/venv")), None));
    assert_eq!(found.status, Status::Skip, "{found:#?}");
    assert!(found.summary.contains("named pipe"), "{}", found.summary);
}

/// The recorded `.idea/` of a 2025 project (SDK "Python 3.10 (inz_python)") copied to
/// ~/inz_python on `m`.
fn recorded_project(m: Machine) -> Machine {
    m.file(
        "home/ada/inz_python/.idea/misc.xml",
        recorded!("project-2025-inz_python/.idea/misc.xml"),
    )
    .file(
        "home/ada/inz_python/.idea/modules.xml",
        recorded!("project-2025-inz_python/.idea/modules.xml"),
    )
    .file(
        "home/ada/inz_python/.idea/inz_python.iml",
        recorded!("project-2025-inz_python/.idea/inz_python.iml"),
    )
}

fn project(findings: &[Finding]) -> Finding {
    finding(findings, "pycharm.project").clone()
}

#[test]
fn a_project_on_the_exam_venv_passes() {
    let m = recorded_project(machine_with_table(&[(
        "Python 3.10 (inz_python)",
        "$USER_HOME$/exam/venv/bin/python",
    )]));
    let dir = m.path("home/ada/inz_python");
    let found = project(&judge(
        &m,
        Some(m.path("home/ada/exam/venv")),
        Some(dir.clone()),
    ));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(found.observed["project_sdk"], "Python 3.10 (inz_python)");
    let files: Vec<PathBuf> = found.observed["project_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(observed_path)
        .collect();
    assert_eq!(
        files,
        [dir.join(".idea/inz_python.iml")],
        "the module's own jdkName decides"
    );
}

#[test]
fn a_project_on_another_interpreter_fails_naming_both() {
    let m = recorded_project(machine_with_table(&[
        (
            "Python 3.10 (inz_python)",
            "$USER_HOME$/inz_python/.venv/bin/python",
        ),
        ("Python 3.8 (exam)", "$USER_HOME$/exam/venv/bin/python"),
    ]));
    let m = venv_shape(m, "home/ada/inz_python/.venv", OsFamily::Linux);
    let exam = m.path("home/ada/exam/venv");
    let f = judge(&m, Some(exam.clone()), Some(m.path("home/ada/inz_python")));
    let found = project(&f);
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert!(
        found.summary.contains("\"Python 3.10 (inz_python)\"")
            && mentions(
                &found.summary,
                &m.path("home/ada/inz_python/.venv/bin/python")
            )
            && mentions(&found.summary, &exam),
        "{}",
        found.summary
    );
    // PyCharm knows the exam venv: switching to it is the fix.
    let fix = found.fix.unwrap();
    assert!(fix.contains("pick \"Python 3.8 (exam)\""), "{fix}");
    assert_eq!(interpreter(&f).status, Status::Pass);
    // A profile that softens policy makes it a warning, saying so.
    let softened = m.findings_with(
        &format!("{CHECK}severity = \"warn\"\n"),
        RunOptions {
            venv: Some(exam),
            project: Some(m.path("home/ada/inz_python")),
            ..RunOptions::default()
        },
    );
    let found = project(&softened);
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert!(found.softened);
}

#[test]
fn a_project_set_to_an_interpreter_pycharm_does_not_know_fails() {
    let m = recorded_project(machine_with_table(&[]));
    let found = project(&judge(
        &m,
        Some(m.path("home/ada/exam/venv")),
        Some(m.path("home/ada/inz_python")),
    ));
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert!(found.summary.contains("does not know"), "{}", found.summary);
    assert!(found.fix.unwrap().contains("Add Local Interpreter"));
}

#[test]
fn the_working_directory_is_the_project_when_it_holds_idea() {
    let m = recorded_project(machine_with_table(&[(
        "Python 3.10 (inz_python)",
        "$USER_HOME$/exam/venv/bin/python",
    )]));
    let venv = Some(m.path("home/ada/exam/venv"));
    // The root holds no .idea/: no project to judge.
    let found = project(&judge(&m, venv.clone(), None));
    assert_eq!(found.status, Status::Skip, "{found:#?}");
    assert!(found.summary.contains("--project"), "{}", found.summary);
    let m = m.cwd("home/ada/inz_python");
    let found = project(&judge(&m, venv.clone(), None));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    // A --project folder PyCharm never opened.
    let m = m.dir("home/ada/elsewhere");
    let found = project(&judge(&m, venv, Some(m.path("home/ada/elsewhere"))));
    assert_eq!(found.status, Status::Warn, "{found:#?}");
    assert!(
        found.summary.contains("holds no .idea/"),
        "{}",
        found.summary
    );
}

#[test]
fn windows_projects_and_tables_agree_across_separators() {
    let m = windows_2021_2_machine().file(
        "Users/ada/PycharmProjects/djangoProject/.idea/misc.xml",
        recorded!("project-2024-django_server/.idea/misc.xml")
            .replace("Python 3.8 (venvs)", "Python 3.10 (djangoProject)"),
    );
    let found = project(&judge(
        &m,
        Some(m.path("Users/ada/PycharmProjects/djangoProject/venv")),
        Some(m.path("Users/ada/PycharmProjects/djangoProject")),
    ));
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(found.observed["project_sdk"], "Python 3.10 (djangoProject)");
}

/// Real virtualenvs: a venv's `bin/python` links to its base interpreter, the venv can be
/// reached through a linked folder, and `bin/python3` is the same venv.
#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn real_venvs_are_matched_by_the_venv_they_are() {
    let python = common::venv::pyenv_python("3.8");
    let m = linux_install(
        Machine::linux(),
        "2024.3",
        "PY-243.21565.199",
        "PyCharm2024.3",
    );
    let venv = common::venv::make_venv(&python, &m.path("home/ada/exam/venv"));
    let exam = m.path("home/ada/exam");
    let m = m.symlink("home/ada/linked", exam);
    let table = "home/ada/.config/JetBrains/PyCharm2024.3/options/jdk.table.xml";
    let base = python.canonicalize().unwrap();
    std::fs::create_dir_all(m.path(table).parent().unwrap()).unwrap();
    for (home, pass) in [
        (venv.join("bin/python3").display().to_string(), true),
        ("$USER_HOME$/linked/venv/bin/python".to_string(), true),
        // What the venv's bin/python links to.
        (base.display().to_string(), false),
    ] {
        std::fs::write(m.path(table), sdk_table(&[("exam", &home)])).unwrap();
        let found = interpreter(&judge(&m, Some(venv.clone()), None));
        let want = if pass { Status::Pass } else { Status::Warn };
        assert_eq!(found.status, want, "{home}: {found:#?}");
    }
}

#[test]
fn list_explain_and_project_flag_know_the_findings() {
    let dir = tempfile::TempDir::new().unwrap();
    let list = common::run(common::preflight(dir.path()).arg("list"));
    assert_eq!(list.code, 0, "{}", list.stderr);
    for (id, severity) in [("pycharm.interpreter", "warn"), ("pycharm.project", "fail")] {
        let row = list
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{}", list.stdout));
        assert!(row.contains(severity), "{row}");
    }
    let explain =
        common::run(common::preflight(dir.path()).args(["explain", "pycharm.interpreter"]));
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(
        explain.stdout.contains("Why it matters:")
            && explain
                .stdout
                .contains("runs on the interpreter PyCharm is set to")
            && explain.stdout.contains("warns: it is advice"),
        "{}",
        explain.stdout
    );
    // `--project` is read: a folder PyCharm never opened, on a machine without PyCharm.
    let project = dir.path().join("exam-project");
    std::fs::create_dir(&project).unwrap();
    let run = common::run(
        common::preflight(dir.path())
            .args([
                "--offline",
                "--json",
                "--only",
                "pycharm.project",
                "--project",
            ])
            .arg(&project),
    );
    let report = common::json(&run);
    let found = common::finding_in(&report, "pycharm.project");
    assert_eq!(found["status"], "skip", "{found:#}");
    assert_eq!(found["observed"]["project"], project.display().to_string());
}

/// What `preflight fix` prints last about the venv it built, from each check's `after_fix`.
fn after_fix(m: &Machine, interpreter: &std::path::Path) -> Vec<String> {
    let text = format!("{}{CHECK}", common::PROFILE_HEADER);
    let profile = preflight::profile::parse(&text, "t.toml", "test").unwrap();
    let host = m.host();
    profile
        .checks
        .iter()
        .filter_map(|c| c.check.after_fix(&host, interpreter))
        .collect()
}

#[test]
fn fix_is_told_whether_pycharm_knows_the_new_venv() {
    let m = machine_with_table(&[("Python 3.8 (exam)", "$USER_HOME$/exam/venv/bin/python")]);
    let interpreter = m.path("home/ada/exam/venv/bin/python");
    let said = after_fix(&m, &interpreter);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("PyCharm: PyCharm knows ") && said[0].contains("\"Python 3.8 (exam)\""),
        "{said:?}"
    );
    // A new venv PyCharm does not know yet: the steps for this version, with the path.
    let m = venv_shape(m, "home/ada/new/venv", OsFamily::Linux);
    let interpreter = m.path("home/ada/new/venv/bin/python");
    let said = after_fix(&m, &interpreter).join("\n");
    assert!(
        said.contains("does not know")
            && said.contains("Add Local Interpreter")
            && said.contains(&interpreter.display().to_string()),
        "{said}"
    );
    // No PyCharm at all: the steps for any version.
    let m = venv_shape(Machine::linux(), "home/ada/new/venv", OsFamily::Linux);
    let said = after_fix(&m, &m.path("home/ada/new/venv/bin/python")).join("\n");
    assert!(
        said.contains("no PyCharm install was found") && said.contains("before 2023.2"),
        "{said}"
    );
}
