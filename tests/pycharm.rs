//! The `pycharm` kind over each OS's real install layout, laid out under a temporary directory.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use preflight::check::{Context, RunOptions};
use preflight::host::{Host, OsFamily};
use preflight::profile;
use preflight::report::{Finding, Status};
use preflight::runner::{Selection, run};
use tempfile::TempDir;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn product_info(name: &str, version: &str, build: &str, data_dir: &str) -> String {
    format!(
        r#"{{"name": "{name}", "version": "{version}", "buildNumber": "{build}", "productCode": "{}", "dataDirectoryName": "{data_dir}", "launch": []}}"#,
        if name.contains("Community") {
            "PC"
        } else {
            "PY"
        }
    )
}

const PLUGIN_XML: &str = r#"<idea-plugin>
  <id>com.google.developers.certification</id>
  <name>Google Developers Certification</name>
  <version>1.2.3</version>
  <vendor>Google</vendor>
</idea-plugin>"#;

/// A plugin as the IDE installs it: `<dir>/<folder>/lib/<jar>` with META-INF/plugin.xml inside.
fn install_plugin_jar(plugins: &Path, folder: &str, xml: &str) {
    let lib = plugins.join(folder).join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let file = std::fs::File::create(lib.join(format!("{folder}.jar"))).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("META-INF/MANIFEST.MF", options).unwrap();
    zip.write_all(b"Manifest-Version: 1.0\n").unwrap();
    zip.start_file("META-INF/plugin.xml", options).unwrap();
    zip.write_all(xml.as_bytes()).unwrap();
    zip.finish().unwrap();
}

fn profile_text(version: Option<&str>) -> String {
    let version = version
        .map(|v| format!("version = \"{v}\"\n"))
        .unwrap_or_default();
    format!(
        "[profile]\nname = \"t\"\ntitle = \"t\"\ndescription = \"t\"\nsource = \"t\"\n\n[[check]]\nkind = \"pycharm\"\n{version}"
    )
}

fn findings(host: Host, version: Option<&str>) -> Vec<Finding> {
    let profile = profile::parse(&profile_text(version), "t.toml", "test").unwrap();
    let ctx = Arc::new(Context::new(
        host,
        RunOptions::default(),
        profile.facts.clone(),
    ));
    run(ctx, &profile.checks, &Selection::default())
}

fn get<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings.iter().find(|f| f.id == id).unwrap()
}

struct Machine {
    dir: TempDir,
}

impl Machine {
    fn new() -> Self {
        Machine {
            dir: TempDir::new().unwrap(),
        }
    }
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn home(&self) -> PathBuf {
        self.root().join("home/ana")
    }
    fn linux(&self) -> Host {
        let home = self.home();
        Host::simulated(
            self.root(),
            OsFamily::Linux,
            &[("HOME", home.to_str().unwrap()), ("PATH", "")],
        )
    }
}

fn assert_all_pass(f: &[Finding]) {
    for id in ["pycharm.install", "pycharm.version", "pycharm.plugin"] {
        assert_eq!(get(f, id).status, Status::Pass, "{id}: {:#?}", get(f, id));
    }
}

#[test]
fn linux_opt_install_with_its_plugin_passes() {
    let m = Machine::new();
    let root = m.root().join("opt/pycharm-community-2023.1.2");
    write(
        &root.join("product-info.json"),
        &product_info(
            "PyCharm Community Edition",
            "2023.1.2",
            "PC-231.9011.38",
            "PyCharmCE2023.1",
        ),
    );
    install_plugin_jar(
        &m.home().join(".local/share/JetBrains/PyCharmCE2023.1"),
        "GoogleDevCert",
        PLUGIN_XML,
    );
    let f = findings(m.linux(), Some(">=2021.3"));
    assert_all_pass(&f);
    assert!(
        get(&f, "pycharm.install")
            .summary
            .starts_with("PyCharm Community Edition 2023.1.2, build PC-231.9011.38")
    );
    assert_eq!(
        get(&f, "pycharm.plugin").observed["id"],
        "com.google.developers.certification"
    );
}

#[test]
fn xdg_data_home_moves_the_plugin_directory() {
    let m = Machine::new();
    write(
        &m.root().join("opt/pycharm-2022.1/product-info.json"),
        &product_info("PyCharm", "2022.1", "PY-221.5080.212", "PyCharm2022.1"),
    );
    let xdg = m.root().join("xdg");
    install_plugin_jar(&xdg.join("JetBrains/PyCharm2022.1"), "cert", PLUGIN_XML);
    let mut host = m.linux();
    host.set_env("XDG_DATA_HOME", xdg.to_str().unwrap());
    assert_all_pass(&findings(host, None));
}

#[test]
fn snap_install_is_found() {
    let m = Machine::new();
    write(
        &m.root()
            .join("snap/pycharm-professional/current/product-info.json"),
        &product_info("PyCharm", "2021.3.3", "PY-213.7172.26", "PyCharm2021.3"),
    );
    let f = findings(m.linux(), Some("==2021.3.*"));
    assert_eq!(get(&f, "pycharm.install").status, Status::Pass);
    assert_eq!(get(&f, "pycharm.version").status, Status::Pass);
    assert_eq!(get(&f, "pycharm.plugin").status, Status::Fail);
}

#[test]
fn toolbox_1_layout_reads_build_txt_and_its_plugins_folder() {
    let m = Machine::new();
    let build = m
        .home()
        .join(".local/share/JetBrains/Toolbox/apps/PyCharm-C/ch-0/213.7172.26");
    write(&build.join("build.txt"), "PC-213.7172.26\n");
    let plugins = m
        .home()
        .join(".local/share/JetBrains/Toolbox/apps/PyCharm-C/ch-0/213.7172.26.plugins");
    write(&plugins.join("cert/META-INF/plugin.xml"), PLUGIN_XML);
    let f = findings(m.linux(), Some("==2021.3.*"));
    assert_all_pass(&f);
    assert!(
        get(&f, "pycharm.install")
            .summary
            .starts_with("PyCharm Community Edition 2021.3")
    );
}

#[test]
fn toolbox_2_layout_is_found() {
    let m = Machine::new();
    let app = m
        .home()
        .join(".local/share/JetBrains/Toolbox/apps/pycharm-community");
    write(
        &app.join("product-info.json"),
        &product_info(
            "PyCharm Community Edition",
            "2024.1",
            "PC-241.14494.241",
            "PyCharmCE2024.1",
        ),
    );
    install_plugin_jar(
        &m.home().join(".local/share/JetBrains/PyCharmCE2024.1"),
        "cert",
        PLUGIN_XML,
    );
    assert_all_pass(&findings(m.linux(), None));
}

/// Unix only: the launcher is a `#!` script found by its executable bit.
#[cfg(unix)]
#[test]
fn a_launcher_on_path_leads_to_its_install() {
    let m = Machine::new();
    let root = m.root().join("tools/ide");
    write(
        &root.join("product-info.json"),
        &product_info("PyCharm", "2022.3", "PY-223.7571.203", "PyCharm2022.3"),
    );
    write(&root.join("bin/pycharm.sh"), "#!/bin/sh\n");
    let mut perms = std::fs::metadata(root.join("bin/pycharm.sh"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(root.join("bin/pycharm.sh"), perms).unwrap();
    let mut host = m.linux();
    host.set_env("PATH", root.join("bin").to_str().unwrap());
    let f = findings(host, None);
    assert_eq!(
        get(&f, "pycharm.install").status,
        Status::Pass,
        "{:#?}",
        get(&f, "pycharm.install")
    );
}

#[test]
fn macos_apps_in_both_applications_folders() {
    let m = Machine::new();
    let home = m.home();
    write(
        &m.root()
            .join("Applications/PyCharm CE.app/Contents/Resources/product-info.json"),
        &product_info(
            "PyCharm Community Edition",
            "2021.3.2",
            "PC-213.6777.50",
            "PyCharmCE2021.3",
        ),
    );
    write(
        &home.join("Applications/PyCharm.app/Contents/Resources/product-info.json"),
        &product_info("PyCharm", "2023.2", "PY-232.8660.197", "PyCharm2023.2"),
    );
    install_plugin_jar(
        &home.join("Library/Application Support/JetBrains/PyCharmCE2021.3/plugins"),
        "cert",
        PLUGIN_XML,
    );
    let host = Host::simulated(
        m.root(),
        OsFamily::Macos,
        &[("HOME", home.to_str().unwrap())],
    );
    let f = findings(host, Some("==2021.3.*"));
    assert_all_pass(&f);
    let install = get(&f, "pycharm.install");
    assert!(
        install.summary.contains("2 installs found"),
        "{}",
        install.summary
    );
    assert!(
        install
            .summary
            .starts_with("PyCharm Community Edition 2021.3.2"),
        "chooses the one in range: {}",
        install.summary
    );
}

#[test]
fn macos_toolbox_1_apps_inside_their_build_folders() {
    let m = Machine::new();
    let home = m.home();
    let apps = home.join("Library/Application Support/JetBrains/Toolbox/apps");
    write(
        &apps
            .join("PyCharm-C/ch-0/213.7172.26/PyCharm CE.app/Contents/Resources/product-info.json"),
        &product_info(
            "PyCharm Community Edition",
            "2021.3.3",
            "PC-213.7172.26",
            "PyCharmCE2021.3",
        ),
    );
    write(
        &apps.join("PyCharm-P/ch-0/232.8660.197/PyCharm.app/Contents/Resources/product-info.json"),
        &product_info("PyCharm", "2023.2", "PY-232.8660.197", "PyCharm2023.2"),
    );
    // Toolbox 1.x keeps each build's plugins beside the build folder.
    write(
        &apps.join("PyCharm-C/ch-0/213.7172.26.plugins/cert/META-INF/plugin.xml"),
        PLUGIN_XML,
    );
    let host = Host::simulated(
        m.root(),
        OsFamily::Macos,
        &[("HOME", home.to_str().unwrap())],
    );
    let f = findings(host, Some("==2021.3.*"));
    assert_all_pass(&f);
    let install = get(&f, "pycharm.install");
    assert!(
        install
            .summary
            .starts_with("PyCharm Community Edition 2021.3.3")
            && install.summary.contains("2 installs found"),
        "{}",
        install.summary
    );
}

#[test]
fn windows_program_files_and_toolbox() {
    let m = Machine::new();
    let program_files = m.root().join("Program Files");
    let local = m.root().join("Users/ana/AppData/Local");
    let appdata = m.root().join("Users/ana/AppData/Roaming");
    write(
        &program_files.join("JetBrains/PyCharm Community Edition 2021.3.3/product-info.json"),
        &product_info(
            "PyCharm Community Edition",
            "2021.3.3",
            "PC-213.7172.26",
            "PyCharmCE2021.3",
        ),
    );
    write(
        &local.join("JetBrains/Toolbox/apps/PyCharm-P/ch-0/223.8836.43/build.txt"),
        "PY-223.8836.43",
    );
    install_plugin_jar(
        &appdata.join("JetBrains/PyCharmCE2021.3/plugins"),
        "cert",
        PLUGIN_XML,
    );
    let env = [
        (
            "USERPROFILE",
            m.root().join("Users/ana").to_str().unwrap().to_string(),
        ),
        ("ProgramFiles", program_files.to_str().unwrap().to_string()),
        ("LOCALAPPDATA", local.to_str().unwrap().to_string()),
        ("APPDATA", appdata.to_str().unwrap().to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let host = Host::simulated(m.root(), OsFamily::Windows, &env);
    let f = findings(host, Some("==2021.3.*"));
    assert_all_pass(&f);
    assert_eq!(
        get(&f, "pycharm.install").observed["installs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn version_bounds_hold_at_their_edges() {
    for (version, build, pass) in [
        ("2020.2", "PC-202.6397.98", true),
        ("2020.2.5", "PC-202.8194.15", true),
        ("2020.3", "PC-203.5981.165", false),
        ("2020.1.4", "PC-201.8743.11", false),
    ] {
        let m = Machine::new();
        write(
            &m.root().join("opt/pycharm/product-info.json"),
            &product_info(
                "PyCharm Community Edition",
                version,
                build,
                "PyCharmCE2020.2",
            ),
        );
        let f = findings(m.linux(), Some(">=2020.2,<2020.3"));
        let expected = if pass { Status::Pass } else { Status::Fail };
        assert_eq!(get(&f, "pycharm.version").status, expected, "{version}");
    }
}

#[test]
fn a_plugin_for_another_version_does_not_count() {
    let m = Machine::new();
    write(
        &m.root().join("opt/pycharm/product-info.json"),
        &product_info(
            "PyCharm Community Edition",
            "2023.1",
            "PC-231.8109.197",
            "PyCharmCE2023.1",
        ),
    );
    install_plugin_jar(
        &m.home().join(".local/share/JetBrains/PyCharmCE2022.1"),
        "cert",
        PLUGIN_XML,
    );
    // A plugin folder without plugin.xml, and another plugin, in the right directory.
    std::fs::create_dir_all(
        m.home()
            .join(".local/share/JetBrains/PyCharmCE2023.1/empty-plugin/lib"),
    )
    .unwrap();
    install_plugin_jar(
        &m.home().join(".local/share/JetBrains/PyCharmCE2023.1"),
        "other",
        "<idea-plugin><id>x</id><name>Rainbow Brackets</name></idea-plugin>",
    );
    let f = findings(m.linux(), None);
    let plugin = get(&f, "pycharm.plugin");
    assert_eq!(plugin.status, Status::Fail);
    assert_eq!(
        plugin.observed["plugins_seen"],
        serde_json::json!(["Rainbow Brackets"])
    );
    assert!(
        plugin
            .fix
            .as_deref()
            .unwrap()
            .contains("Settings > Plugins > Marketplace")
    );
}

#[test]
fn the_pre_2020_1_plugin_layout_is_searched() {
    let m = Machine::new();
    write(
        &m.root().join("opt/pycharm-2019.3/build.txt"),
        "PC-193.6911.25",
    );
    install_plugin_jar(
        &m.home().join(".PyCharmCE2019.3/config/plugins"),
        "cert",
        PLUGIN_XML,
    );
    let f = findings(m.linux(), None);
    assert_eq!(
        get(&f, "pycharm.plugin").status,
        Status::Pass,
        "{:#?}",
        get(&f, "pycharm.plugin")
    );
}

#[test]
fn no_install_fails_with_the_download_for_the_os() {
    let m = Machine::new();
    let f = findings(m.linux(), Some("==2021.3.*"));
    let install = get(&f, "pycharm.install");
    assert_eq!(install.status, Status::Fail);
    assert!(
        install
            .fix
            .as_deref()
            .unwrap()
            .contains("PyCharm ==2021.3.*")
    );
    assert!(install.fix.as_deref().unwrap().contains("Linux tarball"));
    assert_eq!(get(&f, "pycharm.version").status, Status::Skip);
}

#[test]
fn damaged_installs_are_findings_not_panics() {
    let m = Machine::new();
    // Truncated product-info.json with a good build.txt beside it: falls back.
    write(
        &m.root().join("opt/pycharm-a/product-info.json"),
        "{\"name\": \"PyCharm\", \"vers",
    );
    write(&m.root().join("opt/pycharm-a/build.txt"), "PC-231.8109.197");
    let f = findings(m.linux(), None);
    assert_eq!(get(&f, "pycharm.install").status, Status::Pass);
    assert!(get(&f, "pycharm.install").summary.contains("2023.1"));

    let m = Machine::new();
    write(
        &m.root().join("opt/pycharm-b/build.txt"),
        "\u{0}\u{1}garbage garbage",
    );
    let f = findings(m.linux(), None);
    let install = get(&f, "pycharm.install");
    assert_eq!(install.status, Status::Fail);
    assert!(
        install.summary.contains("cannot read its version"),
        "{}",
        install.summary
    );

    let m = Machine::new();
    write(
        &m.root().join("opt/pycharm-c/product-info.json"),
        &" ".repeat(2 << 20),
    );
    let f = findings(m.linux(), None);
    assert!(
        get(&f, "pycharm.install").summary.contains("larger than"),
        "{}",
        get(&f, "pycharm.install").summary
    );

    // A symlink loop under the Toolbox folder (Windows lets only administrators make links).
    #[cfg(unix)]
    {
        let m = Machine::new();
        let apps = m.home().join(".local/share/JetBrains/Toolbox/apps");
        std::fs::create_dir_all(apps.join("PyCharm-C/ch-0")).unwrap();
        std::os::unix::fs::symlink(
            apps.join("PyCharm-C/ch-0/loop"),
            apps.join("PyCharm-C/ch-0/loop"),
        )
        .unwrap();
        std::os::unix::fs::symlink(apps.join("PyCharm-C"), apps.join("PyCharm-C/ch-0/up")).unwrap();
        let f = findings(m.linux(), None);
        assert_eq!(get(&f, "pycharm.install").status, Status::Fail);
    }
}
