//! The `pycharm` kind over each OS's real install layout, laid out under a temporary directory.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Write;

use common::machine::{Machine, finding};
use common::pycharm::product_info;
use preflight::report::{Finding, Status};

/// PyCharm Community 2021.3.3: a 2021.3 release, in the `==2021.3.*` range the tests ask for.
fn community_2021_3_3() -> String {
    product_info(
        "PyCharm Community Edition",
        "2021.3.3",
        "PC-213.7172.26",
        "PyCharmCE2021.3",
    )
}

const PLUGIN_XML: &str = r#"<idea-plugin>
  <id>com.google.developers.certification</id>
  <name>Google Developers Certification</name>
  <version>1.2.3</version>
  <vendor>Google</vendor>
</idea-plugin>"#;

/// A plugin as the IDE installs it: `<plugins>/<folder>/lib/<jar>` with META-INF/plugin.xml
/// inside.
fn plugin_jar(m: Machine, plugins: &str, folder: &str, xml: &str) -> Machine {
    let lib = m.path(plugins).join(folder).join("lib");
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
    m
}

/// The pycharm findings, with the profile's `version` range if any.
fn findings(m: &Machine, version: Option<&str>) -> Vec<Finding> {
    let version = version
        .map(|v| format!("version = \"{v}\"\n"))
        .unwrap_or_default();
    m.findings(&format!("\n[[check]]\nkind = \"pycharm\"\n{version}"))
}

fn assert_all_pass(f: &[Finding]) {
    for id in ["pycharm.install", "pycharm.version", "pycharm.plugin"] {
        assert_eq!(
            finding(f, id).status,
            Status::Pass,
            "{id}: {:#?}",
            finding(f, id)
        );
    }
}

#[test]
fn linux_opt_install_with_its_plugin_passes() {
    let m = Machine::linux().file(
        "opt/pycharm-community-2023.1.2/product-info.json",
        product_info(
            "PyCharm Community Edition",
            "2023.1.2",
            "PC-231.9011.38",
            "PyCharmCE2023.1",
        ),
    );
    let m = plugin_jar(
        m,
        "home/ada/.local/share/JetBrains/PyCharmCE2023.1",
        "GoogleDevCert",
        PLUGIN_XML,
    );
    let f = findings(&m, Some(">=2021.3"));
    assert_all_pass(&f);
    assert!(
        finding(&f, "pycharm.install")
            .summary
            .starts_with("PyCharm Community Edition 2023.1.2, build PC-231.9011.38")
    );
    assert_eq!(
        finding(&f, "pycharm.plugin").observed["id"],
        "com.google.developers.certification"
    );
}

#[test]
fn xdg_data_home_moves_the_plugin_directory() {
    let m = Machine::linux().file(
        "opt/pycharm-2022.1/product-info.json",
        product_info("PyCharm", "2022.1", "PY-221.5080.212", "PyCharm2022.1"),
    );
    let xdg = m.path("xdg");
    let m =
        plugin_jar(m, "xdg/JetBrains/PyCharm2022.1", "cert", PLUGIN_XML).env("XDG_DATA_HOME", xdg);
    assert_all_pass(&findings(&m, None));
}

#[test]
fn snap_install_is_found() {
    let m = Machine::linux().file(
        "snap/pycharm-professional/current/product-info.json",
        product_info("PyCharm", "2021.3.3", "PY-213.7172.26", "PyCharm2021.3"),
    );
    let f = findings(&m, Some("==2021.3.*"));
    assert_eq!(finding(&f, "pycharm.install").status, Status::Pass);
    assert_eq!(finding(&f, "pycharm.version").status, Status::Pass);
    assert_eq!(finding(&f, "pycharm.plugin").status, Status::Fail);
}

#[test]
fn toolbox_1_layout_reads_build_txt_and_its_plugins_folder() {
    let channel = "home/ada/.local/share/JetBrains/Toolbox/apps/PyCharm-C/ch-0";
    let m = Machine::linux()
        .file(
            format!("{channel}/213.7172.26/build.txt"),
            "PC-213.7172.26\n",
        )
        .file(
            format!("{channel}/213.7172.26.plugins/cert/META-INF/plugin.xml"),
            PLUGIN_XML,
        );
    let f = findings(&m, Some("==2021.3.*"));
    assert_all_pass(&f);
    assert!(
        finding(&f, "pycharm.install")
            .summary
            .starts_with("PyCharm Community Edition 2021.3")
    );
}

#[test]
fn toolbox_2_layout_is_found() {
    let m = Machine::linux().file(
        "home/ada/.local/share/JetBrains/Toolbox/apps/pycharm-community/product-info.json",
        product_info(
            "PyCharm Community Edition",
            "2024.1",
            "PC-241.14494.241",
            "PyCharmCE2024.1",
        ),
    );
    let m = plugin_jar(
        m,
        "home/ada/.local/share/JetBrains/PyCharmCE2024.1",
        "cert",
        PLUGIN_XML,
    );
    assert_all_pass(&findings(&m, None));
}

/// Unix only: the launcher is a `#!` script found by its executable bit.
#[cfg(unix)]
#[test]
fn a_launcher_on_path_leads_to_its_install() {
    let m = Machine::linux()
        .file(
            "tools/ide/product-info.json",
            product_info("PyCharm", "2022.3", "PY-223.7571.203", "PyCharm2022.3"),
        )
        .executable("tools/ide/bin/pycharm.sh", "#!/bin/sh\n");
    let bin = m.path("tools/ide/bin");
    let f = findings(&m.env("PATH", bin), None);
    assert_eq!(
        finding(&f, "pycharm.install").status,
        Status::Pass,
        "{:#?}",
        finding(&f, "pycharm.install")
    );
}

#[test]
fn macos_apps_in_both_applications_folders() {
    let m = Machine::macos()
        .file(
            "Applications/PyCharm CE.app/Contents/Resources/product-info.json",
            product_info(
                "PyCharm Community Edition",
                "2021.3.2",
                "PC-213.6777.50",
                "PyCharmCE2021.3",
            ),
        )
        .file(
            "Users/ada/Applications/PyCharm.app/Contents/Resources/product-info.json",
            product_info("PyCharm", "2023.2", "PY-232.8660.197", "PyCharm2023.2"),
        );
    let m = plugin_jar(
        m,
        "Users/ada/Library/Application Support/JetBrains/PyCharmCE2021.3/plugins",
        "cert",
        PLUGIN_XML,
    );
    let f = findings(&m, Some("==2021.3.*"));
    assert_all_pass(&f);
    let install = finding(&f, "pycharm.install");
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
    let apps = "Users/ada/Library/Application Support/JetBrains/Toolbox/apps";
    let m = Machine::macos()
        .file(
            format!("{apps}/PyCharm-C/ch-0/213.7172.26/PyCharm CE.app/Contents/Resources/product-info.json"),
            community_2021_3_3(),
        )
        .file(
            format!("{apps}/PyCharm-P/ch-0/232.8660.197/PyCharm.app/Contents/Resources/product-info.json"),
            product_info("PyCharm", "2023.2", "PY-232.8660.197", "PyCharm2023.2"),
        )
        // Toolbox 1.x keeps each build's plugins beside the build folder.
        .file(
            format!("{apps}/PyCharm-C/ch-0/213.7172.26.plugins/cert/META-INF/plugin.xml"),
            PLUGIN_XML,
        );
    let f = findings(&m, Some("==2021.3.*"));
    assert_all_pass(&f);
    let install = finding(&f, "pycharm.install");
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
    let m = Machine::windows()
        .file(
            "Program Files/JetBrains/PyCharm Community Edition 2021.3.3/product-info.json",
            community_2021_3_3(),
        )
        .file(
            "Users/ada/AppData/Local/JetBrains/Toolbox/apps/PyCharm-P/ch-0/223.8836.43/build.txt",
            "PY-223.8836.43",
        );
    let m = plugin_jar(
        m,
        "Users/ada/AppData/Roaming/JetBrains/PyCharmCE2021.3/plugins",
        "cert",
        PLUGIN_XML,
    );
    let (program_files, local, appdata) = (
        m.path("Program Files"),
        m.path("Users/ada/AppData/Local"),
        m.path("Users/ada/AppData/Roaming"),
    );
    let m = m
        .env("ProgramFiles", program_files)
        .env("LOCALAPPDATA", local)
        .env("APPDATA", appdata);
    let f = findings(&m, Some("==2021.3.*"));
    assert_all_pass(&f);
    assert_eq!(
        finding(&f, "pycharm.install").observed["installs"]
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
        let m = Machine::linux().file(
            "opt/pycharm/product-info.json",
            product_info(
                "PyCharm Community Edition",
                version,
                build,
                "PyCharmCE2020.2",
            ),
        );
        let f = findings(&m, Some(">=2020.2,<2020.3"));
        let expected = if pass { Status::Pass } else { Status::Fail };
        assert_eq!(finding(&f, "pycharm.version").status, expected, "{version}");
    }
}

#[test]
fn a_plugin_for_another_version_does_not_count() {
    let m = Machine::linux().file(
        "opt/pycharm/product-info.json",
        product_info(
            "PyCharm Community Edition",
            "2023.1",
            "PC-231.8109.197",
            "PyCharmCE2023.1",
        ),
    );
    let m = plugin_jar(
        m,
        "home/ada/.local/share/JetBrains/PyCharmCE2022.1",
        "cert",
        PLUGIN_XML,
    );
    // A plugin folder without plugin.xml, and another plugin, in the right directory.
    let m = m.dir("home/ada/.local/share/JetBrains/PyCharmCE2023.1/empty-plugin/lib");
    let m = plugin_jar(
        m,
        "home/ada/.local/share/JetBrains/PyCharmCE2023.1",
        "other",
        "<idea-plugin><id>x</id><name>Rainbow Brackets</name></idea-plugin>",
    );
    let f = findings(&m, None);
    let plugin = finding(&f, "pycharm.plugin");
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
    let m = Machine::linux().file("opt/pycharm-2019.3/build.txt", "PC-193.6911.25");
    let m = plugin_jar(
        m,
        "home/ada/.PyCharmCE2019.3/config/plugins",
        "cert",
        PLUGIN_XML,
    );
    let f = findings(&m, None);
    assert_eq!(
        finding(&f, "pycharm.plugin").status,
        Status::Pass,
        "{:#?}",
        finding(&f, "pycharm.plugin")
    );
}

#[test]
fn no_install_fails_with_the_download_for_the_os() {
    let f = findings(&Machine::linux(), Some("==2021.3.*"));
    let install = finding(&f, "pycharm.install");
    assert_eq!(install.status, Status::Fail);
    assert!(
        install
            .fix
            .as_deref()
            .unwrap()
            .contains("PyCharm ==2021.3.*")
    );
    assert!(install.fix.as_deref().unwrap().contains("Linux tarball"));
    assert_eq!(finding(&f, "pycharm.version").status, Status::Skip);
}

#[test]
fn damaged_installs_are_findings_not_panics() {
    // Truncated product-info.json with a good build.txt beside it: falls back.
    let m = Machine::linux()
        .file(
            "opt/pycharm-a/product-info.json",
            "{\"name\": \"PyCharm\", \"vers",
        )
        .file("opt/pycharm-a/build.txt", "PC-231.8109.197");
    let f = findings(&m, None);
    assert_eq!(finding(&f, "pycharm.install").status, Status::Pass);
    assert!(finding(&f, "pycharm.install").summary.contains("2023.1"));

    let m = Machine::linux().file("opt/pycharm-b/build.txt", "\u{0}\u{1}garbage garbage");
    let f = findings(&m, None);
    let install = finding(&f, "pycharm.install");
    assert_eq!(install.status, Status::Fail);
    assert!(
        install.summary.contains("cannot read its version"),
        "{}",
        install.summary
    );

    let m = Machine::linux().file("opt/pycharm-c/product-info.json", " ".repeat(2 << 20));
    let f = findings(&m, None);
    assert!(
        finding(&f, "pycharm.install")
            .summary
            .contains("larger than"),
        "{}",
        finding(&f, "pycharm.install").summary
    );

    // A symlink loop under the Toolbox folder (Windows lets only administrators make links).
    #[cfg(unix)]
    {
        let app = "home/ada/.local/share/JetBrains/Toolbox/apps/PyCharm-C";
        let channel = format!("{app}/ch-0");
        let m = Machine::linux();
        let (looped, up) = (m.path(format!("{channel}/loop")), m.path(app));
        let m = m
            .symlink(format!("{channel}/loop"), looped)
            .symlink(format!("{channel}/up"), up);
        let f = findings(&m, None);
        assert_eq!(finding(&f, "pycharm.install").status, Status::Fail);
    }
}
