//! macOS: what runs on Apple Silicon.

use pep440_rs::Version;

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
}
