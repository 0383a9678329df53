//! The Lambda shell: serves invocations on the custom runtime (`provided.al2023`).
//!
//! `main` calls [`serve`] when `AWS_LAMBDA_RUNTIME_API` is set. The shell is thin: it parses the
//! event ([`event`]) and the env contract ([`crate::settings`]), builds the AWS clients once per
//! container, and hands each invocation to the same pass the CLI runs ([`handler`]), or a
//! `{"mode": "historical"}` one to the history scan ([`historical`]), and S3's "Object
//! Created" events ([`object_event`]) to the intake that marks artifacts present ([`intake`]).

pub mod container;
pub mod deadline;
pub mod error;
pub mod event;
pub mod event_outputs;
pub mod handler;
pub mod historical;
pub mod intake;
pub mod ledger_memory;
pub mod object_event;
pub mod outputs_memory;
pub mod registry_cache;
pub mod steps;

pub use handler::serve;

#[cfg(test)]
mod tests;
