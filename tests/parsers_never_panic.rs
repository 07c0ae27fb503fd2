//! Property tests: every parser of what the machine holds (profile TOML, pyvenv.cfg, METADATA,
//! product-info.json, build.txt, pip.conf, every distribution's dependency metadata judged
//! as `packages.dependencies` judges it, the probe's answer, redaction, and what each OS
//! says: /proc and /sys text, /etc/group, container and VM evidence, system_profiler JSON,
//! scutil, PowerShell's JSON, `reg query`, `py -0p`, the registry's version values) takes
//! arbitrary bytes without a panic, and the OS parsers answer in bounded time. Parsers that
//! read files are fed real files in a temporary folder.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

use preflight::check::RunOptions;
use preflight::checks::pycharm::read_install;
use preflight::host::{Host, OsFamily};
use preflight::net::redact;
use preflight::pip_config;
use preflight::platform::linux::{self, PlaceEvidence, PowerSupply};
use preflight::platform::windows::{self, WindowsVersion};
use preflight::platform::{hypervisor_named, macos};
use preflight::profile;
use preflight::python::discover::{self, Discovery};
use preflight::python::dist::{self, metadata_headers};
use preflight::python::probe::Probe;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Bytes that look like the text these parsers expect as often as not: lines of `key=value`,
/// headers, JSON and TOML punctuation, non-UTF-8 bytes.
fn texty_bytes() -> impl Strategy<Value = Vec<u8>> {
    joined(&[
        b"\n",
        b"=",
        b": ",
        b"Name:",
        b"Version:",
        b"home",
        b"version",
        b"[global]",
        b"index-url",
        b"{\"version\":",
        b"PC-",
        b"[[check]]\nkind = ",
        b"://",
        b"@",
        b"?",
    ])
}

/// Up to 64 pieces joined: each one of `pieces` (as often as each other), non-UTF-8 bytes,
/// or up to 16 random bytes.
fn joined(pieces: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        pieces.len() as u32 => proptest::sample::select(pieces).prop_map(<[u8]>::to_vec),
        1 => Just(vec![0xff, 0xfe, 0xc3]),
        1 => proptest::collection::vec(any::<u8>(), 0..16),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|parts| parts.concat())
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
        // No control character but tabs and line breaks comes out (an escape sequence's
        // remains and other controls become spaces, so words may split there)...
        prop_assert!(shown.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\t')), "{shown:?}");
        // ...and redaction only replaces inside words or joins a password's words: never
        // more words than the text had, once its controls are spaces.
        let spaced: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        prop_assert!(
            shown.split_whitespace().count() <= spaced.split_whitespace().count(),
            "{text:?} -> {shown:?}"
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

    /// Every distribution metadata shape `packages.dependencies` reads (a .dist-info with
    /// METADATA and WHEEL, an .egg-info with PKG-INFO and requires.txt), judged: no panic.
    #[test]
    fn dependency_metadata_is_read_and_judged(
        metadata in metadata_bytes(),
        wheel in metadata_bytes(),
        requires in metadata_bytes(),
        second in metadata_bytes(),
    ) {
        use preflight::python::{depcheck, tags};
        let dir = TempDir::new().unwrap();
        let site = dir.path();
        std::fs::create_dir_all(site.join("a-1.0.dist-info")).unwrap();
        std::fs::write(site.join("a-1.0.dist-info/METADATA"), &metadata).unwrap();
        std::fs::write(site.join("a-1.0.dist-info/WHEEL"), &wheel).unwrap();
        std::fs::create_dir_all(site.join("b-1.0-py3.8.egg-info")).unwrap();
        std::fs::write(site.join("b-1.0-py3.8.egg-info/PKG-INFO"), &second).unwrap();
        std::fs::write(site.join("b-1.0-py3.8.egg-info/requires.txt"), &requires).unwrap();
        std::fs::write(site.join("c-1.0.egg-info"), &second).unwrap();
        let dists = dist::distributions_in(site);
        prop_assert_eq!(dists.len(), 3);
        let probe = Probe::parse("version=3.8.18\nmarker_implementation_name=cpython\nmarker_implementation_version=3.8.18\nmarker_os_name=posix\nmarker_sys_platform=linux\nmarker_python_version=3.8\nmarker_python_full_version=3.8.18\nmarker_platform_python_implementation=CPython\nmarker_platform_system=Linux\nmarker_platform_release=6.1\nmarker_platform_version=#1\nmarker_platform_machine=x86_64\nlibc=glibc 2.36\n").unwrap();
        let markers = depcheck::marker_environment(&probe).unwrap();
        let interpreter: Option<tags::Interpreter> = depcheck::tag_interpreter(&probe);
        let python = probe.version().unwrap();
        let outcome = depcheck::check(&[dists], &markers, &python, interpreter.as_ref(), &["a".to_string()]);
        for problem in &outcome.problems {
            let _ = problem.sentence("3.8.18");
            let _ = problem.to_json();
        }
        for wanted in outcome.wanted.values() {
            let _ = wanted.requirement();
        }
        let _ = dist::egg_requires(&lossy(&requires));
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
        let found = discover::locate(&host, &options);
        prop_assert!(matches!(found, Discovery::Found(_)), "{:?}", found);
        let _ = dist::installed(&[site], &["numpy".to_string()]);
    }
}

/// Pieces of METADATA, PKG-INFO, requires.txt and WHEEL files, and of PEP 508 requirements.
fn metadata_bytes() -> impl Strategy<Value = Vec<u8>> {
    joined(&[
        b"\n",
        b" ",
        b"\t",
        b"Name: a",
        b"version: 1.0",
        b"Requires-Dist: ",
        b"Requires-Python: ",
        b"Tag: ",
        b"requires-dist: b",
        b"a",
        b"b",
        b"Iota_Pkg",
        b"[x]",
        b"[:python_version < \"3\"]",
        b" (>=1.0,<3)",
        b">=2",
        b"<2.0.dev1",
        b"~=1.4",
        b"==1.*",
        b"!=",
        b"; ",
        b"extra == \"x\"",
        b"sys_platform == \"linux\"",
        b" and ",
        b" or ",
        b"python_full_version",
        b"\"",
        b"'",
        b"@ file:///x",
        b"cp38-cp38-manylinux_2_17_x86_64",
        b"py2.py3-none-any",
        b"-",
        b".",
        b"_",
    ])
}

/// Pieces of what the OS parsers read: /proc, /sys and /etc lines, `scutil` and `reg query`
/// layouts, `py -0p` entries, JSON punctuation, a byte-order mark, non-UTF-8 bytes.
fn os_text_bytes() -> impl Strategy<Value = Vec<u8>> {
    joined(&[
        b"\n",
        b"\r\n",
        b":",
        b",",
        b"=",
        b"flags\t\t: avx hypervisor",
        b"Features\t: fp asimd",
        b"video:x:44:",
        b"7:cpuset:/docker/",
        b"-microsoft-standard-WSL2",
        b"POWER_SUPPLY_TYPE=Battery",
        b"<dictionary> {",
        b"ExceptionsList : <array> {",
        b"HTTPSEnable : 1",
        b"HTTPSProxy : ",
        b" : ",
        b"}",
        b"    ProxyEnable    REG_DWORD    0x1",
        b"    ProxyServer    REG_SZ    ",
        b"socks=",
        b";",
        b" -V:3.12 *",
        b" -3.8-64",
        b"        C:\\Python38\\python.exe",
        b"{\"SPCameraDataType\":[",
        b"{\"devices\":",
        b"{\"value\":[",
        b"\"CompatibleID\":",
        b"\xef\xbb\xbf",
    ])
}

/// A JSON value of any kind, shallow: what a tool might write where a string was expected.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// One `Get-PnpDevice` object with fields of any JSON kind.
fn pnp_device() -> impl Strategy<Value = Value> {
    (any_json(), any_json(), any_json(), any_json()).prop_map(|(name, status, class, ids)| {
        json!({ "FriendlyName": name, "Status": status, "Class": class, "CompatibleID": ids })
    })
}

/// The camera probe's answer, with the device list in each shape PowerShell writes (a list,
/// one object, `{"value": [...], "Count": n}`) or none of them.
fn camera_answer_json() -> impl Strategy<Value = String> {
    let devices = prop_oneof![
        proptest::collection::vec(pnp_device(), 0..4).prop_map(Value::from),
        pnp_device(),
        proptest::collection::vec(pnp_device(), 0..4)
            .prop_map(|list| json!({ "value": list, "Count": list.len() })),
        any_json(),
    ];
    (devices, any_json(), any_json(), any_json(), any_json()).prop_map(
        |(devices, consent, allow, manufacturer, model)| {
            json!({
                "devices": devices,
                "machine_consent": consent,
                "user_consent": "Allow",
                "desktop_consent": null,
                "allow_camera": allow,
                "let_apps_access_camera": 2,
                "manufacturer": manufacturer,
                "model": model,
            })
            .to_string()
        },
    )
}

/// `system_profiler SPCameraDataType -json` with cameras whose fields are of any JSON kind.
fn system_profiler_json() -> impl Strategy<Value = String> {
    let camera = (any_json(), any_json(), any_json()).prop_map(|(name, model, unique)| {
        json!({ "_name": name, "spcamera_model-id": model, "spcamera_unique-id": unique })
    });
    prop_oneof![
        proptest::collection::vec(camera, 0..4)
            .prop_map(|list| json!({ "SPCameraDataType": list })),
        any_json().prop_map(|other| json!({ "SPCameraDataType": other })),
        any_json(),
    ]
    .prop_map(|value| serde_json::to_string_pretty(&value).unwrap())
}

/// Run one parse, failing if it takes longer than a generous bound: the inputs are a few
/// kilobytes, which each parser reads in well under a millisecond.
fn in_bounded_time<T>(parse: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let answer = parse();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    answer
}

proptest! {
    #[test]
    fn linux_proc_sys_and_etc_text(bytes in os_text_bytes(), gid in any::<u32>()) {
        let text = lossy(&bytes);
        in_bounded_time(|| {
            let _ = linux::cpu_features(&text);
            let _ = linux::cpu_model_name(&text);
            let _ = linux::group_with_id(&text, gid);
            let _ = linux::group_with_id(&text, 44);
            let _ = linux::video_number(&text);
            let _ = linux::process_id(&text);
            let _ = linux::process_label("4242", Some(&text));
            let _ = linux::sysfs_text(&text);
        });
    }

    #[test]
    fn power_supply_attributes(bytes in os_text_bytes()) {
        // Each attribute file holds whatever the uevent-like text gives for it.
        let text = lossy(&bytes);
        let attribute = |name: &str| {
            let key = format!("POWER_SUPPLY_{}=", name.to_ascii_uppercase());
            text.lines().find_map(|line| line.strip_prefix(&key)).map(str::to_string)
        };
        let _ = in_bounded_time(|| PowerSupply::from_attributes(attribute));
        let _ = in_bounded_time(|| PowerSupply::from_attributes(|_| Some(text.clone())));
    }

    #[test]
    fn container_wsl_and_vm_evidence(
        cgroup in os_text_bytes(),
        release in os_text_bytes(),
        vendor in os_text_bytes(),
        product in os_text_bytes(),
        flags in any::<(bool, bool, bool)>(),
    ) {
        let evidence = PlaceEvidence {
            docker_env: flags.0,
            container_env: flags.1,
            init_cgroup: lossy(&cgroup),
            kernel_release: lossy(&release),
            dmi_vendor: lossy(&vendor),
            dmi_product: lossy(&product),
            hypervisor_flag: flags.2,
        };
        let place = in_bounded_time(|| linux::place(&evidence));
        // A container's marker file always wins.
        if flags.0 || flags.1 {
            prop_assert!(matches!(place, Some(preflight::platform::Place::Container(_))));
        }
        let _ = in_bounded_time(|| hypervisor_named(&evidence.dmi_vendor));
    }

    #[test]
    fn macos_tools_text(bytes in os_text_bytes()) {
        let text = lossy(&bytes);
        in_bounded_time(|| {
            let _ = macos::parse_system_profiler_cameras(&text);
            let _ = macos::hv_vmm_present(&text);
            let _ = macos::parse_scutil_proxy(&text);
        });
    }

    #[test]
    fn system_profiler_json_of_any_shape(stdout in system_profiler_json()) {
        if let Ok(cameras) = in_bounded_time(|| macos::parse_system_profiler_cameras(&stdout)) {
            prop_assert!(cameras.len() < 4);
        }
    }

    #[test]
    fn windows_tools_text(bytes in os_text_bytes()) {
        let text = lossy(&bytes);
        in_bounded_time(|| {
            if let Ok(answer) = windows::parse_camera_answer(&text) {
                for device in &answer.devices {
                    let _ = device.kind();
                }
            }
            let _ = windows::parse_proxy_reg_query(&text);
            let _ = windows::parse_py_launcher_list(&text);
            let _ = windows::release_of_install_folder(&text);
        });
    }

    #[test]
    fn powershell_camera_answer_of_any_shape(stdout in camera_answer_json()) {
        let answer = in_bounded_time(|| windows::parse_camera_answer(&stdout));
        if let Ok(answer) = answer {
            for device in &answer.devices {
                let _ = device.kind();
            }
        }
    }

    #[test]
    fn registry_version_values(
        values in proptest::collection::vec(proptest::option::of(".{0,24}"), 5),
        revision in proptest::option::of(any::<u32>()),
    ) {
        let version = WindowsVersion {
            product_name: values[0].clone(),
            display_version: values[1].clone(),
            release_id: values[2].clone(),
            service_pack: values[3].clone(),
            build: values[4].clone(),
            update_revision: revision,
        };
        let (name, _) = in_bounded_time(|| version.describe());
        prop_assert!(!name.is_empty() || version.product_name.as_deref() == Some(""));
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
// entries): never a panic, and an answer within a deadline (a reference loop must not hang),
// on arbitrary bytes.

mod common;

use common::machine::Machine;
use preflight::pycharm_places;

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

/// `parse`'s answer, or a failure if it takes longer than a generous deadline. On a thread of
/// its own, unlike `in_bounded_time`: a reference loop then fails the test instead of hanging it.
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
