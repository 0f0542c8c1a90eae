//! JWT bundles: each trust domain's JWT authorities, as the public keys of
//! a JWKS (the SPIFFE trust bundle format).

use crate::token::Alg;
use crate::{Error, spiffe_id};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::collections::HashMap;

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A JWT authority's public key.
#[derive(Clone, Debug)]
pub(crate) enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

/// One JWT authority of a trust domain.
#[derive(Clone, Debug)]
pub(crate) struct Authority {
    pub(crate) kid: String,
    pub(crate) key: PublicKey,
    /// The `alg` the JWK names, if it names one.
    pub(crate) alg: Option<Alg>,
}

/// The JWT bundles of every trusted trust domain.
///
/// The file psecd reads (`jwt_bundle_path`) is one JSON object whose
/// members map a trust domain (`example.org`, or `spiffe://example.org` as
/// the Workload API names it) to that domain's bundle, a JWKS:
///
/// ```json
/// { "example.org": { "keys": [ { "kty": "EC", "crv": "P-256", "use": "jwt-svid",
///                                "kid": "k1", "x": "...", "y": "..." } ] } }
/// ```
///
/// Keys with `"use": "x509-svid"` (X.509 authorities) are skipped; every
/// other key must be an EC (P-256, P-384) or RSA (2048 to 4096 bits) public
/// key with a `kid` unique in its trust domain.
#[derive(Clone, Debug, Default)]
pub struct JwtBundles {
    domains: HashMap<String, Vec<Authority>>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl JwtBundles {
    /// No trust domain at all.
    pub fn new() -> Self {
        JwtBundles::default()
    }

    /// Reads a bundle set file's contents (see [`JwtBundles`]).
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let map: HashMap<String, serde_json::Value> = serde_json::from_slice(json)
            .map_err(|e| Error::BadBundle(format!("not a JSON object of trust domains: {e}")))?;
        let mut bundles = JwtBundles::new();
        for (name, jwks) in map {
            let jwks = Jwks::deserialize(jwks)
                .map_err(|e| Error::BadBundle(format!("trust domain {name}: not a JWKS: {e}")))?;
            bundles.insert(&name, jwks)?;
        }
        Ok(bundles)
    }

    /// Sets the bundle of `trust_domain` from a JWKS document (as the
    /// Workload API's FetchJWTBundles gives it), replacing any it had.
    pub fn insert_jwks(&mut self, trust_domain: &str, jwks: &[u8]) -> Result<(), Error> {
        let jwks: Jwks = serde_json::from_slice(jwks).map_err(|e| {
            Error::BadBundle(format!("trust domain {trust_domain}: not a JWKS: {e}"))
        })?;
        self.insert(trust_domain, jwks)
    }

    fn insert(&mut self, trust_domain: &str, jwks: Jwks) -> Result<(), Error> {
        let name = trust_domain
            .strip_prefix("spiffe://")
            .unwrap_or(trust_domain);
        spiffe_id::check_trust_domain(name)
            .map_err(|e| Error::BadBundle(format!("trust domain {trust_domain:?}: {e}")))?;
        let mut authorities: Vec<Authority> = Vec::new();
        for jwk in jwks.keys {
            if jwk.usage.as_deref() == Some("x509-svid") {
                continue;
            }
            let authority = authority(jwk)
                .map_err(|why| Error::BadBundle(format!("trust domain {name}: {why}")))?;
            if authorities.iter().any(|a| a.kid == authority.kid) {
                return Err(Error::BadBundle(format!(
                    "trust domain {name}: kid {:?} is given twice",
                    authority.kid
                )));
            }
            authorities.push(authority);
        }
        if self.domains.insert(name.to_string(), authorities).is_some() {
            return Err(Error::BadBundle(format!(
                "trust domain {name} is given twice"
            )));
        }
        Ok(())
    }

    /// The trust domains, in no particular order.
    pub fn trust_domains(&self) -> impl Iterator<Item = &str> {
        self.domains.keys().map(String::as_str)
    }

    /// How many JWT authorities all the trust domains have.
    pub fn authority_count(&self) -> usize {
        self.domains.values().map(Vec::len).sum()
    }

    /// The authorities of a trust domain, if it is trusted.
    pub(crate) fn authorities(&self, trust_domain: &str) -> Option<&[Authority]> {
        self.domains.get(trust_domain).map(Vec::as_slice)
    }
}

/// One JWK as a JWT authority; the error says what is wrong with it.
fn authority(jwk: Jwk) -> Result<Authority, String> {
    let kid = jwk.kid.ok_or("a JWT authority without a kid")?;
    let bad = |why: &str| format!("kid {kid:?}: {why}");
    if let Some(usage) = &jwk.usage {
        if usage != "jwt-svid" {
            return Err(bad(&format!(
                "use {usage:?}: a JWT authority's use is \"jwt-svid\""
            )));
        }
    }
    let alg = match &jwk.alg {
        Some(name) => {
            Some(Alg::from_name(name).ok_or_else(|| bad("alg is not one psec verifies"))?)
        }
        None => None,
    };
    let field = |value: &Option<String>, name: &str| -> Result<Vec<u8>, String> {
        let text = value.as_deref().ok_or_else(|| bad(&format!("no {name}")))?;
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| bad(&format!("{name} is not base64url without padding")))
    };
    let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("EC", Some(crv @ ("P-256" | "P-384"))) => {
            let x = field(&jwk.x, "x")?;
            let y = field(&jwk.y, "y")?;
            let size = if crv == "P-256" { 32 } else { 48 };
            if x.len() != size || y.len() != size {
                return Err(bad("x or y has the wrong length for the curve"));
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let not_on_curve = |_| bad("the point is not on the curve");
            if crv == "P-256" {
                PublicKey::P256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(not_on_curve)?,
                )
            } else {
                PublicKey::P384(
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(not_on_curve)?,
                )
            }
        }
        ("EC", _) => return Err(bad("only the curves P-256 and P-384 are supported")),
        ("RSA", _) => {
            let n = rsa::BigUint::from_bytes_be(&field(&jwk.n, "n")?);
            let e = rsa::BigUint::from_bytes_be(&field(&jwk.e, "e")?);
            if n.bits() < MIN_RSA_BITS {
                return Err(bad("an RSA modulus under 2048 bits"));
            }
            PublicKey::Rsa(
                rsa::RsaPublicKey::new(n, e)
                    .map_err(|e| bad(&format!("not a usable RSA public key: {e}")))?,
            )
        }
        (other, _) => {
            return Err(bad(&format!(
                "kty {other:?}: only EC and RSA keys are supported"
            )));
        }
    };
    if let Some(alg) = alg {
        if !alg.fits(&key) {
            return Err(bad("its alg does not fit its key type"));
        }
    }
    Ok(Authority { kid, key, alg })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;

    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn ec(kid: &str) -> String {
        format!(
            r#"{{"kty":"EC","crv":"P-256","use":"jwt-svid","kid":"{kid}","x":"{P256_X}","y":"{P256_Y}"}}"#
        )
    }

    #[test]
    fn trust_domains_may_be_named_bare_or_as_spiffe_ids() {
        let json = format!(
            r#"{{"example.org":{{"keys":[{}]}},"spiffe://other.org":{{"spiffe_refresh_hint":60,"keys":[{},{}]}}}}"#,
            ec("a"),
            ec("b"),
            ec("c")
        );
        let bundles = JwtBundles::from_json(json.as_bytes()).unwrap();
        let mut domains: Vec<&str> = bundles.trust_domains().collect();
        domains.sort_unstable();
        assert_eq!(domains, ["example.org", "other.org"]);
        assert_eq!(bundles.authority_count(), 3);
    }

    #[test]
    fn x509_authorities_are_skipped() {
        let json = format!(
            r#"{{"example.org":{{"keys":[{},{{"kty":"EC","use":"x509-svid","x5c":["MII"]}}]}}}}"#,
            ec("a")
        );
        assert_eq!(
            JwtBundles::from_json(json.as_bytes())
                .unwrap()
                .authority_count(),
            1
        );
    }

    #[test]
    fn bad_bundles_are_refused_saying_why() {
        for (json, why) in [
            ("[]".to_string(), "not a JSON object"),
            (r#"{"example.org":{}}"#.to_string(), "not a JWKS"),
            (
                format!(r#"{{"Example.org":{{"keys":[{}]}}}}"#, ec("a")),
                "trust domain",
            ),
            (
                format!(r#"{{"example.org":{{"keys":[{},{}]}}}}"#, ec("a"), ec("a")),
                "twice",
            ),
            (
                format!(
                    r#"{{"example.org":{{"keys":[{}]}},"spiffe://example.org":{{"keys":[]}}}}"#,
                    ec("a")
                ),
                "twice",
            ),
            (ec("a").replace(r#""kid":"a","#, ""), ""),
            (
                format!(
                    r#"{{"t":{{"keys":[{}]}}}}"#,
                    ec("a").replace(r#""kid":"a","#, "")
                ),
                "without a kid",
            ),
            (
                format!(
                    r#"{{"t":{{"keys":[{}]}}}}"#,
                    ec("a").replace("P-256", "P-521")
                ),
                "curves",
            ),
            (
                format!(
                    r#"{{"t":{{"keys":[{}]}}}}"#,
                    ec("a").replace(P256_Y, P256_X)
                ),
                "not on the curve",
            ),
            (
                format!(
                    r#"{{"t":{{"keys":[{}]}}}}"#,
                    ec("a").replace("jwt-svid", "sig")
                ),
                "use",
            ),
            (
                format!(
                    r#"{{"t":{{"keys":[{}]}}}}"#,
                    ec("a").replace(r#""kty":"EC","#, r#""kty":"EC","alg":"RS256","#)
                ),
                "does not fit",
            ),
            (
                r#"{"t":{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"AA"}]}}"#.into(),
                "only EC and RSA",
            ),
            (
                r#"{"t":{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}}"#.into(),
                "under 2048 bits",
            ),
        ] {
            let error = JwtBundles::from_json(json.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(error.contains(why), "{json}: {error}");
        }
    }
}
