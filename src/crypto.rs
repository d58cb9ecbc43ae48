//! AES-256-GCM sealing for secrets at rest: tenants' shared secrets, ADO PATs, API tokens.
//!
//! Each value gets a fresh random 96-bit nonce, stored in front of the ciphertext. The
//! associated data binds a sealed value to where it belongs (for example the tenant's
//! clientKey), so a ciphertext copied into another tenant's row fails to open instead of
//! quietly becoming that tenant's secret.

use std::{fs, io::Write, path::Path};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use anyhow::Context;
use base64::Engine as _;
use rand::RngCore;

const NONCE_LEN: usize = 12;

/// The key under which secrets are sealed. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// A sealed value could not be opened: wrong key, wrong associated data, or tampering.
#[derive(Debug, thiserror::Error)]
#[error("sealed secret failed to open")]
pub struct OpenError;

impl SecretKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Development only: reads the key file, or creates it (mode 0600) and warns loudly,
    /// because a key that lives next to the database protects nothing in production.
    pub fn load_or_generate(path: &Path) -> anyhow::Result<Self> {
        let engine = base64::engine::general_purpose::STANDARD;
        if let Ok(raw) = fs::read_to_string(path) {
            let bytes = engine
                .decode(raw.trim())
                .context("key file is not base64")?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("key file must hold 32 bytes"))?;
            return Ok(Self(bytes));
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let key = Self::generate();
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(engine.encode(key.0).as_bytes())?;
        tracing::warn!(
            path = %path.display(),
            "FERRY_SECRET_KEY is not set: generated a development key; set FERRY_SECRET_KEY in production"
        );
        Ok(key)
    }

    /// Encrypts `plaintext`, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a value sealed with [`SecretKey::seal`] under the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        Aes256Gcm::new((&self.0).into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_only_with_the_same_key_and_context() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"shared-secret", b"tenant-a");
        assert_eq!(
            key.open(&sealed, b"tenant-a").expect("opens"),
            b"shared-secret"
        );
        assert!(key.open(&sealed, b"tenant-b").is_err());
        assert!(SecretKey::generate().open(&sealed, b"tenant-a").is_err());
        assert!(!sealed.windows(13).any(|w| w == b"shared-secret"));
    }

    #[test]
    fn tampered_or_truncated_ciphertext_fails() {
        let key = SecretKey::generate();
        let mut sealed = key.seal(b"x", b"c");
        *sealed.last_mut().expect("non-empty") ^= 1;
        assert!(key.open(&sealed, b"c").is_err());
        assert!(key.open(&[0u8; 5], b"c").is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let key = SecretKey::generate();
        assert_ne!(key.seal(b"same", b"c"), key.seal(b"same", b"c"));
    }

    #[cfg(unix)]
    #[test]
    fn development_key_file_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ferry-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secret.key");
        let first = SecretKey::load_or_generate(&path).expect("generated");
        let mode = fs::metadata(&path).expect("exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = SecretKey::load_or_generate(&path).expect("loaded");
        assert_eq!(first.0, again.0);
        let _ = fs::remove_dir_all(dir);
    }
}
