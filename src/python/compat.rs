//! What TensorFlow needs around it: which Pythons a release supports ([`supports`]), the
//! distributions that install it under another name, which has arm64 wheels for macOS, and
//! the known breakages its metadata cannot see ([`known_breakages`]). Facts from
//! docs/exam-facts.md.

use std::fmt;

use pep440_rs::Version;

use super::wanted::Pin;

/// Distributions that install TensorFlow under another name and satisfy a `tensorflow` pin.
pub const TENSORFLOW_VARIANTS: &[&str] = &[
    "tensorflow-cpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tensorflow-gpu",
];

/// The Pythons (by major.minor) a TensorFlow release supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonRange {
    pub low: Version,
    pub high: Version,
}

impl fmt::Display for PythonRange {
    /// `3.7 to 3.10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.low, self.high)
    }
}

/// Whether TensorFlow `tf` supports Python `python` (its major.minor; the patch level does
/// not count): when not, the range it does support. A release the table does not cover
/// refuses no Python.
pub fn supports(tf: &Version, python: &Version) -> Result<(), PythonRange> {
    let Some((low, high)) = tensorflow_python_range(tf) else {
        return Ok(());
    };
    let minor = Version::new(python.release().iter().take(2).copied());
    if minor < low || minor > high {
        Err(PythonRange { low, high })
    } else {
        Ok(())
    }
}

/// Whether the distribution key (normalized name) installs TensorFlow.
pub fn is_tensorflow(key: &str) -> bool {
    key == "tensorflow" || TENSORFLOW_VARIANTS.contains(&key)
}

/// Which Python versions a TensorFlow release supports (tensorflow.org "Build from source",
/// Linux CPU; docs/exam-facts.md). `None` for releases the table does not cover.
pub fn tensorflow_python_range(tensorflow: &Version) -> Option<(Version, Version)> {
    let release = tensorflow.release();
    let (major, minor) = (
        release.first().copied()?,
        release.get(1).copied().unwrap_or(0),
    );
    if major != 2 {
        return None;
    }
    let (low, high) = match minor {
        0 => (3, 7),
        1 => (5, 7),
        2 | 3 => (5, 8),
        4 => (6, 8),
        5 | 6 => (6, 9),
        7 => (7, 9),
        8..=11 => (7, 10),
        12 | 13 => (8, 11),
        14 | 15 => (9, 11),
        16 => (9, 12),
        _ => return None,
    };
    Some((Version::new([3, low]), Version::new([3, high])))
}

/// The distribution that has a macOS arm64 wheel of TensorFlow `tf` for CPython
/// `python` (major, minor), or `None` when none exists (docs/exam-facts.md, checked
/// against the package index 2026-11). `python` unknown: whichever covers `tf` for some
/// CPython.
///
/// `tensorflow`: arm64 wheels from 2.13.0 (cp38: 2.13.x only; cp39-cp311: 2.13+; cp312:
/// 2.16+). `tensorflow-macos`: cp38 2.5.0-2.13.0, cp39 2.5.0-2.16.2, cp310 2.9.0+, cp311
/// 2.12.0+. Nothing exists for 2.3 or 2.4.
pub fn arm64_tensorflow(tf: &Version, python: Option<(u64, u64)>) -> Option<&'static str> {
    let at_least = |release: &[u64]| *tf >= Version::new(release.iter().copied());
    let below = |release: &[u64]| *tf < Version::new(release.iter().copied());
    let tensorflow = at_least(&[2, 13])
        && match python {
            Some((3, 8)) => below(&[2, 14]),
            Some((3, 9..=11)) | None => true,
            Some((3, 12)) => at_least(&[2, 16]),
            Some(_) => false,
        };
    if tensorflow {
        return Some("tensorflow");
    }
    let macos = match python {
        Some((3, 8)) => at_least(&[2, 5]) && !at_least(&[2, 13, 1]),
        Some((3, 9)) => at_least(&[2, 5]) && !at_least(&[2, 16, 3]),
        Some((3, 10)) => at_least(&[2, 9]),
        Some((3, 11)) => at_least(&[2, 12]),
        Some(_) => false,
        None => at_least(&[2, 5]),
    };
    macos.then_some("tensorflow-macos")
}

/// The environment variable that chooses protobuf's implementation (`python`, `cpp`, `upb`).
pub const PROTOBUF_IMPLEMENTATION: &str = "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION";

/// What the known-breakage table is judged against: the installed (or, for TensorFlow, else
/// the profile's) versions, and protobuf's implementation variable as the interpreter gets it.
#[derive(Debug, Clone, Default)]
pub struct Versions<'a> {
    pub tensorflow: Option<&'a Version>,
    pub numpy: Option<&'a Version>,
    pub protobuf: Option<&'a Version>,
    /// The separate `keras` distribution (TF 2.6 to 2.15 import it as `tf.keras`).
    pub keras: Option<&'a Version>,
    pub protobuf_implementation: Option<&'a str>,
}

/// What repairs a breakage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Install this requirement line with the virtualenv's pip.
    Install(String),
    /// Remove this variable from the environment the interpreter is started in.
    Unset(&'static str),
}

/// One row of the table that applies: what breaks, how it shows, where that is written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakage {
    /// Stable name of the row, for the JSON report.
    pub row: &'static str,
    /// The combination, in words: "numpy 2.0.2 under tensorflow 2.15.0".
    pub what: String,
    /// What the user meets, in the words of the error.
    pub effect: &'static str,
    /// The public record of it (its row in docs/exam-facts.md cites the rest).
    pub source: &'static str,
    /// False for a combination that works, only worse (pure-Python protobuf is slower).
    pub fails: bool,
    pub remedy: Remedy,
}

/// Where protobuf reads the variable and refuses what it cannot load.
const PROTOBUF_IMPLEMENTATION_SOURCE: &str = "https://github.com/protocolbuffers/protobuf/blob/main/python/google/protobuf/internal/api_implementation.py";

fn at_least(version: &Version, release: &[u64]) -> bool {
    *version >= Version::new(release.iter().copied())
}

/// The major and minor of a version: keras follows TensorFlow's.
fn minor_of(version: &Version) -> (u64, u64) {
    let release = version.release();
    (
        release.first().copied().unwrap_or(0),
        release.get(1).copied().unwrap_or(0),
    )
}

/// The known breakages that hold for `installed`, each a fact from docs/exam-facts.md
/// ("Known breakages that metadata cannot see"). A fix installs the profile's pin of the
/// distribution where that pin excludes the installed version, else a range that is known
/// to work.
pub fn known_breakages(installed: &Versions<'_>, pins: &[Pin]) -> Vec<Breakage> {
    let requirement = |key: &str, installed: &Version, default: &str| {
        pins.iter()
            .find(|pin| pin.key == key && !pin.spec.contains(installed))
            .map_or_else(|| default.to_string(), |pin| pin.requirement.clone())
    };
    let mut found = Vec::new();
    let Some(tf) = installed.tensorflow else {
        return found;
    };
    let implementation = installed.protobuf_implementation;
    if let Some(numpy) = installed.numpy {
        // Every TensorFlow before 2.18.0 was built against numpy 1.x.
        if at_least(numpy, &[2]) && !at_least(tf, &[2, 18]) {
            found.push(Breakage {
                row: "numpy-2",
                what: format!("numpy {numpy} under tensorflow {tf}"),
                effect: "`import tensorflow` fails: \"A module that was compiled using NumPy 1.x cannot be run in NumPy 2 ...\", then \"ImportError: numpy.core.umath failed to import\" (TensorFlow supports numpy 2 from 2.18.0)",
                source: "https://github.com/tensorflow/tensorflow/issues/67291",
                fails: true,
                remedy: Remedy::Install(requirement("numpy", numpy, "numpy<2")),
            });
        }
        // TF 2.6 and older keep `np.object` in module-level dtype tables; numpy 1.24 removed it.
        if at_least(numpy, &[1, 24]) && !at_least(tf, &[2, 7]) {
            found.push(Breakage {
                row: "numpy-aliases",
                what: format!("numpy {numpy} under tensorflow {tf}"),
                effect: "`import tensorflow` fails: \"AttributeError: module 'numpy' has no attribute 'object'\" (numpy 1.24 removed the aliases TensorFlow 2.6 and older use)",
                source: "https://github.com/tensorflow/tensorflow/issues/62479",
                fails: true,
                remedy: Remedy::Install(requirement("numpy", numpy, "numpy<1.24")),
            });
        }
    }
    let new_protobuf = installed.protobuf.filter(|v| at_least(v, &[4, 21]));
    if let Some(protobuf) = new_protobuf
        && !at_least(tf, &[2, 12])
    {
        // TensorFlow before 2.12 ships _pb2 modules generated for protobuf 3. Pure-Python
        // protobuf lets 4.x import (slowly); with 5.x the models then fail.
        let python_protobuf_4 = implementation == Some("python") && !at_least(protobuf, &[5]);
        found.push(Breakage {
            row: "protobuf-4",
            what: format!("protobuf {protobuf} under tensorflow {tf}"),
            effect: if python_protobuf_4 {
                "`import tensorflow` works only because PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python selects pure-Python protobuf (much slower); TensorFlow before 2.12 was built for protobuf 3"
            } else {
                "`import tensorflow` fails: \"TypeError: Descriptors cannot be created directly\" (TensorFlow before 2.12 was built for protobuf 3; 4.21 and later refuse its generated code)"
            },
            source: "https://github.com/tensorflow/tensorflow/issues/56266",
            fails: !python_protobuf_4,
            remedy: Remedy::Install(requirement("protobuf", protobuf, "protobuf<3.20")),
        });
    }
    if let Some(keras) = installed.keras {
        let tf_minor = minor_of(tf);
        if tf_minor.0 == 2 && (6..=15).contains(&tf_minor.1) && minor_of(keras) != tf_minor {
            let (major, minor) = tf_minor;
            found.push(Breakage {
                row: "keras-minor",
                what: format!("keras {keras} under tensorflow {tf}"),
                effect: "`tf.keras` fails at first use (\"No module named 'tensorflow.python.trackable'\", \"cannot import name 'dtensor'\", or \"AlreadyExistsError: Another metric with the same name already exists\"): TensorFlow 2.6 to 2.15 take Keras from the keras distribution of their own minor release",
                source: "https://github.com/tensorflow/tensorflow/issues/52937",
                fails: true,
                remedy: Remedy::Install(requirement(
                    "keras",
                    keras,
                    &format!("keras>={major}.{minor},<{major}.{}", minor + 1),
                )),
            });
        }
    }
    if let Some(value) = implementation {
        let unset = Remedy::Unset(PROTOBUF_IMPLEMENTATION);
        match (value, new_protobuf) {
            // Said once: with a protobuf TensorFlow cannot load, the protobuf row says it.
            ("python", _) if found.iter().any(|b| b.row == "protobuf-4") => {}
            ("python", _) => found.push(Breakage {
                row: "protobuf-implementation",
                what: format!("{PROTOBUF_IMPLEMENTATION}=python"),
                effect: "protobuf runs as pure Python: it works, but protobuf itself warns it \"will be much slower\" (TensorFlow 2.9's import took 4.4 s of CPU against 3.5 s)",
                source: PROTOBUF_IMPLEMENTATION_SOURCE,
                fails: false,
                remedy: unset,
            }),
            // protobuf before 4.21 takes any value but `python` as `cpp`, which it ships.
            (_, None) | ("upb", _) => {}
            // protobuf 4.21 and later ship upb only: no pyext._message for `cpp`.
            ("cpp", Some(protobuf)) => found.push(Breakage {
                row: "protobuf-implementation",
                what: format!("{PROTOBUF_IMPLEMENTATION}=cpp with protobuf {protobuf}"),
                effect: "`import tensorflow` fails: \"ImportError: cannot import name '_message' from 'google.protobuf.pyext'\" (protobuf 4.21 and later have no cpp implementation)",
                source: PROTOBUF_IMPLEMENTATION_SOURCE,
                fails: true,
                remedy: unset,
            }),
            (other, Some(protobuf)) => found.push(Breakage {
                row: "protobuf-implementation",
                what: format!("{PROTOBUF_IMPLEMENTATION}={other:?} with protobuf {protobuf}"),
                effect: "the first protobuf import fails: \"ValueError: PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION ... is not supported. Please set to 'python', 'cpp' or 'upb'.\"",
                source: PROTOBUF_IMPLEMENTATION_SOURCE,
                fails: true,
                remedy: unset,
            }),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn for_python(tf: &str, python: Option<(u64, u64)>) -> Option<&'static str> {
        arm64_tensorflow(&Version::from_str(tf).unwrap(), python)
    }

    #[test]
    fn each_exam_era_on_apple_silicon() {
        let py38 = Some((3, 8));
        // Dec 2020 and Jan 2021: nothing runs natively.
        assert_eq!(for_python("2.3.0", py38), None);
        assert_eq!(for_python("2.4.1", py38), None);
        assert_eq!(for_python("2.4.1", None), None);
        // Jun 2021 to Jan 2023: tensorflow-macos.
        for tf in ["2.5.0", "2.7.0", "2.9.0"] {
            assert_eq!(for_python(tf, py38), Some("tensorflow-macos"), "{tf}");
        }
        // mid-2023: tensorflow itself.
        assert_eq!(for_python("2.13.0", py38), Some("tensorflow"));
    }

    #[test]
    fn python_versions_bound_the_wheels() {
        assert_eq!(for_python("2.14.0", Some((3, 8))), None);
        assert_eq!(for_python("2.14.0", Some((3, 9))), Some("tensorflow"));
        assert_eq!(for_python("2.13.0", Some((3, 12))), None);
        assert_eq!(for_python("2.16.1", Some((3, 12))), Some("tensorflow"));
        assert_eq!(for_python("2.8.0", Some((3, 10))), None);
        assert_eq!(for_python("2.9.0", Some((3, 10))), Some("tensorflow-macos"));
        assert_eq!(for_python("2.11.0", Some((3, 11))), None);
        assert_eq!(
            for_python("2.12.0", Some((3, 11))),
            Some("tensorflow-macos")
        );
        assert_eq!(for_python("2.12.0", Some((3, 9))), Some("tensorflow-macos"));
        assert_eq!(for_python("2.9.0", Some((3, 7))), None);
    }

    fn version(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    #[test]
    fn supports_judges_the_python_release_not_its_patch_level() {
        let tf = version("2.9.0");
        assert_eq!(supports(&tf, &version("3.10.12")), Ok(()));
        assert_eq!(supports(&tf, &version("3.7.0")), Ok(()));
        let refused = supports(&tf, &version("3.11.1")).unwrap_err();
        assert_eq!(refused.to_string(), "3.7 to 3.10");
        // A release the table does not cover refuses nothing.
        assert_eq!(supports(&version("1.15.0"), &version("3.12.0")), Ok(()));
    }

    /// The rows that hold for TensorFlow `tf` with these distributions (`name==version`) and
    /// this value of PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION.
    fn rows(
        tf: &str,
        installed: &[&str],
        implementation: Option<&str>,
        pins: &[&str],
    ) -> Vec<Breakage> {
        let versions: Vec<(String, Version)> = installed
            .iter()
            .map(|line| {
                let (name, v) = line.split_once("==").unwrap();
                (name.to_string(), version(v))
            })
            .collect();
        let of = |key: &str| versions.iter().find(|(n, _)| n == key).map(|(_, v)| v);
        let tf = version(tf);
        let pins: Vec<Pin> = pins.iter().map(|p| Pin::parse(p).unwrap()).collect();
        known_breakages(
            &Versions {
                tensorflow: Some(&tf),
                numpy: of("numpy"),
                protobuf: of("protobuf"),
                keras: of("keras"),
                protobuf_implementation: implementation,
            },
            &pins,
        )
    }

    fn names(found: &[Breakage]) -> Vec<&'static str> {
        found.iter().map(|b| b.row).collect()
    }

    fn install(req: &str) -> Remedy {
        Remedy::Install(req.into())
    }

    #[test]
    fn numpy_2_breaks_every_tensorflow_before_2_18() {
        for tf in ["2.9.0", "2.14.0", "2.16.1", "2.17.1"] {
            let found = rows(tf, &["numpy==2.0.2"], None, &[]);
            assert_eq!(names(&found), ["numpy-2"], "{tf}");
            assert!(found[0].fails);
            assert_eq!(found[0].what, format!("numpy 2.0.2 under tensorflow {tf}"));
            assert_eq!(found[0].remedy, install("numpy<2"));
        }
        assert!(rows("2.18.0", &["numpy==2.0.2"], None, &[]).is_empty());
        assert!(rows("2.15.0", &["numpy==1.26.4"], None, &[]).is_empty());
        // The profile's pin repairs it where it excludes the installed numpy.
        let pinned = rows("2.15.0", &["numpy==2.0.2"], None, &["numpy==1.26.4"]);
        assert_eq!(pinned[0].remedy, install("numpy==1.26.4"));
        let loose = rows("2.15.0", &["numpy==2.0.2"], None, &["numpy"]);
        assert_eq!(loose[0].remedy, install("numpy<2"));
    }

    #[test]
    fn numpy_1_24_breaks_tensorflow_2_6_and_older() {
        for tf in ["2.3.0", "2.5.0", "2.6.5"] {
            let found = rows(tf, &["numpy==1.24.4"], None, &[]);
            assert_eq!(names(&found), ["numpy-aliases"], "{tf}");
            assert_eq!(found[0].remedy, install("numpy<1.24"));
        }
        // From 2.7 the aliases are gone from what `import tensorflow` runs.
        assert!(rows("2.7.0", &["numpy==1.24.4"], None, &[]).is_empty());
        assert!(rows("2.9.0", &["numpy==1.24.4"], None, &[]).is_empty());
        assert!(rows("2.6.0", &["numpy==1.23.5"], None, &[]).is_empty());
        // numpy 2 under 2.6 is both.
        assert_eq!(
            names(&rows("2.6.0", &["numpy==2.0.0"], None, &[])),
            ["numpy-2", "numpy-aliases"]
        );
    }

    #[test]
    fn protobuf_4_21_breaks_tensorflow_before_2_12() {
        for tf in ["2.3.0", "2.6.0", "2.9.0", "2.11.1"] {
            for protobuf in ["4.21.0", "4.21.12", "5.29.6"] {
                let found = rows(tf, &[&format!("protobuf=={protobuf}")], None, &[]);
                assert_eq!(names(&found), ["protobuf-4"], "{tf} {protobuf}");
                assert!(found[0].fails);
                assert_eq!(found[0].remedy, install("protobuf<3.20"));
            }
        }
        assert!(rows("2.9.0", &["protobuf==3.20.3"], None, &[]).is_empty());
        assert!(rows("2.12.0", &["protobuf==4.21.12"], None, &[]).is_empty());
        assert!(rows("2.15.0", &["protobuf==4.25.3"], None, &[]).is_empty());
        let pinned = rows("2.9.0", &["protobuf==4.21.12"], None, &["protobuf==3.19.6"]);
        assert_eq!(pinned[0].remedy, install("protobuf==3.19.6"));
    }

    #[test]
    fn pure_python_protobuf_hides_protobuf_4_at_import_but_not_protobuf_5() {
        let hidden = rows("2.9.0", &["protobuf==4.21.12"], Some("python"), &[]);
        assert_eq!(names(&hidden), ["protobuf-4"]);
        assert!(!hidden[0].fails, "imports, slowly");
        let five = rows("2.3.0", &["protobuf==5.29.6"], Some("python"), &[]);
        assert_eq!(names(&five), ["protobuf-4"]);
        assert!(five[0].fails, "every model fails under protobuf 5");
    }

    #[test]
    fn a_keras_of_another_minor_breaks_tf_keras_from_2_6_to_2_15() {
        let found = rows("2.9.0", &["keras==2.12.0"], None, &[]);
        assert_eq!(names(&found), ["keras-minor"]);
        assert!(found[0].fails);
        assert_eq!(found[0].remedy, install("keras>=2.9,<2.10"));
        let found = rows("2.6.0", &["keras==2.15.0"], None, &[]);
        assert_eq!(found[0].remedy, install("keras>=2.6,<2.7"));
        assert!(rows("2.9.0", &["keras==2.9.0"], None, &[]).is_empty());
        assert!(rows("2.6.1", &["keras==2.6.0"], None, &[]).is_empty());
        assert!(rows("2.15.0", &["keras==2.15.1"], None, &[]).is_empty());
        // Before 2.6 tf.keras is TensorFlow's own; from 2.16 keras 3 is meant to be there.
        assert!(rows("2.5.0", &["keras==2.9.0"], None, &[]).is_empty());
        assert!(rows("2.16.1", &["keras==3.3.3"], None, &[]).is_empty());
        assert_eq!(
            names(&rows("2.15.0", &["keras==3.0.0"], None, &[])),
            ["keras-minor"]
        );
        let pinned = rows("2.9.0", &["keras==2.12.0"], None, &["keras==2.9.0"]);
        assert_eq!(pinned[0].remedy, install("keras==2.9.0"));
    }

    #[test]
    fn the_protobuf_implementation_variable() {
        let unset = Remedy::Unset(PROTOBUF_IMPLEMENTATION);
        // cpp: protobuf 4.21 and later have no pyext._message.
        let cpp = rows("2.12.0", &["protobuf==4.21.12"], Some("cpp"), &[]);
        assert_eq!(names(&cpp), ["protobuf-implementation"]);
        assert!(cpp[0].fails);
        assert_eq!(cpp[0].remedy, unset);
        assert!(rows("2.9.0", &["protobuf==3.19.6"], Some("cpp"), &[]).is_empty());
        // A value protobuf does not know fails from 4.21; before, it means cpp.
        let fast = rows("2.12.0", &["protobuf==4.21.12"], Some("fast"), &[]);
        assert_eq!(names(&fast), ["protobuf-implementation"]);
        assert!(fast[0].fails);
        assert!(fast[0].what.contains("\"fast\""), "{}", fast[0].what);
        assert!(rows("2.9.0", &["protobuf==3.19.6"], Some("fast"), &[]).is_empty());
        assert!(rows("2.12.0", &["protobuf==4.21.12"], Some("upb"), &[]).is_empty());
        // python: works, slower.
        let python = rows("2.9.0", &["protobuf==3.19.6"], Some("python"), &[]);
        assert_eq!(names(&python), ["protobuf-implementation"]);
        assert!(!python[0].fails);
        assert_eq!(python[0].remedy, unset);
        // Both cpp and protobuf 4 under TF 2.9: each row says its part.
        let both = rows("2.9.0", &["protobuf==4.21.12"], Some("cpp"), &[]);
        assert_eq!(names(&both), ["protobuf-4", "protobuf-implementation"]);
    }

    #[test]
    fn no_tensorflow_no_breakage() {
        let numpy = version("2.0.0");
        let found = known_breakages(
            &Versions {
                numpy: Some(&numpy),
                protobuf_implementation: Some("cpp"),
                ..Versions::default()
            },
            &[],
        );
        assert!(found.is_empty());
    }
}
