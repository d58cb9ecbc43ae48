//! Pure mapping logic: drafts, the transform and HTML→ADF; no I/O.

pub mod adf;
pub mod draft;
pub mod fields;
pub mod known;
pub mod model;
pub mod problem;
pub mod source;
pub mod suggest;
pub mod transform;
pub mod validate;
pub mod values;

#[cfg(test)]
pub(crate) mod fixture;
