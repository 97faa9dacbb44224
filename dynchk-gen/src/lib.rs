//! dynchk-gen: the specification database, the LSB importer, check selection and the code generator.
//!
//! The preload's `build.rs` calls [`build::run`]; the `dynchk-gen` and `dynchk` binaries use the same
//! library for `check`, `explain` and `coverage`.

pub mod build;
pub mod sem;
