//! Unauthenticated ciphers: AES in CTR, CFB, OFB and CBC (with and without
//! PKCS#7 padding), and the ChaCha20 stream cipher.
//!
//! As in Parsec, encryption draws a random IV and returns it in front of
//! the ciphertext, and decryption takes the IV from there. ECB is not
//! offered: psa-crypto 0.13 always sets an IV, which Mbed TLS refuses for a
//! mode that has none.

use crate::MbedCryptoProvider;
use crate::backend::{SecretBuffer, psa_error};
use crate::policy::Usage;
use psa_crypto::operations::{cipher, other};
use psa_crypto::types::algorithm::Cipher as Alg;
use psa_crypto::types::key::Type;
use psec_interface::operations::{psa_cipher_decrypt, psa_cipher_encrypt};
use psec_provider::{Application, Cipher, ProviderError};

type Outcome<T> = Result<T, ProviderError>;

/// The most a cipher's output outgrows its input: one block of padding.
const BLOCK: usize = 16;

/// The IV length of `alg` with keys of `key_type`.
fn iv_length(key_type: Type, alg: Alg) -> Outcome<usize> {
    match (key_type, alg) {
        (Type::Aes, Alg::Ctr | Alg::Cfb | Alg::Ofb | Alg::CbcNoPadding | Alg::CbcPkcs7) => Ok(16),
        (Type::Chacha20, Alg::StreamCipher) => Ok(12),
        _ => Err(ProviderError::NotSupported(format!(
            "the Mbed Crypto provider does not support {alg:?} with keys of type {key_type:?}"
        ))),
    }
}

impl Cipher for MbedCryptoProvider {
    fn cipher_encrypt(
        &self,
        app: &Application,
        op: psa_cipher_encrypt::Operation,
    ) -> Outcome<psa_cipher_encrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Encrypt,
            Some(op.alg.into()),
            |key| {
                let mut iv = vec![0; iv_length(key.attributes.key_type, op.alg)?];
                other::generate_random(&mut iv)
                    .map_err(|error| psa_error(error, "drawing an IV"))?;
                let mut body = vec![0; op.plaintext.len() + BLOCK];
                let len = cipher::encrypt(key.id, op.alg, &op.plaintext, &iv, &mut body)
                    .map_err(key.failed("encrypting"))?;
                body.truncate(len);
                let mut ciphertext = iv;
                ciphertext.append(&mut body);
                Ok(psa_cipher_encrypt::Result { ciphertext })
            },
        )
    }

    fn cipher_decrypt(
        &self,
        app: &Application,
        op: psa_cipher_decrypt::Operation,
    ) -> Outcome<psa_cipher_decrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Decrypt,
            Some(op.alg.into()),
            |key| {
                let iv_len = iv_length(key.attributes.key_type, op.alg)?;
                let (iv, body) = op.ciphertext.split_at_checked(iv_len).ok_or_else(|| {
                    ProviderError::InvalidArgument(format!(
                        "the ciphertext is shorter than its {iv_len}-byte IV"
                    ))
                })?;
                let mut plaintext = SecretBuffer::new(body.len() + BLOCK);
                let len = cipher::decrypt(key.id, op.alg, body, iv, plaintext.as_mut())
                    .map_err(key.failed("decrypting"))?;
                Ok(psa_cipher_decrypt::Result {
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
    use psa_crypto::types::key::Attributes;
    use psec_interface::{ResponseStatus, SecretBytes};

    fn encrypt(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        alg: Alg,
        plaintext: &[u8],
    ) -> Outcome<Vec<u8>> {
        let op = psa_cipher_encrypt::Operation {
            key_name: name.into(),
            alg,
            plaintext: plaintext.into(),
        };
        provider
            .cipher_encrypt(owner, op)
            .map(|result| result.ciphertext)
    }

    fn decrypt(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
        alg: Alg,
        ciphertext: &[u8],
    ) -> Outcome<SecretBytes> {
        let op = psa_cipher_decrypt::Operation {
            key_name: name.into(),
            alg,
            ciphertext: ciphertext.to_vec(),
        };
        provider
            .cipher_decrypt(owner, op)
            .map(|result| result.plaintext)
    }

    fn cipher_key(key_type: Type, bits: usize, alg: Alg) -> Attributes {
        attributes(key_type, bits, alg.into(), |flags| {
            flags.set_encrypt().set_decrypt();
        })
    }

    #[test]
    fn every_mode_round_trips_with_the_iv_in_front() {
        let (_, provider) = setup();
        let owner = app("alice");
        let plaintext = [0x42u8; 32];
        let cases = [
            (cipher_key(Type::Aes, 128, Alg::Ctr), 16, 32),
            (cipher_key(Type::Aes, 192, Alg::Cfb), 16, 32),
            (cipher_key(Type::Aes, 256, Alg::Ofb), 16, 32),
            (cipher_key(Type::Aes, 128, Alg::CbcNoPadding), 16, 32),
            (cipher_key(Type::Aes, 128, Alg::CbcPkcs7), 16, 48),
            (cipher_key(Type::Chacha20, 256, Alg::StreamCipher), 12, 32),
        ];
        for (index, (attributes, iv_len, body_len)) in cases.into_iter().enumerate() {
            let name = format!("key-{index}");
            let psa_crypto::types::algorithm::Algorithm::Cipher(alg) =
                attributes.policy.permitted_algorithms
            else {
                unreachable!("a cipher key");
            };
            generate(&provider, &owner, &name, attributes).unwrap();
            let ciphertext = encrypt(&provider, &owner, &name, alg, &plaintext).unwrap();
            assert_eq!(ciphertext.len(), iv_len + body_len, "{alg:?}");
            let again = encrypt(&provider, &owner, &name, alg, &plaintext).unwrap();
            assert_ne!(
                ciphertext[..iv_len],
                again[..iv_len],
                "{alg:?}: a fresh IV each time"
            );
            assert_eq!(
                &*decrypt(&provider, &owner, &name, alg, &ciphertext).unwrap(),
                &plaintext
            );
        }
    }

    #[test]
    fn cbc_matches_a_known_answer() {
        // NIST SP 800-38A F.2.1, first block, with the IV in front.
        let (_, provider) = setup();
        let owner = app("alice");
        let key = [
            0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf,
            0x4f, 0x3c,
        ];
        import(
            &provider,
            &owner,
            "k",
            cipher_key(Type::Aes, 128, Alg::CbcNoPadding),
            &key,
        )
        .unwrap();
        let iv: Vec<u8> = (0..16).collect();
        let block = [
            0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93,
            0x17, 0x2a,
        ];
        let expected = [
            0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46, 0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9,
            0x19, 0x7d,
        ];
        let ciphertext = [iv.as_slice(), &expected].concat();
        assert_eq!(
            &*decrypt(&provider, &owner, "k", Alg::CbcNoPadding, &ciphertext).unwrap(),
            &block
        );
    }

    #[test]
    fn a_ciphertext_shorter_than_its_iv_is_an_invalid_argument() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", cipher_key(Type::Aes, 128, Alg::Ctr)).unwrap();
        let error = decrypt(&provider, &owner, "k", Alg::Ctr, &[0; 15]).unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidArgument(_)),
            "{error}"
        );
    }

    #[test]
    fn cbc_without_padding_refuses_a_partial_block() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(
            &provider,
            &owner,
            "k",
            cipher_key(Type::Aes, 128, Alg::CbcNoPadding),
        )
        .unwrap();
        let error = encrypt(&provider, &owner, "k", Alg::CbcNoPadding, &[0; 15]).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    #[test]
    fn bad_padding_is_an_invalid_padding() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(
            &provider,
            &owner,
            "k",
            cipher_key(Type::Aes, 128, Alg::CbcPkcs7),
        )
        .unwrap();
        let mut ciphertext = encrypt(&provider, &owner, "k", Alg::CbcPkcs7, b"secret").unwrap();
        // Flipping the IV's last byte flips the last plaintext byte, the pad.
        ciphertext[15] ^= 0x80;
        let error = decrypt(&provider, &owner, "k", Alg::CbcPkcs7, &ciphertext).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidPadding,
            "{error}"
        );
    }

    #[test]
    fn ecb_and_xts_are_not_supported() {
        assert!(iv_length(Type::Aes, Alg::EcbNoPadding).is_err());
        assert!(iv_length(Type::Aes, Alg::Xts).is_err());
        assert!(iv_length(Type::Chacha20, Alg::Ctr).is_err());
    }

    #[test]
    fn decrypting_without_the_flag_or_with_another_mode_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        let encrypt_only = attributes(Type::Aes, 128, Alg::Ctr.into(), |flags| {
            flags.set_encrypt();
        });
        generate(&provider, &owner, "k", encrypt_only).unwrap();
        let ciphertext = encrypt(&provider, &owner, "k", Alg::Ctr, b"m").unwrap();
        let error = decrypt(&provider, &owner, "k", Alg::Ctr, &ciphertext).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
        let error = encrypt(&provider, &owner, "k", Alg::EcbNoPadding, &[0; 16]).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(
            &provider,
            &app("alice"),
            "k",
            cipher_key(Type::Aes, 128, Alg::Ctr),
        )
        .unwrap();
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                encrypt(&provider, &owner, name, Alg::Ctr, b"m").unwrap_err(),
                decrypt(&provider, &owner, name, Alg::Ctr, &[0; 20]).unwrap_err(),
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
