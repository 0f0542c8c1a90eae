//! Authenticated encryption: AES-GCM, AES-CCM and ChaCha20-Poly1305. The
//! client chooses the nonce; the ciphertext carries the tag at its end.

use crate::MbedCryptoProvider;
use crate::backend::SecretBuffer;
use psa_crypto::operations::aead;
use psec_interface::operations::{psa_aead_decrypt, psa_aead_encrypt};
use psec_provider::policy::Usage;
use psec_provider::{Aead, Application, Result};

impl Aead for MbedCryptoProvider {
    fn aead_encrypt(
        &self,
        app: &Application,
        op: psa_aead_encrypt::Operation,
    ) -> Result<psa_aead_encrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Encrypt,
            Some(op.alg.into()),
            |key| {
                let size = key
                    .attributes
                    .aead_encrypt_output_size(op.alg, op.plaintext.len());
                let mut ciphertext = vec![0; size.map_err(key.failed("sizing the ciphertext"))?];
                let (nonce, data) = (&op.nonce, &op.additional_data);
                let len =
                    aead::encrypt(key.id, op.alg, nonce, data, &op.plaintext, &mut ciphertext)
                        .map_err(key.failed("encrypting"))?;
                ciphertext.truncate(len);
                Ok(psa_aead_encrypt::Result { ciphertext })
            },
        )
    }

    fn aead_decrypt(
        &self,
        app: &Application,
        op: psa_aead_decrypt::Operation,
    ) -> Result<psa_aead_decrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Decrypt,
            Some(op.alg.into()),
            |key| {
                let size = key
                    .attributes
                    .aead_decrypt_output_size(op.alg, op.ciphertext.len());
                let mut plaintext =
                    SecretBuffer::new(size.map_err(key.failed("sizing the plaintext"))?);
                let (nonce, data) = (&op.nonce, &op.additional_data);
                let len = aead::decrypt(
                    key.id,
                    op.alg,
                    nonce,
                    data,
                    &op.ciphertext,
                    plaintext.as_mut(),
                )
                .map_err(key.failed("decrypting"))?;
                Ok(psa_aead_decrypt::Result {
                    plaintext: plaintext.into_secret(len),
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psa_crypto::types::algorithm::{Aead as Alg, AeadWithDefaultLengthTag, Algorithm};
    use psa_crypto::types::key::Type;
    use psec_interface::{ResponseStatus, SecretBytes};
    use psec_provider::ProviderError;

    fn encrypt(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        alg: Alg,
        nonce: &[u8],
        data: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let op = psa_aead_encrypt::Operation {
            key_name: name.into(),
            alg,
            nonce: nonce.to_vec(),
            additional_data: data.to_vec(),
            plaintext: plaintext.into(),
        };
        provider
            .aead_encrypt(owner, op)
            .map(|result| result.ciphertext)
    }

    fn decrypt(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        alg: Alg,
        nonce: &[u8],
        data: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes> {
        let op = psa_aead_decrypt::Operation {
            key_name: name.into(),
            alg,
            nonce: nonce.to_vec(),
            additional_data: data.to_vec(),
            ciphertext: ciphertext.to_vec(),
        };
        provider
            .aead_decrypt(owner, op)
            .map(|result| result.plaintext)
    }

    fn full(alg: AeadWithDefaultLengthTag) -> Alg {
        Alg::AeadWithDefaultLengthTag(alg)
    }

    const GCM: Alg = Alg::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);

    fn aead_key(key_type: Type, bits: usize, alg: Alg) -> psa_crypto::types::key::Attributes {
        attributes(key_type, bits, alg.into(), |flags| {
            flags.set_encrypt().set_decrypt();
        })
    }

    #[test]
    fn gcm_ccm_and_chacha20_poly1305_round_trip_with_their_tags() {
        let (_, provider) = setup();
        let owner = app("alice");
        let short_ccm = Alg::AeadWithShortenedTag {
            aead_alg: AeadWithDefaultLengthTag::Ccm,
            tag_length: 8,
        };
        let cases = [
            (aead_key(Type::Aes, 128, GCM), 12, 16),
            (
                aead_key(Type::Aes, 256, full(AeadWithDefaultLengthTag::Ccm)),
                13,
                16,
            ),
            (aead_key(Type::Aes, 192, short_ccm), 13, 8),
            (
                aead_key(
                    Type::Chacha20,
                    256,
                    full(AeadWithDefaultLengthTag::Chacha20Poly1305),
                ),
                12,
                16,
            ),
        ];
        for (index, (attributes, nonce_len, tag_len)) in cases.into_iter().enumerate() {
            let name = format!("key-{index}");
            let Algorithm::Aead(alg) = attributes.policy.permitted_algorithms else {
                unreachable!("an AEAD key");
            };
            generate(&provider, &owner, &name, attributes).unwrap();
            let nonce = vec![9; nonce_len];
            let ciphertext =
                encrypt(&provider, &owner, &name, alg, &nonce, b"header", b"secret").unwrap();
            assert_eq!(ciphertext.len(), 6 + tag_len, "{alg:?}");
            let plaintext = decrypt(
                &provider,
                &owner,
                &name,
                alg,
                &nonce,
                b"header",
                &ciphertext,
            )
            .unwrap();
            assert_eq!(&*plaintext, b"secret", "{alg:?}");
        }
    }

    #[test]
    fn gcm_matches_a_known_answer() {
        // NIST GCM test case 2: zero key, zero 96-bit IV, 16 zero bytes.
        let (_, provider) = setup();
        let owner = app("alice");
        import(
            &provider,
            &owner,
            "k",
            aead_key(Type::Aes, 128, GCM),
            &[0; 16],
        )
        .unwrap();
        let ciphertext = encrypt(&provider, &owner, "k", GCM, &[0; 12], b"", &[0; 16]).unwrap();
        assert_eq!(ciphertext[..4], [0x03, 0x88, 0xda, 0xce]);
        assert_eq!(ciphertext[16..20], [0xab, 0x6e, 0x47, 0xd4]);
    }

    #[test]
    fn a_tampered_tag_ciphertext_or_header_is_an_invalid_signature() {
        let (_, provider) = setup();
        let owner = app("alice");
        let chacha = full(AeadWithDefaultLengthTag::Chacha20Poly1305);
        generate(&provider, &owner, "gcm", aead_key(Type::Aes, 128, GCM)).unwrap();
        generate(
            &provider,
            &owner,
            "chacha",
            aead_key(Type::Chacha20, 256, chacha),
        )
        .unwrap();
        for (name, alg) in [("gcm", GCM), ("chacha", chacha)] {
            let ciphertext =
                encrypt(&provider, &owner, name, alg, &[1; 12], b"h", b"secret").unwrap();
            let last = ciphertext.len() - 1;
            for (flip, data) in [(last, &b"h"[..]), (0, b"h"), (last + 1, b"H")] {
                let mut tampered = ciphertext.clone();
                if let Some(byte) = tampered.get_mut(flip) {
                    *byte ^= 1;
                }
                let error =
                    decrypt(&provider, &owner, name, alg, &[1; 12], data, &tampered).unwrap_err();
                assert_eq!(
                    error.status(),
                    ResponseStatus::PsaErrorInvalidSignature,
                    "{name}: {error}"
                );
            }
        }
    }

    #[test]
    fn a_bad_nonce_length_is_an_invalid_argument() {
        let (_, provider) = setup();
        let owner = app("alice");
        let chacha = full(AeadWithDefaultLengthTag::Chacha20Poly1305);
        generate(
            &provider,
            &owner,
            "k",
            aead_key(Type::Chacha20, 256, chacha),
        )
        .unwrap();
        let error = encrypt(&provider, &owner, "k", chacha, &[1; 13], b"", b"m").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    #[test]
    fn decrypting_without_the_flag_or_with_another_algorithm_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let encrypt_only = attributes(Type::Aes, 128, GCM.into(), |flags| {
            flags.set_encrypt();
        });
        generate(&provider, &owner, "k", encrypt_only).unwrap();
        let ciphertext = encrypt(&provider, &owner, "k", GCM, &[1; 12], b"", b"m").unwrap();
        let error = decrypt(&provider, &owner, "k", GCM, &[1; 12], b"", &ciphertext).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        let ccm = full(AeadWithDefaultLengthTag::Ccm);
        let error = encrypt(&provider, &owner, "k", ccm, &[1; 12], b"", b"m").unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(&provider, &app("alice"), "k", aead_key(Type::Aes, 128, GCM)).unwrap();
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                encrypt(&provider, &owner, name, GCM, &[1; 12], b"", b"m").unwrap_err(),
                decrypt(&provider, &owner, name, GCM, &[1; 12], b"", &[0; 17]).unwrap_err(),
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
