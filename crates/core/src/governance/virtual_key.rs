//! Virtual keys: `sk-sy-<id>-<secret>`.
//!
//! The id is public (it names the key in logs, the API and the UI); the
//! secret is shown once, at creation, and only its hash is kept.
//!
//! The hash is HMAC-SHA-256 keyed with a server-side pepper (32 random bytes in
//! the data directory), not argon2: a password hash is slow on purpose because
//! passwords are guessable, but a key secret is 165 random bits, which no
//! guessing reaches, and every inference request verifies one — milliseconds
//! of argon2 per request would be the gateway's largest cost. The pepper means
//! a stolen database alone does not let anyone test candidate secrets. The
//! comparison is constant-time (`ring::hmac::verify`).

use std::fmt;
use std::path::Path;

use rand::Rng;
use ring::hmac;

pub const PREFIX: &str = "sk-sy-";
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
/// Lower-case letters and digits: a key reads and copies cleanly, and `-` never
/// occurs inside a part, so the token splits one way only.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const PEPPER_FILE: &str = "virtual-key-pepper";

/// Why a presented `sk-sy-` key is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("a virtual key reads sk-sy-<id>-<secret>; this one has no secret part")]
    NoSecret,
    #[error("the id of a virtual key is {ID_LEN} lower-case letters or digits")]
    BadId,
    #[error("the secret of a virtual key is {SECRET_LEN} lower-case letters or digits")]
    BadSecret,
}

/// A presented virtual key, split. Its `Debug` hides the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    pub id: &'a str,
    secret: &'a str,
}

impl fmt::Debug for PresentedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

fn well_formed(part: &str, len: usize) -> bool {
    part.len() == len && part.bytes().all(|b| ALPHABET.contains(&b))
}

/// `None` when the credential is not a virtual key at all (it may be meant for
/// another scheme); an error when it claims to be one and is malformed.
pub fn parse(credential: &str) -> Option<Result<PresentedKey<'_>, KeyFormatError>> {
    let rest = credential.strip_prefix(PREFIX)?;
    let Some((id, secret)) = rest.split_once('-') else { return Some(Err(KeyFormatError::NoSecret)) };
    if !well_formed(id, ID_LEN) {
        return Some(Err(KeyFormatError::BadId));
    }
    if !well_formed(secret, SECRET_LEN) {
        return Some(Err(KeyFormatError::BadSecret));
    }
    Some(Ok(PresentedKey { id, secret }))
}

/// A key just created: the only moment its secret exists in clear.
pub struct NewKey {
    pub id: String,
    /// The whole `sk-sy-…` token, to show once.
    pub token: String,
    pub hash: SecretHash,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey").field("id", &self.id).field("token", &"<redacted>").finish()
    }
}

fn random_part(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// A fresh random id in the key id alphabet (also used for policy ids).
pub fn random_id() -> String {
    random_part(ID_LEN)
}

/// The stored form of a secret: HMAC-SHA-256 under the pepper, as hex.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretHash(pub String);

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// The server-side key of the secret hashes.
pub struct Pepper(hmac::Key);

impl Pepper {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// The data directory's pepper, created (32 random bytes, owner-only) on first use.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(PEPPER_FILE);
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() >= 32 => return Ok(Self::from_bytes(&bytes)),
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is shorter than 32 bytes: restore it from a backup (every virtual key depends on it)",
                        path.display()
                    ),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let bytes: [u8; 32] = rand::rng().random();
        write_private(&path, &bytes)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A new key under this pepper.
    pub fn generate(&self) -> NewKey {
        let id = random_part(ID_LEN);
        let secret = random_part(SECRET_LEN);
        let hash = self.hash(&id, &secret);
        NewKey { token: format!("{PREFIX}{id}-{secret}"), id, hash }
    }

    /// A new secret for the key `id` (rotation keeps the id).
    pub fn rotate(&self, id: &str) -> NewKey {
        let secret = random_part(SECRET_LEN);
        let hash = self.hash(id, &secret);
        NewKey { token: format!("{PREFIX}{id}-{secret}"), id: id.to_string(), hash }
    }

    /// The id is hashed with the secret, so a hash cannot be moved to another key.
    fn hash(&self, id: &str, secret: &str) -> SecretHash {
        let tag = hmac::sign(&self.0, format!("{id}:{secret}").as_bytes());
        SecretHash(tag.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether `key`'s secret is the one `stored` was made from (constant-time).
    pub fn verify(&self, key: &PresentedKey<'_>, stored: &SecretHash) -> bool {
        let Some(tag) = from_hex(&stored.0) else { return false };
        hmac::verify(&self.0, format!("{}:{}", key.id, key.secret).as_bytes(), &tag).is_ok()
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Written once, readable by the owner only. `create_new`: two processes
/// starting at once cannot both write a pepper.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests;
