//! Bytes that must not outlive their use: key material, plaintexts, shared
//! secrets, random output.

use std::fmt;
use std::ops::Deref;
use zeroize::Zeroizing;

/// Secret bytes: wiped from memory when dropped, never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes` without copying them.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// Gives the bytes back without copying them; the caller is now
    /// responsible for wiping them.
    pub fn into_vec(self) -> Vec<u8> {
        let mut inner = self.0;
        std::mem::take(&mut *inner)
    }
}

impl Deref for SecretBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        SecretBytes::new(bytes)
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(bytes: &[u8]) -> Self {
        SecretBytes::new(bytes.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes, hidden)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_length_and_not_the_bytes() {
        let secret = SecretBytes::from(b"hunter2".as_slice());
        let shown = format!("{secret:?}");
        assert!(!shown.contains("104"), "{shown}");
        assert_eq!(shown, "SecretBytes(7 bytes, hidden)");
    }

    #[test]
    fn into_vec_gives_the_same_bytes_back() {
        let secret = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(secret.into_vec(), vec![1, 2, 3]);
    }
}
