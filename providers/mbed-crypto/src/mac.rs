//! Message authentication codes: HMAC (with every supported hash) and
//! AES-CMAC, full length or truncated.

use crate::MbedCryptoProvider;
use psa_crypto::operations::mac;
use psec_interface::operations::{psa_mac_compute, psa_mac_verify};
use psec_provider::policy::Usage;
use psec_provider::{Application, Mac, Result};

impl Mac for MbedCryptoProvider {
    fn mac_compute(
        &self,
        app: &Application,
        op: psa_mac_compute::Operation,
    ) -> Result<psa_mac_compute::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::SignMessage,
            Some(op.alg.into()),
            |key| {
                let size = key.attributes.mac_length(op.alg);
                let mut mac = vec![0; size.map_err(key.failed("sizing the MAC"))?];
                let len = mac::compute_mac(key.id, op.alg, &op.input, &mut mac)
                    .map_err(key.failed("computing a MAC"))?;
                mac.truncate(len);
                Ok(psa_mac_compute::Result { mac })
            },
        )
    }

    fn mac_verify(
        &self,
        app: &Application,
        op: psa_mac_verify::Operation,
    ) -> Result<psa_mac_verify::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::VerifyMessage,
            Some(op.alg.into()),
            |key| {
                mac::verify_mac(key.id, op.alg, &op.input, &op.mac)
                    .map_err(key.failed("verifying a MAC"))?;
                Ok(psa_mac_verify::Result {})
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psa_crypto::types::algorithm::{FullLengthMac, Hash, Mac as Alg};
    use psa_crypto::types::key::{Attributes, Type};
    use psec_interface::ResponseStatus;
    use psec_provider::ProviderError;

    fn compute(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        alg: Alg,
        input: &[u8],
    ) -> Result<Vec<u8>> {
        let op = psa_mac_compute::Operation {
            key_name: name.into(),
            alg,
            input: input.into(),
        };
        provider.mac_compute(owner, op).map(|result| result.mac)
    }

    fn verify(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        alg: Alg,
        input: &[u8],
        mac: &[u8],
    ) -> Result<()> {
        let op = psa_mac_verify::Operation {
            key_name: name.into(),
            alg,
            input: input.into(),
            mac: mac.to_vec(),
        };
        provider.mac_verify(owner, op).map(|_| ())
    }

    const HMAC_SHA256: Alg = Alg::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    });

    fn mac_key(key_type: Type, bits: usize, alg: Alg) -> Attributes {
        attributes(key_type, bits, alg.into(), |flags| {
            flags.set_sign_hash().set_verify_hash();
        })
    }

    #[test]
    fn hmac_and_cmac_compute_macs_that_verify() {
        let (_, provider) = setup();
        let owner = app("alice");
        let truncated = Alg::Truncated {
            mac_alg: FullLengthMac::Hmac {
                hash_alg: Hash::Sha512,
            },
            mac_length: 20,
        };
        let cases = [
            (mac_key(Type::Hmac, 256, HMAC_SHA256), 32),
            (mac_key(Type::Hmac, 128, truncated), 20),
            (
                mac_key(Type::Aes, 128, Alg::FullLength(FullLengthMac::Cmac)),
                16,
            ),
        ];
        for (index, (attributes, len)) in cases.into_iter().enumerate() {
            let name = format!("key-{index}");
            let psa_crypto::types::algorithm::Algorithm::Mac(alg) =
                attributes.policy.permitted_algorithms
            else {
                unreachable!("a MAC key");
            };
            generate(&provider, &owner, &name, attributes).unwrap();
            let mac = compute(&provider, &owner, &name, alg, b"message").unwrap();
            assert_eq!(mac.len(), len, "{alg:?}");
            verify(&provider, &owner, &name, alg, b"message", &mac).unwrap();
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let (_, provider) = setup();
        let owner = app("alice");
        import(
            &provider,
            &owner,
            "k",
            mac_key(Type::Hmac, 0, HMAC_SHA256),
            b"Jefe",
        )
        .unwrap();
        let mac = compute(
            &provider,
            &owner,
            "k",
            HMAC_SHA256,
            b"what do ya want for nothing?",
        )
        .unwrap();
        assert_eq!(mac[..4], [0x5b, 0xdc, 0xc1, 0x46]);
    }

    #[test]
    fn a_wrong_mac_is_an_invalid_signature() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(
            &provider,
            &owner,
            "k",
            mac_key(Type::Hmac, 256, HMAC_SHA256),
        )
        .unwrap();
        let mut mac = compute(&provider, &owner, "k", HMAC_SHA256, b"message").unwrap();
        let error = verify(&provider, &owner, "k", HMAC_SHA256, b"massage", &mac).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
        mac[0] ^= 1;
        let error = verify(&provider, &owner, "k", HMAC_SHA256, b"message", &mac).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidSignature,
            "{error}"
        );
    }

    #[test]
    fn computing_without_the_flag_or_with_another_algorithm_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let verify_only = attributes(Type::Hmac, 256, HMAC_SHA256.into(), |flags| {
            flags.set_verify_hash();
        });
        generate(&provider, &owner, "k", verify_only).unwrap();
        let error = compute(&provider, &owner, "k", HMAC_SHA256, b"m").unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        let sha384 = Alg::FullLength(FullLengthMac::Hmac {
            hash_alg: Hash::Sha384,
        });
        let error = verify(&provider, &owner, "k", sha384, b"m", &[0; 48]).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(
            &provider,
            &app("alice"),
            "k",
            mac_key(Type::Hmac, 256, HMAC_SHA256),
        )
        .unwrap();
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                compute(&provider, &owner, name, HMAC_SHA256, b"m").unwrap_err(),
                verify(&provider, &owner, name, HMAC_SHA256, b"m", &[0; 32]).unwrap_err(),
            ];
            for error in errors {
                assert!(
                    matches!(error, ProviderError::KeyDoesNotExist(_)),
                    "{error}"
                );
            }
        }
    }
}
