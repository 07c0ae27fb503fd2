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

/// The value of header `key` on a metadata line, when the line is that header. Header names
/// compare case-insensitively, as pip's and importlib's email parsers read them (a
/// hand-written `version: 1.0` counts).
fn header_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (name, value) = line.split_once(':')?;
    name.trim_end()
        .eq_ignore_ascii_case(key)
        .then(|| value.trim())
}

/// An empty line ends the headers; a line of only spaces does not: it continues the header
/// before it, as in Python's email parser (Markdown 3.7's License header has such lines).
fn is_blank_line(text: &str) -> bool {
    text.trim_end_matches(['\r', '\n']).is_empty()
}

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
        if is_blank_line(&text) {
            break; // the end of the headers
        }
        if name.is_none() {
            name = header_value(&text, "Name").map(str::to_string);
        }
        if version.is_none() {
            version = header_value(&text, "Version").map(str::to_string);
        }
    }
    Ok((name, version))
}

/// The headers of a METADATA or PKG-INFO file that `pip check` reads: every `Requires-Dist`
/// (in order) and `Requires-Python`, besides `Name` and `Version`. Continuation lines (RFC
/// 822 folding) join the header before them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    pub name: Option<String>,
    pub version: Option<String>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
}

/// [`Headers`] from a metadata file, read up to the end of its headers.
pub fn dependency_headers(reader: impl Read) -> io::Result<Headers> {
    let mut reader = io::BufReader::new(reader.take(METADATA_SCAN_LIMIT));
    let mut headers = Headers::default();
    let mut line = Vec::new();
    // Which list the last header went to, for its continuation lines.
    let mut last: Option<&'static str> = None;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        if is_blank_line(&text) {
            break;
        }
        if text.starts_with([' ', '\t']) {
            let more = text.trim();
            match last {
                Some("Requires-Dist") => {
                    if let Some(r) = headers.requires_dist.last_mut() {
                        r.push(' ');
                        r.push_str(more);
                    }
                }
                Some("Requires-Python") => {
                    if let Some(r) = headers.requires_python.as_mut() {
                        r.push(' ');
                        r.push_str(more);
                    }
                }
                _ => {}
            }
            continue;
        }
        last = None;
        if let Some(value) = header_value(&text, "Requires-Dist") {
            headers.requires_dist.push(value.to_string());
            last = Some("Requires-Dist");
        } else if let Some(value) = header_value(&text, "Requires-Python") {
            if headers.requires_python.is_none() {
                headers.requires_python = Some(value.to_string());
                last = Some("Requires-Python");
            }
        } else if let Some(value) = header_value(&text, "Name") {
            headers.name.get_or_insert_with(|| value.to_string());
        } else if let Some(value) = header_value(&text, "Version") {
            headers.version.get_or_insert_with(|| value.to_string());
        }
    }
    Ok(headers)
}

/// The requirements of an `.egg-info`'s `requires.txt` that hold with no extra installed:
/// lines before any section, and those of `[:MARKER]` sections with the marker appended, as
/// pkg_resources reads them. `[extra]` and `[extra:MARKER]` sections need the extra.
pub fn egg_requires(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker: Option<Option<String>> = Some(None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            marker = match section.split_once(':') {
                Some((extra, m)) if extra.trim().is_empty() => Some(Some(m.trim().to_string())),
                _ => None,
            };
            continue;
        }
        match &marker {
            Some(None) => out.push(line.to_string()),
            Some(Some(m)) => out.push(format!("{line}; {m}")),
            None => {}
        }
    }
    out
}

/// One installed distribution as `pip check` sees it: its metadata folder, its headers, and
/// the `Tag:` lines of its WHEEL file.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// The `.dist-info`/`.egg-info` folder (or an `.egg-info` file).
    pub path: PathBuf,
    /// The name from the folder, for naming it when its metadata cannot be read.
    pub folder_name: String,
    /// The metadata headers, or why they could not be read.
    pub headers: Result<Headers, String>,
    /// `WHEEL`'s `Tag:` values; `None` without a WHEEL file (an egg-info, a `setup.py
    /// install`), or why it could not be read.
    pub wheel_tags: Option<Result<Vec<String>, String>>,
}

impl Distribution {
    /// The distribution's name: its `Name` header, else its folder's.
    pub fn name(&self) -> &str {
        self.headers
            .as_ref()
            .ok()
            .and_then(|h| h.name.as_deref())
            .unwrap_or(&self.folder_name)
    }
}

/// Every distribution in one site-packages, in file-name order (the order that decides
/// nothing but the order they are reported in).
pub fn distributions_in(dir: &Path) -> Vec<Distribution> {
    let Ok(entries) = read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<(PathBuf, String, bool)> = entries
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let (stem, dist_info) = match file_name.strip_suffix(".dist-info") {
                Some(stem) => (stem.to_string(), true),
                None => (file_name.strip_suffix(".egg-info")?.to_string(), false),
            };
            Some((entry.path(), stem, dist_info))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|(path, stem, dist_info)| read_distribution(path, &stem, dist_info))
        .collect()
}

fn read_distribution(path: PathBuf, stem: &str, dist_info: bool) -> Distribution {
    let folder_name = stem.split('-').next().unwrap_or(stem).to_string();
    let egg_dir = !dist_info && is_dir(&path);
    let metadata = if dist_info {
        path.join("METADATA")
    } else if egg_dir {
        path.join("PKG-INFO")
    } else {
        path.clone()
    };
    let mut headers = open_regular(&metadata)
        .and_then(dependency_headers)
        .map_err(|e| format!("cannot read {}: {e}", metadata.display()));
    if egg_dir && let Ok(h) = headers.as_mut() {
        let requires = path.join("requires.txt");
        match read_small_text(&requires) {
            Ok(Some(text)) => h.requires_dist.extend(egg_requires(&text)),
            Ok(None) => {}
            Err(e) => headers = Err(format!("cannot read {}: {e}", requires.display())),
        }
    }
    let wheel_tags = if dist_info {
        match read_small_text(&path.join("WHEEL")) {
            Ok(None) => None,
            Ok(Some(text)) => Some(Ok(text
                .lines()
                .filter_map(|l| header_value(l, "Tag"))
                .map(str::to_string)
                .collect())),
            Err(e) => Some(Err(format!(
                "cannot read {}: {e}",
                path.join("WHEEL").display()
            ))),
        }
    } else {
        None
    };
    Distribution {
        path,
        folder_name,
        headers,
        wheel_tags,
    }
}

/// A small metadata file's text; `None` when it is not there.
fn read_small_text(path: &Path) -> io::Result<Option<String>> {
    match open_regular(path) {
        Ok(file) => {
            let mut bytes = Vec::new();
            file.take(METADATA_SCAN_LIMIT).read_to_end(&mut bytes)?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
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

    /// Markdown 3.7's METADATA (from the real TensorFlow 2.9 venv): its License header goes on
    /// over lines of only spaces, and its Requires-Dist lines come after them.
    #[test]
    fn headers_go_on_past_lines_of_spaces_and_compare_case_insensitively() {
        let text = "Metadata-Version: 2.1\nName: Markdown\nversion: 3.7\nLicense: BSD\n        \n        Copyright 2007\n        \nrequires-dist: importlib-metadata >=4.4 ; python_version < \"3.10\"\nRequires-Dist: mkdocs >=1.5 ; extra == 'docs'\nRequires-Python: >=3.8\n\nLong description\nRequires-Dist: not-a-header\n";
        let headers = dependency_headers(text.as_bytes()).unwrap();
        assert_eq!(headers.name.as_deref(), Some("Markdown"));
        assert_eq!(headers.version.as_deref(), Some("3.7"));
        assert_eq!(
            headers.requires_dist,
            [
                "importlib-metadata >=4.4 ; python_version < \"3.10\"",
                "mkdocs >=1.5 ; extra == 'docs'"
            ]
        );
        assert_eq!(headers.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(
            metadata_headers(text.as_bytes()).unwrap(),
            (Some("Markdown".into()), Some("3.7".into()))
        );
    }

    #[test]
    fn requires_txt_sections_as_pkg_resources_reads_them() {
        let text = "six\nnu>=1\n\n[:python_version < \"3\"]\nxi\n\n[tests]\nomicron\n\n[tests:sys_platform == \"linux\"]\npi\n";
        assert_eq!(
            egg_requires(text),
            ["six", "nu>=1", "xi; python_version < \"3\""]
        );
    }
}
