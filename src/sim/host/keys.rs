//! The simulated Atlassian install-signing key: an RSA keypair and its `kid`.
//!
//! Jira signs install and uninstall callbacks with RS256 and publishes the public key by
//! `kid` on a CDN (reference `connect-and-security.md` §2.3); the simulator serves it at
//! `/_sim/install-keys/{kid}` so Ferry runs with `FERRY_INSTALL_KEYS_URL={sim}/_sim/install-keys`.

use anyhow::Context;
use jsonwebtoken::EncodingKey;
use rsa::{
    RsaPrivateKey,
    pkcs1::DecodeRsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding},
};

/// RSA size for generated keys: what Atlassian's install keys use.
const BITS: usize = 2048;

/// The signing half and the published half.
pub struct InstallKeys {
    /// Key id in the JWT header and the URL.
    pub kid: String,
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as Atlassian's CDN serves it.
    pub public_pem: String,
    /// Signing key.
    pub encoding: EncodingKey,
}

impl InstallKeys {
    /// Loads a PKCS#8 or PKCS#1 PEM private key, or generates a fresh one when `None`.
    pub fn new(private_pem: Option<&str>, kid: String) -> anyhow::Result<Self> {
        // Labels or comments may precede the PEM block (the test fixture has some).
        let private_pem = private_pem.map(|pem| pem.find("-----BEGIN").map_or(pem, |i| &pem[i..]));
        let private = match private_pem {
            Some(pem) => RsaPrivateKey::from_pkcs8_pem(pem)
                .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
                .context("simulator install key is neither PKCS#8 nor PKCS#1 PEM")?,
            None => RsaPrivateKey::new(&mut rand::thread_rng(), BITS)
                .context("generating the install key")?,
        };
        let private_pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .context("encoding the install key")?;
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .context("encoding the public install key")?;
        let encoding =
            EncodingKey::from_rsa_pem(private_pem.as_bytes()).context("loading the install key")?;
        Ok(Self {
            kid,
            public_pem,
            encoding,
        })
    }
}
