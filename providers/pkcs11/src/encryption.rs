//! Asymmetric encryption on the token: RSA PKCS#1 v1.5 (`CKM_RSA_PKCS`) and
//! OAEP (`CKM_RSA_PKCS_OAEP`, MGF1 with the same hash, the PSA salt as the
//! OAEP label).

use crate::Pkcs11Provider;
use crate::keys::OpenKey;
use crate::support::hash_mechanism;
use crate::token::ck_error;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::rsa::{PkcsOaepParams, PkcsOaepSource};
use psec_interface::ResponseStatus;
use psec_interface::operations::{psa_asymmetric_decrypt, psa_asymmetric_encrypt};
use psec_interface::psa_crypto::types::algorithm::AsymmetricEncryption as Alg;
use psec_provider::policy::Usage;
use psec_provider::{Application, AsymmetricEncryption, ProviderError, Result};

/// The mechanism for `alg` with OAEP label `salt`.
fn mechanism<'a>(alg: Alg, salt: Option<&'a [u8]>) -> Result<Mechanism<'a>> {
    match alg {
        Alg::RsaPkcs1v15Crypt => match salt {
            Some(salt) if !salt.is_empty() => Err(ProviderError::InvalidArgument(
                "RSA PKCS#1 v1.5 encryption takes no salt".to_owned(),
            )),
            _ => Ok(Mechanism::RsaPkcs),
        },
        Alg::RsaOaep { hash_alg } => {
            let (hash, mgf) = hash_mechanism(hash_alg)
                .ok_or_else(|| ProviderError::NotSupported(format!("OAEP with {hash_alg:?}")))?;
            let source = match salt {
                Some(label) if !label.is_empty() => PkcsOaepSource::data_specified(label),
                _ => PkcsOaepSource::empty(),
            };
            Ok(Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
                hash, mgf, source,
            )))
        }
    }
}

/// Maps a token error of `context`. A token that refuses OAEP labels
/// (SoftHSM2 does) answers `CKR_ARGUMENTS_BAD` to one: that is
/// NotSupported, not a bad argument of the client's.
fn failed(context: String, salt: Option<&[u8]>) -> impl FnOnce(CkError) -> ProviderError {
    let labelled = salt.is_some_and(|label| !label.is_empty());
    move |error| match error {
        CkError::Pkcs11(RvError::ArgumentsBad, _) if labelled => ProviderError::NotSupported(
            "this PKCS#11 token does not take OAEP labels (salts)".to_owned(),
        ),
        error => ck_error(context)(error),
    }
}

/// As [`failed`], for decryption: SoftHSM2 answers a ciphertext whose
/// padding does not check with `CKR_GENERAL_ERROR`, which is PSA's
/// INVALID_PADDING here.
fn decrypt_failed(context: String, salt: Option<&[u8]>) -> impl FnOnce(CkError) -> ProviderError {
    move |error| match error {
        CkError::Pkcs11(RvError::GeneralError, _) => ProviderError::backend(
            ResponseStatus::PsaErrorInvalidPadding,
            format!("{context}: the token could not decrypt (bad ciphertext or padding)"),
        ),
        error => failed(context, salt)(error),
    }
}

impl Pkcs11Provider {
    fn check_encryption(&self, key: &OpenKey<'_>, alg: Alg) -> Result<()> {
        if self
            .support()
            .encryption_supported(key.attributes.key_type, alg)
        {
            Ok(())
        } else {
            Err(ProviderError::NotSupported(format!(
                "this PKCS#11 token does not do {alg:?} with key `{}`",
                key.name
            )))
        }
    }
}

impl AsymmetricEncryption for Pkcs11Provider {
    fn asymmetric_encrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_encrypt::Operation,
    ) -> Result<psa_asymmetric_encrypt::Result> {
        let key = self.use_key(app, &op.key_name, Some(Usage::Encrypt), Some(op.alg.into()))?;
        #[cfg(feature = "software-public-operations")]
        if self.software_public_operations {
            let ciphertext =
                self.encrypt_in_software(&key, op.alg, &op.plaintext, op.salt.as_deref())?;
            return Ok(psa_asymmetric_encrypt::Result { ciphertext });
        }
        self.check_encryption(&key, op.alg)?;
        let mechanism = mechanism(op.alg, op.salt.as_deref())?;
        let ciphertext = key
            .public(|public| key.session.encrypt(&mechanism, public, &op.plaintext))?
            .map_err(failed(
                format!("encrypting with key `{}`", key.name),
                op.salt.as_deref(),
            ))?;
        Ok(psa_asymmetric_encrypt::Result { ciphertext })
    }

    fn asymmetric_decrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_decrypt::Operation,
    ) -> Result<psa_asymmetric_decrypt::Result> {
        let key = self.use_key(app, &op.key_name, Some(Usage::Decrypt), Some(op.alg.into()))?;
        self.check_encryption(&key, op.alg)?;
        let mechanism = mechanism(op.alg, op.salt.as_deref())?;
        let plaintext = key
            .private(|private| key.session.decrypt(&mechanism, private, &op.ciphertext))?
            .map_err(decrypt_failed(
                format!("decrypting with key `{}`", key.name),
                op.salt.as_deref(),
            ))?;
        Ok(psa_asymmetric_decrypt::Result {
            plaintext: plaintext.into(),
        })
    }
}
