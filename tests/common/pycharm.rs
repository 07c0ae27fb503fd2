//! PyCharm-shaped files for the `Machine` harness: an install's product-info.json, an SDK
//! table as PyCharm 2024.3 writes it (tests/recorded/pycharm/jdk.table-2024.3-linux.xml is the
//! real one it follows), and a virtualenv's shape.

use std::path::Path;

use preflight::host::OsFamily;

use super::machine::Machine;

/// `product-info.json` as JetBrains ships it (the keys the check reads, and `launch`).
pub fn product_info(name: &str, version: &str, build: &str, data_dir: &str) -> String {
    format!(
        r#"{{"name": "{name}", "version": "{version}", "buildNumber": "{build}", "productCode": "{}", "dataDirectoryName": "{data_dir}", "launch": []}}"#,
        if name.contains("Community") {
            "PC"
        } else {
            "PY"
        }
    )
}

/// An SDK table holding one Python SDK per `(name, homePath)`, each as PyCharm 2024.3 writes a
/// virtualenv's: version, empty roots, `SDK_UUID` and `FLAVOR_ID`. `homePath` is written as
/// given (`$USER_HOME$/exam/venv/bin/python`); XML's special characters are escaped.
pub fn sdk_table(sdks: &[(&str, &str)]) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut xml = String::from("<application>\n  <component name=\"ProjectJdkTable\">\n");
    for (i, (name, home)) in sdks.iter().enumerate() {
        xml.push_str(&format!(
            r#"    <jdk version="2">
      <name value="{}" />
      <type value="Python SDK" />
      <version value="Python 3.8.10" />
      <homePath value="{}" />
      <roots>
        <classPath>
          <root type="composite" />
        </classPath>
        <sourcePath>
          <root type="composite" />
        </sourcePath>
      </roots>
      <additional SDK_UUID="00000000-0000-4000-8000-{i:012}">
        <setting name="FLAVOR_ID" value="VirtualEnvSdkFlavor" />
      </additional>
    </jdk>
"#,
            escape(name),
            escape(home)
        ));
    }
    xml.push_str("  </component>\n</application>");
    xml
}

/// Where a virtualenv at `venv` keeps its interpreter on `os`.
pub fn venv_interpreter(venv: &Path, os: OsFamily) -> std::path::PathBuf {
    if os == OsFamily::Windows {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// A virtualenv's shape at `venv` (relative to the machine's root): `pyvenv.cfg` and the
/// interpreter files `python -m venv` makes (`bin/python`, `bin/python3`; Windows
/// `Scripts\python.exe`). Not a working interpreter: these tests judge paths, and the real
/// venvs of the unix-only tests judge the rest.
pub fn venv_shape(m: Machine, venv: &str, os: OsFamily) -> Machine {
    let m = m.file(
        format!("{venv}/pyvenv.cfg"),
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.8.10\n",
    );
    if os == OsFamily::Windows {
        m.file(format!("{venv}/Scripts/python.exe"), "")
    } else {
        m.file(format!("{venv}/bin/python"), "")
            .file(format!("{venv}/bin/python3"), "")
    }
}
