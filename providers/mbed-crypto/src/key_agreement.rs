//! Raw key agreement: ECDH on every supported curve, X25519 and X448
//! included. The peer key is in the format `export_public_key` gives.

use crate::MbedCryptoProvider;
use crate::backend::SecretBuffer;
use psa_crypto::operations::key_agreement;
use psa_crypto::types::algorithm::KeyAgreement as Agreement;
use psec_interface::operations::psa_raw_key_agreement;
use psec_provider::policy::Usage;
use psec_provider::{Application, KeyAgreement, Result};

impl KeyAgreement for MbedCryptoProvider {
    fn raw_key_agreement(
        &self,
        app: &Application,
        op: psa_raw_key_agreement::Operation,
    ) -> Result<psa_raw_key_agreement::Result> {
        let alg = Agreement::Raw(op.alg).into();
        self.use_key(app, &op.private_key_name, Usage::Derive, Some(alg), |key| {
            let size = key.attributes.raw_key_agreement_output_size(op.alg);
            let mut secret = SecretBuffer::new(size.map_err(key.failed("sizing the secret"))?);
            let len =
                key_agreement::raw_key_agreement(op.alg, key.id, &op.peer_key, secret.as_mut())
                    .map_err(key.failed("agreeing a secret"))?;
            Ok(psa_raw_key_agreement::Result {
                shared_secret: secret.into_secret(len),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psa_crypto::types::algorithm::RawKeyAgreement;
    use psa_crypto::types::key::EccFamily;
    use psec_interface::operations::psa_export_public_key;
    use psec_interface::{ResponseStatus, SecretBytes};
    use psec_provider::KeyManagement;
    use psec_provider::ProviderError;

    fn agree(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        peer_key: &[u8],
    ) -> Result<SecretBytes> {
        let op = psa_raw_key_agreement::Operation {
            alg: RawKeyAgreement::Ecdh,
            private_key_name: name.into(),
            peer_key: peer_key.to_vec(),
        };
        provider
            .raw_key_agreement(owner, op)
            .map(|result| result.shared_secret)
    }

    fn public(provider: &MbedCryptoProvider, owner: &Application, name: &str) -> Vec<u8> {
        let op = psa_export_public_key::Operation {
            key_name: name.into(),
        };
        provider.export_public_key(owner, op).unwrap().data
    }

    #[test]
    fn both_sides_agree_on_the_same_secret_on_every_curve() {
        let (_, provider) = setup();
        let owner = app("alice");
        let curves = [
            (EccFamily::SecpR1, 256, 32),
            (EccFamily::SecpR1, 384, 48),
            (EccFamily::SecpR1, 521, 66),
            (EccFamily::BrainpoolPR1, 256, 32),
            (EccFamily::Montgomery, 255, 32),
            (EccFamily::Montgomery, 448, 56),
        ];
        for (family, bits, len) in curves {
            let (a, b) = (
                format!("a-{family:?}-{bits}"),
                format!("b-{family:?}-{bits}"),
            );
            generate(&provider, &owner, &a, ecdh_key(family, bits)).unwrap();
            generate(&provider, &owner, &b, ecdh_key(family, bits)).unwrap();
            let ab = agree(&provider, &owner, &a, &public(&provider, &owner, &b)).unwrap();
            let ba = agree(&provider, &owner, &b, &public(&provider, &owner, &a)).unwrap();
            assert_eq!(ab.len(), len, "{family:?} {bits}");
            assert_eq!(ab, ba, "{family:?} {bits}");
        }
    }

    #[test]
    fn a_peer_key_off_the_curve_is_an_invalid_argument() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", ecdh_key(EccFamily::SecpR1, 256)).unwrap();
        let mut peer = public(&provider, &owner, "k");
        peer[40] ^= 1;
        let error = agree(&provider, &owner, "k", &peer).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    #[test]
    fn a_key_without_the_derive_flag_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let mut attributes = ecdh_key(EccFamily::SecpR1, 256);
        attributes.policy.usage_flags = Default::default();
        generate(&provider, &owner, "k", attributes).unwrap();
        let peer = public(&provider, &owner, "k");
        let error = agree(&provider, &owner, "k", &peer).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn a_signing_key_is_not_permitted_to_agree() {
        let (_, provider) = setup();
        let owner = app("alice");
        let mut attributes = ecc_p256_signing_key();
        attributes.policy.usage_flags.set_derive();
        generate(&provider, &owner, "k", attributes).unwrap();
        let peer = public(&provider, &owner, "k");
        let error = agree(&provider, &owner, "k", &peer).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(
            &provider,
            &app("alice"),
            "k",
            ecdh_key(EccFamily::SecpR1, 256),
        )
        .unwrap();
        let peer = public(&provider, &app("alice"), "k");
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let error = agree(&provider, &owner, name, &peer).unwrap_err();
            assert!(
                matches!(error, ProviderError::KeyDoesNotExist(_)),
                "{error}"
            );
        }
    }
}
