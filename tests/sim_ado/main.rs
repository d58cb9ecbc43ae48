//! The ADO simulator and the dataset generator, driven over real HTTP (one test binary).

mod helpers;

mod contract;
mod examples;
mod generator;
mod generator_trouble;
mod limits;
mod reading;
