//! Consistency checks of the specification database.
