//! Asymmetric encryption: RSA PKCS#1 v1.5 and OAEP (the salt is OAEP's
//! label).

use crate::MbedCryptoProvider;
use crate::backend::SecretBuffer;
use psa_crypto::operations::asym_encryption;
use psec_interface::operations::{psa_asymmetric_decrypt, psa_asymmetric_encrypt};
use psec_provider::policy::Usage;
use psec_provider::{Application, AsymmetricEncryption, Result};

impl AsymmetricEncryption for MbedCryptoProvider {
    fn asymmetric_encrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_encrypt::Operation,
    ) -> Result<psa_asymmetric_encrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Encrypt,
            Some(op.alg.into()),
            |key| {
                let size = key.attributes.asymmetric_encrypt_output_size(op.alg);
                let mut ciphertext = vec![0; size.map_err(key.failed("sizing the ciphertext"))?];
                let salt = op.salt.as_deref();
                let len =
                    asym_encryption::encrypt(key.id, op.alg, &op.plaintext, salt, &mut ciphertext)
                        .map_err(key.failed("encrypting"))?;
                ciphertext.truncate(len);
                Ok(psa_asymmetric_encrypt::Result { ciphertext })
            },
        )
    }

    fn asymmetric_decrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_decrypt::Operation,
    ) -> Result<psa_asymmetric_decrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Decrypt,
            Some(op.alg.into()),
            |key| {
                let size = key.attributes.asymmetric_decrypt_output_size(op.alg);
                let mut plaintext =
                    SecretBuffer::new(size.map_err(key.failed("sizing the plaintext"))?);
                let salt = op.salt.as_deref();
                let len = asym_encryption::decrypt(
                    key.id,
                    op.alg,
                    &op.ciphertext,
                    salt,
                    plaintext.as_mut(),
                )
                .map_err(key.failed("decrypting"))?;
                Ok(psa_asymmetric_decrypt::Result {
                    plaintext: plaintext.into_secret(len),
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;
    use psa_crypto::types::algorithm::{AsymmetricEncryption as Alg, Hash};
    use psec_interface::ResponseStatus;
    use psec_provider::ProviderError;
    use psec_provider::testing::{asymmetric_decrypt as decrypt, asymmetric_encrypt as encrypt};

    fn crypt_key(alg: Alg) -> psa_crypto::types::key::Attributes {
        rsa_key(1024, alg.into(), |flags| {
            flags.set_encrypt().set_decrypt();
        })
    }

    const OAEP: Alg = Alg::RsaOaep {
        hash_alg: Hash::Sha256,
    };

    #[test]
    fn pkcs1v15_and_oaep_round_trip() {
        let (_, provider) = setup();
        let owner = app("alice");
        for (name, alg, salt) in [
            ("pkcs1", Alg::RsaPkcs1v15Crypt, None),
            ("oaep", OAEP, None),
            ("oaep-label", OAEP, Some(&b"label"[..])),
        ] {
            generate(&provider, &owner, name, crypt_key(alg)).unwrap();
            let ciphertext = encrypt(&provider, &owner, name, alg, b"secret", salt).unwrap();
            assert_eq!(ciphertext.len(), 128);
            let plaintext = decrypt(&provider, &owner, name, alg, &ciphertext, salt).unwrap();
            assert_eq!(&*plaintext, b"secret");
        }
    }

    #[test]
    fn a_wrong_oaep_label_or_tampered_ciphertext_fails_to_decrypt() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", crypt_key(OAEP)).unwrap();
        let mut ciphertext = encrypt(&provider, &owner, "k", OAEP, b"secret", Some(b"a")).unwrap();
        let error = decrypt(&provider, &owner, "k", OAEP, &ciphertext, Some(b"b")).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidPadding,
            "{error}"
        );
        ciphertext[5] ^= 1;
        let error = decrypt(&provider, &owner, "k", OAEP, &ciphertext, Some(b"a")).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidPadding,
            "{error}"
        );
    }

    #[test]
    fn decrypting_without_the_decrypt_flag_or_with_another_algorithm_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let encrypt_only = rsa_key(1024, OAEP.into(), |flags| {
            flags.set_encrypt();
        });
        generate(&provider, &owner, "k", encrypt_only).unwrap();
        let ciphertext = encrypt(&provider, &owner, "k", OAEP, b"secret", None).unwrap();
        let error = decrypt(&provider, &owner, "k", OAEP, &ciphertext, None).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        let error = encrypt(&provider, &owner, "k", Alg::RsaPkcs1v15Crypt, b"m", None).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(&provider, &app("alice"), "k", crypt_key(OAEP)).unwrap();
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                encrypt(&provider, &owner, name, OAEP, b"m", None).unwrap_err(),
                decrypt(&provider, &owner, name, OAEP, &[0; 128], None).unwrap_err(),
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
