//! Random helpers for the generator: seeded streams, lognormal sizes, GUIDs.
//!
//! Every random choice comes from ChaCha8 seeded by the user's seed, so the same seed and item
//! count always give the same bytes. Per-item content (descriptions, comments, updates) uses
//! its own stream derived from (seed, item id, purpose), so it does not depend on the order in
//! which the plan made its other choices.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The plan's random stream.
pub type Stream = ChaCha8Rng;

/// A stream for one purpose of one item.
pub fn derived(seed: u64, id: u64, purpose: u64) -> Stream {
    ChaCha8Rng::seed_from_u64(mix(
        seed ^ mix(id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ purpose)
    ))
}

/// SplitMix64's finaliser: spreads nearby inputs far apart.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut Stream) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A lognormal draw with the given median and σ, clamped to `[min, max]`.
pub fn lognormal(rng: &mut Stream, median: f64, sigma: f64, min: f64, max: f64) -> f64 {
    (median * (sigma * normal(rng)).exp()).clamp(min, max)
}

/// A random (version 4) GUID from the stream.
pub fn guid(rng: &mut Stream) -> String {
    let bytes: [u8; 16] = rng.r#gen();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Picks one element.
pub fn pick<'a, T>(rng: &mut Stream, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}
