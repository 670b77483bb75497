//! All integration tests, compiled into one binary as ripgrep does.

mod util;

mod cli;
mod crash;
mod generate;
mod job_model;
mod journal;
mod scan;
