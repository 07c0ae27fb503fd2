//! The one table of check kinds. A new kind is a file in `src/checks/` and a line here.

use crate::check::Kind;
use crate::checks;

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
