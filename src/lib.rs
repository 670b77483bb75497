//! ferry: a bulk media uploader with resumable, concurrent uploads.
//!
//! The binary is thin (`main.rs`): parse, resolve and run with `cli`, and
//! map the error to an exit code with `error`.

pub mod capture;
pub mod cli;
pub mod config;
pub mod digest;
pub mod drop_behind;
pub mod error;
pub mod format;
pub mod group_sync;
pub mod journal;
pub mod landing;
pub mod placement;
pub mod report;
pub mod scan;
pub mod serve;
pub mod settle;
pub mod upload;
pub mod watching;
pub mod wire;

pub use cli::run;
