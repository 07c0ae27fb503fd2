//! The `pycharm` kind over the Linux layouts beyond /opt and snap (Flatpak, distribution
//! packages, tarballs found through `.desktop` entries, Toolbox 2.x custom locations) and
//! over plugin directories moved by `idea.properties`, each laid out as real PyCharm-shaped
//! trees under a temporary directory.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::PathBuf;

use common::machine::{Machine, finding};
use preflight::report::{Finding, Status};

/// An install at `root` as JetBrains ships it: product-info.json, bin/pycharm.sh,
/// bin/pycharm.svg.
fn install(
    m: Machine,
    root: &str,
    name: &str,
    version: &str,
    build: &str,
    data_dir: &str,
) -> Machine {
    let code = if name.contains("Community") {
        "PC"
    } else {
        "PY"
    };
    m.file(
        format!("{root}/product-info.json"),
        format!(
            r#"{{"name": "{name}", "version": "{version}", "buildNumber": "{build}", "productCode": "{code}", "dataDirectoryName": "{data_dir}", "svgIconPath": "bin/pycharm.svg", "launch": [{{"os": "Linux", "launcherPath": "bin/pycharm.sh", "vmOptionsFilePath": "bin/pycharm64.vmoptions"}}]}}"#
        ),
    )
    .file(format!("{root}/bin/pycharm.sh"), "#!/bin/sh\n")
    .file(format!("{root}/bin/pycharm.svg"), "<svg/>")
    .file(format!("{root}/build.txt"), format!("{code}-{build}"))
}

/// PyCharm Community 2023.1.2 unpacked at `root`.
fn community_2023_1(m: Machine, root: &str) -> Machine {
    install(
        m,
        root,
        "PyCharm Community Edition",
        "2023.1.2",
        "231.9011.38",
        "PyCharmCE2023.1",
    )
}

const EXAM_PLUGIN: &str = r#"<idea-plugin>
  <id>com.google.developers.certification</id>
  <name>Google Developers Certification</name>
  <version>1.2.3</version>
  <vendor>Google</vendor>
</idea-plugin>"#;

/// A plugin unpacked as a folder with META-INF/plugin.xml.
fn plugin(m: Machine, dir: impl AsRef<std::path::Path>, folder: &str, xml: &str) -> Machine {
    let path = dir.as_ref().join(folder).join("META-INF/plugin.xml");
    m.file(path, xml)
}

fn findings(m: &Machine) -> Vec<Finding> {
    m.findings("\n[[check]]\nkind = \"pycharm\"\n")
}

/// The chosen install's root, compared as a path: separators differ between OSes.
fn chosen(findings: &[Finding]) -> PathBuf {
    let install = finding(findings, "pycharm.install");
    PathBuf::from(
        install.observed["chosen"]
            .as_str()
            .unwrap_or_else(|| panic!("no install chosen: {install:#?}")),
    )
}

/// The property and file that moved the plugins directory, as the finding reports them.
fn moved_by(finding: &Finding) -> Option<(String, PathBuf)> {
    finding.details.iter().find_map(|d| {
        let rest = d.strip_prefix("plugins directory set by ")?;
        let (property, file) = rest.split_once(" in ")?;
        Some((property.to_string(), PathBuf::from(file)))
    })
}

/// Where the plugin was found.
fn plugin_path(finding: &Finding) -> PathBuf {
    PathBuf::from(finding.observed["path"].as_str().unwrap())
}

#[test]
fn flatpak_installs_keep_plugins_in_their_sandbox() {
    for (base, id) in [
        ("var/lib/flatpak/app", "com.jetbrains.PyCharm-Community"),
        (
            "home/ada/.local/share/flatpak/app",
            "com.jetbrains.PyCharm-Professional",
        ),
    ] {
        let (data, name) = if id.ends_with("Community") {
            ("PyCharmCE2022.1", "PyCharm Community Edition")
        } else {
            ("PyCharm2022.1", "PyCharm")
        };
        let root = format!("{base}/{id}/current/active/files/pycharm");
        let m = install(
            Machine::linux(),
            &root,
            name,
            "2022.1.4",
            "221.6008.17",
            data,
        );
        // The plugin where the sandboxed IDE puts it; the host's usual folder stays empty.
        let sandbox_plugins = m.path(format!("home/ada/.var/app/{id}/data/JetBrains/{data}"));
        let m = plugin(m, &sandbox_plugins, "GoogleDevCert", EXAM_PLUGIN)
            .dir(format!("home/ada/.local/share/JetBrains/{data}"));
        let f = findings(&m);
        assert_eq!(chosen(&f), m.path(&root));
        let found = finding(&f, "pycharm.plugin");
        assert_eq!(found.status, Status::Pass, "{found:#?}");
        assert!(
            plugin_path(found).starts_with(&sandbox_plugins),
            "{found:#?}"
        );
    }
}

#[test]
fn a_distribution_package_under_usr_share_is_found() {
    let m = install(
        Machine::linux(),
        "usr/share/pycharm",
        "PyCharm Community Edition",
        "2023.2.1",
        "232.9559.58",
        "PyCharmCE2023.2",
    );
    let m = plugin(
        m,
        "home/ada/.local/share/JetBrains/PyCharmCE2023.2",
        "GoogleDevCert",
        EXAM_PLUGIN,
    );
    let f = findings(&m);
    assert_eq!(chosen(&f), m.path("usr/share/pycharm"));
    assert_eq!(finding(&f, "pycharm.plugin").status, Status::Pass);
}

#[test]
fn a_tarball_unpacked_anywhere_is_found_through_its_desktop_entry() {
    for applications in [
        "home/ada/.local/share/applications",
        "usr/share/applications",
    ] {
        let m = community_2023_1(
            Machine::linux(),
            "home/ada/tools/pycharm-community-2023.1.2",
        );
        let root = m.path("home/ada/tools/pycharm-community-2023.1.2");
        // As PyCharm's Tools > Create Desktop Entry writes it.
        let m = m.file(
            format!("{applications}/jetbrains-pycharm-ce.desktop"),
            format!(
                "[Desktop Entry]\nVersion=1.0\nType=Application\nName=PyCharm Community Edition\nIcon={root}/bin/pycharm.svg\nExec=\"{root}/bin/pycharm.sh\" %f\nComment=Python IDE for Professional Developers\nCategories=Development;IDE;\nTerminal=false\nStartupWMClass=jetbrains-pycharm-ce\nStartupNotify=true\n",
                root = root.display()
            ),
        );
        let f = findings(&m);
        assert_eq!(
            finding(&f, "pycharm.install").status,
            Status::Pass,
            "{applications}"
        );
        assert_eq!(chosen(&f), root);
    }
}

#[test]
fn toolbox_2_custom_install_locations_are_read_from_its_state() {
    let m = install(
        Machine::linux(),
        "data/ides/pycharm-community",
        "PyCharm Community Edition",
        "2023.3.2",
        "233.13135.95",
        "PyCharmCE2023.3",
    );
    let root = m.path("data/ides/pycharm-community");
    let state = serde_json::json!({
        "appVersion": "2.1.3.18901",
        "tools": [{
            "channelId": "6d3e1c1b",
            "toolId": "PyCharm-C",
            "productCode": "PC",
            "tag": "PyCharm",
            "displayName": "PyCharm Community",
            "displayVersion": "2023.3.2",
            "buildNumber": "233.13135.95",
            "installLocation": root.display().to_string(),
            "launchCommand": "bin/pycharm.sh"
        }]
    });
    let m = m.file(
        "home/ada/.local/share/JetBrains/Toolbox/state.json",
        state.to_string(),
    );
    let f = findings(&m);
    assert_eq!(chosen(&f), root);
}

#[test]
fn idea_properties_move_the_plugin_directory_in_the_ides_order() {
    let m = community_2023_1(Machine::linux(), "opt/pycharm-community-2023.1.2");
    let root = m.path("opt/pycharm-community-2023.1.2");
    let home = m.home();
    // The install's own file: `${user.home}` expands.
    let m = m.file(
        root.join("bin/idea.properties"),
        "# IDE properties\nidea.plugins.path=${user.home}/from-bin\n",
    );
    let m = plugin(m, home.join("from-bin"), "GoogleDevCert", EXAM_PLUGIN);
    let f = findings(&m);
    let found = finding(&f, "pycharm.plugin");
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(
        moved_by(found),
        Some(("idea.plugins.path".into(), root.join("bin/idea.properties")))
    );

    // ~/idea.properties comes before the install's file: the first file to set a key wins.
    let m = m.file(
        home.join("idea.properties"),
        "idea.plugins.path=${user.home}/from-home\n",
    );
    let found = finding(&findings(&m), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert_eq!(
        moved_by(&found),
        Some(("idea.plugins.path".into(), home.join("idea.properties")))
    );
    let m = plugin(m, home.join("from-home"), "GoogleDevCert", EXAM_PLUGIN);
    assert_eq!(
        finding(&findings(&m), "pycharm.plugin").status,
        Status::Pass
    );

    // The config directory's own file ("Edit Custom Properties") comes before ~/.
    let m = m.file(
        home.join(".config/JetBrains/PyCharmCE2023.1/idea.properties"),
        "idea.plugins.path=/nowhere/at/all\n",
    );
    assert_eq!(
        finding(&findings(&m), "pycharm.plugin").status,
        Status::Fail
    );

    // PYCHARM_PROPERTIES comes first of all.
    let env_file = m.path("etc/pycharm.properties");
    let from_env = home.join("from-env");
    let m = m
        .file(
            &env_file,
            // Forward slashes: in a properties file a backslash starts an escape.
            format!(
                "idea.plugins.path={}\n",
                from_env.display().to_string().replace('\\', "/")
            ),
        )
        .env("PYCHARM_PROPERTIES", &env_file);
    let m = plugin(m, &from_env, "GoogleDevCert", EXAM_PLUGIN);
    let found = finding(&findings(&m), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert!(plugin_path(&found).starts_with(&from_env), "{found:#?}");
}

#[test]
fn comments_and_cdata_in_plugin_xml_do_not_fool_the_check() {
    let m = community_2023_1(Machine::linux(), "opt/pycharm-community-2023.1.2");
    let plugins = "home/ada/.local/share/JetBrains/PyCharmCE2023.1";
    // Another plugin whose comment and description mention the exam plugin's name.
    let m = plugin(
        m,
        plugins,
        "SomethingElse",
        r#"<idea-plugin>
  <!-- <name>Google Developers Certification</name> -->
  <id>org.example.other</id>
  <name>Other Plugin</name>
  <description><![CDATA[Works well with <name>Google Developers Certification</name>.]]></description>
</idea-plugin>"#,
    );
    let found = finding(&findings(&m), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert_eq!(found.observed["plugins_seen"][0], "Other Plugin");
    // The real plugin, its name in CDATA, is recognised.
    let m = plugin(
        m,
        plugins,
        "GoogleDevCert",
        "<idea-plugin><id>com.google.developers.certification</id><name><![CDATA[Google Developers Certification]]></name></idea-plugin>",
    );
    assert_eq!(
        finding(&findings(&m), "pycharm.plugin").status,
        Status::Pass
    );
}

#[test]
fn idea_config_path_moves_plugins_to_its_plugins_folder() {
    let m = community_2023_1(Machine::linux(), "opt/pycharm-community-2023.1.2").file(
        "opt/pycharm-community-2023.1.2/bin/idea.properties",
        "idea.config.path=${user.home}/portable/config\nidea.system.path=${user.home}/portable/system\n",
    );
    // The default folder holds the plugin, but the IDE no longer looks there.
    let m = plugin(
        m,
        "home/ada/.local/share/JetBrains/PyCharmCE2023.1",
        "GoogleDevCert",
        EXAM_PLUGIN,
    );
    let found = finding(&findings(&m), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    let m = plugin(
        m,
        "home/ada/portable/config/plugins",
        "GoogleDevCert",
        EXAM_PLUGIN,
    );
    assert_eq!(
        finding(&findings(&m), "pycharm.plugin").status,
        Status::Pass
    );
}

#[test]
fn an_idea_properties_with_a_bom_and_a_cut_last_character_is_read_not_a_panic() {
    let m = community_2023_1(Machine::linux(), "opt/pycharm-community-2023.1.2");
    // UTF-16 as Notepad's "Unicode" saves it, its last character cut short: an odd length.
    let m = m.file("home/ada/idea.properties", b"\xff\xfea");
    let found = finding(&findings(&m), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert!(found.summary.contains("not installed"), "{found:#?}");
}
