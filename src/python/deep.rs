//! The `--deep` runner: `deep.py` imports each pinned package and, when TensorFlow is among
//! them, trains a tiny Keras model, reporting one JSON line per step so that a crash still
//! shows how far it got. The `packages` check judges what it reports.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::compat;
use super::probe::{PYTHON_CHILD_ENV, python_script_args};
use crate::host::{Host, ProcessError, ProcessOutput};

const DEEP_SCRIPT: &str = include_str!("deep.py");

/// Run `deep.py` in `interpreter` within `timeout`: import each `(distribution, module)`
/// in order, then train when `train`. Returns the process's output and the steps it
/// reported, in order.
pub fn run(
    host: &Host,
    interpreter: &Path,
    imports: &[(&str, &str)],
    train: bool,
    timeout: Duration,
) -> Result<(ProcessOutput, Vec<Value>), ProcessError> {
    let request = serde_json::json!({
        "imports": imports.iter().map(|(dist, module)| [dist, module]).collect::<Vec<_>>(),
        "train": train,
    });
    // The request is JSON on one line: no newline reaches a `.bat` shim.
    let mut args = python_script_args(DEEP_SCRIPT);
    args.push(request.to_string());
    let output = host.run_with_env(interpreter, &args, PYTHON_CHILD_ENV, timeout)?;
    let steps = output
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok((output, steps))
}

/// "Type: message" of the exception a step reported.
pub fn exception_text(step: &Value) -> String {
    let kind = step["error_type"].as_str().unwrap_or("Exception");
    match step["error"].as_str().filter(|m| !m.is_empty()) {
        Some(message) => format!("{kind}: {message}"),
        None => kind.to_string(),
    }
}

/// The exceptions that led to the reported one, outermost first.
pub fn causes(step: &Value) -> Vec<String> {
    step["causes"]
        .as_array()
        .map(|causes| {
            causes
                .iter()
                .filter_map(|c| c.as_str())
                .map(|c| format!("caused by {c}"))
                .collect()
        })
        .unwrap_or_default()
}

/// The module a distribution is imported as.
pub fn module_of(key: &str) -> String {
    match key {
        "pillow" => "PIL".into(),
        "protobuf" => "google.protobuf".into(),
        "scikit-learn" => "sklearn".into(),
        "opencv-python" | "opencv-python-headless" => "cv2".into(),
        k if compat::is_tensorflow(k) => "tensorflow".into(),
        k => k.replace('-', "_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_distributions_to_modules() {
        assert_eq!(module_of("pillow"), "PIL");
        assert_eq!(module_of("tensorflow-datasets"), "tensorflow_datasets");
        assert_eq!(module_of("tensorflow-macos"), "tensorflow");
        assert_eq!(module_of("numpy"), "numpy");
    }
}
