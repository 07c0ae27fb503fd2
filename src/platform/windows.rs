//! Windows: parsers for what its tools print (the `py` launcher, PowerShell's JSON, `reg
//! query`) and for what the registry holds.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::proxy::SystemProxies;

/// One Python the `py` launcher knows (`py -0p`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LauncherPython {
    /// The tag as listed: `3.12`, `3.8-64`, `3.12-arm64`, or a company's `Vendor/Tag`.
    pub tag: String,
    /// `3.8` from `3.8-64`; `None` for tags that name no version (a vendor's).
    pub release: Option<String>,
    pub path: PathBuf,
    /// The one `py` starts when given no version (marked `*`).
    pub default: bool,
}

/// The installs `py -0p` lists. Two formats exist: the launcher before Python 3.11 prints
/// ` -3.8-64        C:\...\python.exe *`, the one since ` -V:3.12 *        C:\...\python.exe`.
/// Headers and messages ("Installed Pythons found by ...", "No Installed Pythons Found!")
/// are not entries and are skipped; so are entries without a path (`py -0`).
pub fn parse_py_launcher_list(text: &str) -> Vec<LauncherPython> {
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(entry) = line.trim().strip_prefix('-') else {
            continue;
        };
        let entry = entry.strip_prefix("V:").unwrap_or(entry);
        let Some((tag, rest)) = entry.split_once(char::is_whitespace) else {
            continue;
        };
        let mut rest = rest.trim();
        let mut default = false;
        if let Some(after) = rest.strip_prefix('*') {
            default = true;
            rest = after.trim_start();
        }
        if let Some(before) = rest.strip_suffix(" *") {
            default = true;
            rest = before.trim_end();
        }
        if rest.is_empty() || tag.is_empty() {
            continue;
        }
        found.push(LauncherPython {
            tag: tag.to_string(),
            release: release_of_tag(tag),
            path: PathBuf::from(rest),
            default,
        });
    }
    found
}

/// `3.8` from `3.8`, `3.8-64`, `3.8-32`, `3.12-arm64`; `None` for a vendor's tag.
fn release_of_tag(tag: &str) -> Option<String> {
    let version = tag.split('-').next()?;
    let mut parts = version.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    let numeric = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    (numeric(major) && numeric(minor) && parts.next().is_none()).then(|| format!("{major}.{minor}"))
}

/// `3.8` from a python.org install folder's name (`Python38`, `Python310`, `Python38-32`,
/// `Python312-arm64`): the installer names it `Python` + major + minor.
pub fn release_of_install_folder(name: &str) -> Option<String> {
    let rest = name
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("python"))
        .map(|_| &name[6..])?;
    let digits = rest.split('-').next()?;
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(1);
    Some(format!("{major}.{}", minor.parse::<u32>().ok()?))
}

// ---------------------------------------------------------------------------------------
// Cameras: PowerShell's Get-PnpDevice, the privacy switches and the camera policies

/// Cameras as Plug and Play lists them (with their compatible IDs, which tell a video
/// device from a scanner or printer), the camera privacy switches (machine, user, desktop
/// apps: the exam runs in PyCharm and a browser, both desktop apps), the administrator's
/// camera policies, and, only when no camera is listed, the machine's model to recognise a
/// virtual machine. One JSON object on stdout, in UTF-8 without a byte-order mark: a pipe
/// would otherwise get the console's OEM code page. [`parse_camera_answer`] reads it.
pub const CAMERA_PROBE: &str = r#"[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
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

/// `-EncodedCommand` takes UTF-16LE in base64: no quoting rules stand between the script
/// and PowerShell.
pub fn encode_powershell(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What [`CAMERA_PROBE`] answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CameraAnswer {
    #[serde(default, deserialize_with = "one_or_many")]
    pub devices: Vec<PnpDevice>,
    /// `Allow` or `Deny`: camera access for this device.
    pub machine_consent: Option<String>,
    /// `Allow` or `Deny`: apps may use the camera.
    pub user_consent: Option<String>,
    /// `Allow` or `Deny`: desktop apps may use the camera.
    pub desktop_consent: Option<String>,
    /// Policy `HKLM\SOFTWARE\Policies\Microsoft\Camera\AllowCamera`: 0 turns cameras off.
    #[serde(default)]
    pub allow_camera: Option<i64>,
    /// Policy `...\Policies\Microsoft\Windows\AppPrivacy\LetAppsAccessCamera`: 2 denies.
    #[serde(default)]
    pub let_apps_access_camera: Option<i64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

/// One device `Get-PnpDevice` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PnpDevice {
    pub friendly_name: Option<String>,
    /// `OK`, `Error`, `Degraded`, `Unknown` (remembered but not present).
    pub status: Option<String>,
    /// `Camera` or `Image`.
    pub class: Option<String>,
    #[serde(default, rename = "CompatibleID", deserialize_with = "strings")]
    pub compatible_id: Vec<String>,
}

/// Read [`CAMERA_PROBE`]'s answer. A byte-order mark would only come from a PowerShell that
/// ignored the encoding asked for; it is skipped.
pub fn parse_camera_answer(stdout: &str) -> Result<CameraAnswer, String> {
    serde_json::from_str(stdout.trim().trim_start_matches('\u{feff}')).map_err(|e| e.to_string())
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

/// What a listed device is: Windows files webcams under Cameras, and older ones under
/// Imaging devices (`Image`), where scanners and multifunction printers live too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceKind {
    Camera,
    /// Counted as a camera, though nothing it says proves it.
    ProbablyCamera,
    /// Not a camera; the reason in words.
    Other(&'static str),
}

impl PnpDevice {
    /// Tell a camera from a scanner or printer by the class, the USB interface class in the
    /// compatible IDs, then the name.
    pub fn kind(&self) -> DeviceKind {
        if self
            .class
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("camera"))
        {
            return DeviceKind::Camera;
        }
        let ids: Vec<String> = self
            .compatible_id
            .iter()
            .map(|id| id.to_ascii_uppercase())
            .collect();
        let has_id = |needle: &str| ids.iter().any(|id| id.contains(needle));
        // USB interface classes: 0E video, 06 still image (scanners, photo cameras over
        // PTP), 07 printer.
        if has_id("CLASS_0E") {
            return DeviceKind::Camera;
        }
        if has_id("CLASS_07") {
            return DeviceKind::Other("a printer");
        }
        let name = self
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
}

// ---------------------------------------------------------------------------------------
// The registry

/// What `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` says about the running Windows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowsVersion {
    /// `ProductName`: "Windows 10 Pro"; Windows 11 still writes "Windows 10" here.
    pub product_name: Option<String>,
    /// `DisplayVersion`: "23H2", from Windows 10 20H2 on.
    pub display_version: Option<String>,
    /// `ReleaseId`: "1909" before 20H2 (and frozen at "2009" after it).
    pub release_id: Option<String>,
    /// `CSDVersion`: the service pack, "Service Pack 1" on Windows 7.
    pub service_pack: Option<String>,
    /// `CurrentBuildNumber`: "22631".
    pub build: Option<String>,
    /// `UBR`, the update build revision: the `2861` of build 22631.2861.
    pub update_revision: Option<u32>,
}

/// Windows 11's first build; its `ProductName` says "Windows 10" all the same.
const WINDOWS_11_FIRST_BUILD: u32 = 22000;

impl WindowsVersion {
    /// The OS line's name and version: ("Windows 11 Pro", "23H2 (build 22631.2861)").
    pub fn describe(&self) -> (String, String) {
        let build_number: Option<u32> = self.build.as_deref().and_then(|b| b.parse().ok());
        let mut name = self
            .product_name
            .clone()
            .unwrap_or_else(|| "Windows".to_string());
        if build_number.is_some_and(|b| b >= WINDOWS_11_FIRST_BUILD)
            && let Some(edition) = name.strip_prefix("Windows 10")
        {
            name = format!("Windows 11{edition}");
        }
        // `ReleaseId` stopped at 2009 when `DisplayVersion` took over, so it only counts alone.
        let release = self
            .display_version
            .as_ref()
            .or(self.release_id.as_ref())
            .or(self.service_pack.as_ref());
        let build = self.build.as_ref().map(|build| match self.update_revision {
            Some(revision) if revision > 0 => format!("build {build}.{revision}"),
            _ => format!("build {build}"),
        });
        let version = match (release, build) {
            (Some(release), Some(build)) => format!("{release} ({build})"),
            (Some(release), None) => release.clone(),
            (None, Some(build)) => build,
            (None, None) => String::new(),
        };
        (name, version)
    }
}

/// Parse `reg query "HKCU\...\Internet Settings"`: `    Name    REG_TYPE    value` lines.
/// As Python's `getproxies_registry` does: nothing unless `ProxyEnable` is set; one server
/// for all schemes, or `http=...;https=...` per scheme; `http://` when no scheme is given.
pub fn parse_proxy_reg_query(text: &str) -> SystemProxies {
    let mut values = BTreeMap::new();
    for line in text.lines() {
        // Values are indented; subkey names are not.
        if !line.starts_with(' ') {
            continue;
        }
        let mut parts = line.trim().splitn(2, "    REG_");
        let (Some(name), Some(rest)) = (parts.next(), parts.next()) else {
            continue;
        };
        let value = rest.split_once("    ").map(|(_, v)| v).unwrap_or("");
        values.insert(name.trim().to_string(), value.trim().to_string());
    }
    let mut proxies = SystemProxies {
        origin: "the Windows Internet Settings proxy (registry)",
        ..SystemProxies::default()
    };
    let enabled = values
        .get("ProxyEnable")
        .map(|v| v.trim_start_matches("0x"))
        .and_then(|v| u32::from_str_radix(v, 16).ok())
        .unwrap_or(0);
    let Some(server) = values.get("ProxyServer").filter(|_| enabled != 0) else {
        return proxies;
    };
    let server = if server.contains('=') || server.contains(';') {
        server.clone()
    } else {
        format!("http={server};https={server}")
    };
    let mut socks = None;
    for part in server.split(';').filter(|p| !p.is_empty()) {
        let Some((protocol, address)) = part.split_once('=') else {
            continue;
        };
        let with_scheme = |scheme: &str| {
            if address.contains("://") {
                address.to_string()
            } else {
                format!("{scheme}://{address}")
            }
        };
        match protocol.trim() {
            "http" => proxies.http = Some(with_scheme("http")),
            "https" => proxies.https = Some(with_scheme("http")),
            "socks" => socks = Some(with_scheme("socks4")),
            _ => {}
        }
    }
    if let Some(socks) = socks {
        proxies.http.get_or_insert_with(|| socks.clone());
        proxies.https.get_or_insert(socks);
    }
    if let Some(overrides) = values.get("ProxyOverride") {
        for entry in overrides
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "<local>" {
                proxies.exclude_simple = true;
            } else {
                proxies.exceptions.push(entry.to_string());
            }
        }
    }
    proxies
}

#[cfg(test)]
mod tests {
    use super::*;

    // The camera probe's answer as Windows PowerShell 5.1 prints it (`ConvertTo-Json
    // -Compress`): a Dell laptop's webcam; a Lenovo's camera with a driver fault (one
    // device is written as the object itself); a Lenovo whose only webcam is unplugged (an
    // array written as `{"value": [...], "Count": n}`); an office PC with a scanner, a
    // multifunction printer and a USB video-class webcam under Imaging devices; a Hyper-V
    // guest with no camera.
    const CAMERA_DELL: &str = include_str!("recorded/windows/camera-dell-one-camera.json");
    const CAMERA_ONE_OBJECT: &str =
        include_str!("recorded/windows/camera-lenovo-single-object-error.json");
    const CAMERA_VALUE_COUNT: &str =
        include_str!("recorded/windows/camera-lenovo-value-count.json");
    const CAMERA_OFFICE: &str = include_str!("recorded/windows/camera-office-image-class.json");
    const CAMERA_HYPER_V: &str = include_str!("recorded/windows/camera-hyper-v-none.json");
    // `reg query "HKCU\...\Internet Settings"` with a manual proxy (CRLF line ends, as
    // reg.exe writes them; host names replaced by example ones).
    const REG_ONE_SERVER: &str = include_str!("recorded/windows/reg-query-internet-settings.txt");

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
    fn reads_each_shape_powershell_writes_a_list_in() {
        let dell = parse_camera_answer(CAMERA_DELL).unwrap();
        assert_eq!(
            dell.devices,
            [PnpDevice {
                friendly_name: Some("Integrated Webcam".into()),
                status: Some("OK".into()),
                class: Some("Camera".into()),
                compatible_id: vec![],
            }]
        );
        assert_eq!(dell.desktop_consent.as_deref(), Some("Allow"));
        assert_eq!(dell.model.as_deref(), Some("Latitude 7420"));
        assert_eq!(dell.allow_camera, None);
        let one = parse_camera_answer(CAMERA_ONE_OBJECT).unwrap();
        assert_eq!(one.devices.len(), 1);
        assert_eq!(one.devices[0].status.as_deref(), Some("Error"));
        let wrapped = parse_camera_answer(CAMERA_VALUE_COUNT).unwrap();
        assert_eq!(wrapped.devices.len(), 1);
        assert_eq!(
            wrapped.devices[0].friendly_name.as_deref(),
            Some("Logitech BRIO")
        );
        assert_eq!(wrapped.machine_consent, None);
        let none = parse_camera_answer(CAMERA_HYPER_V).unwrap();
        assert!(none.devices.is_empty());
        assert_eq!(none.manufacturer.as_deref(), Some("Microsoft Corporation"));
    }

    #[test]
    fn a_byte_order_mark_and_policies_are_read() {
        let with_bom = format!("\u{feff}{}\r\n", CAMERA_DELL.trim());
        assert_eq!(
            parse_camera_answer(&with_bom).unwrap(),
            parse_camera_answer(CAMERA_DELL).unwrap()
        );
        let blocked = CAMERA_DELL.replace(
            r#""manufacturer""#,
            r#""allow_camera":0,"let_apps_access_camera":2,"manufacturer""#,
        );
        let blocked = parse_camera_answer(&blocked).unwrap();
        assert_eq!(blocked.allow_camera, Some(0));
        assert_eq!(blocked.let_apps_access_camera, Some(2));
        assert!(parse_camera_answer("").is_err());
        assert!(parse_camera_answer("Get-PnpDevice : not recognized").is_err());
    }

    #[test]
    fn tells_webcams_from_scanners_and_printers() {
        let office = parse_camera_answer(CAMERA_OFFICE).unwrap();
        let kinds: Vec<DeviceKind> = office.devices.iter().map(PnpDevice::kind).collect();
        assert_eq!(
            kinds,
            [
                DeviceKind::Other("a scanner"),
                DeviceKind::Other("most likely a scanner or printer (by its maker and model)"),
                DeviceKind::Camera,
            ]
        );
        // One compatible ID is written as a string, not a list.
        assert_eq!(
            office.devices[1].compatible_id,
            ["USB\\Class_FF&SubClass_FF&Prot_FF"]
        );
        let device = |name: &str, ids: &[&str]| PnpDevice {
            friendly_name: Some(name.into()),
            class: Some("Image".into()),
            compatible_id: ids.iter().map(|id| id.to_string()).collect(),
            ..PnpDevice::default()
        };
        assert_eq!(
            device("Canon EOS 90D", &["USB\\Class_06&SubClass_01&Prot_01"]).kind(),
            DeviceKind::Other("a still-image device (a scanner or a photo camera), not a webcam")
        );
        assert_eq!(
            device("HP LaserJet MFP M28w", &["USB\\Class_07"]).kind(),
            DeviceKind::Other("a printer")
        );
        assert_eq!(device("Logitech BRIO", &[]).kind(), DeviceKind::Camera);
        assert_eq!(
            device("USB 2861 Device", &[]).kind(),
            DeviceKind::ProbablyCamera
        );
    }

    fn text(value: &str) -> Option<String> {
        Some(value.to_string())
    }

    #[test]
    fn windows_names_its_edition_and_version() {
        // As wine 8 answers (`reg query "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"`):
        // it poses as Windows 7 and writes no UBR.
        let wine = WindowsVersion {
            product_name: text("Microsoft Windows 7"),
            service_pack: text("Service Pack 1"),
            build: text("7601"),
            ..WindowsVersion::default()
        };
        assert_eq!(
            wine.describe(),
            (
                "Microsoft Windows 7".into(),
                "Service Pack 1 (build 7601)".into()
            )
        );
        // Windows 11 23H2 still writes "Windows 10" in ProductName, and ReleaseId stays 2009.
        let windows_11 = WindowsVersion {
            product_name: text("Windows 10 Pro"),
            display_version: text("23H2"),
            release_id: text("2009"),
            build: text("22631"),
            update_revision: Some(2861),
            ..WindowsVersion::default()
        };
        assert_eq!(
            windows_11.describe(),
            ("Windows 11 Pro".into(), "23H2 (build 22631.2861)".into())
        );
        let windows_10 = WindowsVersion {
            product_name: text("Windows 10 Home"),
            display_version: text("22H2"),
            release_id: text("2009"),
            build: text("19045"),
            update_revision: Some(3803),
            ..WindowsVersion::default()
        };
        assert_eq!(
            windows_10.describe(),
            ("Windows 10 Home".into(), "22H2 (build 19045.3803)".into())
        );
        // Before 20H2 there is no DisplayVersion.
        let windows_10_1909 = WindowsVersion {
            product_name: text("Windows 10 Education"),
            release_id: text("1909"),
            build: text("18363"),
            update_revision: Some(1556),
            ..WindowsVersion::default()
        };
        assert_eq!(
            windows_10_1909.describe(),
            (
                "Windows 10 Education".into(),
                "1909 (build 18363.1556)".into()
            )
        );
        // A server past build 22000 is not "Windows 11".
        let server = WindowsVersion {
            product_name: text("Windows Server 2025 Datacenter"),
            display_version: text("24H2"),
            build: text("26100"),
            ..WindowsVersion::default()
        };
        assert_eq!(server.describe().0, "Windows Server 2025 Datacenter");
        assert_eq!(
            WindowsVersion::default().describe(),
            ("Windows".into(), String::new())
        );
    }

    #[test]
    fn registry_single_server_serves_both_schemes() {
        let proxies = parse_proxy_reg_query(REG_ONE_SERVER);
        assert_eq!(
            proxies.http.as_deref(),
            Some("http://proxy.corp.example:8080")
        );
        assert_eq!(
            proxies.https.as_deref(),
            Some("http://proxy.corp.example:8080")
        );
        assert_eq!(proxies.for_url("https", "wiki.corp.example"), None);
        assert_eq!(proxies.for_url("https", "localhost"), None);
        assert_eq!(
            proxies.for_url("https", "index.example.org"),
            Some("http://proxy.corp.example:8080")
        );
    }

    #[test]
    fn registry_per_scheme_servers_and_a_disabled_proxy() {
        let per_scheme = REG_ONE_SERVER.replace(
            "proxy.corp.example:8080",
            "http=web.corp.example:80;https=secure.corp.example:443",
        );
        let proxies = parse_proxy_reg_query(&per_scheme);
        assert_eq!(proxies.http.as_deref(), Some("http://web.corp.example:80"));
        assert_eq!(
            proxies.https.as_deref(),
            Some("http://secure.corp.example:443")
        );
        let disabled = REG_ONE_SERVER.replace(
            "ProxyEnable    REG_DWORD    0x1",
            "ProxyEnable    REG_DWORD    0x0",
        );
        assert_eq!(
            parse_proxy_reg_query(&disabled).for_url("https", "index.example.org"),
            None
        );
        let socks = REG_ONE_SERVER.replace("proxy.corp.example:8080", "socks=127.0.0.1:1080");
        assert_eq!(
            parse_proxy_reg_query(&socks).https.as_deref(),
            Some("socks4://127.0.0.1:1080")
        );
    }

    // Recorded from users' consoles (a launcher before 3.11, with its header line).
    const OLD_LAUNCHER: &str = "Installed Pythons found by C:\\WINDOWS\\py.exe Launcher for Windows\n -3.8-64        C:\\Users\\vma\\AppData\\Local\\Programs\\Python\\Python38\\python.exe *\n\n";
    const OLD_LAUNCHER_SPACES: &str = "Installed Pythons found by py Launcher for Windows\n -3.9-64        C:\\Program Files\\Python38\\python.exe *\n -3.8-64        C:\\Program Files\\Python38\\python.exe\n -3.7-64        C:\\Program Files\\Python37\\python.exe\n";
    // Recorded from `py --list-paths` of the launcher shipped since Python 3.11.
    const NEW_LAUNCHER: &str = " -V:3.12 *        C:\\Software\\Python\\Python_3_12\\python.exe\n -V:3.11          C:\\Software\\Python\\Python_3_11\\python.exe\n -V:3.10          C:\\Users\\%USERNAME%\\AppData\\Local\\Programs\\Python\\Python310\\python.exe\n";

    #[test]
    fn reads_the_launcher_before_3_11() {
        let found = parse_py_launcher_list(OLD_LAUNCHER);
        assert_eq!(
            found,
            vec![LauncherPython {
                tag: "3.8-64".into(),
                release: Some("3.8".into()),
                path: PathBuf::from(
                    "C:\\Users\\vma\\AppData\\Local\\Programs\\Python\\Python38\\python.exe"
                ),
                default: true,
            }]
        );
        let spaced = parse_py_launcher_list(OLD_LAUNCHER_SPACES);
        assert_eq!(spaced.len(), 3);
        assert_eq!(
            spaced[1].path,
            PathBuf::from("C:\\Program Files\\Python38\\python.exe")
        );
        assert!(spaced[0].default && !spaced[1].default && !spaced[2].default);
        assert_eq!(spaced[2].release.as_deref(), Some("3.7"));
    }

    #[test]
    fn reads_the_launcher_since_3_11() {
        let found = parse_py_launcher_list(NEW_LAUNCHER);
        let summary: Vec<_> = found
            .iter()
            .map(|p| (p.tag.as_str(), p.release.as_deref(), p.default))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("3.12", Some("3.12"), true),
                ("3.11", Some("3.11"), false),
                ("3.10", Some("3.10"), false)
            ]
        );
        assert_eq!(
            found[0].path,
            PathBuf::from("C:\\Software\\Python\\Python_3_12\\python.exe")
        );
    }

    #[test]
    fn vendor_tags_and_messages_are_not_versions() {
        let found = parse_py_launcher_list(
            "No Installed Pythons Found!\n -V:ContinuumAnalytics/Anaconda39-64 C:\\Anaconda3\\python.exe\n -3.8-32\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].release, None);
        assert_eq!(found[0].tag, "ContinuumAnalytics/Anaconda39-64");
        assert!(parse_py_launcher_list("").is_empty());
    }

    #[test]
    fn names_the_release_of_an_install_folder() {
        assert_eq!(
            release_of_install_folder("Python38").as_deref(),
            Some("3.8")
        );
        assert_eq!(
            release_of_install_folder("Python310").as_deref(),
            Some("3.10")
        );
        assert_eq!(
            release_of_install_folder("Python38-32").as_deref(),
            Some("3.8")
        );
        assert_eq!(
            release_of_install_folder("python312-arm64").as_deref(),
            Some("3.12")
        );
        assert_eq!(release_of_install_folder("Python"), None);
        assert_eq!(release_of_install_folder("Pythonista"), None);
        assert_eq!(release_of_install_folder("Launcher"), None);
    }
}
