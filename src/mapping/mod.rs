//! Pure mapping logic: drafts, the transform and HTML→ADF; no I/O.

pub mod adf;
