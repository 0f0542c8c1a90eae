//! What the TPM supports, as it reports it at start-up: hashes, signature
//! and encryption schemes, ECC curves and RSA key sizes. CanDoCrypto
//! answers from this, and keys are only created when it allows them.

#![allow(
    deprecated,
    reason = "SHA-1 is supported where the TPM has it; policy is the service's"
)]

use crate::TpmProvider;
use crate::tpm::{Tpm, tpm_error};
use psec_interface::operations::can_do_crypto::{self, CheckType};
use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, AsymmetricEncryption, AsymmetricSignature, Hash, SignHash,
};
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type};
use psec_provider::{CanDoCrypto, ProviderError};
use tss_esapi::constants::{AlgorithmIdentifier, CapabilityType, EccCurveIdentifier};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::structures::{
    CapabilityData, PublicParameters, PublicRsaParametersBuilder, RsaExponent, RsaScheme,
};

type Outcome<T> = Result<T, ProviderError>;

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
    pub(crate) fn query(tpm: &mut Tpm) -> Outcome<Self> {
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
    pub(crate) fn hash(&self, hash: Hash) -> Outcome<HashingAlgorithm> {
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

    /// Answers CanDoCrypto: `Ok` if the TPM can do `check` for a key with
    /// `attributes`, NotSupported otherwise.
    pub(crate) fn check(&self, check: CheckType, attributes: &Attributes) -> Outcome<()> {
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

impl CanDoCrypto for TpmProvider {
    fn can_do_crypto(&self, op: can_do_crypto::Operation) -> Outcome<can_do_crypto::Result> {
        self.support()
            .check(op.check_type, &op.attributes)
            .map(|()| can_do_crypto::Result {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::psa_crypto::types::algorithm::Cipher;

    fn can_do(setup: &Setup, check_type: CheckType, attributes: Attributes) -> Outcome<()> {
        setup
            .provider
            .can_do_crypto(can_do_crypto::Operation {
                check_type,
                attributes,
            })
            .map(|_| ())
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
        let yes = [
            (CheckType::Generate, ecc_key(256)),
            (CheckType::Use, ecc_key(256)),
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
        let no = [
            (CheckType::Generate, public_rsa),
            (CheckType::Import, ecc_key(256)),
            (CheckType::Derive, ecc_key(256)),
            (CheckType::Generate, ecc_key(0)),
            (CheckType::Generate, ecc_key(224)),
            (CheckType::Generate, rsa_signing_key(1000, pss)),
            (
                CheckType::Use,
                attributes(SECP_R1, 256, deterministic.into(), |_| {}),
            ),
            (CheckType::Use, attributes(SECP_R1, 256, pss.into(), |_| {})),
            (
                CheckType::Use,
                attributes(Type::Aes, 128, Cipher::Ctr.into(), |_| {}),
            ),
            (
                CheckType::Use,
                attributes(Type::RsaKeyPair, 2048, Algorithm::None, |_| {}),
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
