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
