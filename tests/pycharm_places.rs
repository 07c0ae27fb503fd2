//! The `pycharm` kind over the Linux layouts beyond /opt and snap (Flatpak, distribution
//! packages, tarballs found through `.desktop` entries, Toolbox 2.x custom locations) and
//! over plugin directories moved by `idea.properties`, each laid out as real PyCharm-shaped
//! trees under a temporary directory.

mod common;

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

/// An install root as JetBrains ships it: product-info.json, bin/pycharm.sh, bin/pycharm.svg.
fn install(root: &Path, name: &str, version: &str, build: &str, data_dir: &str) {
    let code = if name.contains("Community") {
        "PC"
    } else {
        "PY"
    };
    write(
        &root.join("product-info.json"),
        &format!(
            r#"{{"name": "{name}", "version": "{version}", "buildNumber": "{build}", "productCode": "{code}", "dataDirectoryName": "{data_dir}", "svgIconPath": "bin/pycharm.svg", "launch": [{{"os": "Linux", "launcherPath": "bin/pycharm.sh", "vmOptionsFilePath": "bin/pycharm64.vmoptions"}}]}}"#
        ),
    );
    write(&root.join("bin/pycharm.sh"), "#!/bin/sh\n");
    write(&root.join("bin/pycharm.svg"), "<svg/>");
    write(&root.join("build.txt"), &format!("{code}-{build}"));
}

const EXAM_PLUGIN: &str = r#"<idea-plugin>
  <id>com.google.developers.certification</id>
  <name>Google Developers Certification</name>
  <version>1.2.3</version>
  <vendor>Google</vendor>
</idea-plugin>"#;

/// A plugin unpacked as a folder with META-INF/plugin.xml.
fn plugin(dir: &Path, folder: &str, xml: &str) {
    write(&dir.join(folder).join("META-INF/plugin.xml"), xml);
}

struct Machine {
    dir: TempDir,
    env: Vec<(String, String)>,
}

impl Machine {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let home = dir.path().join("home/ana");
        std::fs::create_dir_all(&home).unwrap();
        Machine {
            env: vec![
                ("HOME".into(), home.display().to_string()),
                ("PATH".into(), String::new()),
            ],
            dir,
        }
    }
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn home(&self) -> PathBuf {
        self.root().join("home/ana")
    }
    fn set(&mut self, key: &str, value: &str) {
        self.env.push((key.into(), value.into()));
    }
    fn findings(&self) -> Vec<Finding> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let host = Host::simulated(self.root(), OsFamily::Linux, &env);
        let text = "[profile]\nname = \"t\"\ntitle = \"t\"\ndescription = \"t\"\nsource = \"t\"\n\n[[check]]\nkind = \"pycharm\"\n";
        let profile = profile::parse(text, "t.toml", "test").unwrap();
        let ctx = Arc::new(Context::new(
            host,
            RunOptions::default(),
            profile.facts.clone(),
        ));
        run(ctx, &profile.checks, &Selection::default())
    }
}

fn get<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings.iter().find(|f| f.id == id).unwrap()
}

/// The chosen install's root, compared as a path: separators differ between OSes.
fn chosen(findings: &[Finding]) -> PathBuf {
    let install = get(findings, "pycharm.install");
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
            "home/ana/.local/share/flatpak/app",
            "com.jetbrains.PyCharm-Professional",
        ),
    ] {
        let m = Machine::new();
        let root = m
            .root()
            .join(base)
            .join(id)
            .join("current/active/files/pycharm");
        let data = if id.ends_with("Community") {
            "PyCharmCE2022.1"
        } else {
            "PyCharm2022.1"
        };
        let name = if id.ends_with("Community") {
            "PyCharm Community Edition"
        } else {
            "PyCharm"
        };
        install(&root, name, "2022.1.4", "221.6008.17", data);
        // The plugin where the sandboxed IDE puts it; the host's usual folder stays empty.
        let sandbox_plugins = m
            .home()
            .join(".var/app")
            .join(id)
            .join("data/JetBrains")
            .join(data);
        plugin(&sandbox_plugins, "GoogleDevCert", EXAM_PLUGIN);
        std::fs::create_dir_all(m.home().join(".local/share/JetBrains").join(data)).unwrap();
        let f = m.findings();
        assert_eq!(chosen(&f), root);
        let found = get(&f, "pycharm.plugin");
        assert_eq!(found.status, Status::Pass, "{found:#?}");
        assert!(
            plugin_path(found).starts_with(&sandbox_plugins),
            "{found:#?}"
        );
    }
}

#[test]
fn a_distribution_package_under_usr_share_is_found() {
    let m = Machine::new();
    let root = m.root().join("usr/share/pycharm");
    install(
        &root,
        "PyCharm Community Edition",
        "2023.2.1",
        "232.9559.58",
        "PyCharmCE2023.2",
    );
    plugin(
        &m.home().join(".local/share/JetBrains/PyCharmCE2023.2"),
        "GoogleDevCert",
        EXAM_PLUGIN,
    );
    let f = m.findings();
    assert_eq!(chosen(&f), root);
    assert_eq!(get(&f, "pycharm.plugin").status, Status::Pass);
}

#[test]
fn a_tarball_unpacked_anywhere_is_found_through_its_desktop_entry() {
    for applications in [
        "home/ana/.local/share/applications",
        "usr/share/applications",
    ] {
        let m = Machine::new();
        let root = m.home().join("tools/pycharm-community-2023.1.2");
        install(
            &root,
            "PyCharm Community Edition",
            "2023.1.2",
            "231.9011.38",
            "PyCharmCE2023.1",
        );
        // As PyCharm's Tools > Create Desktop Entry writes it.
        write(
            &m.root()
                .join(applications)
                .join("jetbrains-pycharm-ce.desktop"),
            &format!(
                "[Desktop Entry]\nVersion=1.0\nType=Application\nName=PyCharm Community Edition\nIcon={root}/bin/pycharm.svg\nExec=\"{root}/bin/pycharm.sh\" %f\nComment=Python IDE for Professional Developers\nCategories=Development;IDE;\nTerminal=false\nStartupWMClass=jetbrains-pycharm-ce\nStartupNotify=true\n",
                root = root.display()
            ),
        );
        let f = m.findings();
        assert_eq!(
            get(&f, "pycharm.install").status,
            Status::Pass,
            "{applications}"
        );
        assert_eq!(chosen(&f), root);
    }
}

#[test]
fn toolbox_2_custom_install_locations_are_read_from_its_state() {
    let m = Machine::new();
    let root = m.root().join("data/ides/pycharm-community");
    install(
        &root,
        "PyCharm Community Edition",
        "2023.3.2",
        "233.13135.95",
        "PyCharmCE2023.3",
    );
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
    write(
        &m.home().join(".local/share/JetBrains/Toolbox/state.json"),
        &state.to_string(),
    );
    let f = m.findings();
    assert_eq!(chosen(&f), root);
}

#[test]
fn idea_properties_move_the_plugin_directory_in_the_ides_order() {
    let mut m = Machine::new();
    let root = m.root().join("opt/pycharm-community-2023.1.2");
    install(
        &root,
        "PyCharm Community Edition",
        "2023.1.2",
        "231.9011.38",
        "PyCharmCE2023.1",
    );
    let from_bin = m.home().join("from-bin");
    let from_env = m.home().join("from-env");
    // The install's own file: `${user.home}` expands.
    write(
        &root.join("bin/idea.properties"),
        "# IDE properties\nidea.plugins.path=${user.home}/from-bin\n",
    );
    plugin(&from_bin, "GoogleDevCert", EXAM_PLUGIN);
    let f = m.findings();
    let found = get(&f, "pycharm.plugin");
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert_eq!(
        moved_by(found),
        Some(("idea.plugins.path".into(), root.join("bin/idea.properties")))
    );

    // ~/idea.properties comes before the install's file: the first file to set a key wins.
    write(
        &m.home().join("idea.properties"),
        "idea.plugins.path=${user.home}/from-home\n",
    );
    let found = get(&m.findings(), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert_eq!(
        moved_by(&found),
        Some(("idea.plugins.path".into(), m.home().join("idea.properties")))
    );
    plugin(&m.home().join("from-home"), "GoogleDevCert", EXAM_PLUGIN);
    assert_eq!(get(&m.findings(), "pycharm.plugin").status, Status::Pass);

    // The config directory's own file ("Edit Custom Properties") comes before ~/.
    write(
        &m.home()
            .join(".config/JetBrains/PyCharmCE2023.1/idea.properties"),
        "idea.plugins.path=/nowhere/at/all\n",
    );
    assert_eq!(get(&m.findings(), "pycharm.plugin").status, Status::Fail);

    // PYCHARM_PROPERTIES comes first of all.
    let env_file = m.root().join("etc/pycharm.properties");
    write(
        &env_file,
        // Forward slashes: in a properties file a backslash starts an escape.
        &format!(
            "idea.plugins.path={}\n",
            from_env.display().to_string().replace('\\', "/")
        ),
    );
    m.set("PYCHARM_PROPERTIES", &env_file.display().to_string());
    plugin(&from_env, "GoogleDevCert", EXAM_PLUGIN);
    let found = get(&m.findings(), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Pass, "{found:#?}");
    assert!(plugin_path(&found).starts_with(&from_env), "{found:#?}");
}

#[test]
fn comments_and_cdata_in_plugin_xml_do_not_fool_the_check() {
    let m = Machine::new();
    let root = m.root().join("opt/pycharm-community-2023.1.2");
    install(
        &root,
        "PyCharm Community Edition",
        "2023.1.2",
        "231.9011.38",
        "PyCharmCE2023.1",
    );
    let plugins = m.home().join(".local/share/JetBrains/PyCharmCE2023.1");
    // Another plugin whose comment and description mention the exam plugin's name.
    plugin(
        &plugins,
        "SomethingElse",
        r#"<idea-plugin>
  <!-- <name>Google Developers Certification</name> -->
  <id>org.example.other</id>
  <name>Other Plugin</name>
  <description><![CDATA[Works well with <name>Google Developers Certification</name>.]]></description>
</idea-plugin>"#,
    );
    let found = get(&m.findings(), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    assert_eq!(found.observed["plugins_seen"][0], "Other Plugin");
    // The real plugin, its name in CDATA, is recognised.
    plugin(
        &plugins,
        "GoogleDevCert",
        "<idea-plugin><id>com.google.developers.certification</id><name><![CDATA[Google Developers Certification]]></name></idea-plugin>",
    );
    assert_eq!(get(&m.findings(), "pycharm.plugin").status, Status::Pass);
}

#[test]
fn idea_config_path_moves_plugins_to_its_plugins_folder() {
    let m = Machine::new();
    let root = m.root().join("opt/pycharm-community-2023.1.2");
    install(
        &root,
        "PyCharm Community Edition",
        "2023.1.2",
        "231.9011.38",
        "PyCharmCE2023.1",
    );
    write(
        &root.join("bin/idea.properties"),
        "idea.config.path=${user.home}/portable/config\nidea.system.path=${user.home}/portable/system\n",
    );
    // The default folder holds the plugin, but the IDE no longer looks there.
    plugin(
        &m.home().join(".local/share/JetBrains/PyCharmCE2023.1"),
        "GoogleDevCert",
        EXAM_PLUGIN,
    );
    let found = get(&m.findings(), "pycharm.plugin").clone();
    assert_eq!(found.status, Status::Fail, "{found:#?}");
    plugin(
        &m.home().join("portable/config/plugins"),
        "GoogleDevCert",
        EXAM_PLUGIN,
    );
    assert_eq!(get(&m.findings(), "pycharm.plugin").status, Status::Pass);
}
