//! Renderers: each turns a finished `Report` into text. None of them runs a probe.

pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod steps;
pub mod text;

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    /// The report as Markdown, to paste into a support ticket or chat.
    Markdown,
}

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub verbose: bool,
    /// Columns to wrap the human report to (see [`text::width`]).
    pub width: usize,
    /// The terminal shows Unicode marks; ASCII ones otherwise.
    pub unicode: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            verbose: false,
            width: text::DEFAULT_WIDTH,
            unicode: true,
        }
    }
}

impl RenderOptions {
    pub fn width(&self) -> usize {
        self.width.max(text::MIN_WIDTH)
    }
}

pub fn render(report: &Report, format: Format, options: RenderOptions) -> String {
    match format {
        Format::Human => human::render(report, options),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
    }
}
