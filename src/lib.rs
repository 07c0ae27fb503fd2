//! `preflight`: an environment doctor for pinned-environment exams.
//!
//! The flow runs one way: CLI -> profile -> registry -> runner -> report -> renderer -> exit
//! code. Checks see the machine only through [`host::Host`].

pub mod app;
pub mod check;
pub mod checks;
pub mod cli;
pub mod fix;
pub mod host;
pub mod interrupt;
pub mod net;
pub mod pip_config;
pub mod platform;
pub mod profile;
pub mod pycharm_interpreters;
pub mod pycharm_places;
pub mod pycharm_sdks;
pub mod python;
pub mod registry;
pub mod render;
pub mod report;
pub mod runner;
pub mod video;

pub const TOOL_NAME: &str = "preflight";
