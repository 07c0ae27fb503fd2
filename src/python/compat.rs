//! What TensorFlow needs around it: which Pythons a release supports, the distributions that
//! install it under another name, which has arm64 wheels for macOS, and the numpy release
//! that breaks it. Facts from docs/exam-facts.md.

use pep440_rs::Version;

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
