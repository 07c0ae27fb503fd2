//! macOS: pure parsers of what its tools print
//! (`system_profiler`, `sysctl`, `scutil`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::proxy::SystemProxies;

/// One camera `system_profiler SPCameraDataType -json` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camera {
    /// `_name`: "FaceTime HD Camera".
    pub name: String,
    /// `spcamera_model-id`: "UVC Camera VendorID_1452 ProductID_34068", empty when absent.
    pub model_id: String,
}

/// The cameras in `system_profiler SPCameraDataType -json`; an error in words when the
/// answer is not JSON or has no camera list.
pub fn parse_system_profiler_cameras(stdout: &str) -> Result<Vec<Camera>, String> {
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
            Camera {
                name: field("_name"),
                model_id: field("spcamera_model-id"),
            }
        })
        .collect())
}

/// `sysctl -n kern.hv_vmm_present` answers `1` inside a virtual machine.
pub fn hv_vmm_present(sysctl_stdout: &str) -> bool {
    sysctl_stdout.trim() == "1"
}

/// Parse `scutil --proxy`: a `<dictionary>` of `Key : value` lines with nested `<array>`s.
/// As Python's `_scproxy` does, an enabled HTTP or HTTPS proxy becomes `http://host:port`.
pub fn parse_scutil_proxy(text: &str) -> SystemProxies {
    let mut keys = BTreeMap::new();
    let mut exceptions = Vec::new();
    let mut in_exceptions = false;
    for line in text.lines().map(str::trim) {
        if in_exceptions {
            if line == "}" {
                in_exceptions = false;
            } else if let Some((_, value)) = line.split_once(" : ") {
                exceptions.push(value.trim().to_string());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(" : ") else {
            continue;
        };
        if key == "ExceptionsList" && value.starts_with("<array>") {
            in_exceptions = true;
            continue;
        }
        keys.insert(key.to_string(), value.trim().to_string());
    }
    let proxy = |prefix: &str| -> Option<String> {
        let enabled = keys.get(&format!("{prefix}Enable")).map(String::as_str) == Some("1");
        let host = keys
            .get(&format!("{prefix}Proxy"))
            .filter(|h| !h.is_empty())?;
        if !enabled {
            return None;
        }
        Some(match keys.get(&format!("{prefix}Port")) {
            Some(port) if port != "0" => format!("http://{host}:{port}"),
            _ => format!("http://{host}"),
        })
    };
    SystemProxies {
        http: proxy("HTTP"),
        https: proxy("HTTPS"),
        exceptions,
        exclude_simple: keys.get("ExcludeSimpleHostnames").map(String::as_str) == Some("1"),
        origin: "the macOS system proxy (scutil --proxy)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `system_profiler SPCameraDataType -json` as macOS 14 prints it on an Apple Silicon
    // MacBook, on an Intel MacBook Pro (its built-in camera is a USB video device), and on a
    // Mac mini with no camera.
    const PROFILER_APPLE_SILICON: &str =
        include_str!("recorded/macos/system-profiler-apple-silicon.json");
    const PROFILER_INTEL: &str = include_str!("recorded/macos/system-profiler-intel-built-in.json");
    const PROFILER_NONE: &str = include_str!("recorded/macos/system-profiler-no-camera.json");
    // The layout `scutil --proxy` prints with a manual web proxy set in System Settings >
    // Network > Proxies, and with none (host names replaced by example ones).
    const SCUTIL_MANUAL: &str = include_str!("recorded/macos/scutil-proxy-manual.txt");
    const SCUTIL_NONE: &str = include_str!("recorded/macos/scutil-proxy-none.txt");

    #[test]
    fn lists_the_cameras_system_profiler_names() {
        assert_eq!(
            parse_system_profiler_cameras(PROFILER_APPLE_SILICON).unwrap(),
            [Camera {
                name: "FaceTime HD Camera".into(),
                model_id: "FaceTime HD Camera".into()
            }]
        );
        assert_eq!(
            parse_system_profiler_cameras(PROFILER_INTEL).unwrap(),
            [Camera {
                name: "FaceTime HD Camera (Built-in)".into(),
                model_id: "UVC Camera VendorID_1452 ProductID_34304".into()
            }]
        );
        assert_eq!(parse_system_profiler_cameras(PROFILER_NONE).unwrap(), []);
    }

    #[test]
    fn a_profiler_answer_without_cameras_is_an_error_in_words() {
        assert_eq!(
            parse_system_profiler_cameras("{}").unwrap_err(),
            "no SPCameraDataType list"
        );
        assert!(parse_system_profiler_cameras("").is_err());
        // A camera without the fields reads as empty names, not as an error.
        assert_eq!(
            parse_system_profiler_cameras(r#"{"SPCameraDataType":[{}]}"#).unwrap(),
            [Camera {
                name: String::new(),
                model_id: String::new()
            }]
        );
    }

    #[test]
    fn sysctl_tells_a_virtual_machine() {
        assert!(hv_vmm_present("1\n"));
        assert!(!hv_vmm_present("0\n"));
        assert!(!hv_vmm_present(""));
    }

    #[test]
    fn scutil_manual_proxy_and_exceptions() {
        let proxies = parse_scutil_proxy(SCUTIL_MANUAL);
        assert_eq!(
            proxies.http.as_deref(),
            Some("http://proxy.corp.example:3128")
        );
        assert_eq!(
            proxies.https.as_deref(),
            Some("http://proxy.corp.example:3129")
        );
        assert_eq!(
            proxies.for_url("https", "index.example.org"),
            Some("http://proxy.corp.example:3129")
        );
        assert_eq!(proxies.for_url("https", "printer.local"), None);
        assert_eq!(proxies.for_url("https", "169.254.10.1"), None);
        assert_eq!(
            proxies.for_url("https", "intranet"),
            None,
            "simple host name"
        );
        assert_eq!(proxies.for_url("https", "INTRANET.corp.example"), None);
    }

    #[test]
    fn scutil_without_a_proxy_gives_none() {
        let proxies = parse_scutil_proxy(SCUTIL_NONE);
        assert_eq!(proxies.for_url("https", "index.example.org"), None);
        assert_eq!(proxies.exceptions, ["*.local", "169.254/16"]);
    }
}
