//! The renders of two hand-made reports, as snapshots: a newcomer (no virtualenv, a Python
//! too new for the pinned TensorFlow, no PyCharm) and a healthy machine. The findings come
//! from the built-in profile's own specs, so their causes are the ones a real run links;
//! nothing is probed.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

use preflight::check::FindingSpec;
use preflight::profile;
use preflight::render::{self, Format, RenderOptions};
use preflight::report::{Finding, HostInfo, ProfileInfo, Report};

const PROFILE: &str = "tf-cert-2023-01";
const VENV: &str = "/home/ana/exam/venv";

fn specs() -> Vec<FindingSpec> {
    let built_in = profile::built_in(PROFILE).expect("built-in profile");
    let profile = profile::parse(built_in.text, built_in.name, "built-in").expect("it parses");
    profile
        .checks
        .iter()
        .flat_map(|c| c.check.specs().into_iter().cloned().collect::<Vec<_>>())
        .collect()
}

/// An unjudged finding for `id`, from the profile's spec.
fn finding(specs: &[FindingSpec], id: &str) -> Finding {
    specs
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("the profile has no {id}"))
        .finding()
}

fn report(findings: Vec<Finding>) -> Report {
    let built_in = profile::built_in(PROFILE).unwrap();
    let profile = profile::parse(built_in.text, built_in.name, "built-in").unwrap();
    let mut report = Report::new(
        ProfileInfo {
            built_in: profile::built_in_names().contains(&profile.name.as_str()),
            name: profile.name,
            title: profile.title,
            description: profile.description,
            source: profile.source,
            verified: profile.verified,
        },
        HostInfo {
            name: Some("ana-laptop".into()),
            os: "Linux".into(),
            os_version: Some("24.04".into()),
            arch: "x86_64".into(),
        },
        findings,
        false,
    );
    // The renders show these; fixed here so the snapshots do not follow the clock or a release.
    report.tool.version = "0.1.0".into();
    report.generated_at = "2026-11-25T09:30:00Z".into();
    report.duration_ms = 412;
    report
}

fn system(specs: &[FindingSpec]) -> Vec<Finding> {
    vec![
        finding(specs, "system.os")
            .pass("Ubuntu 24.04 LTS")
            .observe("family", "Linux")
            .observe("version", "24.04"),
        finding(specs, "system.cpu")
            .pass("Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz (x86_64), with AVX")
            .observe(
                "features",
                serde_json::json!(["avx", "avx2", "fma", "sse4_2"]),
            ),
        finding(specs, "system.memory")
            .pass("15.5 GiB")
            .observe("total_bytes", 16_642_998_272u64),
        finding(specs, "system.disk").pass(
            "120.3 GiB free at virtualenv (/home/ana/exam); 120.3 GiB free at home (/home/ana)",
        ),
        finding(specs, "system.power").pass("on mains power"),
    ]
}

fn newcomer() -> Report {
    let s = specs();
    let mut findings = system(&s);
    findings.extend([
        finding(&s, "python.interpreter")
            .pass("/usr/bin/python3 (`python3` on PATH: no virtualenv was given or found)")
            .observe("interpreter", "/usr/bin/python3"),
        finding(&s, "python.version")
            .fail("Python 3.12.3: tensorflow 2.9.0 supports Python 3.7 to 3.10 only, so pip cannot install it here")
            .observe("version", "3.12.3")
            .observe("wanted", "==3.8.*")
            .fix(format!("Install Python 3.8 from python.org and recreate the virtualenv with it: `python3.8 -m venv --clear {VENV}`")),
        finding(&s, "python.venv")
            .warn("not a virtualenv: /usr/bin/python3 is a system interpreter")
            .detail("The exam plugin installs its pinned packages into a virtualenv of its own.")
            .fix(format!("Create one and pass it with --venv: `python3.8 -m venv {VENV}`")),
        finding(&s, "python.distribution")
            .pass("distribution package (/usr)")
            .observe("origin", "system"),
    ]);
    let pins = [
        ("tensorflow", "==2.9.0"),
        ("tensorflow-datasets", "==4.6.0"),
        ("pillow", "==9.1.1"),
        ("pandas", "==1.4.2"),
        ("numpy", "==1.22.4"),
        ("scipy", "==1.7.3"),
    ];
    for (key, wanted) in pins {
        let pin = finding(&s, &format!("packages.{key}")).observe("wanted", wanted);
        findings.push(if key == "tensorflow" {
            pin.fail("not installed, and cannot be: tensorflow 2.9.0 supports Python 3.7 to 3.10, this is Python 3.12.3")
                .fix("First recreate the virtualenv with a supported Python (see python.version), then install the pins.")
        } else {
            pin.fail(format!("not installed (wanted {wanted})"))
                .fix("/usr/bin/python3 -m pip install \"tensorflow-datasets==4.6.0\" \"Pillow==9.1.1\" \"pandas==1.4.2\" \"numpy==1.22.4\" \"scipy==1.7.3\"")
        });
    }
    findings.extend([
        finding(&s, "packages.compat").pass("no known-broken combination installed"),
        finding(&s, "python.deep")
            .skip("not run: pass --deep to import the packages and train a tiny model"),
        finding(&s, "pycharm.install")
            .fail("no PyCharm install found")
            .fix("Install PyCharm >=2021.3: from JetBrains' PyCharm download page take the Linux tarball (.tar.gz), or `sudo snap install pycharm-community --classic`; older releases are under \"Other versions\"."),
        finding(&s, "pycharm.version").skip("not decided: no readable PyCharm install"),
        finding(&s, "pycharm.plugin").skip("not decided: no readable PyCharm install"),
        finding(&s, "webcam.camera")
            .pass("Integrated_Webcam_HD (uvcvideo) at /dev/video0")
            .observe("device", "/dev/video0"),
    ]);
    findings.extend(network(&s));
    report(findings)
}

fn network(s: &[FindingSpec]) -> Vec<Finding> {
    s.iter()
        .filter(|spec| spec.id.starts_with("network."))
        .enumerate()
        .map(|(i, spec)| {
            let ms = 80 + 35 * i as u64;
            spec.finding()
                .pass(format!("HTTP 200 in {ms} ms"))
                .observe("latency_ms", ms)
        })
        .collect()
}

fn healthy() -> Report {
    let s = specs();
    let mut findings = system(&s);
    let python = format!("{VENV}/bin/python");
    findings.extend([
        finding(&s, "python.interpreter")
            .pass(format!("{python} (--venv)"))
            .observe("interpreter", python.clone()),
        finding(&s, "python.version")
            .pass("Python 3.8.18")
            .observe("version", "3.8.18"),
        finding(&s, "python.venv")
            .pass(format!("{VENV}, isolated, with pip 23.0.1"))
            .observe("path", VENV),
        finding(&s, "python.distribution")
            .pass("python.org (/usr/local)")
            .observe("origin", "python.org"),
    ]);
    for (key, version) in [
        ("tensorflow", "2.9.0"),
        ("tensorflow-datasets", "4.6.0"),
        ("pillow", "9.1.1"),
        ("pandas", "1.4.2"),
        ("numpy", "1.22.4"),
        ("scipy", "1.7.3"),
    ] {
        findings.push(
            finding(&s, &format!("packages.{key}"))
                .pass(version)
                .observe("version", version),
        );
    }
    findings.extend([
        finding(&s, "packages.compat").pass("no known-broken combination installed"),
        finding(&s, "python.deep")
            .skip("not run: pass --deep to import the packages and train a tiny model"),
        finding(&s, "pycharm.install")
            .pass("PyCharm Community 2023.1 at /home/ana/pycharm-community-2023.1")
            .observe("path", "/home/ana/pycharm-community-2023.1"),
        finding(&s, "pycharm.version").pass("2023.1"),
        finding(&s, "pycharm.plugin").pass("Google Developers Certification 1.0.6"),
        finding(&s, "webcam.camera")
            .pass("Integrated_Webcam_HD (uvcvideo) at /dev/video0")
            .observe("device", "/dev/video0"),
    ]);
    findings.extend(network(&s));
    report(findings)
}

fn human(report: &Report, unicode: bool, verbose: bool) -> String {
    render::render(
        report,
        Format::Human,
        RenderOptions {
            color: false,
            verbose,
            width: 80,
            unicode,
        },
    )
}

fn json(report: &Report) -> serde_json::Value {
    serde_json::from_str(&render::render(
        report,
        Format::Json,
        RenderOptions::default(),
    ))
    .expect("JSON")
}

#[test]
fn newcomer_fits_one_screen_with_numbered_steps() {
    let report = newcomer();
    for unicode in [true, false] {
        let text = human(&report, unicode, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() <= 40, "{} lines:\n{text}", lines.len());
        for line in &lines {
            assert!(line.chars().count() <= 80, "over 80 columns: {line}");
        }
        let what = lines
            .iter()
            .position(|l| *l == "What to do")
            .expect("a What to do list");
        let numbers: Vec<usize> = lines[what + 1..]
            .iter()
            .filter_map(|l| l.trim_start().split_once(". "))
            .filter_map(|(n, _)| n.parse().ok())
            .collect();
        assert!(numbers.len() >= 3, "{text}");
        assert_eq!(numbers, (1..=numbers.len()).collect::<Vec<_>>(), "{text}");
        // The summary closes the report, its verdict whole on the last line.
        let tail = &lines[lines.len() - 2..];
        assert!(tail.iter().any(|l| l.starts_with("Summary: ")), "{text}");
        assert!(lines.last().unwrap().contains("not ready: "), "{text}");
    }
}

#[test]
fn newcomer_steps_come_in_the_order_that_works_and_pins_follow_the_python() {
    let report = newcomer();
    let caused = |id: &str| {
        report
            .checks
            .iter()
            .find(|f| f.id == id)
            .unwrap()
            .caused_by
            .clone()
    };
    assert_eq!(
        caused("packages.tensorflow").as_deref(),
        Some("python.version")
    );
    assert_eq!(caused("packages.numpy").as_deref(), Some("python.version"));
    assert_eq!(caused("pycharm.plugin").as_deref(), Some("pycharm.install"));
    assert_eq!(caused("python.venv"), None);
    // The verdict still counts every failure.
    assert_eq!(report.summary.problems, 8);

    let steps = preflight::render::steps::plan(&report);
    let ids: Vec<Vec<&str>> = steps.iter().map(|s| s.ids.clone()).collect();
    assert_eq!(
        ids,
        [
            vec!["python.version"],
            vec!["python.venv"],
            vec!["pycharm.install"],
            vec![]
        ]
    );
    // No pip install of pins that cannot install on this Python is printed.
    let text = human(&report, true, false);
    assert!(!text.contains("pip install"), "{text}");
}

#[test]
fn machine_text_cannot_drive_the_terminal() {
    let s = specs();
    let mut findings = system(&s);
    findings[0] = finding(&s, "system.os")
        .warn(format!("\u{1b}]0;owned\u{7}\u{1b}[2J{}", "x".repeat(5000)))
        .detail("line\u{1b}[31m red\rback")
        .fix("run \u{1b}[1mthis\u{1b}[0m");
    let report = report(findings);
    let text = human(&report, true, true);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(!text.contains('\r'));
    assert!(!text.contains('\u{7}'));
    assert!(text.contains("line red back"), "{text}");
    assert!(text.contains("x…"), "long text is cut: {text}");
    assert!(text.len() < 3000, "bounded: {} bytes", text.len());
    let markdown = render::render(&report, Format::Markdown, RenderOptions::default());
    assert!(!markdown.contains('\u{1b}'), "{markdown:?}");
    assert!(markdown.len() < 5000, "bounded: {} bytes", markdown.len());
}

#[test]
fn the_newcomer_report_is_valid_json() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for report in [newcomer(), healthy()] {
        let value = json(&report);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn snapshot_newcomer_human_unicode() {
    insta::assert_snapshot!(human(&newcomer(), true, false));
}

#[test]
fn snapshot_newcomer_human_ascii() {
    insta::assert_snapshot!(human(&newcomer(), false, false));
}

#[test]
fn snapshot_newcomer_human_verbose() {
    insta::assert_snapshot!(human(&newcomer(), true, true));
}

#[test]
fn snapshot_healthy_human_unicode() {
    insta::assert_snapshot!(human(&healthy(), true, false));
}

#[test]
fn snapshot_healthy_human_ascii() {
    insta::assert_snapshot!(human(&healthy(), false, false));
}

#[test]
fn snapshot_newcomer_markdown() {
    insta::assert_snapshot!(render::render(
        &newcomer(),
        Format::Markdown,
        RenderOptions::default()
    ));
}

#[test]
fn snapshot_healthy_markdown() {
    insta::assert_snapshot!(render::render(
        &healthy(),
        Format::Markdown,
        RenderOptions::default()
    ));
}

/// What changes from run to run or release to release.
macro_rules! assert_report_json {
    ($report:expr) => {
        insta::assert_json_snapshot!(json(&$report), {
            ".generated_at" => "[generated_at]",
            ".duration_ms" => "[duration_ms]",
            ".tool.version" => "[version]",
            ".checks[].duration_ms" => "[duration_ms]",
        })
    };
}

#[test]
fn snapshot_newcomer_json() {
    assert_report_json!(newcomer());
}

#[test]
fn snapshot_healthy_json() {
    assert_report_json!(healthy());
}

#[test]
fn junit_names_the_cause_of_a_consequence_instead_of_its_fix() {
    let xml = render::render(&newcomer(), Format::Junit, RenderOptions::default());
    assert!(xml.contains("follows from: python.version"), "{xml}");
    assert!(!xml.contains("pip install"), "{xml}");
}
