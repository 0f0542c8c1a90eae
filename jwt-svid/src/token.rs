//! JWT-SVID validation: the JWS compact serialisation, its signature, and
//! the claims the SPIFFE JWT-SVID standard requires.

use crate::bundle::{Authority, PublicKey};
use crate::{Error, JwtBundles, SpiffeId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The audience a JWT-SVID for Parsec carries, as Parsec requires it.
pub const PARSEC_AUDIENCE: &str = "parsec";

/// The clock skew allowed on `exp`, `nbf` and `iat` by default.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The signature algorithms verified: what SPIRE issues, and the other
/// RSA ones the JWT-SVID standard allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256, SHA-256.
    Es256,
    /// ECDSA P-384, SHA-384.
    Es384,
    /// RSASSA-PKCS1-v1_5, SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5, SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5, SHA-512.
    Rs512,
    /// RSASSA-PSS, SHA-256.
    Ps256,
    /// RSASSA-PSS, SHA-384.
    Ps384,
    /// RSASSA-PSS, SHA-512.
    Ps512,
}

impl Alg {
    /// The algorithm of a JOSE `alg` name; `none`, HMAC and anything else
    /// give `None`.
    pub fn from_name(name: &str) -> Option<Alg> {
        Some(match name {
            "ES256" => Alg::Es256,
            "ES384" => Alg::Es384,
            "RS256" => Alg::Rs256,
            "RS384" => Alg::Rs384,
            "RS512" => Alg::Rs512,
            "PS256" => Alg::Ps256,
            "PS384" => Alg::Ps384,
            "PS512" => Alg::Ps512,
            _ => return None,
        })
    }

    /// Whether this algorithm uses this kind of key.
    pub(crate) fn fits(self, key: &PublicKey) -> bool {
        matches!(
            (self, key),
            (Alg::Es256, PublicKey::P256(_))
                | (Alg::Es384, PublicKey::P384(_))
                | (
                    Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512,
                    PublicKey::Rsa(_)
                )
        )
    }
}

/// What a JWT-SVID must satisfy beside its signature.
#[derive(Clone, Debug)]
pub struct Validator {
    /// One of the token's audiences must be this one.
    pub audience: String,
    /// The clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl Default for Validator {
    /// Audience `parsec`, [`DEFAULT_LEEWAY`].
    fn default() -> Self {
        Validator {
            audience: PARSEC_AUDIENCE.to_string(),
            leeway: DEFAULT_LEEWAY,
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iat: Option<f64>,
}

impl Validator {
    /// Validates `token` (the JWS compact serialisation) at time `now`
    /// against `bundles`, and gives the workload's SPIFFE ID.
    ///
    /// Checked: three base64url parts; a header with a supported `alg`, a
    /// `kid`, `typ` absent or `JWT`/`JOSE`, no `crit`; a `sub` that is a
    /// workload SPIFFE ID of a trust domain in `bundles`, whose authority
    /// `kid` fits `alg` and verifies the signature; `exp` not past, `nbf`
    /// and `iat` (if present) not in the future, each with the leeway; an
    /// `aud` that holds [`Validator::audience`]. No error carries any part
    /// of the token.
    pub fn validate(
        &self,
        token: &[u8],
        bundles: &JwtBundles,
        now: SystemTime,
    ) -> Result<SpiffeId, Error> {
        self.validate_with_expiry(token, bundles, now)
            .map(|(id, _)| id)
    }

    /// [`Validator::validate`], also giving the token's `exp` (seconds
    /// since 1970).
    pub fn validate_with_expiry(
        &self,
        token: &[u8],
        bundles: &JwtBundles,
        now: SystemTime,
    ) -> Result<(SpiffeId, f64), Error> {
        let mut parts = token.split(|&b| b == b'.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Malformed("not three dot-separated parts"));
        };
        let header: Header = decode_json(header_b64, "the header")?;
        let alg = Alg::from_name(&header.alg).ok_or(Error::UnsupportedAlgorithm)?;
        let kid = header
            .kid
            .ok_or(Error::Malformed("the header has no kid"))?;
        if header
            .typ
            .as_deref()
            .is_some_and(|t| t != "JWT" && t != "JOSE")
        {
            return Err(Error::Malformed("typ is neither JWT nor JOSE"));
        }
        if header.crit.is_some() {
            return Err(Error::Malformed("crit names extensions psec does not know"));
        }
        let claims: Claims = decode_json(claims_b64, "the claims")?;
        let sub = claims.sub.ok_or(Error::Malformed("no sub claim"))?;
        let id = SpiffeId::parse(&sub)?;
        let authority = bundles
            .authorities(id.trust_domain())
            .ok_or(Error::UnknownTrustDomain)?
            .iter()
            .find(|a| a.kid == kid)
            .ok_or(Error::UnknownKeyId)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| Error::Malformed("the signature is not base64url"))?;
        // The signing input is the first two parts and the dot between them.
        let signed = token
            .get(..header_b64.len() + 1 + claims_b64.len())
            .ok_or(Error::Malformed("not three dot-separated parts"))?;
        verify(authority, alg, signed, &signature)?;

        let now = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::Malformed("the clock is before 1970"))?
            .as_secs_f64();
        let leeway = self.leeway.as_secs_f64();
        let exp = claims.exp.ok_or(Error::Malformed("no exp claim"))?;
        if !exp.is_finite() || now >= exp + leeway {
            return Err(Error::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| !nbf.is_finite() || now + leeway < nbf)
        {
            return Err(Error::NotYetValid);
        }
        if claims
            .iat
            .is_some_and(|iat| !iat.is_finite() || now + leeway < iat)
        {
            return Err(Error::NotYetValid);
        }
        let audience_ok = match claims.aud.ok_or(Error::WrongAudience)? {
            Audience::One(aud) => aud == self.audience,
            Audience::Many(auds) => auds.contains(&self.audience),
        };
        if !audience_ok {
            return Err(Error::WrongAudience);
        }
        Ok((id, exp))
    }

    /// Whether a token expiring at `exp` is still valid at `now`.
    pub(crate) fn unexpired(&self, exp: f64, now: SystemTime) -> bool {
        now.duration_since(UNIX_EPOCH)
            .is_ok_and(|now| now.as_secs_f64() < exp + self.leeway.as_secs_f64())
    }
}

/// Decodes one base64url part holding a JSON object. The JSON parser's
/// own message is dropped: it may quote the token.
fn decode_json<T: for<'de> Deserialize<'de>>(part: &[u8], what: &'static str) -> Result<T, Error> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| {
        Error::Malformed(if what == "the header" {
            "the header is not base64url"
        } else {
            "the claims are not base64url"
        })
    })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        Error::Malformed(if what == "the header" {
            "the header is not a JOSE header"
        } else {
            "the claims are not a JWT claims set"
        })
    })
}

/// Checks the signature of `signed` with the authority's key.
fn verify(authority: &Authority, alg: Alg, signed: &[u8], signature: &[u8]) -> Result<(), Error> {
    if !alg.fits(&authority.key) || authority.alg.is_some_and(|a| a != alg) {
        return Err(Error::KeyAlgorithmMismatch);
    }
    let ok = match &authority.key {
        PublicKey::P256(key) => {
            use p256::ecdsa::signature::Verifier;
            p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(signed, &sig).is_ok())
        }
        PublicKey::P384(key) => {
            use p384::ecdsa::signature::Verifier;
            p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(signed, &sig).is_ok())
        }
        PublicKey::Rsa(key) => {
            let result = match alg {
                Alg::Rs256 => key.verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(signed),
                    signature,
                ),
                Alg::Rs384 => key.verify(
                    rsa::Pkcs1v15Sign::new::<Sha384>(),
                    &Sha384::digest(signed),
                    signature,
                ),
                Alg::Rs512 => key.verify(
                    rsa::Pkcs1v15Sign::new::<Sha512>(),
                    &Sha512::digest(signed),
                    signature,
                ),
                Alg::Ps256 => key.verify(
                    rsa::Pss::new::<Sha256>(),
                    &Sha256::digest(signed),
                    signature,
                ),
                Alg::Ps384 => key.verify(
                    rsa::Pss::new::<Sha384>(),
                    &Sha384::digest(signed),
                    signature,
                ),
                Alg::Ps512 => key.verify(
                    rsa::Pss::new::<Sha512>(),
                    &Sha512::digest(signed),
                    signature,
                ),
                Alg::Es256 | Alg::Es384 => return Err(Error::KeyAlgorithmMismatch),
            };
            result.is_ok()
        }
    };
    if ok { Ok(()) } else { Err(Error::BadSignature) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use crate::testing::{Signer, bundle_set, unix_now, unsigned};
    use serde_json::json;

    const WEB: &str = "spiffe://example.org/ns/prod/sa/web";

    fn signers() -> Vec<Signer> {
        vec![
            Signer::es256("es256", "example.org es256"),
            Signer::es384("es384", "example.org es384"),
            Signer::rs256("rs256", 0),
            Signer::rs384("rs384", 1),
            Signer::ps256("ps256", 1),
        ]
    }

    fn bundles(signers: &[Signer]) -> JwtBundles {
        let refs: Vec<&Signer> = signers.iter().collect();
        JwtBundles::from_json(bundle_set(&[("example.org", &refs)]).as_bytes()).unwrap()
    }

    fn check(token: &str, bundles: &JwtBundles) -> Result<SpiffeId, Error> {
        Validator::default().validate(token.as_bytes(), bundles, SystemTime::now())
    }

    fn claims(exp_in: i64) -> serde_json::Value {
        let now = unix_now() as i64;
        json!({ "sub": WEB, "aud": ["parsec"], "iat": now, "exp": now + exp_in })
    }

    #[test]
    fn every_algorithm_spire_issues_is_accepted() {
        let signers = signers();
        let b = bundles(&signers);
        for s in &signers {
            let id = check(&s.mint(WEB, &["other", "parsec"]), &b)
                .unwrap_or_else(|e| panic!("{}: {e}", s.alg()));
            assert_eq!(id.as_str(), WEB);
        }
    }

    #[test]
    fn the_audience_may_be_a_single_string() {
        let s = Signer::es256("k", "k");
        let now = unix_now();
        let token = s.sign(
            &s.header(),
            &json!({ "sub": WEB, "aud": "parsec", "exp": now + 60 }),
        );
        assert!(check(&token, &bundles(&[s])).is_ok());
    }

    #[test]
    fn expiry_allows_the_leeway_and_no_more() {
        let s = Signer::es256("k", "k");
        let b = bundles(std::slice::from_ref(&s));
        assert!(check(&s.sign(&s.header(), &claims(-10)), &b).is_ok());
        assert_eq!(
            check(&s.sign(&s.header(), &claims(-31)), &b),
            Err(Error::Expired)
        );
        let mut no_exp = claims(60);
        no_exp.as_object_mut().unwrap().remove("exp");
        assert!(matches!(
            check(&s.sign(&s.header(), &no_exp), &b),
            Err(Error::Malformed(_))
        ));
        let mut text_exp = claims(60);
        text_exp["exp"] = json!("tomorrow");
        assert!(matches!(
            check(&s.sign(&s.header(), &text_exp), &b),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_refused() {
        let s = Signer::es256("k", "k");
        let b = bundles(std::slice::from_ref(&s));
        let now = unix_now();
        for field in ["nbf", "iat"] {
            let mut c = claims(3600);
            c[field] = json!(now + 120);
            assert_eq!(
                check(&s.sign(&s.header(), &c), &b),
                Err(Error::NotYetValid),
                "{field}"
            );
            c[field] = json!(now + 10);
            assert!(
                check(&s.sign(&s.header(), &c), &b).is_ok(),
                "{field} within the leeway"
            );
        }
    }

    #[test]
    fn another_audience_or_none_is_refused() {
        let s = Signer::rs256("k", 0);
        let b = bundles(std::slice::from_ref(&s));
        assert_eq!(
            check(&s.mint(WEB, &["vault"]), &b),
            Err(Error::WrongAudience)
        );
        assert_eq!(check(&s.mint(WEB, &[]), &b), Err(Error::WrongAudience));
        let mut c = claims(60);
        c.as_object_mut().unwrap().remove("aud");
        assert_eq!(
            check(&s.sign(&s.header(), &c), &b),
            Err(Error::WrongAudience)
        );
    }

    #[test]
    fn trust_domain_kid_and_key_must_all_match_the_bundle() {
        let s = Signer::es256("k", "trusted");
        let b = bundles(std::slice::from_ref(&s));
        assert_eq!(
            check(&s.mint("spiffe://evil.org/web", &["parsec"]), &b),
            Err(Error::UnknownTrustDomain)
        );
        assert_eq!(
            check(&s.with_kid("other").mint(WEB, &["parsec"]), &b),
            Err(Error::UnknownKeyId)
        );
        let outsider = Signer::es256("k", "not in the bundle");
        assert_eq!(
            check(&outsider.mint(WEB, &["parsec"]), &b),
            Err(Error::BadSignature)
        );
        let rsa_outsider = Signer::rs256("r", 1);
        let rb = bundles(&[Signer::rs256("r", 0)]);
        assert_eq!(
            check(&rsa_outsider.mint(WEB, &["parsec"]), &rb),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn alg_none_hmac_and_mismatched_algs_are_refused() {
        let s = Signer::rs256("k", 0);
        let b = bundles(std::slice::from_ref(&s));
        let none = unsigned(&json!({ "alg": "none", "kid": "k" }), &claims(60), b"");
        assert_eq!(check(&none, &b), Err(Error::UnsupportedAlgorithm));
        let hs = unsigned(
            &json!({ "alg": "HS256", "kid": "k" }),
            &claims(60),
            &[0; 32],
        );
        assert_eq!(check(&hs, &b), Err(Error::UnsupportedAlgorithm));
        // An RSA key asked to check an ECDSA signature.
        let es = Signer::es256("k", "k").mint(WEB, &["parsec"]);
        assert_eq!(check(&es, &b), Err(Error::KeyAlgorithmMismatch));
        // RS256 bytes presented as PS256: same key, other padding.
        let token = s.mint(WEB, &["parsec"]);
        let mut parts: Vec<&str> = token.split('.').collect();
        let ps_header =
            crate::testing::b64(json!({ "alg": "PS256", "kid": "k" }).to_string().as_bytes());
        parts[0] = &ps_header;
        assert_eq!(check(&parts.join("."), &b), Err(Error::BadSignature));
    }

    #[test]
    fn a_changed_claim_breaks_the_signature() {
        let s = Signer::es256("k", "k");
        let b = bundles(std::slice::from_ref(&s));
        let token = s.mint(WEB, &["parsec"]);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = crate::testing::b64(
            json!({ "sub": "spiffe://example.org/admin", "aud": "parsec", "exp": unix_now() + 60 })
                .to_string()
                .as_bytes(),
        );
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(check(&forged, &b), Err(Error::BadSignature));
    }

    #[test]
    fn malformed_tokens_are_refused_without_quoting_them() {
        let s = Signer::es256("k", "k");
        let b = bundles(std::slice::from_ref(&s));
        let good = s.mint(WEB, &["parsec"]);
        let header = |h: serde_json::Value| s.sign(&h, &claims(60));
        let cases = [
            String::new(),
            "a.b".into(),
            format!("{good}.x"),
            format!("{good}="),
            good.replacen('.', "=.", 1),
            format!("!{good}"),
            unsigned(&json!("just a string"), &claims(60), b"x"),
            header(json!({ "alg": "ES256" })),
            header(json!({ "alg": "ES256", "kid": "k", "typ": "JWS+secret" })),
            header(json!({ "alg": "ES256", "kid": "k", "crit": ["exp"] })),
            header(json!({ "alg": "ES256", "kid": 7 })),
            s.sign(
                &s.header(),
                &json!({ "sub": "web", "aud": "parsec", "exp": unix_now() + 60 }),
            ),
            s.sign(
                &s.header(),
                &json!({ "aud": "parsec", "exp": unix_now() + 60 }),
            ),
            s.sign(&s.header(), &json!(["sub", WEB])),
        ];
        for token in cases {
            let error = check(&token, &b).unwrap_err();
            let text = error.to_string();
            for part in token.split('.').filter(|p| p.len() > 3) {
                assert!(!text.contains(part), "{text} quotes the token");
            }
            assert!(
                !text.contains("secret") && !text.contains("example.org"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_clock_before_1970_refuses_rather_than_panics() {
        let s = Signer::es256("k", "k");
        let b = bundles(std::slice::from_ref(&s));
        let early = UNIX_EPOCH - Duration::from_secs(1);
        assert!(
            Validator::default()
                .validate(s.mint(WEB, &["parsec"]).as_bytes(), &b, early)
                .is_err()
        );
    }

    /// Writes the `jwt_svid` fuzz target's seeds into
    /// `$PSEC_WRITE_FUZZ_SEEDS` (fuzz/seeds/jwt_svid): one valid token per
    /// sample authority at [`crate::testing::FIXED_NOW`], and the bundle.
    #[test]
    #[ignore = "writes files; run by hand to remake the fuzz seeds"]
    fn write_fuzz_seeds() {
        use crate::testing::{FIXED_NOW, sample_authorities};
        let dir = std::path::PathBuf::from(std::env::var("PSEC_WRITE_FUZZ_SEEDS").unwrap());
        let signers = sample_authorities();
        let b = bundles(&signers);
        let at = UNIX_EPOCH + Duration::from_secs(FIXED_NOW);
        for s in &signers {
            let token = s.sign(
                &s.header(),
                &json!({ "sub": WEB, "aud": ["parsec"], "iat": FIXED_NOW - 60, "exp": FIXED_NOW + 3600 }),
            );
            assert!(
                Validator::default()
                    .validate(token.as_bytes(), &b, at)
                    .is_ok()
            );
            std::fs::write(dir.join(format!("{}.jwt", s.alg().to_lowercase())), token).unwrap();
        }
        let refs: Vec<&Signer> = signers.iter().collect();
        std::fs::write(
            dir.join("bundle.json"),
            bundle_set(&[("example.org", &refs)]),
        )
        .unwrap();
    }

    #[test]
    fn the_audience_and_leeway_can_be_set() {
        let s = Signer::es256("k", "k");
        let b = bundles(std::slice::from_ref(&s));
        let v = Validator {
            audience: "vault".into(),
            leeway: Duration::ZERO,
        };
        assert!(
            v.validate(s.mint(WEB, &["vault"]).as_bytes(), &b, SystemTime::now())
                .is_ok()
        );
        assert_eq!(
            v.validate(
                s.sign(&s.header(), &claims(-1)).as_bytes(),
                &b,
                SystemTime::now()
            ),
            Err(Error::Expired)
        );
    }
}
