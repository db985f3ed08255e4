//! One module per command group. Commands return text to `output` and failures with a kind to
//! `main`; none of them prints directly or picks an exit code.

pub mod chat;
pub mod config;
pub mod demo;
pub mod gateway;
pub mod models;
