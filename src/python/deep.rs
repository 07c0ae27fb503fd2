//! The `--deep` runner: `deep.py` imports each pinned package and, when TensorFlow is among
//! them, builds and fits one tiny model per exam category ([`MODELS`]), answering one JSON
//! line per step on a channel of its own (a pipe, never stdout, which imported packages print
//! to as they like), so that a crash still shows how far it got. [`judge`] turns the answers
//! into the `python.deep` finding.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;
use serde_json::{Map, Value};

use super::compat;
use super::probe::{PYTHON_CHILD_ENV, python_script_args};
use crate::host::{Host, ProcessError, ProcessOutput};
use crate::report::Finding;

const DEEP_SCRIPT: &str = include_str!("deep.py");

/// The variable that tells deep.py the number of its answer channel.
const CHANNEL_VAR: &str = "PREFLIGHT_DEEP_CHANNEL";

/// The models deep.py trains, in its order: one per exam category.
pub const MODELS: [&str; 4] = [
    "dense_regression",
    "image_classifier",
    "text_classifier",
    "time_series",
];

/// One pin to import: its distribution, the module it is imported as, and the version its
/// metadata says.
pub struct Import {
    pub dist: String,
    pub module: String,
    pub metadata_version: Option<String>,
}

/// Run `deep.py` in `interpreter` within `timeout`: import each of `imports` in order, then
/// train when `train`. Returns the process's output and the steps it reported, in order.
pub fn run(
    host: &Host,
    interpreter: &Path,
    imports: &[Import],
    train: bool,
    timeout: Duration,
) -> Result<(ProcessOutput, Vec<Value>), ProcessError> {
    let request = serde_json::json!({
        "imports": imports.iter().map(|i| [&i.dist, &i.module]).collect::<Vec<_>>(),
        "train": train,
    });
    // The request is JSON on one line: no newline reaches a `.bat` shim.
    let mut args = python_script_args(DEEP_SCRIPT);
    args.push(request.to_string());
    let (output, answers) =
        host.run_with_channel(interpreter, &args, PYTHON_CHILD_ENV, CHANNEL_VAR, timeout)?;
    let steps = answers
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok((output, steps))
}

/// The finding for what a run of [`run`] reported: which import or which model failed and
/// how (with hints for the known errors), each model's time, or the crash and where.
pub fn judge(
    finding: Finding,
    imports: &[Import],
    train: bool,
    ran: Result<(ProcessOutput, Vec<Value>), ProcessError>,
) -> Finding {
    let (output, steps) = match ran {
        Ok(ran) => ran,
        Err(ProcessError::TimedOut { after, .. }) => {
            return finding
                .fail(format!("importing and training did not finish within {:.1} s", after.as_secs_f64()))
                .fix("Run again with a longer deadline (`--deep-timeout SECS`); a first TensorFlow import can be slow on a cold disk.");
        }
        Err(e) => return finding.fail(format!("could not run the interpreter: {e}")),
    };
    let trained: Vec<&Value> = steps.iter().filter(|s| s["train"].is_string()).collect();
    let mut finding = finding.observe("steps", steps.clone());
    let models: Map<String, Value> = trained
        .iter()
        .filter(|s| s["train"] != "setup")
        .map(|s| {
            let mut model = serde_json::json!({
                "ok": s["ok"] == true,
                "seconds": round_ms(&s["seconds"]),
                "cpu_seconds": round_ms(&s["cpu_seconds"]),
            });
            if s["ok"] != true {
                model["error"] = exception_text(s).into();
            }
            (s["train"].as_str().unwrap_or_default().to_string(), model)
        })
        .collect();
    if !models.is_empty() {
        let total: f64 = models.values().filter_map(|m| m["seconds"].as_f64()).sum();
        finding = finding
            .observe("train_seconds", (total * 1000.0).round() / 1000.0)
            .observe("models", Value::Object(models.clone()));
    }
    finding = finding.details(models.iter().map(|(name, m)| model_line(name, m)));
    if let Some(crash) = output.crash() {
        let done = steps.iter().filter(|s| s.get("import").is_some()).count();
        let during = match imports.get(done) {
            Some(import) => format!("while importing {}", import.dist),
            None => match MODELS.get(models.len()) {
                Some(model) if train => format!("while training {model}"),
                _ => "after its last step".to_string(),
            },
        };
        finding = finding
            .observe("crash", crash.name.clone())
            .fail(format!("Python crashed with {} {during}", crash.name));
        return if crash.illegal_instruction {
            finding
                .detail("The CPU lacks an instruction TensorFlow's wheel was built for, usually AVX.")
                .fix("Use a machine whose CPU has AVX, or on Apple Silicon a native arm64 Python with tensorflow-macos.")
        } else {
            finding.details(last_lines(&output.stderr, 3))
        };
    }
    let mut failures = Vec::new();
    let mut mismatches = Vec::new();
    for import in imports {
        let dist = &import.dist;
        let Some(step) = steps.iter().find(|s| s["import"] == dist.as_str()) else {
            failures.push(format!("{dist}: the import run ended before reaching it"));
            continue;
        };
        if step["ok"] == true {
            if let (Some(imported), Some(meta)) =
                (step["version"].as_str(), &import.metadata_version)
                && Version::from_str(imported).ok() != Version::from_str(meta).ok()
            {
                mismatches.push(format!("{dist}: imported {imported}, metadata says {meta}"));
            }
        } else {
            let error = exception_text(step);
            finding = finding.details(hints(&error)).details(causes(step));
            failures.push(format!("import {dist}: {error}"));
        }
    }
    if !failures.is_empty() {
        dedup_in_order(&mut finding.details);
        return finding.fail(failures.join("; "));
    }
    if train {
        // Models that failed alike are named together: a broken Keras fails all four.
        let mut alike: Vec<(String, Vec<String>)> = Vec::new();
        for step in trained.iter().filter(|s| s["ok"] != true) {
            let error = exception_text(step);
            let what = match step["train"].as_str() {
                Some("setup") => "importing numpy and tensorflow to train".to_string(),
                Some(model) => model.to_string(),
                None => "training".to_string(),
            };
            finding = finding.details(hints(&error)).details(causes(step));
            match alike.iter_mut().find(|(e, _)| *e == error) {
                Some((_, names)) => names.push(what),
                None => alike.push((error, vec![what])),
            }
        }
        let mut failures: Vec<String> = alike
            .iter()
            .map(|(error, names)| format!("{} failed: {error}", names.join(", ")))
            .collect();
        if failures.is_empty() && models.len() < MODELS.len() {
            failures.push(match MODELS.get(models.len()) {
                Some(model) => format!("the run ended before training {model}"),
                None => "the run ended early".to_string(),
            });
        }
        if !failures.is_empty() {
            dedup_in_order(&mut finding.details);
            return finding.fail(failures.join("; "));
        }
    }
    if !output.status.success() {
        return finding
            .fail(format!(
                "the import run exited with {}",
                output
                    .status
                    .code()
                    .map_or("no code".to_string(), |c| c.to_string())
            ))
            .details(last_lines(&output.stderr, 3));
    }
    let mut summary = match imports.len() {
        1 => "imported 1 package".to_string(),
        n => format!("imported {n} packages"),
    };
    if train {
        let total: f64 = models.values().filter_map(|m| m["seconds"].as_f64()).sum();
        summary.push_str(&format!(
            "; {} exam models trained in {total:.1} s",
            models.len()
        ));
    }
    if mismatches.is_empty() {
        finding.pass(summary)
    } else {
        finding
            .warn(format!("{summary}, but versions disagree"))
            .details(mismatches)
            .fix("Another copy shadows the installed one: look for stray packages on PYTHONPATH or in the user site-packages.")
    }
}

fn round_ms(seconds: &Value) -> Value {
    seconds
        .as_f64()
        .map_or(Value::Null, |s| ((s * 1000.0).round() / 1000.0).into())
}

/// `text_classifier: trained in 1.9 s (0.9 s CPU)`, or how it failed.
fn model_line(name: &str, model: &Value) -> String {
    let seconds = model["seconds"].as_f64().unwrap_or(0.0);
    let cpu = model["cpu_seconds"].as_f64().unwrap_or(0.0);
    match model["error"].as_str() {
        None => format!("{name}: trained in {seconds:.1} s ({cpu:.1} s CPU)"),
        Some(_) => format!("{name}: failed after {seconds:.1} s ({cpu:.1} s CPU)"),
    }
}

/// Keeps the first of each repeated line: the same hint or cause for several models is said once.
fn dedup_in_order(lines: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    lines.retain(|l| seen.insert(l.clone()));
}

/// The last non-empty lines a crashed process wrote, for context.
fn last_lines(text: &str, count: usize) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|l| l.chars().take(300).collect())
        .collect()
}

/// What to try for a well-known import or training error (docs/exam-facts.md).
pub fn hints(error: &str) -> Vec<String> {
    let has = |needle: &str| error.contains(needle);
    let mut hints: Vec<&str> = Vec::new();
    if has("Unable to convert function return value")
        || has("numpy.core.multiarray failed")
        || has("numpy.core.umath failed")
        || has("_ARRAY_API")
    {
        hints.push("hint: numpy 2.x under a TensorFlow built for numpy 1.x (before 2.18): install the profile's numpy pin (or `numpy<2`).");
    }
    if has("_no_nep50_warning") {
        hints.push("hint: this numpy is too old for the installed TensorFlow: numpy 1.23.0 or later fixes it.");
    }
    if has("Cannot convert a symbolic Tensor") {
        hints.push("hint: numpy 1.20 or later under TensorFlow 2.4 or 2.5, which need numpy 1.19 (`numpy~=1.19.2`): their LSTM layers fail to build.");
    }
    if has("Descriptors cannot") {
        hints.push("hint: protobuf 4.21 or later under a TensorFlow before 2.12, built for protobuf 3: install `protobuf<3.20`.");
    }
    if has("RepeatedCompositeFieldContainer") {
        hints.push("hint: pure-Python protobuf (PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python) with protobuf 5 under an old TensorFlow: install `protobuf<3.20` and unset the variable.");
    }
    if has("from 'google.protobuf.pyext'") || has("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION") {
        hints.push("hint: PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION names an implementation this protobuf lacks: unset it.");
    }
    if has("tensorflow.python.trackable")
        || has("cannot import name 'dtensor'")
        || has("Another metric with the same name already exists")
    {
        hints.push("hint: a keras of another minor release than TensorFlow's: install the keras of TensorFlow's own minor (TensorFlow 2.9: `keras>=2.9,<2.10`).");
    }
    if has("No module named 'keras'") {
        hints.push("hint: keras is missing: TensorFlow 2.6 to 2.15 take tf.keras from the keras distribution of their own minor release.");
    }
    if has("has no attribute 'object'") {
        hints.push("hint: numpy 1.24 or later under TensorFlow 2.6 or older, which still use `np.object`: install `numpy<1.24` (the profile's numpy pin).");
    }
    if has("DLL load failed") {
        hints.push("hint: on Windows, install the latest Microsoft Visual C++ Redistributable.");
    }
    if has("CERTIFICATE_VERIFY_FAILED") {
        hints
            .push("hint: on macOS with python.org's Python, run \"Install Certificates.command\".");
    }
    hints.into_iter().map(String::from).collect()
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
    fn the_models_are_the_ones_deep_py_trains_in_its_order() {
        let listed: Vec<usize> = MODELS
            .iter()
            .map(|m| DEEP_SCRIPT.find(&format!("(\"{m}\", {m})")).expect(m))
            .collect();
        assert!(listed.is_sorted(), "{listed:?}");
    }

    #[test]
    fn known_errors_get_their_hint() {
        let first = |error: &str| hints(error).into_iter().next().unwrap_or_default();
        assert!(first("NotImplementedError: Cannot convert a symbolic Tensor (lstm/strided_slice:0) to a numpy array.").contains("TensorFlow 2.4 or 2.5"));
        assert!(
            first("TypeError: Descriptors cannot not be created directly.")
                .contains("protobuf<3.20")
        );
        assert!(
            first("ModuleNotFoundError: No module named 'tensorflow.python.trackable'")
                .contains("keras of another minor")
        );
        assert!(
            first(
                "ImportError: cannot import name 'dtensor' from 'tensorflow.compat.v2.experimental'"
            )
            .contains("keras of another minor")
        );
        assert!(
            first("AttributeError: module 'numpy' has no attribute 'object'.")
                .contains("numpy<1.24")
        );
        assert!(first("ImportError: numpy.core.umath failed to import").contains("numpy 2.x"));
        assert!(
            first("ImportError: cannot import name '_message' from 'google.protobuf.pyext'")
                .contains("unset it")
        );
        assert!(hints("ValueError: something else").is_empty());
    }

    #[test]
    fn maps_distributions_to_modules() {
        assert_eq!(module_of("pillow"), "PIL");
        assert_eq!(module_of("tensorflow-datasets"), "tensorflow_datasets");
        assert_eq!(module_of("tensorflow-macos"), "tensorflow");
        assert_eq!(module_of("numpy"), "numpy");
    }
}
