//! The `webcam` kind: Linux over sysfs and /dev trees laid out in a temporary directory, with
//! the driver's answers given by the test; macOS and Windows over their real tools' recorded
//! output, played back by scripts standing in for them.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;
#[cfg(unix)]
use std::time::Instant;

#[cfg(unix)]
use base64::Engine;
use common::machine::Machine;
use common::*;
use preflight::check::RunOptions;
use preflight::report::{Finding, Status};
use preflight::video::{CAP_DEVICE_CAPS, CAP_META_CAPTURE, CAP_VIDEO_CAPTURE, Capability, Probe};
use tempfile::TempDir;

fn uvc(card: &str, caps: u32) -> Capability {
    Capability {
        driver: "uvcvideo".into(),
        card: card.into(),
        bus_info: "usb-0000:00:14.0-8".into(),
        caps,
    }
}

fn camera(card: &str) -> Probe {
    Probe::Identified {
        capability: uvc(card, CAP_VIDEO_CAPTURE),
        busy: false,
    }
}

fn metadata(card: &str) -> Probe {
    Probe::Identified {
        capability: uvc(card, CAP_META_CAPTURE | CAP_DEVICE_CAPS),
        busy: false,
    }
}

/// A Linux machine with an AVX CPU (no hypervisor flag: real hardware).
fn linux() -> Machine {
    Machine::linux().cpu_flags(&["avx"])
}

/// The one finding of the webcam kind on `machine`, with the check's `timeout`.
fn camera_finding(machine: &Machine, timeout: Duration) -> Finding {
    let options = RunOptions {
        timeout,
        ..RunOptions::default()
    };
    let mut findings = machine.findings_with("\n[[check]]\nkind = \"webcam\"\n", options);
    assert_eq!(findings.len(), 1);
    let finding = findings.remove(0);
    assert_eq!(finding.id, "webcam.camera");
    finding
}

fn judge(machine: &Machine) -> Finding {
    camera_finding(machine, Duration::from_secs(5))
}

// ---------------------------------------------------------------------------------------
// Linux

#[test]
fn a_capture_node_is_the_camera_and_its_metadata_node_is_not() {
    let m = linux()
        .video(
            "video0",
            "Integrated Camera: Integrated C",
            camera("Integrated Camera: Integrated C"),
        )
        .video(
            "video1",
            "Integrated Camera: Integrated C",
            metadata("Integrated Camera: Integrated C"),
        );
    let f = judge(&m);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(
        f.summary,
        "Integrated Camera: Integrated C (/dev/video0), driver uvcvideo"
    );
    assert_eq!(f.observed["camera"], "Integrated Camera: Integrated C");
    assert_eq!(f.observed["driver"], "uvcvideo");
    assert_eq!(f.observed["devices"][1]["state"], "metadata only");
    assert!(
        f.details[1].ends_with("metadata only, driver uvcvideo"),
        "{:?}",
        f.details
    );
}

#[test]
fn metadata_nodes_alone_are_not_a_camera() {
    let m = linux().video("video1", "USB Camera", metadata("USB Camera"));
    let f = judge(&m);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "video devices found, but none can capture video");
    assert!(f.details[0].contains("metadata only"));
}

#[test]
fn a_node_that_is_not_v4l2_is_not_a_camera() {
    let m = linux()
        .file("dev/video0", "")
        .driver_answer("video0", Probe::NotV4l2);
    let f = judge(&m);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.details, ["/dev/video0: not a V4L2 device"]);
}

/// `/etc/group` naming the group that owns the temporary `/dev/video0` `video`, whatever
/// group the test runs in (the node cannot be given to another group without privileges).
#[cfg(unix)]
fn video_group(m: Machine, members: &str) -> Machine {
    use std::os::unix::fs::MetadataExt;
    let gid = std::fs::metadata(m.path("dev/video0")).unwrap().gid();
    let other = gid + 1;
    m.file(
        "etc/group",
        format!("plugdev:x:{other}:ada\nvideo:x:{gid}:{members}\n"),
    )
}

#[cfg(unix)]
#[test]
fn permission_denied_names_the_group_and_the_command() {
    let m = linux().video("video0", "HD Webcam", Probe::PermissionDenied);
    let m = video_group(m, "grace");
    let f = judge(&m);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "HD Webcam (/dev/video0): this user may not open it"
    );
    assert_eq!(
        f.fix.as_deref(),
        Some(
            "Join the `video` group that owns /dev/video0: `sudo usermod -aG video $USER`, then log out and back in."
        )
    );
}

#[cfg(unix)]
#[test]
fn a_member_of_the_group_is_told_to_log_in_again() {
    let m = linux().video("video0", "HD Webcam", Probe::PermissionDenied);
    let m = video_group(m, "grace,ada");
    let fix = judge(&m).fix.unwrap();
    assert!(fix.contains("in the `video` group already"), "{fix}");
    assert!(fix.contains("newgrp video"), "{fix}");
}

#[cfg(unix)]
#[test]
fn a_busy_camera_names_the_program_holding_it() {
    let busy = Probe::Identified {
        capability: uvc("Integrated Camera", CAP_VIDEO_CAPTURE),
        busy: true,
    };
    let m = linux().video("video0", "Integrated Camera", busy);
    let node = m.path("dev/video0");
    let m = m
        .file("proc/4242/comm", "zoom\n")
        .symlink("proc/4242/fd/31", node)
        .symlink("proc/4242/fd/0", "/dev/null")
        .file("proc/77/comm", "bash\n")
        .dir("proc/77/fd");
    let f = judge(&m);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        "Integrated Camera (/dev/video0) is in use by zoom (pid 4242)"
    );
    assert!(f.fix.unwrap().starts_with("Close zoom (pid 4242)"));
}

#[test]
fn a_device_refusing_the_open_as_busy_is_busy_even_when_proc_is_silent() {
    let m = linux().video("video0", "Webcam C270", Probe::BusyOnOpen);
    let f = judge(&m);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        "Webcam C270 (/dev/video0) is in use by another program"
    );
}

#[test]
fn one_free_camera_is_enough_when_another_is_busy_or_locked() {
    let m = linux()
        .video("video0", "Integrated Camera", Probe::BusyOnOpen)
        .video("video2", "Logitech BRIO", camera("Logitech BRIO"))
        .video("video10", "OBS Virtual Camera", Probe::PermissionDenied);
    let f = judge(&m);
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.summary, "Logitech BRIO (/dev/video2), driver uvcvideo");
    // Numeric order, not text order: video10 comes last.
    let nodes: Vec<&str> = f.observed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["/dev/video0", "/dev/video2", "/dev/video10"]);
}

#[test]
fn no_device_on_real_hardware_asks_for_a_camera() {
    let f = judge(&linux());
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.summary, "no video device found");
    assert!(f.fix.unwrap().starts_with("Connect a webcam"));
    assert!(f.observed.get("virtualization").is_none());
}

#[test]
fn no_device_inside_a_container_or_vm_says_so_plainly() {
    let cases = [
        ("a Docker container", linux().file(".dockerenv", "")),
        ("a Podman container", linux().file("run/.containerenv", "")),
        (
            "a container",
            linux().file("proc/1/cgroup", "0::/kubepods/besteffort/pod1\n"),
        ),
        (
            "WSL",
            linux().file(
                "proc/sys/kernel/osrelease",
                "5.15.167.4-microsoft-standard-WSL2\n",
            ),
        ),
        (
            "a virtual machine (VirtualBox)",
            linux()
                .file("sys/class/dmi/id/sys_vendor", "innotek GmbH\n")
                .file("sys/class/dmi/id/product_name", "VirtualBox\n"),
        ),
        (
            "a virtual machine",
            linux().cpu_flags(&["avx", "hypervisor"]),
        ),
    ];
    for (place, m) in cases {
        let f = judge(&m);
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.summary,
            format!("no video device found: this runs in {place}")
        );
        assert_eq!(f.observed["virtualization"], place);
        assert!(f.fix.is_some());
    }
}

#[test]
fn a_camera_the_kernel_sees_but_the_container_lacks_gets_the_device_flag() {
    let m = linux()
        .file(".dockerenv", "")
        .file("sys/class/video4linux/video0/name", "Integrated Camera\n");
    let f = judge(&m);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "the kernel lists a video device, but /dev/video0 is missing in a Docker container"
    );
    assert!(f.fix.unwrap().contains("--device /dev/video0"));
}

#[test]
fn this_machines_real_devices_end_in_a_finding() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["--only", "webcam", "--json"]));
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let report = json(&run);
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["id"], "webcam.camera");
    assert!(!checks[0]["summary"].as_str().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// macOS: `system_profiler SPCameraDataType -json`, as macOS 14 prints it.

#[cfg(unix)]
const MAC_BUILT_IN: &str = r#"{
  "SPCameraDataType" : [
    {
      "_name" : "FaceTime HD Camera",
      "spcamera_model-id" : "FaceTime HD Camera",
      "spcamera_unique-id" : "47B4B64B70674B9CAD2BAE273A71F4B5"
    }
  ]
}
"#;

#[cfg(unix)]
const MAC_WITH_CONTINUITY: &str = r#"{
  "SPCameraDataType" : [
    {
      "_name" : "FaceTime HD Camera (Built-in)",
      "spcamera_model-id" : "UVC Camera VendorID_1452 ProductID_34068",
      "spcamera_unique-id" : "0x8020000005ac8514"
    },
    {
      "_name" : "Ada's iPhone Camera",
      "spcamera_model-id" : "iPhone15,2",
      "spcamera_unique-id" : "7C1B2A3E-0D4F-4B5A-9E8D-1F2A3B4C5D6E"
    }
  ]
}
"#;

/// What an Intel Mac with its lid closed (or a Mac mini with nothing plugged in) prints.
#[cfg(unix)]
const MAC_NONE: &str = "{\n  \"SPCameraDataType\" : [\n\n  ]\n}\n";

#[cfg(unix)]
const SYSTEM_PROFILER: &str = "usr/sbin/system_profiler";

/// A Mac whose `system_profiler` prints `recording`.
#[cfg(unix)]
fn mac_with(recording: &str) -> Machine {
    Machine::macos().tool(SYSTEM_PROFILER, recording, 0)
}

#[cfg(unix)]
#[test]
fn macos_lists_the_built_in_camera() {
    let f = judge(&mac_with(MAC_BUILT_IN));
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.summary, "FaceTime HD Camera");
    assert_eq!(f.observed["camera"], "FaceTime HD Camera");
}

#[cfg(unix)]
#[test]
fn macos_lists_every_camera() {
    let f = judge(&mac_with(MAC_WITH_CONTINUITY));
    assert_eq!(f.status, Status::Pass);
    assert_eq!(
        f.summary,
        "FaceTime HD Camera (Built-in) and Ada's iPhone Camera"
    );
    assert_eq!(f.observed["cameras"][1]["model"], "iPhone15,2");
}

#[cfg(unix)]
#[test]
fn macos_with_no_camera_fails_and_names_a_virtual_machine() {
    let m = mac_with(MAC_NONE);
    let bare = judge(&m);
    assert_eq!(bare.status, Status::Fail);
    assert_eq!(bare.summary, "macOS lists no camera");

    let m = m.tool("usr/sbin/sysctl", "1\n", 0);
    let in_vm = judge(&m);
    assert_eq!(in_vm.status, Status::Fail);
    assert_eq!(
        in_vm.summary,
        "macOS lists no camera: this runs in a virtual machine"
    );
}

#[cfg(unix)]
#[test]
fn a_missing_failing_hanging_or_garbled_system_profiler_is_a_clear_warning() {
    let f = judge(&Machine::macos());
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        "system_profiler was not found, so the cameras could not be listed"
    );

    let failing = Machine::macos().executable(
        SYSTEM_PROFILER,
        "#!/bin/sh\necho 'system_profiler: SPCameraDataType: unknown data type' >&2\nexit 1\n",
    );
    let f = judge(&failing);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        "system_profiler failed (exit code 1): system_profiler: SPCameraDataType: unknown data type"
    );

    let f = judge(&mac_with("<plist version=\"1.0\">"));
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.summary
            .starts_with("system_profiler's answer could not be read")
    );

    let hanging = Machine::macos().executable(SYSTEM_PROFILER, "#!/bin/sh\nexec /bin/sleep 30\n");
    let started = Instant::now();
    let f = camera_finding(&hanging, Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_secs(6));
    // The tool gets the check's time left less the margin, so the check names the cause.
    assert_eq!(f.status, Status::Warn, "{}", f.summary);
    assert!(
        f.summary.contains("did not finish within 1."),
        "{}",
        f.summary
    );
}

// ---------------------------------------------------------------------------------------
// Windows: the probe's JSON as Windows PowerShell 5.1 prints it (`ConvertTo-Json -Compress`).

#[cfg(unix)]
const WIN_ONE_CAMERA: &str = r#"{"devices":[{"FriendlyName":"Integrated Webcam","Status":"OK","Class":"Camera","InstanceId":"USB\\VID_0BDA\u0026PID_5520\u0026MI_00\\6\u00261A2B3C4D\u00260\u00260000"}],"machine_consent":"Allow","user_consent":"Allow","desktop_consent":"Allow","manufacturer":"Dell Inc.","model":"Latitude 7420"}"#;

/// A laptop whose docked USB webcam is unplugged: Windows keeps it, status Unknown.
#[cfg(unix)]
const WIN_WITH_DISCONNECTED: &str = r#"{"devices":[{"FriendlyName":"Logitech BRIO","Status":"Unknown","Class":"Image","InstanceId":"USB\\VID_046D\u0026PID_085E\u0026MI_00\\7\u00262F3A1B\u00260\u00260000"},{"FriendlyName":"HP HD Camera","Status":"OK","Class":"Camera","InstanceId":"USB\\VID_04F2\u0026PID_B6AB\u0026MI_00\\6\u0026D3E1\u00260\u00260000"}],"machine_consent":"Allow","user_consent":"Allow","desktop_consent":null,"manufacturer":"HP","model":"HP EliteBook 840 G8 Notebook PC"}"#;

#[cfg(unix)]
const WIN_ONLY_DISCONNECTED: &str = r#"{"devices":{"value":[{"FriendlyName":"Logitech BRIO","Status":"Unknown","Class":"Image","InstanceId":"USB\\VID_046D\u0026PID_085E\u0026MI_00\\7\u00262F3A1B\u00260\u00260000"}],"Count":1},"machine_consent":null,"user_consent":null,"desktop_consent":null,"manufacturer":"LENOVO","model":"20XW0055GE"}"#;

#[cfg(unix)]
const WIN_DRIVER_ERROR: &str = r#"{"devices":{"FriendlyName":"Integrated Camera","Status":"Error","Class":"Camera","InstanceId":"USB\\VID_5986\u0026PID_2115\u0026MI_00\\6\u00265C1B\u00260\u00260000"},"machine_consent":"Allow","user_consent":"Allow","desktop_consent":"Allow","manufacturer":"LENOVO","model":"20XW0055GE"}"#;

#[cfg(unix)]
const WIN_HYPER_V: &str = r#"{"devices":[],"machine_consent":"Allow","user_consent":"Allow","desktop_consent":"Allow","manufacturer":"Microsoft Corporation","model":"Virtual Machine"}"#;

#[cfg(unix)]
const WIN_DESKTOP_DENIED: &str = r#"{"devices":[{"FriendlyName":"Integrated Webcam","Status":"OK","Class":"Camera","InstanceId":"USB\\VID_0BDA\u0026PID_5520\u0026MI_00\\6\u00261A2B3C4D\u00260\u00260000"}],"machine_consent":"Allow","user_consent":"Allow","desktop_consent":"Deny","manufacturer":"Dell Inc.","model":"Latitude 7420"}"#;

/// A Windows PC whose `powershell` on PATH plays back `output` and records its arguments.
#[cfg(unix)]
fn windows(output: &str) -> Machine {
    Machine::windows().tool_on_path("powershell", output, 0)
}

/// The script the probe handed to `powershell` as its fourth argument (UTF-16LE in base64).
#[cfg(unix)]
fn script_sent(m: &Machine) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&m.tool_args("bin/powershell")[3])
        .unwrap();
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

#[cfg(unix)]
#[test]
fn windows_passes_a_working_camera_and_sends_the_probe_encoded() {
    let m = windows(WIN_ONE_CAMERA);
    let f = judge(&m);
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.summary, "Integrated Webcam");

    assert_eq!(
        m.tool_args("bin/powershell")[..3],
        ["-NoProfile", "-NonInteractive", "-EncodedCommand"]
    );
    let script = script_sent(&m);
    assert!(
        script.contains("Get-PnpDevice -Class Camera,Image"),
        "{script}"
    );
}

#[cfg(unix)]
#[test]
fn windows_prefers_the_connected_camera_and_mentions_the_disconnected_one() {
    let f = judge(&windows(WIN_WITH_DISCONNECTED));
    assert_eq!(f.status, Status::Pass);
    assert_eq!(f.summary, "HP HD Camera");
    assert!(
        f.details[0].starts_with("Logitech BRIO: not connected"),
        "{:?}",
        f.details
    );
}

#[cfg(unix)]
#[test]
fn windows_with_only_a_disconnected_camera_fails() {
    let f = judge(&windows(WIN_ONLY_DISCONNECTED));
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.summary.starts_with("Logitech BRIO: not connected"),
        "{}",
        f.summary
    );
    assert!(f.fix.unwrap().starts_with("Reconnect the camera"));
}

#[cfg(unix)]
#[test]
fn windows_names_a_driver_problem() {
    let f = judge(&windows(WIN_DRIVER_ERROR));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "Integrated Camera: has a driver problem or is turned off in Device Manager"
    );
}

#[cfg(unix)]
#[test]
fn windows_with_no_camera_in_hyper_v_says_so() {
    let f = judge(&windows(WIN_HYPER_V));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "Windows lists no camera: this runs in a virtual machine (Hyper-V)"
    );
}

#[cfg(unix)]
#[test]
fn windows_privacy_switch_blocking_desktop_apps_fails_with_where_to_turn_it_on() {
    let f = judge(&windows(WIN_DESKTOP_DENIED));
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.summary,
        "Desktop apps may not use the camera in Windows' privacy settings"
    );
    assert!(
        f.fix
            .unwrap()
            .contains("Let desktop apps access your camera")
    );
}

#[cfg(unix)]
#[test]
fn windows_without_powershell_or_with_a_garbled_answer_warns() {
    let f = judge(&Machine::windows());
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.summary,
        "PowerShell was not found, so the cameras could not be listed"
    );

    let f = judge(&windows(
        "Get-PnpDevice : The term 'Get-PnpDevice' is not recognized",
    ));
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.summary
            .starts_with("PowerShell's answer could not be read")
    );
}

/// An office PC: a USB video-class webcam under Imaging devices, a flatbed scanner and a
/// multifunction printer beside it (ConvertTo-Json writes one compatible ID as a string).
#[cfg(unix)]
const WIN_IMAGE_CLASS: &str = r#"{"devices":[{"FriendlyName":"HP ScanJet Pro 2500 f1","Status":"OK","Class":"Image","InstanceId":"USB\\VID_03F0\u0026PID_2D05\\CN83EBR0ZV","CompatibleID":["USB\\Class_06\u0026SubClass_01\u0026Prot_01","USB\\Class_06\u0026SubClass_01","USB\\Class_06"]},{"FriendlyName":"EPSON ET-2750 Series","Status":"OK","Class":"Image","InstanceId":"USB\\VID_04B8\u0026PID_1118\u0026MI_01\\7\u002612A3\u00260\u00260001","CompatibleID":"USB\\Class_FF\u0026SubClass_FF\u0026Prot_FF"},{"FriendlyName":"USB2.0 HD UVC WebCam","Status":"OK","Class":"Image","InstanceId":"USB\\VID_13D3\u0026PID_56A6\u0026MI_00\\6\u00261F2C\u00260\u00260000","CompatibleID":["USB\\Class_0E\u0026SubClass_03\u0026Prot_00","USB\\Class_0E\u0026SubClass_03","USB\\Class_0E"]}],"machine_consent":"Allow","user_consent":"Allow","desktop_consent":"Allow","allow_camera":null,"let_apps_access_camera":null,"manufacturer":null,"model":null}"#;

#[cfg(unix)]
#[test]
fn windows_counts_an_imaging_device_only_when_it_is_a_camera() {
    let f = judge(&windows(WIN_IMAGE_CLASS));
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(f.summary, "USB2.0 HD UVC WebCam");
    assert!(
        f.details
            .iter()
            .any(|d| d.starts_with("HP ScanJet Pro 2500 f1: a scanner")),
        "{:?}",
        f.details
    );
    assert!(
        f.details
            .iter()
            .any(|d| d.starts_with("EPSON ET-2750 Series: most likely a scanner or printer")),
        "{:?}",
        f.details
    );

    // Office devices alone (a printer by its USB class now): no camera, and the report says
    // what each was.
    let only_office = WIN_IMAGE_CLASS
        .replace("USB2.0 HD UVC WebCam", "HP LaserJet MFP M28w")
        .replace("Class_0E", "Class_07");
    let f = judge(&windows(&only_office));
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert!(
        f.summary.starts_with("Windows lists no camera"),
        "{}",
        f.summary
    );
    assert_eq!(f.details.len(), 3, "{:?}", f.details);
}

#[cfg(unix)]
#[test]
fn windows_is_honest_about_an_imaging_device_it_cannot_place() {
    let answer = r#"{"devices":{"FriendlyName":"USB 2861 Device","Status":"OK","Class":"Image","InstanceId":"USB\\VID_EB1A&PID_2861\\5&38F1&0&1","CompatibleID":null},"machine_consent":"Allow","user_consent":"Allow","desktop_consent":"Allow"}"#;
    let f = judge(&windows(answer));
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert!(
        f.details
            .iter()
            .any(|d| d.contains("counted as a camera, though Windows does not say that it is one")),
        "{:?}",
        f.details
    );
}

#[cfg(unix)]
#[test]
fn windows_camera_policies_fail_whatever_the_switches_say() {
    for (policy, named) in [
        (r#""allow_camera":0"#, "AllowCamera = 0"),
        (r#""let_apps_access_camera":2"#, "LetAppsAccessCamera = 2"),
    ] {
        let answer = WIN_ONE_CAMERA.replacen('{', &format!("{{{policy},"), 1);
        let f = judge(&windows(&answer));
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert!(
            f.summary
                .starts_with("an administrator's policy blocks the camera")
                && f.summary.contains(named),
            "{}",
            f.summary
        );
        assert!(f.fix.unwrap().contains("cannot override this policy"));
    }
    // Policies set to allow change nothing.
    let answer =
        WIN_ONE_CAMERA.replacen('{', r#"{"allow_camera":1,"let_apps_access_camera":1,"#, 1);
    assert_eq!(judge(&windows(&answer)).status, Status::Pass);
}

#[cfg(unix)]
#[test]
fn windows_empty_answer_is_no_answer_and_a_bom_is_read_through() {
    let f = judge(&windows("\r\n"));
    assert_eq!(f.status, Status::Warn);
    assert_eq!(f.summary, "PowerShell gave no answer");

    let f = judge(&windows(&format!("\u{feff}{WIN_ONE_CAMERA}\r\n")));
    assert_eq!(f.status, Status::Pass, "{f:?}");

    // The script asks for UTF-8 before it prints anything.
    let m = windows(WIN_ONE_CAMERA);
    judge(&m);
    let script = script_sent(&m);
    assert!(
        script.starts_with("[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding"),
        "{script}"
    );
}

#[cfg(unix)]
#[test]
fn a_node_owned_by_root_alone_gets_the_general_advice() {
    use std::os::unix::fs::MetadataExt;
    let m = linux().video("video0", "HD Webcam", Probe::PermissionDenied);
    let gid = std::fs::metadata(m.path("dev/video0")).unwrap().gid();
    let m = m.file("etc/group", format!("root:x:{gid}:\n"));
    let fix = judge(&m).fix.unwrap();
    assert!(
        fix.starts_with("/dev/video0 is not readable and writable for you"),
        "{fix}"
    );
    assert!(!fix.contains("`root` group"), "{fix}");
}

#[test]
fn an_unknown_key_is_a_profile_error_at_its_line() {
    let dir = TempDir::new().unwrap();
    let text =
        format!("{PROFILE_HEADER}\n[[check]]\nkind = \"webcam\"\ndevice = \"/dev/video0\"\n");
    let path = profile_file(dir.path(), "p.toml", &text);
    let run = run(preflight(dir.path()).arg("--profile").arg(&path));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("p.toml:9"), "{}", run.stderr);
    assert!(run.stderr.contains("device"), "{}", run.stderr);
}
