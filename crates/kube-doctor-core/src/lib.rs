//! kube-doctor's pure core: the bundle model (the hand-off between collect and diagnose), log
//! classification, client error-rate analysis, credential metadata, diagnosis rules and report
//! rendering. Nothing here touches the network: collectors live in the `kube-doctor` crate and
//! hand this crate plain data, so every function here is tested with fixtures.
//!
//! Pipeline: collect (I/O crate, with the pure halves of its steps in [`playbook`]) ->
//! [`bundle`] -> [`diagnose`] -> [`report`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod apf;
pub mod bundle;
pub mod category;
pub mod classify;
pub mod clients;
pub mod credentials;
pub mod diagnose;
pub mod escape;
pub mod names;
pub mod netpol;
pub mod playbook;
pub mod prometheus;
pub mod redact;
pub mod report;

pub use category::Category;
