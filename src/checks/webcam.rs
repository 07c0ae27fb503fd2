//! `webcam`: a camera that is there, usable and free, for the ID photo the exam takes at
//! its start.
//!
//! Linux asks each `/dev/video*` node's driver what it is (through the Host's V4L2 door);
//! macOS asks `system_profiler`, Windows asks PowerShell's `Get-PnpDevice`. With no camera
//! found, a virtual machine or container is named, since that is the usual reason.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::check::{Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, Stakes};
use crate::host::{Host, OsFamily, exists};
use crate::platform::linux::{self, VideoNode};
use crate::platform::macos;
use crate::platform::windows::{self, CameraAnswer, DeviceKind, PnpDevice};
use crate::platform::{Place, hypervisor_named};
use crate::report::{Category, Finding};
use crate::video::{Capability, Probe};

pub const KIND: Kind = Kind {
    name: "webcam",
    build,
};

/// The kind has no settings; parsing still rejects misspelled keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let Config {} = config.parse()?;
    Ok(Box::new(Webcam))
}

struct Webcam;

pub static CAMERA: FindingSpec = FindingSpec::fixed(
    "webcam.camera",
    Category::Webcam,
    "Camera",
    Stakes::Fact,
    [
        "A camera is present, this user may open it, and no other program holds it. Linux: each /dev/video* node's driver is asked what it is (VIDIOC_QUERYCAP); only nodes that capture video count. macOS: system_profiler SPCameraDataType. Windows: Get-PnpDevice -Class Camera,Image (an Image-class device counts only as a camera, not a scanner or printer), the camera privacy settings and the administrator's camera policies.",
        "At the start of the exam the candidate shows a photo ID and is photographed by the computer's camera (docs/exam-facts.md).",
        "Connect or enable a camera; on Linux join the group that owns /dev/video* (usually `video`); close programs that hold the camera (video calls, OBS); in a virtual machine pass a webcam through or sit the exam on the host.",
    ],
);

impl Check for Webcam {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&CAMERA]
    }

    fn run(&self, ctx: &Context, deadline: Deadline) -> Vec<Finding> {
        let spec = &CAMERA;
        let finding = match ctx.host.os {
            OsFamily::Linux => linux(ctx, spec),
            OsFamily::Macos => macos(ctx, spec, deadline),
            OsFamily::Windows => windows(ctx, spec, deadline),
            OsFamily::Other => spec
                .finding()
                .skip(format!("not checked on {}", ctx.host.os.label())),
        };
        vec![finding]
    }
}

// ---------------------------------------------------------------------------------------
// Linux

/// `Card name (/dev/video0)`, by the driver's card name, else sysfs's name.
fn node_label(node: &VideoNode, capability: Option<&Capability>) -> String {
    let name = capability
        .map(|c| c.card.as_str())
        .filter(|c| !c.is_empty())
        .or(node.sysfs_name.as_deref());
    match name {
        Some(name) => format!("{name} (/dev/{})", node.name),
        None => format!("/dev/{}", node.name),
    }
}

/// What one node turned out to be.
enum State {
    Camera(Capability),
    Busy {
        capability: Option<Capability>,
        holders: Vec<String>,
    },
    Denied,
    NotCamera(Capability),
    NotV4l2,
    /// sysfs lists it but `/dev` has no node for it.
    NoDevNode,
    Broken(String),
}

impl State {
    fn word(&self) -> &'static str {
        match self {
            State::Camera(_) => "camera",
            State::Busy { .. } => "busy",
            State::Denied => "permission denied",
            State::NotCamera(c) if c.metadata_only() => "metadata only",
            State::NotCamera(_) => "not a camera",
            State::NotV4l2 => "not a V4L2 device",
            State::NoDevNode => "no /dev node",
            State::Broken(_) => "could not be opened",
        }
    }

    fn capability(&self) -> Option<&Capability> {
        match self {
            State::Camera(c) | State::NotCamera(c) => Some(c),
            State::Busy { capability, .. } => capability.as_ref(),
            _ => None,
        }
    }
}

/// Every node is judged; the best one decides: a free camera passes, else a busy one warns,
/// else a locked one fails with the group to join, then nodes that are not cameras, nodes
/// missing from /dev, nodes that would not open, and last no device at all.
fn linux(ctx: &Context, spec: &FindingSpec) -> Finding {
    let host = &ctx.host;
    let nodes = linux::video_nodes(host);
    let judged: Vec<(VideoNode, State)> = nodes
        .into_iter()
        .map(|node| {
            let state = judge_node(host, &node);
            (node, state)
        })
        .collect();
    let observed: Vec<Value> = judged
        .iter()
        .map(|(node, state)| {
            let mut entry = json!({ "node": format!("/dev/{}", node.name), "state": state.word() });
            if let Some(name) = &node.sysfs_name {
                entry["name"] = json!(name);
            }
            if let Some(c) = state.capability() {
                entry["card"] = json!(c.card);
                entry["driver"] = json!(c.driver);
                entry["bus_info"] = json!(c.bus_info);
            }
            entry
        })
        .collect();
    let details: Vec<String> = judged
        .iter()
        .map(|(node, state)| {
            let mut line = format!("{}: {}", node_label(node, state.capability()), state.word());
            if let Some(c) = state.capability() {
                line.push_str(&format!(", driver {}", c.driver));
            }
            if let State::Broken(why) = state {
                line.push_str(&format!(" ({why})"));
            }
            line
        })
        .collect();
    let finding = spec.finding().observe("devices", observed);

    if let Some((node, State::Camera(capability))) =
        judged.iter().find(|(_, s)| matches!(s, State::Camera(_)))
    {
        return finding
            .observe("camera", capability.card.clone())
            .observe("driver", capability.driver.clone())
            .pass(format!(
                "{}, driver {}",
                node_label(node, Some(capability)),
                capability.driver
            ))
            .details(if judged.len() > 1 {
                details
            } else {
                Vec::new()
            });
    }
    if let Some((
        node,
        State::Busy {
            capability,
            holders,
        },
    )) = judged.iter().find(|(_, s)| matches!(s, State::Busy { .. }))
    {
        let by = if holders.is_empty() {
            "another program".to_string()
        } else {
            holders.join(", ")
        };
        return finding
            .warn(format!(
                "{} is in use by {by}",
                node_label(node, capability.as_ref())
            ))
            .details(details)
            .fix(format!(
                "Close {by} before the exam: the exam's photo needs the camera free."
            ));
    }
    if let Some((node, _)) = judged.iter().find(|(_, s)| matches!(s, State::Denied)) {
        return finding
            .fail(format!(
                "{}: this user may not open it",
                node_label(node, None)
            ))
            .details(details)
            .fix(permission_fix(host, &node.path));
    }
    if judged
        .iter()
        .any(|(_, s)| matches!(s, State::NotCamera(_) | State::NotV4l2))
    {
        return finding
            .fail("video devices found, but none can capture video")
            .details(details)
            .fix("Connect a webcam (the nodes above are metadata, codec or output devices, not cameras).");
    }
    if judged.iter().any(|(_, s)| matches!(s, State::NoDevNode)) {
        let missing: Vec<String> = judged
            .iter()
            .filter(|(_, s)| matches!(s, State::NoDevNode))
            .map(|(n, _)| format!("/dev/{}", n.name))
            .collect();
        let place = linux_place(host).map_or_else(|| "this system".to_string(), |p| p.to_string());
        return finding
            .fail(format!(
                "the kernel lists a video device, but {} is missing in {place}",
                missing.join(", ")
            ))
            .details(details)
            .fix(format!(
                "Give the camera to this environment (for a container: `--device {}`), or sit the exam outside it.",
                missing[0]
            ));
    }
    if let Some((node, State::Broken(why))) =
        judged.iter().find(|(_, s)| matches!(s, State::Broken(_)))
    {
        return finding
            .fail(format!(
                "{}: could not be opened ({why})",
                node_label(node, None)
            ))
            .details(details)
            .fix("Unplug and replug the camera, then run preflight again.");
    }
    no_camera(host, finding, "no video device found", None)
}

fn judge_node(host: &Host, node: &VideoNode) -> State {
    if !node.in_dev {
        return State::NoDevNode;
    }
    match host.probe_video(&node.path) {
        Probe::Identified {
            capability,
            busy: true,
        } => State::Busy {
            capability: Some(capability),
            holders: linux::holders(host, &node.path),
        },
        Probe::Identified { capability, .. } if capability.captures_video() => {
            State::Camera(capability)
        }
        Probe::Identified { capability, .. } => State::NotCamera(capability),
        Probe::BusyOnOpen => State::Busy {
            capability: None,
            holders: linux::holders(host, &node.path),
        },
        Probe::PermissionDenied => State::Denied,
        Probe::NotV4l2 => State::NotV4l2,
        Probe::Failed(why) => State::Broken(why),
    }
}

/// How to get read/write access to `node`: join the group that owns it.
fn permission_fix(host: &Host, node: &Path) -> String {
    let group = linux::owning_group(host, node);
    let user = host.env_any(&["USER", "LOGNAME"]).map(|(_, u)| u);
    match group {
        Some(linux::Group { name, members }) if name != "root" => {
            let already = user.is_some_and(|u| members.iter().any(|m| m == u));
            if already {
                format!(
                    "You are in the `{name}` group already, but this session started before: log out and back in (or run `newgrp {name}`)."
                )
            } else {
                format!(
                    "Join the `{name}` group that owns {}: `sudo usermod -aG {name} $USER`, then log out and back in.",
                    display_node(host, node)
                )
            }
        }
        _ => format!(
            "{} is not readable and writable for you: ask the machine's administrator to give your user access (on most systems: `sudo usermod -aG video $USER`, then log out and back in).",
            display_node(host, node)
        ),
    }
}

/// `/dev/videoN` as the user knows it, whatever the host's root.
fn display_node(host: &Host, node: &Path) -> String {
    match node.strip_prefix(&host.root) {
        Ok(rest) => format!("/{}", rest.display()),
        Err(_) => node.display().to_string(),
    }
}

/// The container, WSL or virtual machine this Linux runs in, by what each leaves in the
/// file system (macOS and Windows are told by their own probes).
fn linux_place(host: &Host) -> Option<Place> {
    linux::place(&linux::PlaceEvidence::gather(host))
}

/// What to do about a camera this place does not see.
fn place_fix(place: Place) -> &'static str {
    match place {
        Place::Container(_) => {
            "Sit the exam outside the container, on a machine with a camera (or run the container with the camera passed in, e.g. `docker run --device /dev/video0`)."
        }
        Place::Wsl => {
            "WSL does not see Windows' camera: install PyCharm and the exam's Python on Windows itself."
        }
        Place::VirtualMachine(_) => {
            "Sit the exam on the host machine, or pass a webcam through to the virtual machine (VirtualBox: Devices > Webcams; VMware: VM > Removable Devices; QEMU: -device usb-host)."
        }
    }
}

/// No camera at all: say where this runs when that explains it.
fn no_camera(host: &Host, finding: Finding, summary: &str, place: Option<Place>) -> Finding {
    let place = place.or_else(|| (host.os == OsFamily::Linux).then(|| linux_place(host))?);
    match place {
        Some(place) => finding
            .observe("virtualization", place.to_string())
            .fail(format!("{summary}: this runs in {place}"))
            .fix(place_fix(place)),
        None => finding
            .fail(summary)
            .fix("Connect a webcam, or turn the built-in one on (some laptops have a switch, a key or a BIOS setting for it)."),
    }
}

// ---------------------------------------------------------------------------------------
// macOS

fn macos(ctx: &Context, spec: &FindingSpec, deadline: Deadline) -> Finding {
    let host = &ctx.host;
    let tool = Some(host.system_path("/usr/sbin/system_profiler"))
        .filter(|p| exists(p))
        .or_else(|| host.which("system_profiler"));
    let look = "Open Photo Booth and check that the camera shows a picture.";
    let Some(tool) = tool else {
        return tool_missing(spec, "system_profiler", look);
    };
    let args = ["SPCameraDataType", "-json"];
    let cameras = match ask_tool(
        ctx,
        deadline,
        &tool,
        "system_profiler",
        &args,
        macos::parse_system_profiler_cameras,
    ) {
        Ok(cameras) => cameras,
        Err(trouble) => return spec.finding().warn(trouble).fix(look),
    };
    let finding = spec.finding().observe(
        "cameras",
        cameras
            .iter()
            .map(|camera| json!({ "name": camera.name, "model": camera.model_id }))
            .collect::<Vec<_>>(),
    );
    match cameras.first() {
        Some(first) => finding
            .observe("camera", first.name.clone())
            .pass(describe_list(cameras.iter().map(|c| c.name.as_str())))
            .detail("macOS asks once per app for the camera: when the exam asks, allow it (System Settings > Privacy & Security > Camera)."),
        None => {
            let place = macos_virtual_machine(ctx, deadline).then_some(Place::VirtualMachine(None));
            no_camera(host, finding, "macOS lists no camera", place)
        }
    }
}

/// `kern.hv_vmm_present` is 1 inside a virtual machine.
fn macos_virtual_machine(ctx: &Context, deadline: Deadline) -> bool {
    let sysctl = ctx.host.system_path("/usr/sbin/sysctl");
    ctx.host
        .run(&sysctl, &["-n", "kern.hv_vmm_present"], deadline.step())
        .is_ok_and(|out| macos::hv_vmm_present(&out.stdout))
}

// ---------------------------------------------------------------------------------------
// Windows

fn windows(ctx: &Context, spec: &FindingSpec, deadline: Deadline) -> Finding {
    let host = &ctx.host;
    let tool = host
        .which("powershell")
        .or_else(|| host.which("pwsh"))
        .or_else(|| {
            let system_root = host.env_any(&["SystemRoot", "SYSTEMROOT", "windir"])?.1;
            Some(PathBuf::from(system_root).join(r"System32\WindowsPowerShell\v1.0\powershell.exe"))
                .filter(|p| exists(p))
        });
    let look = "Open the Camera app and check that it shows a picture.";
    let Some(tool) = tool else {
        return tool_missing(spec, "PowerShell", look);
    };
    let args = [
        "-NoProfile",
        "-NonInteractive",
        "-EncodedCommand",
        &windows::encode_powershell(windows::CAMERA_PROBE),
    ];
    let answer = match ask_tool(
        ctx,
        deadline,
        &tool,
        "PowerShell",
        &args,
        windows::parse_camera_answer,
    ) {
        Ok(answer) => answer,
        Err(trouble) => return spec.finding().warn(trouble).fix(look),
    };
    judge_windows(host, spec, answer)
}

fn judge_windows(host: &Host, spec: &FindingSpec, mut answer: CameraAnswer) -> Finding {
    let mut not_cameras = Vec::new();
    let mut unsure = Vec::new();
    answer.devices.retain(|d| {
        let name = d
            .friendly_name
            .clone()
            .unwrap_or_else(|| "unnamed device".into());
        match d.kind() {
            DeviceKind::Camera => true,
            DeviceKind::ProbablyCamera => {
                unsure.push(name);
                true
            }
            DeviceKind::Other(what) => {
                not_cameras.push(format!("{name}: {what}, not counted as a camera"));
                false
            }
        }
    });
    let mut finding = judge_windows_cameras(host, spec, &answer);
    for name in unsure {
        finding = finding.detail(format!(
            "{name}: listed under Imaging devices, which also holds scanners; counted as a camera, though Windows does not say that it is one"
        ));
    }
    finding.details(not_cameras)
}

fn judge_windows_cameras(host: &Host, spec: &FindingSpec, answer: &CameraAnswer) -> Finding {
    let name = |d: &PnpDevice| {
        d.friendly_name
            .clone()
            .unwrap_or_else(|| "unnamed device".into())
    };
    let status = |d: &PnpDevice| d.status.clone().unwrap_or_else(|| "Unknown".into());
    let mut finding = spec.finding().observe(
        "devices",
        answer
            .devices
            .iter()
            .map(|d| json!({ "name": name(d), "status": status(d), "class": d.class }))
            .collect::<Vec<_>>(),
    );
    let details: Vec<String> = answer
        .devices
        .iter()
        .map(|d| format!("{}: {}", name(d), windows_status_words(&status(d))))
        .collect();

    let denied = [
        (
            &answer.machine_consent,
            "Camera access for this device is off",
        ),
        (&answer.user_consent, "Camera access is off for apps"),
        (
            &answer.desktop_consent,
            "Desktop apps may not use the camera",
        ),
    ]
    .into_iter()
    .find(|(value, _)| {
        value
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("deny"))
    });
    let policy = if answer.allow_camera == Some(0) {
        Some("AllowCamera = 0 under HKLM\\SOFTWARE\\Policies\\Microsoft\\Camera")
    } else if answer.let_apps_access_camera == Some(2) {
        Some(
            "LetAppsAccessCamera = 2 under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\AppPrivacy",
        )
    } else {
        None
    };
    if let Some(policy) = policy {
        return finding
            .fail(format!("an administrator's policy blocks the camera ({policy})"))
            .details(details)
            .fix("The switches in Settings cannot override this policy: ask whoever manages this computer to lift it, or sit the exam on a computer of your own.");
    }
    if let Some((_, what)) = denied {
        return finding
            .fail(format!("{what} in Windows' privacy settings"))
            .details(details)
            .fix("Settings > Privacy & security > Camera: turn on Camera access, Let apps access your camera, and Let desktop apps access your camera.");
    }

    let working: Vec<&PnpDevice> = answer
        .devices
        .iter()
        .filter(|d| status(d).eq_ignore_ascii_case("ok"))
        .collect();
    if let Some(first) = working.first() {
        let names: Vec<String> = working.iter().map(|d| name(d)).collect();
        finding = finding.observe("camera", name(first));
        return finding
            .pass(describe_list(names.iter().map(String::as_str)))
            .details(if answer.devices.len() > 1 {
                details
            } else {
                Vec::new()
            });
    }
    if let Some(device) = answer.devices.first() {
        return finding
            .fail(format!(
                "{}: {}",
                name(device),
                windows_status_words(&status(device))
            ))
            .details(details)
            .fix("Reconnect the camera; if it stays so, open Device Manager > Cameras, and update or reinstall its driver.");
    }
    let machine = format!(
        "{} {}",
        answer.manufacturer.as_deref().unwrap_or_default(),
        answer.model.as_deref().unwrap_or_default()
    );
    let place = hypervisor_named(&machine).map(|name| Place::VirtualMachine(Some(name)));
    no_camera(host, finding, "Windows lists no camera", place)
}

/// What a Plug and Play status means to a candidate.
fn windows_status_words(status: &str) -> String {
    match status.to_ascii_lowercase().as_str() {
        "ok" => "working".into(),
        "unknown" => "not connected (Windows remembers it, but it is not present)".into(),
        "error" => "has a driver problem or is turned off in Device Manager".into(),
        "degraded" => "degraded".into(),
        other => format!("status {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// Shared by macOS and Windows

/// Run a camera-listing tool under the step deadline and read its answer; what went wrong
/// comes back in words, `name` first.
fn ask_tool<T>(
    ctx: &Context,
    deadline: Deadline,
    tool: &Path,
    name: &str,
    args: &[&str],
    read: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    let output = ctx
        .host
        .run(tool, args, deadline.step())
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        let said = output
            .stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message");
        let code = output
            .status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| format!("exit code {c}"));
        return Err(format!("{name} failed ({code}): {said}"));
    }
    if output.stdout.trim().is_empty() {
        return Err(
            match output.stderr.lines().map(str::trim).find(|l| !l.is_empty()) {
                Some(said) => format!("{name} gave no answer; it said: {said}"),
                None => format!("{name} gave no answer"),
            },
        );
    }
    read(&output.stdout).map_err(|why| format!("{name}'s answer could not be read: {why}"))
}

fn tool_missing(spec: &FindingSpec, tool: &str, look: &str) -> Finding {
    spec.finding()
        .warn(format!(
            "{tool} was not found, so the cameras could not be listed"
        ))
        .fix(look)
}

/// "A", "A and B", "A and 2 more".
fn describe_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [one, two] => format!("{one} and {two}"),
        [one, rest @ ..] => format!("{one} and {} more", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(describe_list(["A"].into_iter()), "A");
        assert_eq!(describe_list(["A", "B"].into_iter()), "A and B");
        assert_eq!(describe_list(["A", "B", "C"].into_iter()), "A and 2 more");
    }
}
