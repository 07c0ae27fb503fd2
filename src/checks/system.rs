//! `system`: the OS, the CPU TensorFlow's wheels need, memory, disk and power.

use std::path::PathBuf;

use pep440_rs::Version;
use serde::Deserialize;

use crate::check::{Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, Stakes};
use crate::host::OsFamily;
use crate::platform::linux::{self, PowerSupply};
use crate::python::PythonEnv;
use crate::python::compat::arm64_tensorflow;
use crate::python::discover::{self, Discovery, Located};
use crate::report::{Category, Finding};

pub const KIND: Kind = Kind {
    name: "system",
    build,
};

const GIB: f64 = (1u64 << 30) as f64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Below this much memory the run warns; the handbooks set no minimum.
    #[serde(default = "default_memory")]
    min_memory_gb: f64,
    /// Below this much free disk (where the venv lives, and at home) the run warns.
    #[serde(default = "default_disk")]
    min_disk_gb: f64,
}

fn default_memory() -> f64 {
    8.0
}

fn default_disk() -> f64 {
    5.0
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    for (key, value) in [
        ("min_memory_gb", parsed.min_memory_gb),
        ("min_disk_gb", parsed.min_disk_gb),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(config.error(key, "must be a number of GiB, zero or more"));
        }
    }
    Ok(Box::new(System {
        config: parsed,
        tensorflow: config.profile.tensorflow.clone(),
    }))
}

struct System {
    config: Config,
    tensorflow: Option<Version>,
}

pub static OS: FindingSpec = FindingSpec::fixed(
    "system.os",
    Category::System,
    "Operating system",
    Stakes::Advice,
    [
        "Names the operating system and its version.",
        "The exam's handbooks cover Windows, macOS and Linux; the rest of the report reads in its light.",
        "Nothing to fix on Windows, macOS or Linux: this line informs.",
    ],
);

pub static CPU: FindingSpec = FindingSpec::fixed(
    "system.cpu",
    Category::System,
    "CPU",
    Stakes::Fact,
    [
        "The CPU architecture, and on x86-64 that the CPU has AVX.",
        "TensorFlow's prebuilt x86-64 wheels use AVX: without it `import tensorflow` dies with \"Illegal instruction (core dumped)\". On Apple Silicon an x86-64 Python runs under Rosetta 2, which has no AVX; natively, `tensorflow` has arm64 wheels from 2.13 and `tensorflow-macos` covers 2.5 to 2.12; nothing exists for 2.3 and 2.4.",
        "Use a machine whose CPU has AVX (almost every x86-64 CPU since 2011). On Apple Silicon use a native arm64 Python and, before TF 2.13, install `tensorflow-macos` at the pinned version.",
    ],
);

pub static MEMORY: FindingSpec = FindingSpec::fixed(
    "system.memory",
    Category::System,
    "Memory",
    Stakes::Advice,
    [
        "The machine's total memory against the profile's advised minimum.",
        "Five models are trained in five hours inside PyCharm; with little memory training swaps and the clock runs out. The handbooks set no minimum, so this only warns.",
        "Close other programs during the exam, or sit it on a machine with more memory.",
    ],
);

pub static DISK: FindingSpec = FindingSpec::fixed(
    "system.disk",
    Category::System,
    "Free disk",
    Stakes::Advice,
    [
        "Free space where the virtualenv lives and in the home directory.",
        "TensorFlow's install takes over a gigabyte and the exam downloads datasets into the home directory.",
        "Free some space: empty the trash, remove old virtualenvs and caches (`pip cache purge`).",
    ],
);

pub static POWER: FindingSpec = FindingSpec::fixed(
    "system.power",
    Category::System,
    "Power",
    Stakes::Advice,
    [
        "Whether a laptop runs on battery (Linux).",
        "The exam lasts up to five hours: on battery the machine may sleep or throttle midway.",
        "Plug the laptop in for the exam.",
    ],
);

impl Check for System {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&OS, &CPU, &MEMORY, &DISK, &POWER]
    }

    fn run(&self, ctx: &Context, _deadline: Deadline) -> Vec<Finding> {
        vec![
            os(ctx, &OS),
            cpu(ctx, &CPU, self.tensorflow.as_ref()),
            memory(ctx, &MEMORY, self.config.min_memory_gb),
            disk(ctx, &DISK, self.config.min_disk_gb),
            power(ctx, &POWER),
        ]
    }
}

fn os(ctx: &Context, spec: &FindingSpec) -> Finding {
    let facts = &ctx.host.facts;
    let name = facts
        .os_name
        .clone()
        .unwrap_or_else(|| ctx.host.os.label().to_string());
    let version = facts.os_version.clone().unwrap_or_default();
    let finding = spec
        .finding()
        .observe("family", ctx.host.os.label())
        .observe("name", name.clone())
        .observe("version", version.clone())
        .observe("kernel", facts.kernel.clone().unwrap_or_default());
    let described = format!("{name} {version}").trim().to_string();
    if ctx.host.os == OsFamily::Other {
        return finding
            .warn(format!("{described}: not an OS the exam supports"))
            .fix("Sit the exam on Windows, macOS or Linux, as the handbooks describe.");
    }
    finding.pass(described)
}

fn cpu(ctx: &Context, spec: &FindingSpec, tensorflow: Option<&Version>) -> Finding {
    let facts = &ctx.host.facts;
    let arch = facts.arch.as_str();
    let mut finding = spec.finding().observe("arch", arch);
    if let Some(brand) = &facts.cpu_brand {
        finding = finding.observe("brand", brand.clone());
    }
    let label = match &facts.cpu_brand {
        Some(brand) => format!("{brand} ({arch})"),
        None => arch.to_string(),
    };
    match (arch, ctx.host.os) {
        ("x86_64", _) => {
            let Some(flags) = &facts.cpu_flags else {
                return finding
                    .warn(format!("{label}: could not read the CPU's features to confirm AVX"))
                    .fix("Check that the CPU supports AVX (on Linux: `grep -o -m1 avx /proc/cpuinfo`).");
            };
            finding = finding.observe("features", flags.clone());
            if flags.iter().any(|f| f == "avx") {
                finding.pass(format!("{label}, with AVX"))
            } else {
                finding
                    .fail(format!("{label} has no AVX: TensorFlow's wheels will not load"))
                    .detail("`import tensorflow` ends with \"Illegal instruction (core dumped)\" on CPUs without AVX.")
                    .fix("Sit the exam on a machine whose CPU has AVX; in a virtual machine, pass the host CPU's features through (e.g. `-cpu host` in QEMU/KVM).")
            }
        }
        ("aarch64", OsFamily::Macos) => apple_silicon(ctx, finding, &label, tensorflow),
        _ => finding
            .warn(format!(
                "{label}: TensorFlow's prebuilt wheels target x86-64"
            ))
            .fix("Check that pip can install the pinned TensorFlow for this CPU before exam day."),
    }
}

/// Apple Silicon: what counts is the exam interpreter's own architecture (the probe's
/// `platform.machine()`), not this program's: an x86-64 Python runs under Rosetta 2, which
/// has no AVX. The probe is the run's shared one, started once whichever check asks first.
fn apple_silicon(
    ctx: &Context,
    finding: Finding,
    label: &str,
    tensorflow: Option<&Version>,
) -> Finding {
    let env = ctx.shared::<PythonEnv>();
    let probe = env.probe_ok();
    let machine = probe.and_then(|p| p.machine.clone());
    let finding = finding
        .observe("apple_silicon", true)
        .observe("python_arch", machine.clone());
    if let Some(timed_out) = env.probe_timed_out() {
        return finding.skip(format!(
            "not decided on Apple Silicon, where the interpreter's architecture counts: {timed_out} (see python.interpreter)"
        ));
    }
    if machine.as_deref() == Some("x86_64") {
        return finding
            .fail(format!(
                "{label}: the exam's Python is an x86-64 build running under Rosetta 2, which has no AVX: TensorFlow's x86-64 wheels will not load"
            ))
            .detail("`import tensorflow` ends with \"Illegal instruction\" under Rosetta 2.")
            .fix("Install Python from python.org (its universal2 installer runs natively on Apple Silicon), recreate the virtualenv with it and reinstall the pins.");
    }
    let python = probe
        .and_then(|p| p.version())
        .and_then(|v| match v.release() {
            [major, minor, ..] => Some((*major, *minor)),
            _ => None,
        });
    let Some(tf) = tensorflow else {
        return finding.pass(format!("{label}: Apple Silicon"));
    };
    match arm64_tensorflow(tf, python) {
        Some("tensorflow") => {
            finding.pass(format!("{label}: Apple Silicon; tensorflow {tf} has arm64 wheels"))
        }
        Some(package) => finding
            .warn(format!(
                "Apple Silicon: tensorflow {tf} has no arm64 wheel; {package} {tf} has"
            ))
            .fix(format!(
                "In a native arm64 Python, install `{package}=={tf}` in place of `tensorflow`."
            )),
        None => finding
            .fail(format!(
                "Apple Silicon: no build of tensorflow {tf} runs here{}",
                python.map_or_else(String::new, |(major, minor)| format!(" on Python {major}.{minor}"))
            ))
            .detail("tensorflow has arm64 wheels from 2.13 and tensorflow-macos from 2.5; the x86-64 wheels need AVX, which Rosetta 2 lacks.")
            .fix("Sit this exam era on an x86-64 machine whose CPU has AVX, or practise with a profile of a later era."),
    }
}

fn memory(ctx: &Context, spec: &FindingSpec, min_gb: f64) -> Finding {
    let Some(bytes) = ctx.host.facts.total_memory_bytes else {
        return spec.finding().warn("could not read the total memory");
    };
    let gb = bytes as f64 / GIB;
    let finding = spec
        .finding()
        .observe("total_bytes", bytes)
        .observe("min_gb", min_gb);
    if gb + 0.05 < min_gb {
        finding
            .warn(format!("{gb:.1} GiB, under the {min_gb} GiB advised"))
            .fix("Close other programs (browsers, IDE indexes) during the exam, or use a machine with more memory.")
    } else {
        finding.pass(format!("{gb:.1} GiB"))
    }
}

fn disk(ctx: &Context, spec: &FindingSpec, min_gb: f64) -> Finding {
    // (observed key, words for the reader, path): the key stays `virtualenv` where the
    // virtualenv is yet to be made, so JSON readers find it in one place.
    let (venv_label, venv_path) = venv_place(ctx);
    let mut places = vec![("virtualenv", venv_label, venv_path)];
    if let Some(home) = &ctx.host.home {
        places.push(("home", "home", home.clone()));
    }
    let mut finding = spec.finding().observe("min_gb", min_gb);
    let mut short = Vec::new();
    let mut parts = Vec::new();
    for (key, label, path) in &places {
        match ctx.host.free_space(path) {
            Some(free) => {
                let gb = free as f64 / GIB;
                finding = finding.observe(&format!("{key}_free_bytes"), free);
                parts.push(format!("{gb:.1} GiB free at {label} ({})", path.display()));
                if gb < min_gb {
                    short.push(format!("{label} ({}): {gb:.1} GiB free", path.display()));
                }
            }
            None => parts.push(format!("{label} ({}): free space unknown", path.display())),
        }
    }
    if short.is_empty() {
        finding.pass(parts.join("; "))
    } else {
        finding
            .warn(format!("under {min_gb} GiB free: {}", short.join("; ")))
            .details(parts)
            .fix("Free some space: remove old virtualenvs and caches (`pip cache purge`), empty the trash.")
    }
}

/// Where the exam's virtualenv is: the one the Python checks judge, found from paths alone
/// so this check need not wait for the interpreter. Without one, the working directory,
/// where the exam project and its virtualenv get created.
fn venv_place(ctx: &Context) -> (&'static str, PathBuf) {
    match discover::locate(&ctx.host, &ctx.options) {
        Discovery::Found(Located {
            venv: Some(venv), ..
        }) => ("virtualenv", venv),
        Discovery::Unusable { path, .. } => ("virtualenv", path),
        _ => ("working directory", ctx.host.cwd.clone()),
    }
}

fn power(ctx: &Context, spec: &FindingSpec) -> Finding {
    if ctx.host.os != OsFamily::Linux {
        return spec
            .finding()
            .skip(format!("not checked on {}", ctx.host.os.label()));
    }
    let Some(supplies) = linux::power_supplies(&ctx.host) else {
        return spec.finding().pass("no battery found (mains power)");
    };
    let mut batteries = 0;
    let mut device_batteries = Vec::new();
    let mut discharging = false;
    let mut mains_online = false;
    for (name, supply) in supplies {
        match supply {
            PowerSupply::DeviceBattery { model } => {
                // Names from the device itself: one short printable line.
                let shown = |text: &str| -> String {
                    text.chars().filter(|c| !c.is_control()).take(64).collect()
                };
                let name = shown(&name);
                device_batteries.push(match model.map(|m| shown(&m)).filter(|m| !m.is_empty()) {
                    Some(model) => format!("{model} ({name})"),
                    None => name,
                });
            }
            PowerSupply::Battery { discharging: now } => {
                batteries += 1;
                discharging |= now;
            }
            PowerSupply::External { online } => mains_online |= online,
            PowerSupply::Other => {}
        }
    }
    device_batteries.sort();
    let mut finding = spec
        .finding()
        .observe("batteries", batteries)
        .observe("device_batteries", device_batteries.len());
    for device in &device_batteries {
        finding = finding.detail(format!(
            "{device}: a device's own battery (scope Device), not the machine's"
        ));
    }
    if batteries == 0 && !device_batteries.is_empty() {
        finding.pass("no battery of its own (mains power)")
    } else if batteries == 0 {
        finding.pass("no battery found (mains power)")
    } else if discharging && !mains_online {
        finding
            .warn("running on battery")
            .fix("Plug the laptop in: the exam lasts up to five hours.")
    } else {
        finding.pass("on mains power")
    }
}
