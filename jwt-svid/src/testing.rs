//! Test issuers: JWT-SVIDs signed with real keys, and the JWKS bundles
//! that trust them. For tests, fuzz seeds and benchmarks only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is a broken fixture"
)]

#[cfg(all(feature = "testing", feature = "workload-api"))]
mod stand_in;
#[cfg(all(feature = "testing", feature = "workload-api"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "testing", feature = "workload-api"))))]
pub use stand_in::StandInWorkloadApi;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384};
use std::time::{SystemTime, UNIX_EPOCH};

/// Two RSA 2048 keys made with `openssl genpkey` (PKCS#8 DER): making RSA
/// keys in a debug build takes seconds.
const RSA_KEYS: [&[u8]; 2] = [
    include_bytes!("testing/rsa-2048-a.pk8.der"),
    include_bytes!("testing/rsa-2048-b.pk8.der"),
];

#[derive(Clone)]
enum Key {
    Es256(p256::ecdsa::SigningKey),
    Es384(p384::ecdsa::SigningKey),
    Rs256(rsa::RsaPrivateKey),
    Ps256(rsa::RsaPrivateKey),
    Rs384(rsa::RsaPrivateKey),
}

/// A JWT authority with its private key: it signs tokens and gives its
/// public JWK.
#[derive(Clone)]
pub struct Signer {
    kid: String,
    key: Key,
}

impl Signer {
    /// An ES256 authority whose P-256 key is derived from `seed`: the
    /// same seed gives the same key, another seed another key.
    pub fn es256(kid: &str, seed: &str) -> Signer {
        let scalar = Sha256::digest(seed.as_bytes());
        let key = p256::ecdsa::SigningKey::from_slice(&scalar).expect("a P-256 scalar");
        Signer {
            kid: kid.into(),
            key: Key::Es256(key),
        }
    }

    /// An ES384 authority whose P-384 key is derived from `seed`.
    pub fn es384(kid: &str, seed: &str) -> Signer {
        let scalar = Sha384::digest(seed.as_bytes());
        let key = p384::ecdsa::SigningKey::from_slice(&scalar).expect("a P-384 scalar");
        Signer {
            kid: kid.into(),
            key: Key::Es384(key),
        }
    }

    /// An RS256 authority with fixture RSA key `which` (0 or 1).
    pub fn rs256(kid: &str, which: usize) -> Signer {
        Signer {
            kid: kid.into(),
            key: Key::Rs256(rsa_key(which)),
        }
    }

    /// An RS384 authority with fixture RSA key `which` (0 or 1).
    pub fn rs384(kid: &str, which: usize) -> Signer {
        Signer {
            kid: kid.into(),
            key: Key::Rs384(rsa_key(which)),
        }
    }

    /// A PS256 authority with fixture RSA key `which` (0 or 1).
    pub fn ps256(kid: &str, which: usize) -> Signer {
        Signer {
            kid: kid.into(),
            key: Key::Ps256(rsa_key(which)),
        }
    }

    /// The same key under another kid.
    pub fn with_kid(&self, kid: &str) -> Signer {
        Signer {
            kid: kid.into(),
            key: self.key.clone(),
        }
    }

    /// Its kid.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its JOSE `alg`.
    pub fn alg(&self) -> &'static str {
        match self.key {
            Key::Es256(_) => "ES256",
            Key::Es384(_) => "ES384",
            Key::Rs256(_) => "RS256",
            Key::Rs384(_) => "RS384",
            Key::Ps256(_) => "PS256",
        }
    }

    /// Its public key as a JWK of a SPIFFE bundle (`"use": "jwt-svid"`).
    pub fn jwk(&self) -> Value {
        match &self.key {
            Key::Es256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                ec_jwk(&self.kid, "P-256", point.x().unwrap(), point.y().unwrap())
            }
            Key::Es384(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                ec_jwk(&self.kid, "P-384", point.x().unwrap(), point.y().unwrap())
            }
            Key::Rs256(key) | Key::Rs384(key) | Key::Ps256(key) => {
                use rsa::traits::PublicKeyParts;
                json!({
                    "kty": "RSA",
                    "use": "jwt-svid",
                    "kid": self.kid,
                    "n": b64(&key.n().to_bytes_be()),
                    "e": b64(&key.e().to_bytes_be()),
                })
            }
        }
    }

    /// The header it signs with: its alg and kid, typ JWT.
    pub fn header(&self) -> Value {
        json!({ "alg": self.alg(), "kid": self.kid, "typ": "JWT" })
    }

    /// A JWT-SVID for `sub` and `aud`, issued now, expiring in an hour.
    pub fn mint(&self, sub: &str, aud: &[&str]) -> String {
        let now = unix_now();
        self.sign(
            &self.header(),
            &json!({ "sub": sub, "aud": aud, "iat": now, "exp": now + 3600 }),
        )
    }

    /// `header` and `claims` signed with this key, whatever they say.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.signature(input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }

    fn signature(&self, input: &[u8]) -> Vec<u8> {
        match &self.key {
            Key::Es256(key) => {
                use p256::ecdsa::signature::Signer as _;
                let sig: p256::ecdsa::Signature = key.sign(input);
                sig.to_bytes().to_vec()
            }
            Key::Es384(key) => {
                use p384::ecdsa::signature::Signer as _;
                let sig: p384::ecdsa::Signature = key.sign(input);
                sig.to_bytes().to_vec()
            }
            Key::Rs256(key) => key
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input))
                .unwrap(),
            Key::Rs384(key) => key
                .sign(rsa::Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(input))
                .unwrap(),
            Key::Ps256(key) => key
                .sign_with_rng(
                    &mut CounterRng(0),
                    rsa::Pss::new::<Sha256>(),
                    &Sha256::digest(input),
                )
                .unwrap(),
        }
    }
}

/// A fixed moment (2027-01-15) for validations that must not depend on
/// the clock: fuzzing, committed seeds.
pub const FIXED_NOW: u64 = 1_800_000_000;

/// One authority of each kind psec verifies, with fixed keys and kids, all
/// of trust domain `example.org`: what the `jwt_svid` fuzz target trusts
/// and its seeds are signed with.
pub fn sample_authorities() -> Vec<Signer> {
    vec![
        Signer::es256("es256", "sample es256"),
        Signer::es384("es384", "sample es384"),
        Signer::rs256("rs256", 0),
        Signer::rs384("rs384", 1),
        Signer::ps256("ps256", 1),
    ]
}

/// A token with any header and claims and the given signature bytes
/// (`alg: none` tokens, forged signatures).
pub fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// A bundle set file trusting, for each trust domain, the given
/// authorities' public keys.
pub fn bundle_set(domains: &[(&str, &[&Signer])]) -> String {
    let map: serde_json::Map<String, Value> = domains
        .iter()
        .map(|(domain, signers)| {
            let keys: Vec<Value> = signers.iter().map(|s| s.jwk()).collect();
            (domain.to_string(), json!({ "keys": keys }))
        })
        .collect();
    Value::Object(map).to_string()
}

/// Seconds since 1970, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// base64url without padding, as JOSE writes it.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn ec_jwk(kid: &str, crv: &str, x: &[u8], y: &[u8]) -> Value {
    json!({ "kty": "EC", "crv": crv, "use": "jwt-svid", "kid": kid, "x": b64(x), "y": b64(y) })
}

fn rsa_key(which: usize) -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_der(RSA_KEYS[which % 2]).expect("a fixture RSA key")
}

/// PSS salts for tests: SHA-256 of a counter. Not random, and need not be.
struct CounterRng(u64);

impl rsa::rand_core::RngCore for CounterRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for CounterRng {}
