//! One module per check kind; each exports a `KIND` that `registry::KINDS` lists.

pub mod network;
pub mod package_index;
pub mod packages;
pub mod pycharm;
pub mod python;
pub mod system;
pub mod webcam;
