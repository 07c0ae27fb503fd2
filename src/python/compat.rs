//! What TensorFlow needs around it: which Pythons a release supports ([`supports`]), the
//! distributions that install it under another name, which has arm64 wheels for macOS, and
//! the numpy release that breaks it. Facts from docs/exam-facts.md.

use std::fmt;

use pep440_rs::Version;

/// Distributions that install TensorFlow under another name and satisfy a `tensorflow` pin.
pub const TENSORFLOW_VARIANTS: &[&str] = &[
    "tensorflow-cpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tensorflow-gpu",
];

/// TensorFlow releases before this were built against numpy 1.x and fail to import under 2.x.
const FIRST_TF_FOR_NUMPY_2: [u64; 2] = [2, 16];

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

/// Whether `import tensorflow` fails for TensorFlow `tf` under numpy `numpy`: releases
/// before 2.16 were built against numpy 1.x.
pub fn breaks_with_numpy(tf: &Version, numpy: &Version) -> bool {
    numpy.release().first() >= Some(&2) && *tf < Version::new(FIRST_TF_FOR_NUMPY_2)
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
        assert!(breaks_with_numpy(&tf, &version("2.0.0")));
        assert!(!breaks_with_numpy(&version("2.16.1"), &version("2.0.0")));
        assert!(!breaks_with_numpy(&tf, &version("1.26.4")));
    }
}
