//! `webcam`: a camera that is there, usable and free, for the ID photo the exam takes at
//! its start.
//!
//! Linux asks each `/dev/video*` node's driver what it is (through the Host's V4L2 door);
//! macOS asks `system_profiler`, Windows asks PowerShell's `Get-PnpDevice`. With no camera
//! found, a virtual machine or container is named, since that is the usual reason.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::check::{Category, Check, Context, Deadline, FindingSpec, Stakes};
use crate::host::{Host, OsFamily, exists, read_dir, read_link, read_small};
use crate::registry::{ConfigError, Kind, KindConfig};
use crate::report::Finding;
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

/// One `videoN` the kernel or `/dev` knows of.
struct Node {
    name: String,
    /// `/dev/videoN` under the host's root.
    path: PathBuf,
    /// The name sysfs gives the device, when sysfs lists it.
    sysfs_name: Option<String>,
    in_dev: bool,
}

impl Node {
    fn label(&self, capability: Option<&Capability>) -> String {
        let name = capability
            .map(|c| c.card.as_str())
            .filter(|c| !c.is_empty())
            .or(self.sysfs_name.as_deref());
        match name {
            Some(name) => format!("{name} (/dev/{})", self.name),
            None => format!("/dev/{}", self.name),
        }
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
    let nodes = video_nodes(host);
    let judged: Vec<(Node, State)> = nodes
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
            let mut line = format!("{}: {}", node.label(state.capability()), state.word());
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
                node.label(Some(capability)),
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
                node.label(capability.as_ref())
            ))
            .details(details)
            .fix(format!(
                "Close {by} before the exam: the exam's photo needs the camera free."
            ));
    }
    if let Some((node, _)) = judged.iter().find(|(_, s)| matches!(s, State::Denied)) {
        return finding
            .fail(format!("{}: this user may not open it", node.label(None)))
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
            .fail(format!("{}: could not be opened ({why})", node.label(None)))
            .details(details)
            .fix("Unplug and replug the camera, then run preflight again.");
    }
    no_camera(host, finding, "no video device found", None)
}

/// N of `videoN`.
fn video_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("video")?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())?
}

/// Every `videoN` in sysfs or `/dev`, in number order.
fn video_nodes(host: &Host) -> Vec<Node> {
    let numbered = |dir: &Path| -> BTreeSet<String> {
        let Ok(entries) = read_dir(dir) else {
            return BTreeSet::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| video_number(n).is_some())
            .collect()
    };
    let sysfs = host.system_path("/sys/class/video4linux");
    let dev = host.system_path("/dev");
    let in_dev = numbered(&dev);
    let mut names: Vec<String> = numbered(&sysfs).union(&in_dev).cloned().collect();
    names.sort_by_key(|name| video_number(name));
    names
        .into_iter()
        .map(|name| Node {
            sysfs_name: read_small(&sysfs.join(&name).join("name"))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            in_dev: in_dev.contains(&name),
            path: dev.join(&name),
            name,
        })
        .collect()
}

fn judge_node(host: &Host, node: &Node) -> State {
    if !node.in_dev {
        return State::NoDevNode;
    }
    match host.probe_video(&node.path) {
        Probe::Identified {
            capability,
            busy: true,
        } => State::Busy {
            capability: Some(capability),
            holders: holders(host, &node.path),
        },
        Probe::Identified { capability, .. } if capability.captures_video() => {
            State::Camera(capability)
        }
        Probe::Identified { capability, .. } => State::NotCamera(capability),
        Probe::BusyOnOpen => State::Busy {
            capability: None,
            holders: holders(host, &node.path),
        },
        Probe::PermissionDenied => State::Denied,
        Probe::NotV4l2 => State::NotV4l2,
        Probe::Failed(why) => State::Broken(why),
    }
}

/// The programs that have `node` open, as `/proc` tells (only this user's processes,
/// unless preflight runs as root).
fn holders(host: &Host, node: &Path) -> Vec<String> {
    let Ok(processes) = read_dir(host.system_path("/proc")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
        else {
            continue;
        };
        let Ok(fds) = read_dir(process.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| read_link(fd.path()).is_ok_and(|target| target == node));
        if holds {
            let command = read_small(&process.path().join("comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_default();
            found.push(if command.is_empty() {
                format!("pid {pid}")
            } else {
                format!("{command} (pid {pid})")
            });
        }
    }
    found.sort();
    found
}

/// How to get read/write access to `node`: join the group that owns it.
fn permission_fix(host: &Host, node: &Path) -> String {
    let group = owning_group(host, node);
    let user = host.env_any(&["USER", "LOGNAME"]).map(|(_, u)| u);
    match group {
        Some((name, members)) if name != "root" => {
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

/// The group owning `node` and its listed members, from the host's `/etc/group`.
fn owning_group(host: &Host, node: &Path) -> Option<(String, Vec<String>)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let gid = crate::host::metadata(node).ok()?.gid().to_string();
        let groups = read_small(&host.system_path("/etc/group")).ok()?;
        groups.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() >= 4 && fields[2] == gid).then(|| {
                let members = fields[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect();
                (fields[0].to_string(), members)
            })
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (host, node);
        None
    }
}

/// The container, WSL or virtual machine this Linux runs in, by what each leaves in the
/// file system (macOS and Windows are told by their own probes).
fn linux_place(host: &Host) -> Option<Place> {
    let exists = |p: &str| crate::host::exists(host.system_path(p));
    let text = |p: &str| {
        read_small(&host.system_path(p))
            .map(|t| t.to_lowercase())
            .unwrap_or_default()
    };
    if exists("/.dockerenv") {
        return Some(Place::Container("a Docker container"));
    }
    if exists("/run/.containerenv") {
        return Some(Place::Container("a Podman container"));
    }
    let cgroup = text("/proc/1/cgroup");
    if ["docker", "kubepods", "containerd", "lxc"]
        .iter()
        .any(|m| cgroup.contains(m))
    {
        return Some(Place::Container("a container"));
    }
    if text("/proc/sys/kernel/osrelease").contains("microsoft") {
        return Some(Place::Wsl);
    }
    let dmi = format!(
        "{} {}",
        text("/sys/class/dmi/id/sys_vendor"),
        text("/sys/class/dmi/id/product_name")
    );
    if let Some(name) = hypervisor_named(&dmi) {
        return Some(Place::VirtualMachine(Some(name)));
    }
    let flagged = host
        .facts
        .cpu_flags
        .as_ref()
        .is_some_and(|flags| flags.iter().any(|f| f == "hypervisor"));
    flagged.then_some(Place::VirtualMachine(None))
}

/// A hypervisor recognised in a machine's vendor and model strings.
fn hypervisor_named(vendor_and_model: &str) -> Option<&'static str> {
    const MARKERS: &[(&str, &str)] = &[
        ("virtualbox", "VirtualBox"),
        ("vmware", "VMware"),
        ("qemu", "QEMU/KVM"),
        ("kvm", "QEMU/KVM"),
        ("standard pc (", "QEMU/KVM"),
        ("microsoft corporation virtual machine", "Hyper-V"),
        ("hyper-v", "Hyper-V"),
        ("parallels", "Parallels"),
        ("xen", "Xen"),
        ("bochs", "Bochs"),
        ("amazon ec2", "Amazon EC2"),
        ("google compute engine", "Google Compute Engine"),
    ];
    let lower = vendor_and_model.to_lowercase();
    MARKERS
        .iter()
        .find(|(marker, _)| lower.contains(marker))
        .map(|(_, name)| *name)
}

/// Where this runs, when that is why no camera is seen.
enum Place {
    /// "a Docker container", "a Podman container", "a container".
    Container(&'static str),
    Wsl,
    /// With the hypervisor's name when it is known.
    VirtualMachine(Option<&'static str>),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Container(kind) => f.write_str(kind),
            Place::Wsl => f.write_str("WSL"),
            Place::VirtualMachine(Some(name)) => write!(f, "a virtual machine ({name})"),
            Place::VirtualMachine(None) => f.write_str("a virtual machine"),
        }
    }
}

impl Place {
    fn fix(&self) -> &'static str {
        match self {
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
}

/// No camera at all: say where this runs when that explains it.
fn no_camera(host: &Host, finding: Finding, summary: &str, place: Option<Place>) -> Finding {
    let place = place.or_else(|| (host.os == OsFamily::Linux).then(|| linux_place(host))?);
    match place {
        Some(place) => finding
            .observe("virtualization", place.to_string())
            .fail(format!("{summary}: this runs in {place}"))
            .fix(place.fix()),
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
        parse_system_profiler,
    ) {
        Ok(cameras) => cameras,
        Err(trouble) => return spec.finding().warn(trouble).fix(look),
    };
    let finding = spec.finding().observe(
        "cameras",
        cameras
            .iter()
            .map(|(name, model)| json!({ "name": name, "model": model }))
            .collect::<Vec<_>>(),
    );
    match cameras.first() {
        Some((name, _)) => finding
            .observe("camera", name.clone())
            .pass(describe_list(cameras.iter().map(|(n, _)| n.as_str())))
            .detail("macOS asks once per app for the camera: when the exam asks, allow it (System Settings > Privacy & Security > Camera)."),
        None => {
            let place = macos_virtual_machine(ctx, deadline).then_some(Place::VirtualMachine(None));
            no_camera(host, finding, "macOS lists no camera", place)
        }
    }
}

/// `(name, model id)` of each camera in `system_profiler SPCameraDataType -json`.
fn parse_system_profiler(stdout: &str) -> Result<Vec<(String, String)>, String> {
    let value: Value = serde_json::from_str(stdout).map_err(|e| e.to_string())?;
    let list = value
        .get("SPCameraDataType")
        .and_then(Value::as_array)
        .ok_or("no SPCameraDataType list")?;
    Ok(list
        .iter()
        .map(|camera| {
            let field = |key: &str| {
                camera
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (field("_name"), field("spcamera_model-id"))
        })
        .collect())
}

/// `kern.hv_vmm_present` is 1 inside a virtual machine.
fn macos_virtual_machine(ctx: &Context, deadline: Deadline) -> bool {
    let sysctl = ctx.host.system_path("/usr/sbin/sysctl");
    ctx.host
        .run(&sysctl, &["-n", "kern.hv_vmm_present"], deadline.step())
        .is_ok_and(|out| out.stdout.trim() == "1")
}

// ---------------------------------------------------------------------------------------
// Windows

/// Cameras as Plug and Play lists them (with their compatible IDs, which tell a video
/// device from a scanner or printer), the camera privacy switches (machine, user, desktop
/// apps: the exam runs in PyCharm and a browser, both desktop apps), the administrator's
/// camera policies, and, only when no camera is listed, the machine's model to recognise a
/// virtual machine. One JSON object on stdout, in UTF-8 without a byte-order mark: a pipe
/// would otherwise get the console's OEM code page.
const WINDOWS_PROBE: &str = r#"[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$ErrorActionPreference = 'SilentlyContinue'
$key = 'Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore\webcam'
$devices = @(Get-PnpDevice -Class Camera,Image | Select-Object FriendlyName,Status,Class,InstanceId,CompatibleID)
if ($devices.Count -eq 0) { $system = Get-CimInstance Win32_ComputerSystem }
[pscustomobject]@{
  devices = $devices
  machine_consent = (Get-ItemProperty "HKLM:\$key").Value
  user_consent = (Get-ItemProperty "HKCU:\$key").Value
  desktop_consent = (Get-ItemProperty "HKCU:\$key\NonPackaged").Value
  allow_camera = (Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Camera').AllowCamera
  let_apps_access_camera = (Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\AppPrivacy').LetAppsAccessCamera
  manufacturer = $system.Manufacturer
  model = $system.Model
} | ConvertTo-Json -Depth 3 -Compress
"#;

#[derive(Debug, Deserialize)]
struct WindowsAnswer {
    #[serde(default, deserialize_with = "one_or_many")]
    devices: Vec<PnpDevice>,
    machine_consent: Option<String>,
    user_consent: Option<String>,
    desktop_consent: Option<String>,
    /// Policy `HKLM\SOFTWARE\Policies\Microsoft\Camera\AllowCamera`: 0 turns cameras off.
    #[serde(default)]
    allow_camera: Option<i64>,
    /// Policy `...\Policies\Microsoft\Windows\AppPrivacy\LetAppsAccessCamera`: 2 denies.
    #[serde(default)]
    let_apps_access_camera: Option<i64>,
    manufacturer: Option<String>,
    model: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PnpDevice {
    friendly_name: Option<String>,
    status: Option<String>,
    class: Option<String>,
    #[serde(default, rename = "CompatibleID", deserialize_with = "strings")]
    compatible_id: Vec<String>,
}

/// A string list that PowerShell may write as one string, as `null`, or as a list.
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(one) => vec![one],
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

/// What a listed device is: Windows files webcams under Cameras, and older ones under
/// Imaging devices (`Image`), where scanners and multifunction printers live too.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceKind {
    Camera,
    /// Counted as a camera, though nothing it says proves it.
    ProbablyCamera,
    /// Not a camera; the reason in words.
    Other(&'static str),
}

fn device_kind(device: &PnpDevice) -> DeviceKind {
    if device
        .class
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("camera"))
    {
        return DeviceKind::Camera;
    }
    let ids: Vec<String> = device
        .compatible_id
        .iter()
        .map(|id| id.to_ascii_uppercase())
        .collect();
    let has_id = |needle: &str| ids.iter().any(|id| id.contains(needle));
    // USB interface classes: 0E video, 06 still image (scanners, photo cameras over PTP),
    // 07 printer.
    if has_id("CLASS_0E") {
        return DeviceKind::Camera;
    }
    if has_id("CLASS_07") {
        return DeviceKind::Other("a printer");
    }
    let name = device
        .friendly_name
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let named = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if named(&["print", "mfp", "fax", "all-in-one"]) {
        return DeviceKind::Other("a printer");
    }
    if named(&["scan"]) {
        return DeviceKind::Other("a scanner");
    }
    if has_id("CLASS_06") {
        return DeviceKind::Other(
            "a still-image device (a scanner or a photo camera), not a webcam",
        );
    }
    if named(&["cam", "video", "brio"]) {
        return DeviceKind::Camera;
    }
    // Scanners of multifunction printers often carry only the model's name.
    let printer_makers = [
        "epson", "brother", "canon", "kyocera", "ricoh", "xerox", "lexmark",
    ];
    if named(&printer_makers) || named(&["jet"]) {
        return DeviceKind::Other("most likely a scanner or printer (by its maker and model)");
    }
    DeviceKind::ProbablyCamera
}

/// Windows PowerShell 5.1 writes a one-element array as the element itself, and some arrays
/// as `{"value": [...], "Count": n}`; take all three shapes.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PnpDevice>, D::Error> {
    let value = Value::deserialize(d)?;
    let list = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("value") {
            Some(Value::Array(items)) => items,
            _ => vec![Value::Object(object)],
        },
        other => vec![other],
    };
    list.into_iter()
        .map(|item| serde_json::from_value(item).map_err(serde::de::Error::custom))
        .collect()
}

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
        &encode_powershell(WINDOWS_PROBE),
    ];
    // A byte-order mark would only come from a PowerShell that ignored the encoding asked for.
    let read = |stdout: &str| {
        serde_json::from_str(stdout.trim().trim_start_matches('\u{feff}'))
            .map_err(|e| e.to_string())
    };
    let answer: WindowsAnswer = match ask_tool(ctx, deadline, &tool, "PowerShell", &args, read) {
        Ok(answer) => answer,
        Err(trouble) => return spec.finding().warn(trouble).fix(look),
    };
    judge_windows(host, spec, answer)
}

fn judge_windows(host: &Host, spec: &FindingSpec, mut answer: WindowsAnswer) -> Finding {
    let mut not_cameras = Vec::new();
    let mut unsure = Vec::new();
    answer.devices.retain(|d| {
        let name = d
            .friendly_name
            .clone()
            .unwrap_or_else(|| "unnamed device".into());
        match device_kind(d) {
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

fn judge_windows_cameras(host: &Host, spec: &FindingSpec, answer: &WindowsAnswer) -> Finding {
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

/// `-EncodedCommand` takes UTF-16LE in base64: no quoting rules stand between the script
/// and PowerShell.
fn encode_powershell(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
    fn the_powershell_script_survives_encoding() {
        let encoded = encode_powershell("Get-PnpDevice 'é'");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "Get-PnpDevice 'é'");
    }

    #[test]
    fn hypervisors_are_recognised_by_vendor_and_model() {
        assert_eq!(
            hypervisor_named("innotek GmbH VirtualBox"),
            Some("VirtualBox")
        );
        assert_eq!(
            hypervisor_named("Microsoft Corporation Virtual Machine"),
            Some("Hyper-V")
        );
        assert_eq!(
            hypervisor_named("QEMU Standard PC (Q35 + ICH9, 2009)"),
            Some("QEMU/KVM")
        );
        assert_eq!(hypervisor_named("LENOVO 20XW"), None);
        assert_eq!(
            hypervisor_named("Microsoft Corporation Surface Laptop 4"),
            None
        );
    }

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(describe_list(["A"].into_iter()), "A");
        assert_eq!(describe_list(["A", "B"].into_iter()), "A and B");
        assert_eq!(describe_list(["A", "B", "C"].into_iter()), "A and 2 more");
    }
}
