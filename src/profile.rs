//! Profiles: TOML files that say which checks to run with which values. Built-in ones live
//! in `checks/` and are embedded in the binary; a path to a file works the same way.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

use crate::check::{Check, ConfigError, KindConfig, ProfileFacts, Severity};
use crate::host::{Host, SMALL_FILE_LIMIT, is_file, read_bounded};
use crate::python::wanted::{Pin, Wanted};
use crate::registry;

pub struct BuiltIn {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(BuiltIn { name: $name, text: include_str!(concat!("../checks/", $name, ".toml")) }),*]
    };
}

pub const BUILT_IN: &[BuiltIn] = built_in![
    "tf-cert-2020-07",
    "tf-cert-2020-12",
    "tf-cert-2021-01",
    "tf-cert-2021-06",
    "tf-cert-2021-12",
    "tf-cert-2022-07",
    "tf-cert-2023-01",
    "tf-cert-2.13",
];

/// Short names for built-in profiles: `tf-cert` is the latest official handbook.
pub const ALIASES: &[(&str, &str)] = &[("tf-cert", "tf-cert-2023-01")];

pub const DEFAULT_PROFILE: &str = "tf-cert";

pub struct ConfiguredCheck {
    pub kind: &'static str,
    pub severity: Severity,
    pub check: std::sync::Arc<dyn Check>,
    /// Where its ids come from (its `id` or `pins` key, else its table), for errors.
    span: Range<usize>,
}

impl ConfiguredCheck {
    /// A check built outside a profile file (tests, embedders); errors point at no line.
    pub fn new(kind: &'static str, severity: Severity, check: std::sync::Arc<dyn Check>) -> Self {
        ConfiguredCheck {
            kind,
            severity,
            check,
            span: 0..0,
        }
    }
}

/// A loaded profile: its metadata, the facts its kinds share, and its built checks.
pub struct Profile {
    pub name: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub verified: bool,
    /// Where it was read from: `built-in` or the file's path.
    pub origin: String,
    pub facts: ProfileFacts,
    pub checks: Vec<ConfiguredCheck>,
}

impl Profile {
    /// The packages the profile pins, from every kind that pins some, in profile order.
    pub fn pins(&self) -> impl Iterator<Item = &Pin> {
        self.checks.iter().flat_map(|c| c.check.pins())
    }
}

#[derive(Debug)]
pub enum ProfileError {
    UnknownName {
        name: String,
    },
    Unreadable {
        file: PathBuf,
        error: std::io::Error,
    },
    Invalid {
        file: String,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::UnknownName { name } => write!(
                f,
                "no built-in profile is called `{name}`\n  built-in profiles: {}\n  \
                 or give the path of a profile file (`--profile ./my-profile.toml`)",
                built_in_names().join(", ")
            ),
            ProfileError::Unreadable { file, error } => {
                write!(f, "cannot read profile {}: {error}", file.display())
            }
            ProfileError::Invalid {
                file,
                line,
                key,
                message,
            } => {
                write!(f, "{file}")?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                }
                write!(f, ": ")?;
                if let Some(key) = key {
                    write!(f, "key `{key}`: ")?;
                }
                write!(f, "{message}")
            }
        }
    }
}

impl std::error::Error for ProfileError {}

/// Every name `--profile` accepts, aliases first.
pub fn built_in_names() -> Vec<&'static str> {
    ALIASES
        .iter()
        .map(|(alias, _)| *alias)
        .chain(BUILT_IN.iter().map(|b| b.name))
        .collect()
}

pub fn built_in(name: &str) -> Option<&'static BuiltIn> {
    let target = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, target)| *target);
    BUILT_IN.iter().find(|b| b.name == target)
}

/// A built-in profile by name, or a profile file by path.
pub fn load(name_or_path: &str, host: &Host) -> Result<Profile, ProfileError> {
    if let Some(built_in) = built_in(name_or_path) {
        return parse(
            built_in.text,
            &format!("checks/{}.toml", built_in.name),
            "built-in",
        );
    }
    let looks_like_path = name_or_path.contains(['/', '\\']) || name_or_path.ends_with(".toml");
    let path = host.user_path(Path::new(name_or_path));
    if !looks_like_path && !is_file(&path) {
        return Err(ProfileError::UnknownName {
            name: name_or_path.to_string(),
        });
    }
    let bytes =
        read_bounded(&path, SMALL_FILE_LIMIT).map_err(|error| ProfileError::Unreadable {
            file: path.clone(),
            error,
        })?;
    let label = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let at = e.valid_up_to();
        ProfileError::Invalid {
            file: label.clone(),
            line: Some(bytes[..at].iter().filter(|b| **b == b'\n').count() + 1),
            key: None,
            message: format!(
                "not UTF-8 text (byte 0x{:02X} at offset {at}): TOML files are UTF-8; save it as UTF-8",
                bytes[at]
            ),
        }
    })?;
    parse(text, &label, &label)
}

/// `[profile]`: every key optional, so a custom profile can be only its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: Option<String>,
    title: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    #[serde(default = "yes")]
    verified: bool,
    tensorflow: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            name: None,
            title: None,
            description: String::new(),
            source: String::new(),
            verified: true,
            tensorflow: None,
        }
    }
}

/// A profile without a name is called after its file: `courses/week1.toml` is `week1`.
fn file_stem(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "custom".into())
}

/// Whether `id` is a dotted id as the report's schema allows: `category.name`, where the
/// category is lowercase ASCII and the name ASCII letters, digits, `_`, `.` and `-`.
pub fn is_valid_id(id: &str) -> bool {
    let Some((head, tail)) = id.split_once('.') else {
        return false;
    };
    let head_ok = !head.is_empty()
        && head
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    let tail_ok = !tail.is_empty()
        && !tail.starts_with('.')
        && tail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    head_ok && tail_ok
}

/// Every finding id of the profile is unique and well-formed, so each line of a report and
/// each `--only` name means one thing.
fn check_ids(checks: &[ConfiguredCheck]) -> Result<(), ConfigError> {
    let mut seen: Vec<(&str, &ConfiguredCheck)> = Vec::new();
    for configured in checks {
        for spec in configured.check.specs() {
            let id = spec.id.as_ref();
            let at = |message: String| ConfigError {
                span: Some(configured.span.clone()),
                key: None,
                message,
            };
            if !is_valid_id(id) {
                return Err(at(format!(
                    "the id `{id}` is not a valid check id: use `category.name` with ASCII letters, digits, `_`, `-` and `.` only"
                )));
            }
            if let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
                let by = if std::ptr::eq(*first, configured) {
                    "another finding of this check".to_string()
                } else {
                    format!("an earlier `{}` check", first.kind)
                };
                return Err(at(format!(
                    "the id `{id}` is already reported by {by}; each id may appear once in a profile"
                )));
            }
            seen.push((id, configured));
        }
    }
    Ok(())
}

/// Parse a profile's text; `file` names it in errors.
pub fn parse(text: &str, file: &str, origin: &str) -> Result<Profile, ProfileError> {
    let invalid =
        |span: Option<Range<usize>>, key: Option<String>, message: String| ProfileError::Invalid {
            file: file.to_string(),
            line: span.map(|s| line_of(text, s.start)),
            key,
            message,
        };
    let document = DeTable::parse(text)
        .map_err(|e| invalid(e.span(), None, e.message().trim().to_string()))?;

    let mut meta = None;
    let mut check_tables = Vec::new();
    for (key, value) in document.get_ref().iter() {
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("profile", DeValue::Table(table)) => {
                let table = Spanned::new(value.span(), table.clone());
                let parsed = Meta::deserialize(Deserializer::from(table)).map_err(|e| {
                    invalid(e.span(), None, format!("in [profile]: {}", e.message()))
                })?;
                meta = Some((parsed, key.span()));
            }
            ("check", DeValue::Array(items)) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(table) => {
                            check_tables.push(Spanned::new(item.span(), table.clone()))
                        }
                        _ => {
                            return Err(invalid(
                                Some(item.span()),
                                Some("check".into()),
                                "each check must be a [[check]] table".into(),
                            ));
                        }
                    }
                }
            }
            (name @ ("profile" | "check"), _) => {
                return Err(invalid(
                    Some(key.span()),
                    Some(name.to_string()),
                    format!(
                        "`{name}` must be {}",
                        if name == "profile" {
                            "a [profile] table"
                        } else {
                            "an array of [[check]] tables"
                        }
                    ),
                ));
            }
            (other, _) => {
                return Err(invalid(
                    Some(key.span()),
                    Some(other.to_string()),
                    "unknown key; a profile has a [profile] table and [[check]] tables".into(),
                ));
            }
        }
    }
    let meta = meta.map(|(meta, _)| meta).unwrap_or_default();
    let name = meta.name.clone().unwrap_or_else(|| file_stem(file));
    let title = meta.title.clone().unwrap_or_else(|| name.clone());
    let tensorflow = match &meta.tensorflow {
        None => None,
        Some(v) => Some(pep440_rs::Version::from_str(v).map_err(|e| {
            invalid(
                span_of_key(&document, "profile", "tensorflow"),
                Some("tensorflow".into()),
                format!("not a version: {e}"),
            )
        })?),
    };
    let mut facts = ProfileFacts {
        name: name.clone(),
        python: Wanted {
            spec: None,
            tensorflow: tensorflow.clone(),
        },
        tensorflow,
    };

    if check_tables.is_empty() {
        return Err(invalid(
            None,
            Some("check".into()),
            format!(
                "the profile has no [[check]] tables; add at least one (kinds: {})",
                registry::kind_names().join(", ")
            ),
        ));
    }
    let mut checks = Vec::new();
    for table in check_tables {
        checks.push(configure(table, &facts).map_err(|e| invalid(e.span, e.key, e.message))?);
    }
    check_ids(&checks).map_err(|e| invalid(e.span, e.key, e.message))?;
    if let Some(wanted) = checks.iter().find_map(|c| c.check.wanted_python()) {
        facts.python = wanted.clone();
    }
    Ok(Profile {
        name,
        title,
        description: meta.description,
        source: meta.source,
        verified: meta.verified,
        origin: origin.to_string(),
        facts,
        checks,
    })
}

/// Split off the keys every check has (`kind`, `severity`) and let the kind build the rest.
fn configure(
    mut table: Spanned<DeTable<'_>>,
    facts: &ProfileFacts,
) -> Result<ConfiguredCheck, ConfigError> {
    let whole = table.span();
    let span = ["id", "pins"]
        .iter()
        .find_map(|key| table.get_ref().get_key_value(*key).map(|(k, _)| k.span()))
        .unwrap_or_else(|| whole.clone());
    let error = |span: Range<usize>, key: &str, message: String| ConfigError {
        span: Some(span),
        key: Some(key.to_string()),
        message,
    };
    let Some((kind_key, kind_value)) = table.get_mut().remove_entry("kind") else {
        return Err(ConfigError {
            span: Some(whole),
            key: Some("kind".into()),
            message: format!(
                "every [[check]] needs a kind; known kinds: {}",
                registry::kind_names().join(", ")
            ),
        });
    };
    let Some(kind_name) = kind_value.get_ref().as_str() else {
        return Err(error(kind_key.span(), "kind", "must be a string".into()));
    };
    let Some(kind) = registry::find(kind_name) else {
        return Err(error(
            kind_key.span(),
            "kind",
            format!(
                "unknown kind `{kind_name}`; known kinds: {}",
                registry::kind_names().join(", ")
            ),
        ));
    };
    let severity = match table.get_mut().remove_entry("severity") {
        None => Severity::Fail,
        Some((key, value)) => match value.get_ref().as_str() {
            Some("fail") => Severity::Fail,
            Some("warn") => Severity::Warn,
            _ => {
                return Err(error(
                    key.span(),
                    "severity",
                    "must be \"fail\" or \"warn\"".into(),
                ));
            }
        },
    };
    let check = (kind.build)(KindConfig::new(table, facts))?.into();
    Ok(ConfiguredCheck {
        kind: kind.name,
        severity,
        check,
        span,
    })
}

fn span_of_key(document: &Spanned<DeTable<'_>>, table: &str, key: &str) -> Option<Range<usize>> {
    let DeValue::Table(t) = document.get_ref().get(table)?.get_ref() else {
        return None;
    };
    t.get_key_value(key).map(|(k, _)| k.span())
}

fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}
