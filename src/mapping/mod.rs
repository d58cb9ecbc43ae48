//! Pure mapping logic: drafts, the transform and HTML→ADF; no I/O.

pub mod adf;
pub mod draft;
pub mod fields;
#[cfg(test)]
pub(crate) mod fixture;
pub mod known;
pub mod model;
pub mod problem;
pub mod source;
