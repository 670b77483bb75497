//! All integration tests, compiled into one binary as ripgrep does.

mod fault_proxy;
mod garage;
mod http;
mod peers;
mod scripted_server;
mod util;

mod assets;
mod bits;
mod capture;
mod clear;
mod cli;
mod config;
mod crash;
mod date_layout;
mod fault_matrix;
mod first_hour;
mod forward;
mod generate;
mod interop;
mod job_model;
mod journal;
mod layout;
mod output;
mod s3;
mod scan;
mod serve;
mod serve_limits;
mod sftp;
mod small_files;
mod tls;
mod unattended;
mod upload;
mod upload_faults;
mod verify;
mod watch;
