//! What the TPM supports, as it reports it at start-up: hashes, signature
//! and encryption schemes, ECC curves and RSA key sizes. Keys are only
//! created when this allows them.
//!
//! CanDoCrypto answers Success only if this allows it *and* Parsec 1.5's
//! TPM provider answers Success: where Parsec says NotSupported, so does
//! psec, even for some keys psec can make (a wildcard-hash policy, a
//! policy with no usage flag, an import that leaves the size to the
//! data), so that Parsec's clients see Parsec's answers. Parsec does not
//! ask the TPM (its source leaves that to do), so where it says Success
//! to a hash, an RSA size or a curve this TPM (or psec) lacks, psec says
//! NotSupported: a Success from psec is always one the TPM can honour.

#![allow(
    deprecated,
    reason = "SHA-1 is supported where the TPM has it; policy is the service's"
)]

use crate::TpmProvider;
use crate::tpm::{Tpm, tpm_error};
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, AsymmetricEncryption, AsymmetricSignature, Hash, SignHash,
};
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type};
use psec_provider::{CanDoCrypto, ProviderError, Result};
use tss_esapi::constants::{AlgorithmIdentifier, CapabilityType, EccCurveIdentifier};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::structures::{
    CapabilityData, PublicParameters, PublicRsaParametersBuilder, RsaExponent, RsaScheme,
};

/// The PSA hashes a TPM may have, with their TPM names.
const HASHES: [(Hash, HashingAlgorithm); 7] = [
    (Hash::Sha1, HashingAlgorithm::Sha1),
    (Hash::Sha256, HashingAlgorithm::Sha256),
    (Hash::Sha384, HashingAlgorithm::Sha384),
    (Hash::Sha512, HashingAlgorithm::Sha512),
    (Hash::Sha3_256, HashingAlgorithm::Sha3_256),
    (Hash::Sha3_384, HashingAlgorithm::Sha3_384),
    (Hash::Sha3_512, HashingAlgorithm::Sha3_512),
];

/// The NIST curves a TPM may have, by size in bits.
const CURVES: [(usize, EccCurveIdentifier); 3] = [
    (256, EccCurveIdentifier::NistP256),
    (384, EccCurveIdentifier::NistP384),
    (521, EccCurveIdentifier::NistP521),
];

/// RSA key sizes a TPM may have.
const RSA_SIZES: [(usize, RsaKeyBits); 4] = [
    (1024, RsaKeyBits::Rsa1024),
    (2048, RsaKeyBits::Rsa2048),
    (3072, RsaKeyBits::Rsa3072),
    (4096, RsaKeyBits::Rsa4096),
];

/// The TPM name of a PSA hash, if the TPM has one.
pub(crate) fn tpm_hash(hash: Hash) -> Option<HashingAlgorithm> {
    HASHES
        .iter()
        .find(|(psa, _)| *psa == hash)
        .map(|(_, tpm)| *tpm)
}

/// The TPM size of an RSA key of `bits`.
pub(crate) fn rsa_key_bits(bits: usize) -> Option<RsaKeyBits> {
    RSA_SIZES
        .iter()
        .find(|(size, _)| *size == bits)
        .map(|(_, tpm)| *tpm)
}

/// What this TPM can do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Support {
    pub(crate) hashes: Vec<Hash>,
    pub(crate) ecc_bits: Vec<usize>,
    pub(crate) rsa_bits: Vec<usize>,
    pub(crate) rsassa: bool,
    pub(crate) rsapss: bool,
    pub(crate) ecdsa: bool,
    pub(crate) rsaes: bool,
    pub(crate) oaep: bool,
}

fn unsupported(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::NotSupported(format!("the TPM provider does not support {what}"))
}

impl Support {
    /// Asks the TPM what it implements.
    pub(crate) fn query(tpm: &mut Tpm) -> Result<Self> {
        let context = &mut tpm.context;
        let (algorithms, _) = context
            .get_capability(CapabilityType::Algorithms, 0, 255)
            .map_err(|error| tpm_error(error, "asking the TPM for its algorithms"))?;
        let CapabilityData::Algorithms(algorithms) = algorithms else {
            return Err(unsupported("a TPM that does not list its algorithms"));
        };
        let has = |id: AlgorithmIdentifier| algorithms.find(id).is_some();
        let rsa = has(AlgorithmIdentifier::Rsa);
        let ecc = has(AlgorithmIdentifier::Ecc);
        let hashes = HASHES
            .iter()
            .filter(|(_, tpm)| has((*tpm).into()))
            .map(|(psa, _)| *psa)
            .collect();
        let ecc_bits = if ecc {
            let (curves, _) = context
                .get_capability(CapabilityType::EccCurves, 0, 255)
                .map_err(|error| tpm_error(error, "asking the TPM for its curves"))?;
            let curves = match curves {
                CapabilityData::EccCurves(curves) => curves.into_inner(),
                _ => Vec::new(),
            };
            CURVES
                .iter()
                .filter(|(_, id)| curves.contains(id))
                .map(|(bits, _)| *bits)
                .collect()
        } else {
            Vec::new()
        };
        let mut rsa_bits = Vec::new();
        for (bits, key_bits) in RSA_SIZES {
            let parameters = PublicRsaParametersBuilder::new()
                .with_scheme(RsaScheme::Null)
                .with_key_bits(key_bits)
                .with_exponent(RsaExponent::default())
                .with_is_signing_key(true)
                .with_is_decryption_key(true)
                .with_restricted(false)
                .build()
                .map_err(|error| tpm_error(error, "building RSA parameters"))?;
            if rsa
                && context
                    .test_parms(PublicParameters::Rsa(parameters))
                    .is_ok()
            {
                rsa_bits.push(bits);
            }
        }
        Ok(Support {
            hashes,
            ecc_bits,
            rsa_bits,
            rsassa: rsa && has(AlgorithmIdentifier::RsaSsa),
            rsapss: rsa && has(AlgorithmIdentifier::RsaPss),
            ecdsa: ecc && has(AlgorithmIdentifier::EcDsa),
            rsaes: rsa && has(AlgorithmIdentifier::RsaEs),
            oaep: rsa && has(AlgorithmIdentifier::Oaep),
        })
    }

    /// Whether the TPM computes `hash`.
    pub(crate) fn hash(&self, hash: Hash) -> Result<HashingAlgorithm> {
        match tpm_hash(hash) {
            Some(tpm) if self.hashes.contains(&hash) => Ok(tpm),
            _ => Err(unsupported(format_args!("{hash:?} on this TPM"))),
        }
    }

    fn sign_hash(&self, hash: SignHash) -> bool {
        match hash {
            SignHash::Any => true,
            SignHash::Specific(hash) => self.hashes.contains(&hash),
        }
    }

    /// Whether the TPM (and psec) can do `check` for a key with
    /// `attributes`: `Ok`, or NotSupported. Gates key creation and import,
    /// and is half of CanDoCrypto's answer.
    pub(crate) fn check(&self, check: CheckType, attributes: &Attributes) -> Result<()> {
        let (bits_needed, alg_needed) = match check {
            CheckType::Use => (false, true),
            CheckType::Generate => (true, false),
            CheckType::Import => (false, false),
            _ => return Err(unsupported("key derivation")),
        };
        let key_type = attributes.key_type;
        match (check, key_type) {
            (CheckType::Generate, Type::RsaPublicKey | Type::EccPublicKey { .. }) => {
                return Err(unsupported("generating a lone public key"));
            }
            (CheckType::Import, Type::RsaKeyPair | Type::EccKeyPair { .. }) => {
                return Err(unsupported("importing private keys"));
            }
            _ => {}
        }
        let bits = attributes.bits;
        let sizes = match key_type {
            Type::RsaKeyPair | Type::RsaPublicKey => &self.rsa_bits,
            Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            }
            | Type::EccPublicKey {
                curve_family: EccFamily::SecpR1,
            } => &self.ecc_bits,
            _ => return Err(unsupported(format_args!("keys of type {key_type:?}"))),
        };
        let size_ok = if bits == 0 {
            !bits_needed && !sizes.is_empty()
        } else {
            sizes.contains(&bits)
        };
        if !size_ok {
            return Err(unsupported(format_args!(
                "{bits}-bit keys of type {key_type:?} on this TPM"
            )));
        }
        let alg = attributes.policy.permitted_algorithms;
        let is_rsa = matches!(key_type, Type::RsaKeyPair | Type::RsaPublicKey);
        let supported = match alg {
            Algorithm::None => !alg_needed,
            Algorithm::AsymmetricSignature(sign) => match sign {
                AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => {
                    is_rsa && self.rsassa && self.sign_hash(hash_alg)
                }
                AsymmetricSignature::RsaPss { hash_alg } => {
                    is_rsa && self.rsapss && self.sign_hash(hash_alg)
                }
                AsymmetricSignature::Ecdsa { hash_alg } => {
                    !is_rsa && self.ecdsa && self.sign_hash(hash_alg)
                }
                _ => false,
            },
            Algorithm::AsymmetricEncryption(encrypt) => match encrypt {
                AsymmetricEncryption::RsaPkcs1v15Crypt => is_rsa && self.rsaes,
                AsymmetricEncryption::RsaOaep { hash_alg } => {
                    is_rsa && self.oaep && self.hashes.contains(&hash_alg)
                }
            },
            _ => false,
        };
        if supported {
            Ok(())
        } else {
            Err(unsupported(format_args!(
                "{alg:?} with keys of type {key_type:?} on this TPM"
            )))
        }
    }
}

/// The checks of Parsec 1.5's TPM provider of its own (its
/// `capability_discovery.rs`), none of which asks the TPM; the common
/// checks (a Use needs an algorithm and a sign, verify, encrypt or decrypt
/// usage flag; Generate and Import of a policy naming an algorithm are
/// checked for Use too; never Derive) are `psec_provider::can_do_crypto`'s.
mod parsec {
    use super::{Result, tpm_hash, unsupported};
    use psec_interface::psa_crypto::types::algorithm::{
        Algorithm, AsymmetricEncryption, AsymmetricSignature, SignHash,
    };
    use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type};

    /// The RSA sizes Parsec's TPM provider knows (`RsaKeyBits`).
    const RSA_BITS: [usize; 4] = [1024, 2048, 3072, 4096];

    /// The SECP R1 curve sizes Parsec's TPM provider knows.
    const ECC_BITS: [usize; 5] = [192, 224, 256, 384, 521];

    /// For every check: an RSA key (pair or public) of 1024, 2048, 3072 or
    /// 4096 bits, or a SECP R1 key (pair or public) of 192, 224, 256, 384
    /// or 521 bits. A size of 0 is refused, for Import too. Answers
    /// whether the key is an RSA one.
    fn key(attributes: &Attributes) -> Result<bool> {
        let key_type = attributes.key_type;
        let bits = attributes.bits;
        let (is_rsa, sizes) = match key_type {
            Type::RsaKeyPair | Type::RsaPublicKey => (true, &RSA_BITS[..]),
            Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            }
            | Type::EccPublicKey {
                curve_family: EccFamily::SecpR1,
            } => (false, &ECC_BITS[..]),
            _ => return Err(unsupported(format_args!("keys of type {key_type:?}"))),
        };
        if sizes.contains(&bits) {
            Ok(is_rsa)
        } else {
            Err(unsupported(format_args!(
                "{bits}-bit keys of type {key_type:?} (the size must be given)"
            )))
        }
    }

    /// Generate: a key pair.
    pub(super) fn generate_check(attributes: &Attributes) -> Result<()> {
        key(attributes)?;
        if attributes.key_type.is_public_key() {
            return Err(unsupported("generating a lone public key"));
        }
        Ok(())
    }

    /// Import: a public key.
    pub(super) fn import_check(attributes: &Attributes) -> Result<()> {
        key(attributes)?;
        if !attributes.key_type.is_public_key() {
            return Err(unsupported("importing private keys"));
        }
        Ok(())
    }

    /// Use: an algorithm it can give the TPM: RSA PKCS#1 v1.5 or PSS
    /// signature, or ECDSA, each with a specific hash (never a wildcard);
    /// RSA PKCS#1 v1.5 or OAEP encryption; each hash one with a TPM name.
    pub(super) fn use_check(attributes: &Attributes) -> Result<()> {
        let is_rsa = key(attributes)?;
        let alg = attributes.policy.permitted_algorithms;
        let named = |hash: SignHash| match hash {
            SignHash::Specific(hash) => tpm_hash(hash).is_some(),
            SignHash::Any => false,
        };
        let given = match alg {
            Algorithm::AsymmetricSignature(
                AsymmetricSignature::RsaPkcs1v15Sign { hash_alg }
                | AsymmetricSignature::RsaPss { hash_alg },
            ) => is_rsa && named(hash_alg),
            Algorithm::AsymmetricSignature(AsymmetricSignature::Ecdsa { hash_alg }) => {
                !is_rsa && named(hash_alg)
            }
            Algorithm::AsymmetricEncryption(AsymmetricEncryption::RsaPkcs1v15Crypt) => is_rsa,
            Algorithm::AsymmetricEncryption(AsymmetricEncryption::RsaOaep { hash_alg }) => {
                is_rsa && tpm_hash(hash_alg).is_some()
            }
            _ => false,
        };
        if given {
            Ok(())
        } else {
            Err(unsupported(format_args!(
                "{alg:?} with keys of type {:?} (a wildcard hash included)",
                attributes.key_type
            )))
        }
    }
}

/// Success only where both Parsec's TPM provider and this TPM say so (see
/// the module's documentation); `psec_provider::can_do_crypto` puts the
/// checks every provider shares around these.
impl CanDoCrypto for TpmProvider {
    fn generate_check(&self, attributes: &Attributes) -> Result<()> {
        parsec::generate_check(attributes)?;
        self.support().check(CheckType::Generate, attributes)
    }

    fn import_check(&self, attributes: &Attributes) -> Result<()> {
        parsec::import_check(attributes)?;
        self.support().check(CheckType::Import, attributes)
    }

    fn use_check(&self, attributes: &Attributes) -> Result<()> {
        parsec::use_check(attributes)?;
        self.support().check(CheckType::Use, attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::ResponseStatus;
    use psec_interface::operations::can_do_crypto;
    use psec_interface::psa_crypto::types::algorithm::Cipher;
    use psec_interface::psa_crypto::types::key::UsageFlags;

    fn can_do(setup: &Setup, check_type: CheckType, attributes: Attributes) -> Result<()> {
        psec_provider::can_do_crypto(
            &setup.provider,
            can_do_crypto::Operation {
                check_type,
                attributes,
            },
        )
        .map(|_| ())
    }

    /// Attributes of `key_type` and `bits` for `alg`, with the usage flags
    /// `flags` sets.
    fn key(
        key_type: Type,
        bits: usize,
        alg: impl Into<Algorithm>,
        flags: impl FnOnce(&mut UsageFlags),
    ) -> Attributes {
        attributes(key_type, bits, alg.into(), flags)
    }

    const P256_PAIR: Type = SECP_R1;
    const P256_PUBLIC: Type = Type::EccPublicKey {
        curve_family: EccFamily::SecpR1,
    };

    fn sign(flags: &mut UsageFlags) {
        flags.set_sign_hash();
    }

    fn pkcs1(hash_alg: SignHash) -> AsymmetricSignature {
        AsymmetricSignature::RsaPkcs1v15Sign { hash_alg }
    }

    const OAEP_SHA256: AsymmetricEncryption = AsymmetricEncryption::RsaOaep {
        hash_alg: Hash::Sha256,
    };

    /// The (check, attributes) pairs on which psec's TPM CanDoCrypto
    /// answered Success where Parsec 1.5's TPM provider answers
    /// NotSupported (its `capability_discovery.rs` and the common checks
    /// of its `crypto_capability.rs`), with a few on which both always
    /// agreed, and Parsec's answer for each.
    #[test]
    fn can_do_crypto_answers_as_parsec_where_they_differed() {
        let setup = setup();
        let any = SignHash::Any;
        let sha256 = SignHash::Specific(Hash::Sha256);
        let ecdsa_any = AsymmetricSignature::Ecdsa { hash_alg: any };
        let pss_any = AsymmetricSignature::RsaPss { hash_alg: any };
        let no_flags = |_: &mut UsageFlags| {};
        let no = Err(ResponseStatus::PsaErrorNotSupported);
        let yes = Ok(());
        let table = [
            // Use needs a usage flag of a crypto operation.
            (
                "use, no usage flag",
                CheckType::Use,
                key(P256_PAIR, 256, ECDSA_SHA256, no_flags),
                no,
            ),
            (
                "use, only export, copy, cache and derive",
                CheckType::Use,
                key(P256_PAIR, 256, ECDSA_SHA256, |flags| {
                    flags.set_export().set_copy().set_cache().set_derive();
                }),
                no,
            ),
            // So do Generate and Import when the policy names an algorithm.
            (
                "generate, no usage flag",
                CheckType::Generate,
                key(P256_PAIR, 256, ECDSA_SHA256, no_flags),
                no,
            ),
            (
                "import, no usage flag",
                CheckType::Import,
                key(Type::RsaPublicKey, 2048, pkcs1(sha256), no_flags),
                no,
            ),
            // A policy's hash must be a specific one.
            (
                "generate, ECDSA any hash",
                CheckType::Generate,
                key(P256_PAIR, 256, ecdsa_any, sign),
                no,
            ),
            (
                "use, PKCS#1 v1.5 any hash",
                CheckType::Use,
                key(Type::RsaKeyPair, 2048, pkcs1(any), sign),
                no,
            ),
            (
                "generate, PSS any hash",
                CheckType::Generate,
                key(Type::RsaKeyPair, 2048, pss_any, sign),
                no,
            ),
            // The size must be given, even to import.
            (
                "import, 0 bits",
                CheckType::Import,
                key(P256_PUBLIC, 0, ECDSA_SHA256, sign),
                no,
            ),
            (
                "import, 0 bits, no algorithm",
                CheckType::Import,
                key(Type::RsaPublicKey, 0, Algorithm::None, no_flags),
                no,
            ),
            (
                "use, 0 bits",
                CheckType::Use,
                key(Type::RsaKeyPair, 0, OAEP_SHA256, |flags| {
                    flags.set_encrypt();
                }),
                no,
            ),
            // Where both always said Success.
            (
                "use, sign_hash",
                CheckType::Use,
                key(P256_PAIR, 256, ECDSA_SHA256, sign),
                yes,
            ),
            (
                "use, verify_message only",
                CheckType::Use,
                key(P256_PAIR, 256, ECDSA_SHA256, |flags| {
                    flags.set_verify_message();
                }),
                yes,
            ),
            (
                "use, encrypt only (no check that the flag fits the algorithm)",
                CheckType::Use,
                key(P256_PUBLIC, 256, ECDSA_SHA256, |flags| {
                    flags.set_encrypt();
                }),
                yes,
            ),
            (
                "generate, no algorithm, no flag",
                CheckType::Generate,
                key(P256_PAIR, 256, Algorithm::None, no_flags),
                yes,
            ),
            (
                "import, no algorithm, no flag",
                CheckType::Import,
                key(P256_PUBLIC, 256, Algorithm::None, no_flags),
                yes,
            ),
            (
                "generate, OAEP SHA-256",
                CheckType::Generate,
                key(Type::RsaKeyPair, 2048, OAEP_SHA256, |flags| {
                    flags.set_decrypt();
                }),
                yes,
            ),
        ];
        let differences: Vec<String> = table
            .into_iter()
            .filter_map(|(case, check, attributes, parsec)| {
                let psec = can_do(&setup, check, attributes).map_err(|error| error.status());
                (psec != parsec).then(|| format!("{case}: psec {psec:?}, Parsec {parsec:?}"))
            })
            .collect();
        assert!(differences.is_empty(), "{differences:#?}");
    }

    /// Where Parsec answers Success without asking the TPM (its source
    /// says the TPM's capabilities are still to be checked), psec answers
    /// NotSupported if this TPM, or psec, can not do it.
    #[test]
    fn can_do_crypto_says_not_supported_for_what_this_tpm_lacks() {
        let setup = setup();
        let support = setup.provider.support().clone();
        let sha3 = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha3_256.into(),
        };
        let oaep_sha3 = AsymmetricEncryption::RsaOaep {
            hash_alg: Hash::Sha3_256,
        };
        let decrypt = |flags: &mut UsageFlags| {
            flags.set_decrypt();
        };
        let cases = [
            (
                key(P256_PAIR, 256, sha3, sign),
                support.hashes.contains(&Hash::Sha3_256),
            ),
            (
                key(Type::RsaKeyPair, 2048, oaep_sha3, decrypt),
                support.hashes.contains(&Hash::Sha3_256),
            ),
            (
                key(Type::RsaKeyPair, 4096, OAEP_SHA256, decrypt),
                support.rsa_bits.contains(&4096),
            ),
            // psec makes keys on P-256, P-384 and P-521 only.
            (key(P256_PAIR, 192, ECDSA_SHA256, sign), false),
            (key(P256_PAIR, 224, ECDSA_SHA256, sign), false),
        ];
        for (attributes, tpm_has_it) in cases {
            for check in [CheckType::Generate, CheckType::Use] {
                let answer = can_do(&setup, check, attributes);
                assert_eq!(
                    answer.is_ok(),
                    tpm_has_it,
                    "{check:?} {attributes:?}: {answer:?}"
                );
                if let Err(error) = answer {
                    assert_eq!(error.status(), ResponseStatus::PsaErrorNotSupported);
                }
            }
        }
    }

    #[test]
    fn the_swtpm_reports_what_a_pc_client_tpm_has() {
        let setup = setup();
        let support = setup.provider.support();
        for hash in [Hash::Sha1, Hash::Sha256, Hash::Sha384] {
            assert!(support.hashes.contains(&hash), "{support:?}");
        }
        assert!(support.ecc_bits.contains(&256), "{support:?}");
        assert!(support.rsa_bits.contains(&2048), "{support:?}");
        assert!(
            support.rsassa && support.rsapss && support.ecdsa,
            "{support:?}"
        );
        assert!(support.rsaes && support.oaep, "{support:?}");
    }

    #[test]
    fn can_do_crypto_answers_from_what_the_tpm_reports() {
        let setup = setup();
        let pss = AsymmetricSignature::RsaPss {
            hash_alg: Hash::Sha256.into(),
        };
        let mut public_rsa = rsa_signing_key(2048, pss);
        public_rsa.key_type = Type::RsaPublicKey;
        let p256 = key(P256_PAIR, 256, ECDSA_SHA256, sign);
        let yes = [
            (CheckType::Generate, p256),
            (CheckType::Use, p256),
            (CheckType::Generate, rsa_signing_key(2048, pss)),
            (CheckType::Import, public_rsa),
            (
                CheckType::Use,
                rsa_crypt_key(2048, AsymmetricEncryption::RsaPkcs1v15Crypt),
            ),
        ];
        for (check, attributes) in yes {
            can_do(&setup, check, attributes).unwrap();
        }
        let deterministic = AsymmetricSignature::DeterministicEcdsa {
            hash_alg: Hash::Sha256.into(),
        };
        let ecdsa = |bits| key(P256_PAIR, bits, ECDSA_SHA256, sign);
        let no = [
            (CheckType::Generate, public_rsa),
            (CheckType::Import, p256),
            (CheckType::Derive, p256),
            (CheckType::Generate, ecdsa(0)),
            (CheckType::Generate, ecdsa(224)),
            (CheckType::Generate, rsa_signing_key(1000, pss)),
            (CheckType::Use, key(SECP_R1, 256, deterministic, sign)),
            (CheckType::Use, key(SECP_R1, 256, pss, sign)),
            (CheckType::Use, key(Type::Aes, 128, Cipher::Ctr, sign)),
            (
                CheckType::Use,
                key(Type::RsaKeyPair, 2048, Algorithm::None, sign),
            ),
        ];
        for (check, attributes) in no {
            let error = can_do(&setup, check, attributes).unwrap_err();
            assert!(
                matches!(error, ProviderError::NotSupported(_)),
                "{check:?} {attributes:?}: {error}"
            );
        }
    }
}
