//! The `system` kind over simulated machines laid out in a temporary directory.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::sync::Arc;

use preflight::check::{Context, ProfileFacts, RunOptions};
use preflight::host::{Host, OsFamily};
use preflight::profile;
use preflight::report::{Finding, Status};
use preflight::runner::{Selection, run};
use tempfile::TempDir;

const PROFILE: &str = r#"[profile]
name = "t"
title = "t"
description = "t"
source = "t"
tensorflow = "2.9.0"

[[check]]
kind = "system"
min_memory_gb = 8
min_disk_gb = 0
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn findings(host: Host) -> Vec<Finding> {
    let profile = profile::parse(PROFILE, "t.toml", "test").unwrap();
    let facts = ProfileFacts {
        tensorflow: profile.facts.tensorflow.clone(),
        ..ProfileFacts::default()
    };
    let ctx = Arc::new(Context::new(host, RunOptions::default(), facts));
    run(ctx, &profile.checks, &Selection::default())
}

fn get<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings.iter().find(|f| f.id == id).unwrap()
}

fn linux(root: &Path) -> Host {
    let mut host = Host::simulated(root, OsFamily::Linux, &[("HOME", root.to_str().unwrap())]);
    host.facts.arch = "x86_64".into();
    host.facts.total_memory_bytes = Some(16 << 30);
    host
}

#[test]
fn a_cpu_without_avx_fails_with_the_reason() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "proc/cpuinfo",
        "processor\t: 0\nflags\t\t: fpu sse sse2 sse4_2\n",
    );
    let f = findings(linux(dir.path()));
    let cpu = get(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Fail);
    assert!(cpu.summary.contains("no AVX"), "{}", cpu.summary);
    assert!(cpu.details[0].contains("Illegal instruction"));
}

#[test]
fn a_cpu_with_avx_passes() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "proc/cpuinfo",
        "flags\t\t: fpu sse avx avx2 fma\n",
    );
    let f = findings(linux(dir.path()));
    assert_eq!(get(&f, "system.cpu").status, Status::Pass);
    assert_eq!(
        get(&f, "system.cpu").observed["features"],
        serde_json::json!(["avx", "avx2", "fma"])
    );
}

#[test]
fn unreadable_cpu_features_warn_rather_than_guess() {
    let dir = TempDir::new().unwrap();
    let f = findings(linux(dir.path()));
    assert_eq!(get(&f, "system.cpu").status, Status::Warn);
}

#[test]
fn apple_silicon_before_tf_2_16_is_told_to_use_tensorflow_macos() {
    let dir = TempDir::new().unwrap();
    let mut host = Host::simulated(dir.path(), OsFamily::Macos, &[]);
    host.facts.arch = "aarch64".into();
    let f = findings(host);
    let cpu = get(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Warn);
    assert!(
        cpu.fix
            .as_deref()
            .unwrap()
            .contains("tensorflow-macos==2.9.0"),
        "{:?}",
        cpu.fix
    );
    assert_eq!(get(&f, "system.power").status, Status::Skip);
}

#[test]
fn low_memory_warns_and_enough_passes() {
    let dir = TempDir::new().unwrap();
    let mut host = linux(dir.path());
    host.facts.total_memory_bytes = Some(4 << 30);
    let f = findings(host);
    assert_eq!(get(&f, "system.memory").status, Status::Warn);
    assert!(
        get(&f, "system.memory")
            .summary
            .contains("4.0 GiB, under the 8 GiB")
    );
    let f = findings(linux(dir.path()));
    assert_eq!(get(&f, "system.memory").status, Status::Pass);
}

#[test]
fn a_laptop_on_battery_warns_and_plugged_in_passes() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "sys/class/power_supply/BAT0/type", "Battery\n");
    write(
        dir.path(),
        "sys/class/power_supply/BAT0/status",
        "Discharging\n",
    );
    write(dir.path(), "sys/class/power_supply/AC/type", "Mains\n");
    write(dir.path(), "sys/class/power_supply/AC/online", "0\n");
    let f = findings(linux(dir.path()));
    assert_eq!(get(&f, "system.power").status, Status::Warn);
    write(dir.path(), "sys/class/power_supply/AC/online", "1\n");
    write(
        dir.path(),
        "sys/class/power_supply/BAT0/status",
        "Charging\n",
    );
    let f = findings(linux(dir.path()));
    assert_eq!(get(&f, "system.power").status, Status::Pass);
    assert_eq!(get(&f, "system.power").summary, "on mains power");
}

/// A wireless mouse as the kernel shows it: a `Battery` whose scope is `Device`.
fn wireless_mouse(root: &Path, status: &str) {
    let dir = "sys/class/power_supply/hidpp_battery_0";
    write(root, &format!("{dir}/type"), "Battery\n");
    write(root, &format!("{dir}/scope"), "Device\n");
    write(root, &format!("{dir}/status"), &format!("{status}\n"));
    write(root, &format!("{dir}/model_name"), "MX Master 3\n");
}

#[test]
fn a_desktop_with_a_wireless_mouse_is_on_mains() {
    let dir = TempDir::new().unwrap();
    wireless_mouse(dir.path(), "Discharging");
    let f = findings(linux(dir.path()));
    let power = get(&f, "system.power");
    assert_eq!(power.status, Status::Pass, "{power:?}");
    assert_eq!(power.summary, "no battery of its own (mains power)");
    assert_eq!(power.observed["batteries"], 0);
    assert_eq!(power.observed["device_batteries"], 1);
    assert_eq!(
        power.details,
        ["MX Master 3 (hidpp_battery_0): a device's own battery (scope Device), not the machine's"]
    );
}

#[test]
fn a_wireless_mouse_does_not_hide_or_fake_a_laptop_on_battery() {
    let dir = TempDir::new().unwrap();
    // On battery: the laptop's own battery decides, whatever the mouse says.
    wireless_mouse(dir.path(), "Full");
    write(dir.path(), "sys/class/power_supply/BAT0/type", "Battery\n");
    write(dir.path(), "sys/class/power_supply/BAT0/scope", "System\n");
    write(
        dir.path(),
        "sys/class/power_supply/BAT0/status",
        "Discharging\n",
    );
    write(dir.path(), "sys/class/power_supply/AC/type", "Mains\n");
    write(dir.path(), "sys/class/power_supply/AC/online", "0\n");
    let f = findings(linux(dir.path()));
    let power = get(&f, "system.power");
    assert_eq!(power.status, Status::Warn, "{power:?}");
    assert_eq!(power.observed["batteries"], 1);
    // Plugged in: a mouse running down is no reason to warn.
    wireless_mouse(dir.path(), "Discharging");
    write(
        dir.path(),
        "sys/class/power_supply/BAT0/status",
        "Charging\n",
    );
    write(dir.path(), "sys/class/power_supply/AC/online", "1\n");
    let f = findings(linux(dir.path()));
    let power = get(&f, "system.power");
    assert_eq!(power.status, Status::Pass, "{power:?}");
    assert_eq!(power.summary, "on mains power");
}

#[test]
fn disk_reports_free_space_for_the_venv_and_home() {
    let dir = TempDir::new().unwrap();
    let f = findings(linux(dir.path()));
    let disk = get(&f, "system.disk");
    assert_eq!(disk.status, Status::Pass);
    assert!(disk.observed.contains_key("virtualenv_free_bytes"));
    assert!(disk.observed.contains_key("home_free_bytes"));
}

#[test]
fn disk_measures_the_virtualenv_the_python_checks_judge() {
    let dir = TempDir::new().unwrap();
    // Joined part by part: `exam/.venv` would keep its `/` in a Windows path's display.
    let venv = dir.path().join("exam").join(".venv");
    write(&venv, "pyvenv.cfg", "home = /usr/bin\n");
    let mut host = linux(dir.path());
    host.cwd = dir.path().join("exam");
    let f = findings(host);
    let disk = get(&f, "system.disk");
    assert!(
        disk.summary
            .contains(&format!("at virtualenv ({})", venv.display())),
        "{}",
        disk.summary
    );

    let elsewhere = dir.path().join("envs/tf");
    let host = Host::simulated(
        dir.path(),
        OsFamily::Linux,
        &[("VIRTUAL_ENV", elsewhere.to_str().unwrap())],
    );
    let disk = findings(host);
    let summary = &get(&disk, "system.disk").summary;
    assert!(
        summary.contains(&format!("at virtualenv ({})", elsewhere.display())),
        "{summary}"
    );
}

/// A macOS host on Apple Silicon whose exam virtualenv is `venv`.
#[cfg(unix)]
fn apple_silicon_with_venv(root: &Path, venv: &Path) -> Host {
    let mut host = Host::simulated(
        root,
        OsFamily::Macos,
        &[
            ("HOME", root.to_str().unwrap()),
            ("VIRTUAL_ENV", venv.to_str().unwrap()),
        ],
    );
    host.facts.arch = "aarch64".into();
    host
}

/// The exam interpreter judged by its own architecture: this machine's real x86-64 Python,
/// seen from an Apple Silicon host, is exactly an Intel Python under Rosetta 2.
#[cfg(all(unix, target_arch = "x86_64"))]
#[test]
fn apple_silicon_with_an_x86_64_python_fails_as_rosetta_without_avx() {
    let dir = TempDir::new().unwrap();
    let venv = dir.path().join("venv");
    let status = std::process::Command::new("/usr/bin/python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(status.success(), "python3 -m venv failed");
    let f = findings(apple_silicon_with_venv(dir.path(), &venv));
    let cpu = get(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Fail, "{cpu:?}");
    assert!(cpu.summary.contains("under Rosetta 2"), "{}", cpu.summary);
    assert_eq!(cpu.observed["python_arch"], "x86_64");
}

/// A native arm64 Python 3.8, as the probe answers on a Mac (a recording played back).
#[cfg(unix)]
fn native_arm64_venv(root: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let venv = root.join("venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /Library/Frameworks/Python.framework/Versions/3.8/bin\ninclude-system-site-packages = false\nversion = 3.8.10\n",
    )
    .unwrap();
    let python = venv.join("bin/python");
    std::fs::write(
        &python,
        format!(
            "#!/bin/sh\nprintf 'version=3.8.10\\nexecutable={v}/bin/python\\nprefix={v}\\nbase_prefix=/Library/Frameworks/Python.framework/Versions/3.8\\nmachine=arm64\\n'\n",
            v = venv.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    venv
}

#[cfg(unix)]
#[test]
fn apple_silicon_names_the_tensorflow_that_exists_for_the_pin() {
    let dir = TempDir::new().unwrap();
    let venv = native_arm64_venv(dir.path());
    let host = apple_silicon_with_venv(dir.path(), &venv);
    let f = findings(host);
    let cpu = get(&f, "system.cpu");
    assert_eq!(cpu.observed["python_arch"], "arm64");
    assert_eq!(cpu.status, Status::Warn, "{cpu:?}");
    assert!(
        cpu.fix
            .as_deref()
            .unwrap()
            .contains("tensorflow-macos==2.9.0")
    );

    // The Dec 2020 era's tensorflow 2.3.0: nothing runs on Apple Silicon.
    let old = PROFILE.replace("2.9.0", "2.3.0");
    let profile = profile::parse(&old, "t.toml", "test").unwrap();
    let facts = ProfileFacts {
        tensorflow: profile.facts.tensorflow.clone(),
        ..ProfileFacts::default()
    };
    let host = apple_silicon_with_venv(dir.path(), &venv);
    let ctx = Arc::new(Context::new(host, RunOptions::default(), facts));
    let f = run(ctx, &profile.checks, &Selection::default());
    let cpu = get(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Fail, "{cpu:?}");
    assert_eq!(
        cpu.summary,
        "Apple Silicon: no build of tensorflow 2.3.0 runs here on Python 3.8"
    );
}

/// The packages kind's fix on the same Mac: it names the distribution that exists for arm64.
#[cfg(unix)]
#[test]
fn apple_silicon_pip_fix_names_the_package_that_exists() {
    let dir = TempDir::new().unwrap();
    let venv = native_arm64_venv(dir.path());
    let fix_for = |tensorflow: &str| {
        let text = format!(
            "[profile]\nname = \"t\"\ntensorflow = \"{tensorflow}\"\n\n[[check]]\nkind = \"packages\"\npins = [\"tensorflow=={tensorflow}\", \"Pillow==9.1.1\"]\n"
        );
        let profile = profile::parse(&text, "t.toml", "test").unwrap();
        let host = apple_silicon_with_venv(dir.path(), &venv);
        let ctx = Arc::new(Context::new(
            host,
            RunOptions::default(),
            ProfileFacts::default(),
        ));
        let f = run(ctx, &profile.checks, &Selection::default());
        let tf = get(&f, "packages.tensorflow");
        assert_eq!(tf.status, Status::Fail, "{tf:?}");
        (
            tf.fix.clone().unwrap(),
            get(&f, "packages.pillow").fix.clone().unwrap(),
        )
    };
    let python = venv.join("bin/python").display().to_string();
    let (tf, pillow) = fix_for("2.9.0");
    assert_eq!(
        tf,
        format!("{python} -m pip install tensorflow-macos==2.9.0 Pillow==9.1.1")
    );
    assert_eq!(tf, pillow);
    let (tf, pillow) = fix_for("2.13.0");
    assert!(
        tf.ends_with("install tensorflow==2.13.0 Pillow==9.1.1"),
        "{tf}"
    );
    assert_eq!(tf, pillow);
    let (tf, pillow) = fix_for("2.4.1");
    assert!(
        tf.starts_with("No build of tensorflow 2.4.1 exists for Apple Silicon"),
        "{tf}"
    );
    assert_eq!(pillow, format!("{python} -m pip install Pillow==9.1.1"));
}
