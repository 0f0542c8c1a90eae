//! Unauthenticated ciphers: AES in ECB, CTR, CFB, OFB and CBC (with and
//! without PKCS#7 padding), and the ChaCha20 stream cipher.
//!
//! As in Parsec, encryption draws a random IV and returns it in front of
//! the ciphertext, and decryption takes the IV from there. ECB has no IV:
//! its input is whole 16-byte blocks and its output the same length; it
//! goes through [`crate::backend::ecb_locked`], as psa-crypto 0.13 can not
//! do a mode without an IV.

use crate::MbedCryptoProvider;
use crate::backend::{SecretBuffer, ecb_locked, psa_error};
use crate::keys::OpenKey;
use psa_crypto::operations::{cipher, other};
use psa_crypto::types::algorithm::Cipher as Alg;
use psa_crypto::types::key::Type;
use psec_interface::SecretBytes;
use psec_interface::operations::{psa_cipher_decrypt, psa_cipher_encrypt};
use psec_provider::policy::Usage;
use psec_provider::{Application, Cipher, ProviderError, Result};

/// The most a cipher's output outgrows its input: one block of padding.
const BLOCK: usize = 16;

/// The IV length of `alg` with keys of `key_type`.
fn iv_length(key_type: Type, alg: Alg) -> Result<usize> {
    match (key_type, alg) {
        (Type::Aes, Alg::Ctr | Alg::Cfb | Alg::Ofb | Alg::CbcNoPadding | Alg::CbcPkcs7) => Ok(16),
        (Type::Chacha20, Alg::StreamCipher) => Ok(12),
        _ => Err(ProviderError::NotSupported(format!(
            "the Mbed Crypto provider does not support {alg:?} with keys of type {key_type:?}"
        ))),
    }
}

/// AES-ECB over whole blocks, in either direction.
fn ecb(key: &OpenKey<'_>, encrypt: bool, input: &[u8]) -> Result<SecretBytes> {
    if key.attributes.key_type != Type::Aes || input.len() % BLOCK != 0 {
        return Err(ProviderError::InvalidArgument(format!(
            "ECB takes AES keys and whole {BLOCK}-byte blocks; got {} bytes",
            input.len()
        )));
    }
    let mut output = SecretBuffer::new(input.len());
    let len = ecb_locked(key.psa, encrypt, key.key_id, input, output.as_mut())
        .map_err(key.failed(if encrypt { "encrypting" } else { "decrypting" }))?;
    Ok(output.into_secret(len))
}

impl Cipher for MbedCryptoProvider {
    fn cipher_encrypt(
        &self,
        app: &Application,
        op: psa_cipher_encrypt::Operation,
    ) -> Result<psa_cipher_encrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Encrypt,
            Some(op.alg.into()),
            |key| {
                if op.alg == Alg::EcbNoPadding {
                    let ciphertext = ecb(key, true, &op.plaintext)?;
                    return Ok(psa_cipher_encrypt::Result {
                        ciphertext: ciphertext.into_vec(),
                    });
                }
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
    ) -> Result<psa_cipher_decrypt::Result> {
        self.use_key(
            app,
            &op.key_name,
            Usage::Decrypt,
            Some(op.alg.into()),
            |key| {
                if op.alg == Alg::EcbNoPadding {
                    let plaintext = ecb(key, false, &op.ciphertext)?;
                    return Ok(psa_cipher_decrypt::Result { plaintext });
                }
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
    ) -> Result<Vec<u8>> {
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
    ) -> Result<SecretBytes> {
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
    fn xts_and_chacha20_ctr_are_not_supported_and_ecb_has_no_iv() {
        assert!(iv_length(Type::Aes, Alg::EcbNoPadding).is_err());
        assert!(iv_length(Type::Aes, Alg::Xts).is_err());
        assert!(iv_length(Type::Chacha20, Alg::Ctr).is_err());
    }

    #[test]
    fn ecb_matches_the_fips_197_known_answer_and_takes_whole_blocks_only() {
        // FIPS-197 appendix C.1: AES-128.
        let (_, provider) = setup();
        let owner = app("alice");
        let key: Vec<u8> = (0..16).collect();
        import(
            &provider,
            &owner,
            "k",
            cipher_key(Type::Aes, 128, Alg::EcbNoPadding),
            &key,
        )
        .unwrap();
        let plaintext: Vec<u8> = (0..16u8).map(|i| i * 0x11).collect();
        let expected = [
            0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4,
            0xc5, 0x5a,
        ];
        let two_blocks = [plaintext.as_slice(), &plaintext].concat();
        let ciphertext = encrypt(&provider, &owner, "k", Alg::EcbNoPadding, &two_blocks).unwrap();
        assert_eq!(
            ciphertext,
            [expected, expected].concat(),
            "no IV, same block twice"
        );
        let back = decrypt(&provider, &owner, "k", Alg::EcbNoPadding, &ciphertext).unwrap();
        assert_eq!(&*back, two_blocks.as_slice());
        let error = encrypt(&provider, &owner, "k", Alg::EcbNoPadding, &[0; 15]).unwrap_err();
        assert_eq!(error.status(), ResponseStatus::PsaErrorInvalidArgument);
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
