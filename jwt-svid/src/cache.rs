//! Tokens already validated: a client sends the same JWT-SVID with every
//! request until it renews it, and checking a signature costs far more
//! than a hash.

use crate::{Error, JwtBundles, SpiffeId, Validator};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

/// Remembers the tokens [`Validator`] accepted, by their SHA-256, until
/// they expire or the bundles change. Only an identical token hits: any
/// other bytes are validated in full.
#[derive(Debug)]
pub struct ValidatedCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The bundle generation the entries were validated against.
    generation: u64,
    entries: HashMap<[u8; 32], (SpiffeId, f64)>,
}

impl ValidatedCache {
    /// A cache of at most `capacity` tokens (when full, expired entries
    /// go; if none has, all go).
    pub fn new(capacity: usize) -> Self {
        ValidatedCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// [`Validator::validate`], answered from the cache when this exact
    /// token was accepted against the same `generation` of `bundles` and
    /// has not expired since. The caller changes `generation` whenever the
    /// bundles change.
    pub fn validate(
        &self,
        validator: &Validator,
        token: &[u8],
        bundles: &JwtBundles,
        generation: u64,
        now: SystemTime,
    ) -> Result<SpiffeId, Error> {
        let digest: [u8; 32] = Sha256::digest(token).into();
        {
            let mut inner = self.lock();
            if inner.generation != generation {
                inner.entries.clear();
                inner.generation = generation;
            }
            if let Some((id, exp)) = inner.entries.get(&digest) {
                if validator.unexpired(*exp, now) {
                    return Ok(id.clone());
                }
                inner.entries.remove(&digest);
            }
        }
        let (id, exp) = validator.validate_with_expiry(token, bundles, now)?;
        let mut inner = self.lock();
        if inner.generation == generation && self.capacity > 0 {
            if inner.entries.len() >= self.capacity {
                inner
                    .entries
                    .retain(|_, (_, exp)| validator.unexpired(*exp, now));
                if inner.entries.len() >= self.capacity {
                    inner.entries.clear();
                }
            }
            inner.entries.insert(digest, (id.clone(), exp));
        }
        Ok(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use crate::testing::{Signer, bundle_set};
    use std::time::Duration;

    const WEB: &str = "spiffe://example.org/web";

    fn bundles(s: &Signer) -> JwtBundles {
        JwtBundles::from_json(bundle_set(&[("example.org", &[s])]).as_bytes()).unwrap()
    }

    #[test]
    fn a_cached_token_still_expires() {
        let s = Signer::es256("k", "k");
        let b = bundles(&s);
        let v = Validator::default();
        let cache = ValidatedCache::new(8);
        let token = s.mint(WEB, &["parsec"]);
        let now = SystemTime::now();
        assert_eq!(
            cache
                .validate(&v, token.as_bytes(), &b, 1, now)
                .unwrap()
                .as_str(),
            WEB
        );
        assert_eq!(
            cache
                .validate(&v, token.as_bytes(), &b, 1, now)
                .unwrap()
                .as_str(),
            WEB
        );
        let later = now + Duration::from_secs(2 * 3600);
        assert_eq!(
            cache.validate(&v, token.as_bytes(), &b, 1, later),
            Err(Error::Expired)
        );
    }

    #[test]
    fn a_new_bundle_generation_validates_again() {
        let s = Signer::es256("k", "k");
        let other = Signer::es256("k", "another key");
        let v = Validator::default();
        let cache = ValidatedCache::new(8);
        let token = s.mint(WEB, &["parsec"]);
        let now = SystemTime::now();
        assert!(
            cache
                .validate(&v, token.as_bytes(), &bundles(&s), 1, now)
                .is_ok()
        );
        // The same token after a rotation that removed its key.
        assert_eq!(
            cache.validate(&v, token.as_bytes(), &bundles(&other), 2, now),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn refusals_are_not_cached_and_the_size_is_bounded() {
        let s = Signer::es256("k", "k");
        let b = bundles(&s);
        let v = Validator::default();
        let cache = ValidatedCache::new(2);
        let now = SystemTime::now();
        let wrong = s.mint(WEB, &["vault"]);
        for _ in 0..2 {
            assert_eq!(
                cache.validate(&v, wrong.as_bytes(), &b, 1, now),
                Err(Error::WrongAudience)
            );
        }
        for i in 0..5 {
            let token = s.mint(&format!("{WEB}/{i}"), &["parsec"]);
            assert!(cache.validate(&v, token.as_bytes(), &b, 1, now).is_ok());
            assert!(cache.lock().entries.len() <= 2);
        }
    }
}
