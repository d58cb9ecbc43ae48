//! Where work comes from. Azure DevOps Services and Server today.

pub mod ado;
