//! The `system` kind over simulated machines laid out in a temporary directory.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use common::machine::{Machine, finding};
use preflight::report::{Finding, Status};

/// The profile's keys and its system check (the test header names the profile).
const PROFILE: &str = r#"tensorflow = "2.9.0"

[[check]]
kind = "system"
min_memory_gb = 8
min_disk_gb = 0
"#;

/// An x86-64 Linux PC with 16 GiB.
fn linux() -> Machine {
    Machine::linux().arch("x86_64").memory_gib(16)
}

fn findings(m: &Machine) -> Vec<Finding> {
    m.findings(PROFILE)
}

#[test]
fn a_cpu_without_avx_fails_with_the_reason() {
    let m = linux().file(
        "proc/cpuinfo",
        "processor\t: 0\nflags\t\t: fpu sse sse2 sse4_2\n",
    );
    let f = findings(&m);
    let cpu = finding(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Fail);
    assert!(cpu.summary.contains("no AVX"), "{}", cpu.summary);
    assert!(cpu.details[0].contains("Illegal instruction"));
}

#[test]
fn a_cpu_with_avx_passes() {
    let m = linux().file("proc/cpuinfo", "flags\t\t: fpu sse avx avx2 fma\n");
    let f = findings(&m);
    assert_eq!(finding(&f, "system.cpu").status, Status::Pass);
    assert_eq!(
        finding(&f, "system.cpu").observed["features"],
        serde_json::json!(["avx", "avx2", "fma"])
    );
}

#[test]
fn unreadable_cpu_features_warn_rather_than_guess() {
    let f = findings(&linux());
    assert_eq!(finding(&f, "system.cpu").status, Status::Warn);
}

#[test]
fn apple_silicon_before_tf_2_16_is_told_to_use_tensorflow_macos() {
    let f = findings(&Machine::macos().arch("aarch64"));
    let cpu = finding(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Warn);
    assert!(
        cpu.fix
            .as_deref()
            .unwrap()
            .contains("tensorflow-macos==2.9.0"),
        "{:?}",
        cpu.fix
    );
    assert_eq!(finding(&f, "system.power").status, Status::Skip);
}

#[test]
fn low_memory_warns_and_enough_passes() {
    let f = findings(&linux().memory_gib(4));
    assert_eq!(finding(&f, "system.memory").status, Status::Warn);
    assert!(
        finding(&f, "system.memory")
            .summary
            .contains("4.0 GiB, under the 8 GiB")
    );
    let f = findings(&linux());
    assert_eq!(finding(&f, "system.memory").status, Status::Pass);
}

const POWER: &str = "sys/class/power_supply";

/// A laptop's own battery (scope `System`, as newer kernels say) and its charger.
fn laptop(m: Machine, battery: &str, charger_online: &str) -> Machine {
    m.file(format!("{POWER}/BAT0/type"), "Battery\n")
        .file(format!("{POWER}/BAT0/status"), format!("{battery}\n"))
        .file(format!("{POWER}/AC/type"), "Mains\n")
        .file(format!("{POWER}/AC/online"), format!("{charger_online}\n"))
}

#[test]
fn a_laptop_on_battery_warns_and_plugged_in_passes() {
    let m = laptop(linux(), "Discharging", "0");
    let f = findings(&m);
    assert_eq!(finding(&f, "system.power").status, Status::Warn);
    let m = laptop(m, "Charging", "1");
    let f = findings(&m);
    assert_eq!(finding(&f, "system.power").status, Status::Pass);
    assert_eq!(finding(&f, "system.power").summary, "on mains power");
}

/// A wireless mouse as the kernel shows it: a `Battery` whose scope is `Device`.
fn wireless_mouse(m: Machine, status: &str) -> Machine {
    let dir = format!("{POWER}/hidpp_battery_0");
    m.file(format!("{dir}/type"), "Battery\n")
        .file(format!("{dir}/scope"), "Device\n")
        .file(format!("{dir}/status"), format!("{status}\n"))
        .file(format!("{dir}/model_name"), "MX Master 3\n")
}

#[test]
fn a_desktop_with_a_wireless_mouse_is_on_mains() {
    let f = findings(&wireless_mouse(linux(), "Discharging"));
    let power = finding(&f, "system.power");
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
    // On battery: the laptop's own battery decides, whatever the mouse says.
    let m = wireless_mouse(linux(), "Full").file(format!("{POWER}/BAT0/scope"), "System\n");
    let m = laptop(m, "Discharging", "0");
    let f = findings(&m);
    let power = finding(&f, "system.power");
    assert_eq!(power.status, Status::Warn, "{power:?}");
    assert_eq!(power.observed["batteries"], 1);
    // Plugged in: a mouse running down is no reason to warn.
    let m = laptop(wireless_mouse(m, "Discharging"), "Charging", "1");
    let f = findings(&m);
    let power = finding(&f, "system.power");
    assert_eq!(power.status, Status::Pass, "{power:?}");
    assert_eq!(power.summary, "on mains power");
}

#[test]
fn disk_reports_free_space_for_the_venv_and_home() {
    let f = findings(&linux());
    let disk = finding(&f, "system.disk");
    assert_eq!(disk.status, Status::Pass);
    assert!(disk.observed.contains_key("virtualenv_free_bytes"));
    assert!(disk.observed.contains_key("home_free_bytes"));
}

#[test]
fn disk_measures_the_virtualenv_the_python_checks_judge() {
    // Joined part by part: `exam/.venv` would keep its `/` in a Windows path's display.
    let m = linux()
        .file(
            std::path::Path::new("exam")
                .join(".venv")
                .join("pyvenv.cfg"),
            "home = /usr/bin\n",
        )
        .cwd("exam");
    let venv = m.path("exam").join(".venv");
    let f = findings(&m);
    let disk = finding(&f, "system.disk");
    assert!(
        disk.summary
            .contains(&format!("at virtualenv ({})", venv.display())),
        "{}",
        disk.summary
    );

    let elsewhere = m.path("envs").join("tf");
    let disk = findings(&Machine::linux().env("VIRTUAL_ENV", &elsewhere));
    let summary = &finding(&disk, "system.disk").summary;
    assert!(
        summary.contains(&format!("at virtualenv ({})", elsewhere.display())),
        "{summary}"
    );
}

/// A Mac on Apple Silicon whose exam virtualenv is `venv`.
#[cfg(unix)]
fn apple_silicon_with_venv(m: Machine, venv: &std::path::Path) -> Machine {
    m.arch("aarch64").env("VIRTUAL_ENV", venv)
}

/// The exam interpreter judged by its own architecture: pyenv's x86-64 Python, seen from an
/// Apple Silicon host, is exactly an Intel Python under Rosetta 2.
#[cfg(all(unix, target_arch = "x86_64"))]
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn apple_silicon_with_an_x86_64_python_fails_as_rosetta_without_avx() {
    let python = common::venv::pyenv_python("3.8");
    let m = Machine::macos();
    let venv = common::venv::make_venv(&python, &m.path("venv"));
    let f = findings(&apple_silicon_with_venv(m, &venv));
    let cpu = finding(&f, "system.cpu");
    assert_eq!(cpu.status, Status::Fail, "{cpu:?}");
    assert!(cpu.summary.contains("under Rosetta 2"), "{}", cpu.summary);
    assert_eq!(cpu.observed["python_arch"], "x86_64");
}

/// A Mac with a native arm64 Python 3.8 virtualenv at `/venv`, as the probe answers there
/// (a recording played back).
#[cfg(unix)]
fn apple_silicon_with_native_arm64_venv() -> (Machine, std::path::PathBuf) {
    let m = Machine::macos();
    let venv = m.path("venv");
    let m = m
        .file(
            "venv/pyvenv.cfg",
            "home = /Library/Frameworks/Python.framework/Versions/3.8/bin\ninclude-system-site-packages = false\nversion = 3.8.10\n",
        )
        .executable(
            "venv/bin/python",
            &format!(
                "#!/bin/sh\nprintf 'version=3.8.10\\nexecutable={v}/bin/python\\nprefix={v}\\nbase_prefix=/Library/Frameworks/Python.framework/Versions/3.8\\nmachine=arm64\\n'\n",
                v = venv.display()
            ),
        );
    (apple_silicon_with_venv(m, &venv), venv)
}

#[cfg(unix)]
#[test]
fn apple_silicon_names_the_tensorflow_that_exists_for_the_pin() {
    let (m, _) = apple_silicon_with_native_arm64_venv();
    let f = findings(&m);
    let cpu = finding(&f, "system.cpu");
    assert_eq!(cpu.observed["python_arch"], "arm64");
    assert_eq!(cpu.status, Status::Warn, "{cpu:?}");
    assert!(
        cpu.fix
            .as_deref()
            .unwrap()
            .contains("tensorflow-macos==2.9.0")
    );

    // The Dec 2020 era's tensorflow 2.3.0: nothing runs on Apple Silicon.
    let f = m.findings(&PROFILE.replace("2.9.0", "2.3.0"));
    let cpu = finding(&f, "system.cpu");
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
    let (m, venv) = apple_silicon_with_native_arm64_venv();
    let fix_for = |tensorflow: &str| {
        let f = m.findings(&format!(
            "tensorflow = \"{tensorflow}\"\n\n[[check]]\nkind = \"packages\"\npins = [\"tensorflow=={tensorflow}\", \"Pillow==9.1.1\"]\n"
        ));
        let tf = finding(&f, "packages.tensorflow");
        assert_eq!(tf.status, Status::Fail, "{tf:?}");
        (
            tf.fix.clone().unwrap(),
            finding(&f, "packages.pillow").fix.clone().unwrap(),
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
