//! Installed distributions, read from their `.dist-info`/`.egg-info` metadata (never by
//! importing them), and package names as pip compares them.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;

use crate::host::{is_dir, open_regular, read_dir};

/// A package name as pip compares it (PEP 503): lower case, runs of `-_.` as one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// One installed distribution, read from its metadata.
#[derive(Debug, Clone)]
pub struct Installed {
    pub name: String,
    pub version: Result<Version, String>,
    pub metadata: PathBuf,
}

/// The installed distributions among `wanted` (normalized names), from metadata files.
/// A directory name only nominates a candidate; the `Name`/`Version` headers decide.
pub fn installed(site_packages: &[PathBuf], wanted: &[String]) -> BTreeMap<String, Installed> {
    first_found(site_packages.iter().map(|dir| installed_in(dir, wanted)))
}

/// What several site-packages hold together: the first one listing a name wins, as on
/// `sys.path`.
pub fn first_found(
    per_dir: impl IntoIterator<Item = BTreeMap<String, Installed>>,
) -> BTreeMap<String, Installed> {
    let mut found = BTreeMap::new();
    for dir in per_dir {
        for (name, installed) in dir {
            found.entry(name).or_insert(installed);
        }
    }
    found
}

/// [`installed`] in one site-packages. Only the metadata of folders whose name matches a
/// wanted name is opened: a site-packages may hold tens of thousands of distributions, and
/// each entry costs a comparison, never an allocation or a read.
pub fn installed_in(dir: &Path, wanted: &[String]) -> BTreeMap<String, Installed> {
    let mut found = BTreeMap::new();
    let Ok(entries) = read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let (stem, dist_info) = match file_name.strip_suffix(".dist-info") {
            Some(stem) => (stem, true),
            None => match file_name.strip_suffix(".egg-info") {
                Some(stem) => (stem, false),
                None => continue,
            },
        };
        let dir_name = stem.split('-').next().unwrap_or(stem);
        let Some(key) = wanted.iter().find(|w| normalizes_to(dir_name, w)) else {
            continue;
        };
        if found.contains_key(key) {
            continue;
        }
        let path = entry.path();
        let metadata = if dist_info {
            path.join("METADATA")
        } else if is_dir(&path) {
            path.join("PKG-INFO")
        } else {
            path.clone()
        };
        let installed = read_metadata(&metadata, stem);
        found.insert(normalize(&installed.name), installed);
    }
    found
}

/// `normalize(name) == normalized`, without building the normalized name.
fn normalizes_to(name: &str, normalized: &str) -> bool {
    let mut expected = normalized.chars();
    let (mut separator, mut started) = (false, false);
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && started && expected.next() != Some('-') {
            return false;
        }
        separator = false;
        started = true;
        if expected.next() != Some(c.to_ascii_lowercase()) {
            return false;
        }
    }
    expected.next().is_none()
}

/// How much of a metadata file is scanned for its `Name` and `Version` headers: they come
/// first in every file pip writes; the long description after them can be megabytes.
const METADATA_SCAN_LIMIT: u64 = 16 << 20;

/// The `Name` and `Version` headers of a METADATA or PKG-INFO file (the first of each), read
/// no further than the end of the headers, nor past both found.
pub fn metadata_headers(reader: impl Read) -> io::Result<(Option<String>, Option<String>)> {
    let mut reader = io::BufReader::new(reader.take(METADATA_SCAN_LIMIT));
    let (mut name, mut version) = (None, None);
    let mut line = Vec::new();
    while name.is_none() || version.is_none() {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            break; // the end of the headers
        }
        let value = |key: &str| text.strip_prefix(key).map(|v| v.trim().to_string());
        if name.is_none() {
            name = value("Name:");
        }
        if version.is_none() {
            version = value("Version:");
        }
    }
    Ok((name, version))
}

fn read_metadata(path: &Path, stem: &str) -> Installed {
    let fallback_name = stem.split('-').next().unwrap_or(stem).to_string();
    let headers = open_regular(path).and_then(metadata_headers);
    let (name, version) = match headers {
        Ok(headers) => headers,
        Err(e) => {
            return Installed {
                name: fallback_name,
                version: Err(format!("cannot read {}: {e}", path.display())),
                metadata: path.to_path_buf(),
            };
        }
    };
    let name = name.unwrap_or(fallback_name);
    let version = match version {
        None => Err(format!("{} has no Version header", path.display())),
        Some(v) => Version::from_str(&v).map_err(|e| {
            format!(
                "{} has a version pip cannot read ({v}): {e}",
                path.display()
            )
        }),
    };
    Installed {
        name,
        version,
        metadata: path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_pip_normalizes_them() {
        let names = [
            "Pillow",
            "tensorflow_datasets",
            "tensorflow-cpu",
            "zope.interface",
            "__weird..name__",
            "-x-",
            "",
            "T_F",
        ];
        let wanted = [
            "pillow",
            "tensorflow-datasets",
            "tensorflow",
            "zope-interface",
            "weird-name",
            "x",
            "",
            "t-f",
            "tf",
        ];
        for name in names {
            for key in wanted {
                assert_eq!(
                    normalizes_to(name, key),
                    normalize(name) == key,
                    "{name} / {key}"
                );
            }
        }
    }
}
