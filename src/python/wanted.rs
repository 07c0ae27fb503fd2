//! What a profile wants of Python: its interpreter ([`Wanted`]) and its packages ([`Pin`]).
//! Kinds contribute these through the `Check` trait; the checks judge with them and
//! `preflight fix` builds from them.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::compat;
use super::dist::normalize;

/// The profile's Python: the `python` check's specifier, and the Pythons its TensorFlow
/// release supports. The only type for it.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub spec: Option<VersionSpecifiers>,
    pub tensorflow: Option<Version>,
}

impl Wanted {
    /// Whether an interpreter of `version` is accepted, and if not, why.
    pub fn judge(&self, version: &Version) -> Result<(), String> {
        if !self.spec_allows(version) {
            return Err(format!(
                "Python {version} does not meet {}",
                self.describe()
            ));
        }
        if let Some(tf) = &self.tensorflow
            && let Err(range) = compat::supports(tf, version)
        {
            return Err(format!(
                "tensorflow {tf} supports Python {range}, not {version}"
            ));
        }
        if version.release().first() != Some(&3) {
            return Err(format!(
                "Python {version} cannot make a virtualenv with `venv`"
            ));
        }
        Ok(())
    }

    /// Whether `version` meets the specifier; without one, every version does.
    pub fn spec_allows(&self, version: &Version) -> bool {
        self.spec.as_ref().is_none_or(|spec| spec.contains(version))
    }

    /// `3.8` from `==3.8.*`: what to name in commands like `python3.8 -m venv` or
    /// `pyenv install 3.8`, and which Python to prefer where several are installed.
    pub fn release(&self) -> Option<String> {
        let first = self.spec.as_ref()?.iter().next()?;
        match first.version().release() {
            [major, minor, ..] => Some(format!("{major}.{minor}")),
            [major] => Some(major.to_string()),
            [] => None,
        }
    }

    /// The profile's wish in words: `==3.8.*`, or "any Python 3".
    pub fn describe(&self) -> String {
        match &self.spec {
            Some(spec) => spec.to_string(),
            None => "any Python 3".into(),
        }
    }
}

/// One pinned package: a requirement line as in requirements.txt (`tensorflow==2.9.0`,
/// `numpy>=1.19.2`, `Pillow`).
#[derive(Debug, Clone)]
pub struct Pin {
    /// The name as the profile writes it.
    pub name: String,
    /// The name as pip compares it.
    pub key: String,
    pub spec: VersionSpecifiers,
    /// The line without spaces, as pip is given it: `numpy==1.22.*`.
    pub requirement: String,
}

impl Pin {
    pub fn parse(line: &str) -> Result<Pin, String> {
        let line = line.trim();
        let split = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(line.len());
        let (name, spec_text) = line.split_at(split);
        if name.is_empty() {
            return Err(format!("`{line}` does not start with a package name"));
        }
        // PEP 508: a name starts and ends with an ASCII letter or digit.
        if !(name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric()))
        {
            return Err(format!(
                "`{name}` is not a package name: names start and end with a letter or digit (PEP 508)"
            ));
        }
        let spec = VersionSpecifiers::from_str(spec_text.trim())
            .map_err(|e| format!("`{line}`: not a PEP 440 version specifier: {e}"))?;
        Ok(Pin {
            name: name.to_string(),
            key: normalize(name),
            requirement: format!("{name}{}", spec_text.trim().replace(' ', "")),
            spec,
        })
    }

    /// The version the pin's first clause names (`2.9.0` of `==2.9.0`), for advice that
    /// depends on it.
    pub fn version(&self) -> Option<Version> {
        let first = self.spec.iter().next()?;
        Some(first.version().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_versions_by_spec_and_tensorflow() {
        let wanted = Wanted {
            spec: Some(VersionSpecifiers::from_str("==3.8.*").unwrap()),
            tensorflow: Some(Version::from_str("2.9.0").unwrap()),
        };
        assert!(wanted.judge(&Version::from_str("3.8.18").unwrap()).is_ok());
        assert!(wanted.judge(&Version::from_str("3.11.7").unwrap()).is_err());
        assert_eq!(wanted.release().as_deref(), Some("3.8"));
        let any = Wanted {
            spec: None,
            tensorflow: Some(Version::from_str("2.9.0").unwrap()),
        };
        assert!(any.judge(&Version::from_str("3.10.1").unwrap()).is_ok());
        assert!(any.judge(&Version::from_str("3.12.1").unwrap()).is_err());
        assert!(
            Wanted::default()
                .judge(&Version::from_str("2.7.18").unwrap())
                .is_err()
        );
    }

    #[test]
    fn names_the_wanted_release() {
        let wanted = Wanted {
            spec: Some(VersionSpecifiers::from_str("==3.8.*").unwrap()),
            tensorflow: None,
        };
        assert_eq!(wanted.release().as_deref(), Some("3.8"));
    }

    #[test]
    fn parses_requirement_lines() {
        let pin = Pin::parse("tensorflow_datasets==4.6.0").unwrap();
        assert_eq!(pin.key, "tensorflow-datasets");
        assert!(pin.spec.contains(&Version::from_str("4.6.0").unwrap()));
        let any = Pin::parse("Pillow").unwrap();
        assert_eq!(any.key, "pillow");
        assert!(any.spec.contains(&Version::from_str("10.0.0").unwrap()));
        let star = Pin::parse("numpy ==1.22.*").unwrap();
        assert!(star.spec.contains(&Version::from_str("1.22.4").unwrap()));
        assert_eq!(star.requirement, "numpy==1.22.*");
        assert!(Pin::parse("==1.0").is_err());
        for not_a_name in [".", "-numpy", "numpy.", "_", ". ==1.0"] {
            let error = Pin::parse(not_a_name).unwrap_err();
            assert!(
                error.contains("is not a package name"),
                "{not_a_name}: {error}"
            );
        }
        assert!(Pin::parse("numpy=>1").is_err());
    }
}
