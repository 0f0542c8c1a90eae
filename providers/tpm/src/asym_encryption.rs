//! Asymmetric encryption in the TPM: RSA PKCS#1 v1.5 (RSAES) and OAEP.
//!
//! The salt is OAEP's label. The TPM appends a zero byte to a label that
//! does not end with one, which PSA does not: to stay compatible with
//! other PSA implementations, a label must be empty or end with a zero
//! byte.
//!
//! A ciphertext that does not decrypt (wrong key, label or padding) gives
//! `PsaErrorInvalidPadding`, PSA's answer. The TPM says TPM_RC_VALUE, as
//! the specification and libtpms from 0.9.7 on do; libtpms before that
//! says TPM_RC_FAILURE and keeps working. A TPM_RC_FAILURE from a
//! decryption is therefore checked with TPM2_GetTestResult: from a TPM not
//! in failure mode it is a bad padding, from one in failure mode a
//! `PsaErrorHardwareFailure`. (Parsec 1.5 answers
//! `PsaErrorCommunicationFailure` for the TPM_RC_FAILURE of a bad padding.)

use crate::TpmProvider;
use crate::tpm::{status_of, tpm_error};
use psec_interface::ResponseStatus;
use psec_interface::SecretBytes;
use psec_interface::operations::{psa_asymmetric_decrypt, psa_asymmetric_encrypt};
use psec_interface::psa_crypto::types::algorithm::AsymmetricEncryption as Alg;
use psec_provider::policy::Usage;
use psec_provider::{Application, AsymmetricEncryption, ProviderError, Result};
use tss_esapi::constants::Tss2ResponseCodeKind as Kind;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{Data, HashScheme, PublicKeyRsa, RsaDecryptionScheme};
use tss_esapi::{Context, Error as TssError};

impl TpmProvider {
    fn decryption_scheme(&self, alg: Alg) -> Result<RsaDecryptionScheme> {
        match alg {
            Alg::RsaPkcs1v15Crypt => Ok(RsaDecryptionScheme::RsaEs),
            Alg::RsaOaep { hash_alg } => Ok(RsaDecryptionScheme::Oaep(HashScheme::new(
                self.support().hash(hash_alg)?,
            ))),
        }
    }
}

fn label(alg: Alg, salt: Option<&SecretBytes>) -> Result<Data> {
    let salt: &[u8] = salt.map(|salt| &salt[..]).unwrap_or_default();
    if salt.is_empty() {
        return Ok(Data::default());
    }
    if alg == Alg::RsaPkcs1v15Crypt {
        return Err(ProviderError::InvalidArgument(
            "RSA PKCS#1 v1.5 encryption takes no salt".into(),
        ));
    }
    if salt.last() != Some(&0) {
        return Err(ProviderError::NotSupported(
            "an OAEP label that does not end with a zero byte (the TPM would add one)".into(),
        ));
    }
    Data::try_from(salt.to_vec()).map_err(|error| tpm_error(error, "reading the OAEP label"))
}

/// Whether `error` is TPM_RC_FAILURE.
fn is_failure(error: &TssError) -> bool {
    matches!(error, TssError::Tss2Error(code) if code.kind() == Some(Kind::Failure))
}

/// Whether the TPM is in failure mode, as TPM2_GetTestResult says (a TPM
/// that can not even answer that is taken to be).
fn in_failure_mode(context: &mut Context) -> bool {
    match context.get_test_result() {
        Ok((_, Ok(()))) => false,
        Ok((_, Err(result))) => is_failure(&result),
        Err(error) => {
            log::warn!("TPM2_GetTestResult after a failed decryption: {error}");
            true
        }
    }
}

/// The error of a failed decryption with key `name`: a bad padding
/// (TPM_RC_VALUE, or TPM_RC_FAILURE from a TPM not in failure mode) is
/// `PsaErrorInvalidPadding`.
fn decryption_error(context: &mut Context, error: TssError, name: &str) -> ProviderError {
    let what = format!("decrypting with key `{name}`: {error}");
    let status = match status_of(&error) {
        ResponseStatus::PsaErrorInvalidArgument => ResponseStatus::PsaErrorInvalidPadding,
        _ if is_failure(&error) && !in_failure_mode(context) => {
            ResponseStatus::PsaErrorInvalidPadding
        }
        status => status,
    };
    ProviderError::backend(status, what)
}

impl AsymmetricEncryption for TpmProvider {
    fn asymmetric_encrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_encrypt::Operation,
    ) -> Result<psa_asymmetric_encrypt::Result> {
        let scheme = self.decryption_scheme(op.alg)?;
        let label = label(op.alg, op.salt.as_ref())?;
        self.use_key(
            app,
            &op.key_name,
            Usage::Encrypt,
            op.alg.into(),
            |context, key| {
                let longest = match op.alg {
                    Alg::RsaPkcs1v15Crypt => key.bytes().saturating_sub(11),
                    Alg::RsaOaep { hash_alg } => {
                        key.bytes().saturating_sub(2 * hash_alg.hash_length() + 2)
                    }
                };
                // Checked here: some TPMs (libtpms before 0.9.7) answer an
                // over-long input with TPM_RC_FAILURE.
                if op.plaintext.len() > longest {
                    return Err(ProviderError::InvalidArgument(format!(
                        "{} bytes do not fit in one {:?} block of key `{}` (at most {longest})",
                        op.plaintext.len(),
                        op.alg,
                        key.name
                    )));
                }
                let plaintext = PublicKeyRsa::try_from(op.plaintext.to_vec()).map_err(|_| {
                    ProviderError::InvalidArgument("the plaintext is too long".into())
                })?;
                let ciphertext = context
                    .rsa_encrypt(key.handle, plaintext, scheme, label)
                    .map_err(|error| {
                        tpm_error(error, format!("encrypting with key `{}`", key.name))
                    })?;
                Ok(psa_asymmetric_encrypt::Result {
                    ciphertext: ciphertext.value().to_vec(),
                })
            },
        )
    }

    fn asymmetric_decrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_decrypt::Operation,
    ) -> Result<psa_asymmetric_decrypt::Result> {
        let scheme = self.decryption_scheme(op.alg)?;
        let label = label(op.alg, op.salt.as_ref())?;
        self.use_key(
            app,
            &op.key_name,
            Usage::Decrypt,
            op.alg.into(),
            |context, key| {
                key.need_pair("decrypt")?;
                let ciphertext = PublicKeyRsa::try_from(op.ciphertext.clone()).map_err(|_| {
                    ProviderError::InvalidArgument("the ciphertext is too long".into())
                })?;
                let handle = key.handle;
                let plaintext = context
                    .execute_with_session(Some(AuthSession::Password), |context| {
                        context.rsa_decrypt(handle, ciphertext, scheme, label)
                    })
                    .map_err(|error| decryption_error(context, error, key.name))?;
                Ok(psa_asymmetric_decrypt::Result {
                    plaintext: SecretBytes::from(plaintext.value()),
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::psa_crypto::types::algorithm::Hash;
    use psec_interface::psa_crypto::types::key::Type;
    use psec_provider::testing::{asymmetric_decrypt, asymmetric_encrypt};

    const OAEP: Alg = Alg::RsaOaep {
        hash_alg: Hash::Sha256,
    };

    fn encrypt(
        setup: &Setup,
        name: &str,
        alg: Alg,
        plaintext: &[u8],
        salt: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        asymmetric_encrypt(&setup.provider, &app("alice"), name, alg, plaintext, salt)
    }

    fn decrypt(
        setup: &Setup,
        name: &str,
        alg: Alg,
        ciphertext: &[u8],
        salt: Option<&[u8]>,
    ) -> Result<SecretBytes> {
        asymmetric_decrypt(&setup.provider, &app("alice"), name, alg, ciphertext, salt)
    }

    /// One setup with the keys of these tests: RSA key generation is the
    /// slow part.
    fn with_keys() -> Setup {
        let setup = setup();
        let owner = app("alice");
        generate(
            &setup.provider,
            &owner,
            "pkcs1",
            rsa_crypt_key(2048, Alg::RsaPkcs1v15Crypt),
        )
        .unwrap();
        generate(&setup.provider, &owner, "oaep", rsa_crypt_key(2048, OAEP)).unwrap();
        setup
    }

    #[test]
    fn pkcs1v15_and_oaep_round_trip_also_through_an_imported_public_key() {
        let setup = with_keys();
        let owner = app("alice");
        for (name, alg, salt) in [
            ("pkcs1", Alg::RsaPkcs1v15Crypt, None),
            ("oaep", OAEP, None),
            ("oaep", OAEP, Some(&b"label\0"[..])),
        ] {
            let ciphertext = encrypt(&setup, name, alg, b"secret", salt).unwrap();
            assert_eq!(ciphertext.len(), 256);
            let plaintext = decrypt(&setup, name, alg, &ciphertext, salt).unwrap();
            assert_eq!(&*plaintext, b"secret");
        }
        let public = export_public(&setup.provider, &owner, "oaep").unwrap();
        let mut attributes = rsa_crypt_key(2048, OAEP);
        attributes.key_type = Type::RsaPublicKey;
        import(&setup.provider, &owner, "public", attributes, &public).unwrap();
        let ciphertext = encrypt(&setup, "public", OAEP, b"to the pair", None).unwrap();
        assert_eq!(
            &*decrypt(&setup, "oaep", OAEP, &ciphertext, None).unwrap(),
            b"to the pair"
        );
        let error = decrypt(&setup, "public", OAEP, &ciphertext, None).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    /// Ciphertexts that decrypt to no valid padding whatever the key: `1`
    /// (its plaintext is 1, so neither PKCS#1 v1.5's `00 02` nor OAEP's
    /// label hash can be there) and `n - 1` (its plaintext is `n - 1`,
    /// whose first byte is not zero).
    fn corrupted_ciphertexts(setup: &Setup, name: &str) -> [Vec<u8>; 2] {
        let public = export_public(&setup.provider, &app("alice"), name).unwrap();
        let (modulus, _) = crate::blob::parse_rsa_public_key_der(&public).unwrap();
        let mut one = vec![0; modulus.len()];
        *one.last_mut().unwrap() = 1;
        let mut minus_one = modulus;
        // n is odd: no borrow.
        *minus_one.last_mut().unwrap() -= 1;
        [one, minus_one]
    }

    #[test]
    fn a_corrupted_pkcs1v15_ciphertext_is_an_invalid_padding() {
        let setup = with_keys();
        let alg = Alg::RsaPkcs1v15Crypt;
        for ciphertext in corrupted_ciphertexts(&setup, "pkcs1") {
            let error = decrypt(&setup, "pkcs1", alg, &ciphertext, None).unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidPadding,
                "{error}"
            );
        }
        // The TPM still works.
        let ciphertext = encrypt(&setup, "pkcs1", alg, b"secret", None).unwrap();
        let plaintext = decrypt(&setup, "pkcs1", alg, &ciphertext, None).unwrap();
        assert_eq!(&*plaintext, b"secret");
    }

    #[test]
    fn a_wrong_label_or_corrupted_oaep_ciphertext_is_an_invalid_padding() {
        let setup = with_keys();
        let mut ciphertext = encrypt(&setup, "oaep", OAEP, b"secret", Some(b"a\0")).unwrap();
        let mut errors = Vec::new();
        for corrupted in corrupted_ciphertexts(&setup, "oaep") {
            errors.push(decrypt(&setup, "oaep", OAEP, &corrupted, Some(b"a\0")).unwrap_err());
        }
        // A flipped bit: the label hash in the padding fails to match but
        // for a chance of 2^-256.
        ciphertext[5] ^= 1;
        errors.push(decrypt(&setup, "oaep", OAEP, &ciphertext, Some(b"a\0")).unwrap_err());
        ciphertext[5] ^= 1;
        errors.push(decrypt(&setup, "oaep", OAEP, &ciphertext, Some(b"b\0")).unwrap_err());
        for error in errors {
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidPadding,
                "{error}"
            );
        }
        // The TPM still works.
        let plaintext = decrypt(&setup, "oaep", OAEP, &ciphertext, Some(b"a\0")).unwrap();
        assert_eq!(&*plaintext, b"secret");
    }

    #[test]
    fn bad_requests_are_refused_with_their_documented_status() {
        let setup = with_keys();
        let cases = [
            // A label the TPM would change.
            (
                encrypt(&setup, "oaep", OAEP, b"m", Some(b"label")).unwrap_err(),
                ResponseStatus::PsaErrorNotSupported,
            ),
            // PKCS#1 v1.5 has no label.
            (
                encrypt(&setup, "pkcs1", Alg::RsaPkcs1v15Crypt, b"m", Some(b"x\0")).unwrap_err(),
                ResponseStatus::PsaErrorInvalidArgument,
            ),
            // The policy permits another algorithm.
            (
                encrypt(&setup, "pkcs1", OAEP, b"m", None).unwrap_err(),
                ResponseStatus::PsaErrorNotPermitted,
            ),
            // Too long for the key.
            (
                encrypt(&setup, "oaep", OAEP, &[1; 191], None).unwrap_err(),
                ResponseStatus::PsaErrorInvalidArgument,
            ),
            (
                encrypt(&setup, "pkcs1", Alg::RsaPkcs1v15Crypt, &[1; 246], None).unwrap_err(),
                ResponseStatus::PsaErrorInvalidArgument,
            ),
            (
                encrypt(&setup, "nope", OAEP, b"m", None).unwrap_err(),
                ResponseStatus::PsaErrorDoesNotExist,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error}");
        }
        // The longest plaintexts do fit.
        encrypt(&setup, "oaep", OAEP, &[1; 190], None).unwrap();
        encrypt(&setup, "pkcs1", Alg::RsaPkcs1v15Crypt, &[1; 245], None).unwrap();
    }

    #[test]
    fn decrypting_without_the_decrypt_flag_is_not_permitted() {
        let setup = setup();
        let owner = app("alice");
        let mut encrypt_only = rsa_crypt_key(2048, OAEP);
        encrypt_only.policy.usage_flags = Default::default();
        encrypt_only.policy.usage_flags.set_encrypt();
        generate(&setup.provider, &owner, "k", encrypt_only).unwrap();
        let ciphertext = encrypt(&setup, "k", OAEP, b"secret", None).unwrap();
        let error = decrypt(&setup, "k", OAEP, &ciphertext, None).unwrap_err();
        assert!(matches!(error, ProviderError::NotPermitted(_)), "{error}");
    }
}
