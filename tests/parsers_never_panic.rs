//! Property tests: every parser of what the machine holds (profile TOML, pyvenv.cfg, METADATA,
//! product-info.json, build.txt, pip.conf, the probe's answer, redaction) takes arbitrary
//! bytes without a panic. Parsers that read files are fed real files in a temporary folder.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

use preflight::check::RunOptions;
use preflight::checks::pycharm::read_install;
use preflight::host::{Host, OsFamily};
use preflight::net::redact;
use preflight::pip_config;
use preflight::profile;
use preflight::python_env::{self, Probe, metadata_headers};
use proptest::prelude::*;
use tempfile::TempDir;

/// Bytes that look like the text these parsers expect as often as not: lines of `key=value`,
/// headers, JSON and TOML punctuation, non-UTF-8 bytes.
fn texty_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"=".to_vec()),
        Just(b": ".to_vec()),
        Just(b"Name:".to_vec()),
        Just(b"Version:".to_vec()),
        Just(b"home".to_vec()),
        Just(b"version".to_vec()),
        Just(b"[global]".to_vec()),
        Just(b"index-url".to_vec()),
        Just(b"{\"version\":".to_vec()),
        Just(b"PC-".to_vec()),
        Just(b"[[check]]\nkind = ".to_vec()),
        Just(b"://".to_vec()),
        Just(b"@".to_vec()),
        Just(b"?".to_vec()),
        Just(vec![0xff, 0xfe, 0xc3]),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    proptest::collection::vec(pieces, 0..64).prop_map(|parts| parts.concat())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #[test]
    fn profile_toml(bytes in texty_bytes()) {
        let _ = profile::parse(&lossy(&bytes), "fuzz.toml", "fuzz");
    }

    #[test]
    fn metadata(bytes in texty_bytes()) {
        let _ = metadata_headers(bytes.as_slice());
    }

    #[test]
    fn pip_conf(bytes in texty_bytes()) {
        let _ = pip_config::parse(&lossy(&bytes));
    }

    #[test]
    fn probe_answer(bytes in texty_bytes()) {
        let _ = Probe::parse(&lossy(&bytes));
    }

    #[test]
    fn redaction_keeps_everything_but_secrets(bytes in texty_bytes()) {
        let text = lossy(&bytes);
        let shown = redact(&text);
        // Redaction replaces inside words: it never merges or splits them.
        prop_assert_eq!(
            shown.split_whitespace().count(),
            text.split_whitespace().count()
        );
    }

}

proptest! {
    // Each case writes real files: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pycharm_product_info_and_build_txt(info in texty_bytes(), build in texty_bytes()) {
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("product-info.json"), &info).unwrap();
        std::fs::write(dir.path().join("build.txt"), &build).unwrap();
        prop_assert!(read_install(dir.path()).is_some());
    }

    #[test]
    fn pyvenv_cfg_and_dist_info(cfg in texty_bytes(), metadata in texty_bytes()) {
        let dir = TempDir::new().unwrap();
        let venv = dir.path().join("venv");
        let site = venv.join("lib/python3.8/site-packages");
        std::fs::create_dir_all(site.join("numpy-1.0.dist-info")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), &cfg).unwrap();
        std::fs::write(site.join("numpy-1.0.dist-info/METADATA"), &metadata).unwrap();
        let host = Host::simulated(dir.path(), OsFamily::Linux, &[]);
        let options = RunOptions {
            venv: Some(venv.clone()),
            ..RunOptions::default()
        };
        let found = python_env::locate(&host, &options);
        prop_assert!(matches!(found, python_env::Discovery::Found(_)), "{:?}", found);
        let _ = python_env::installed(&[site], &["numpy".to_string()]);
    }
}

#[test]
fn redaction_of_non_ascii_around_markers_does_not_split_characters() {
    for text in [
        "é://é@é?é",
        "ü@",
        "@ü",
        "«https://a:b@c?d»",
        "x=é@h",
        "\u{3000}u:p@h",
    ] {
        let _ = redact(text);
    }
    assert!(!redact("«https://a:secret@c»").contains("secret"));
}

// ---------------------------------------------------------------------------------------
// The PyCharm kind's files (plugin.xml, Toolbox's state.json, idea.properties, `.desktop`
// entries) and the answers of `scutil --proxy`, `reg query` and `py --list-paths`: never a
// panic, and an answer within a deadline (a reference loop must not hang), on arbitrary bytes.

mod common;

use std::time::Duration;

use common::machine::Machine;
use preflight::{pycharm_places, system_proxy};

/// Pieces of the IDE's own formats, so that the bytes are often nearly well-formed.
fn ide_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"<idea-plugin>".to_vec()),
        Just(b"</idea-plugin>".to_vec()),
        Just(b"<name>".to_vec()),
        Just(b"</name>".to_vec()),
        Just(b"<id>".to_vec()),
        Just(b"</id>".to_vec()),
        Just(b"<![CDATA[".to_vec()),
        Just(b"]]>".to_vec()),
        Just(b"<!--".to_vec()),
        Just(b"-->".to_vec()),
        Just(b"&amp;".to_vec()),
        Just(b"&#x41;".to_vec()),
        Just(b"&#".to_vec()),
        Just(b"<?xml version=\"1.0\"?>".to_vec()),
        Just(b"{\"tools\":[{".to_vec()),
        Just(b"\"toolId\":\"PyCharm-C\",".to_vec()),
        Just(b"\"installLocation\":\"".to_vec()),
        Just(b"\"}]}".to_vec()),
        Just(b"[Desktop Entry]\n".to_vec()),
        Just(b"Exec=".to_vec()),
        Just(b"Icon=".to_vec()),
        Just(b"/bin/pycharm.sh".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"idea.plugins.path=".to_vec()),
        Just(b"idea.config.path=".to_vec()),
        Just(b"${".to_vec()),
        Just(b"}".to_vec()),
        Just(b"user.home".to_vec()),
        Just(b"\\\n".to_vec()),
        Just(b"\\u00".to_vec()),
        texty_bytes(),
    ];
    proptest::collection::vec(pieces, 0..32).prop_map(|parts| parts.concat())
}

/// `parse`'s answer, or a failure if it takes longer than a generous deadline (a loop).
fn within_deadline<T: Send + 'static>(parse: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(parse()));
    receive
        .recv_timeout(Duration::from_secs(10))
        .expect("the parser answers within 10 s")
}

/// `parse` answers `bytes`, read as text, within the deadline.
fn answers_in_time<T: Send + 'static>(bytes: &[u8], parse: fn(&str) -> T) {
    let text = lossy(bytes);
    let _ = within_deadline(move || parse(&text));
}

proptest! {
    #[test]
    fn plugin_xml(bytes in ide_bytes()) {
        answers_in_time(&bytes, pycharm_places::descriptor);
    }

    #[test]
    fn toolbox_state_json(bytes in ide_bytes()) {
        answers_in_time(&bytes, pycharm_places::toolbox_state_locations);
    }

    #[test]
    fn desktop_entry(bytes in ide_bytes()) {
        answers_in_time(&bytes, pycharm_places::desktop_entry_roots);
    }

    #[test]
    fn scutil_proxy_answer(bytes in texty_bytes()) {
        answers_in_time(&bytes, system_proxy::parse_scutil);
    }

    #[test]
    fn reg_query_proxy_answer(bytes in texty_bytes()) {
        answers_in_time(&bytes, system_proxy::parse_reg_query);
    }
}

proptest! {
    // Each case lays out a machine: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Both places a user or an install sets properties, each referring to the other's keys.
    #[test]
    fn idea_properties(in_home in ide_bytes(), in_install in ide_bytes()) {
        let m = Machine::linux()
            .file("home/ada/idea.properties", &in_home)
            .file("opt/pycharm/bin/idea.properties", &in_install);
        let (host, root) = (m.host(), m.path("opt/pycharm"));
        let place = within_deadline(move || {
            pycharm_places::plugin_place(&host, &root, "PyCharmCE2023.1")
        });
        prop_assert!(!place.dirs.is_empty(), "{:?}", place);
    }

    /// A Toolbox state file and a `.desktop` entry on disk, as the install search reads them.
    #[test]
    fn toolbox_state_and_desktop_files(state in ide_bytes(), desktop in ide_bytes()) {
        let m = Machine::linux()
            .file("home/ada/.local/share/JetBrains/Toolbox/state.json", &state)
            .file("home/ada/.local/share/applications/pycharm.desktop", &desktop);
        let host = m.host();
        let _ = within_deadline(move || {
            (
                pycharm_places::toolbox_state_roots(&host),
                pycharm_places::linux_install_roots(&host),
            )
        });
    }
}
