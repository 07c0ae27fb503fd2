//! The one table of check kinds. A new kind is a file in `src/checks/` and a line here.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

use crate::check::{Check, ProfileFacts};
use crate::checks;

pub struct Kind {
    pub name: &'static str,
    /// Builds a check from its `[[check]]` table (without `kind` and `severity`).
    pub build: fn(KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError>,
}

pub const KINDS: &[Kind] = &[
    checks::system::KIND,
    checks::python::KIND,
    checks::packages::KIND,
    checks::pycharm::KIND,
    checks::network::KIND,
    checks::package_index::KIND,
    checks::webcam::KIND,
];

pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// A configuration problem inside one `[[check]]` table, located by byte span.
#[derive(Debug)]
pub struct ConfigError {
    pub span: Option<Range<usize>>,
    pub key: Option<String>,
    pub message: String,
}

/// One `[[check]]` table handed to its kind, with what the kind needs to report errors
/// at the right line.
pub struct KindConfig<'a> {
    table: Spanned<DeTable<'a>>,
    pub profile: &'a ProfileFacts,
}

impl<'a> KindConfig<'a> {
    pub(crate) fn new(table: Spanned<DeTable<'a>>, profile: &'a ProfileFacts) -> Self {
        KindConfig { table, profile }
    }

    /// Deserialize the kind's own keys; unknown keys and wrong types are errors at their line.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        T::deserialize(Deserializer::from(self.table.clone())).map_err(|e| {
            let span = e.span();
            ConfigError {
                key: span.as_ref().and_then(|s| self.key_at(s.start)),
                span: span.or_else(|| Some(self.table.span())),
                message: e.message().to_string(),
            }
        })
    }

    /// An error about `key`'s value (a bad version, say), placed at that key's line.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let span = self
            .table
            .get_ref()
            .get_key_value(key)
            .map(|(k, _)| k.span())
            .unwrap_or_else(|| self.table.span());
        ConfigError {
            span: Some(span),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    /// An error about item `index` of the array `key` (one pin, say), placed at that item's
    /// line; at the key's line when there is no such item.
    pub fn item_error(&self, key: &str, index: usize, message: impl Into<String>) -> ConfigError {
        let item = self
            .table
            .get_ref()
            .get(key)
            .and_then(|value| match value.get_ref() {
                DeValue::Array(items) => items.get(index).map(|item| item.span()),
                _ => None,
            });
        match item {
            Some(span) => ConfigError {
                span: Some(span),
                key: Some(key.to_string()),
                message: message.into(),
            },
            None => self.error(key, message),
        }
    }

    fn key_at(&self, offset: usize) -> Option<String> {
        self.table.get_ref().iter().find_map(|(k, v)| {
            let covers = k.span().start <= offset && offset < v.span().end.max(k.span().end);
            covers.then(|| k.get_ref().to_string())
        })
    }
}
