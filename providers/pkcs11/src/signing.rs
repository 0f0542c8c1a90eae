//! Asymmetric signatures on the token: RSA PKCS#1 v1.5 (the DigestInfo is
//! put before the hash here, then `CKM_RSA_PKCS`), RSA PSS (`CKM_RSA_PKCS_PSS`
//! with a salt as long as the hash, as PSA's `PSA_ALG_RSA_PSS`), and ECDSA
//! (`CKM_ECDSA` on the hash; PKCS#11 gives the raw `r || s` PSA uses).
//! A message is hashed on the token (`C_Digest`) and the hash signed.

use crate::Pkcs11Provider;
use crate::keys::OpenKey;
use crate::support::{digest_info_prefix, digest_mechanism, hash_mechanism};
use crate::token::ck_error;
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::rsa::PkcsPssParams;
use psec_interface::operations::{
    psa_sign_hash, psa_sign_message, psa_verify_hash, psa_verify_message,
};
use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, Hash, SignHash};
use psec_provider::policy::Usage;
use psec_provider::{Application, AsymmetricSigning, ProviderError, Result};

fn invalid(what: impl Into<String>) -> ProviderError {
    ProviderError::InvalidArgument(what.into())
}

/// The specific hash of `alg`; a wildcard is not an operation's algorithm.
fn specific(alg: AsymmetricSignature, hash_alg: SignHash) -> Result<Hash> {
    match hash_alg {
        SignHash::Specific(hash) => Ok(hash),
        SignHash::Any => Err(invalid(format!(
            "{alg:?}: an operation names a specific hash, not any"
        ))),
    }
}

fn check_length(hash_alg: Hash, hash: &[u8]) -> Result<()> {
    if hash.len() == hash_alg.hash_length() {
        Ok(())
    } else {
        Err(invalid(format!(
            "a {hash_alg:?} hash is {} bytes, not {}",
            hash_alg.hash_length(),
            hash.len()
        )))
    }
}

fn not_supported(alg: AsymmetricSignature) -> ProviderError {
    ProviderError::NotSupported(format!("this PKCS#11 token does not do {alg:?}"))
}

/// The mechanism and the data it signs for `alg` over `hash`.
fn signing_input(alg: AsymmetricSignature, hash: &[u8]) -> Result<(Mechanism<'static>, Vec<u8>)> {
    match alg {
        AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => {
            let hash_alg = specific(alg, hash_alg)?;
            check_length(hash_alg, hash)?;
            let prefix = digest_info_prefix(hash_alg).ok_or_else(|| not_supported(alg))?;
            let mut data = prefix.to_vec();
            data.extend_from_slice(hash);
            Ok((Mechanism::RsaPkcs, data))
        }
        AsymmetricSignature::RsaPkcs1v15SignRaw => Ok((Mechanism::RsaPkcs, hash.to_vec())),
        AsymmetricSignature::RsaPss { hash_alg } => {
            let hash_alg = specific(alg, hash_alg)?;
            check_length(hash_alg, hash)?;
            let (mechanism, mgf) = hash_mechanism(hash_alg).ok_or_else(|| not_supported(alg))?;
            let salt = u64::try_from(hash.len()).map_err(|_| invalid("hash length"))?;
            let params = PkcsPssParams {
                hash_alg: mechanism,
                mgf,
                s_len: salt.into(),
            };
            Ok((Mechanism::RsaPkcsPss(params), hash.to_vec()))
        }
        AsymmetricSignature::Ecdsa { hash_alg } => {
            let hash_alg = specific(alg, hash_alg)?;
            check_length(hash_alg, hash)?;
            Ok((Mechanism::Ecdsa, hash.to_vec()))
        }
        AsymmetricSignature::EcdsaAny => Ok((Mechanism::Ecdsa, hash.to_vec())),
        _ => Err(not_supported(alg)),
    }
}

/// The hash `alg` signs messages with.
fn message_hash(alg: AsymmetricSignature) -> Result<Hash> {
    match alg.hash() {
        Some(SignHash::Specific(hash)) => Ok(hash),
        _ => Err(invalid(format!(
            "{alg:?} names no hash to sign a message with"
        ))),
    }
}

impl Pkcs11Provider {
    fn supported(&self, key: &OpenKey<'_>, alg: AsymmetricSignature) -> Result<()> {
        if self
            .support()
            .signature_supported(key.attributes.key_type, alg)
        {
            Ok(())
        } else {
            Err(not_supported(alg))
        }
    }

    fn sign(&self, key: &OpenKey<'_>, alg: AsymmetricSignature, hash: &[u8]) -> Result<Vec<u8>> {
        self.supported(key, alg)?;
        let (mechanism, data) = signing_input(alg, hash)?;
        key.private(|private| key.session.sign(&mechanism, private, &data))?
            .map_err(ck_error(format!("signing with key `{}`", key.name)))
    }

    fn verify(
        &self,
        key: &OpenKey<'_>,
        alg: AsymmetricSignature,
        hash: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        #[cfg(feature = "software-public-operations")]
        if self.software_public_operations {
            return self.verify_hash_in_software(key, alg, hash, signature);
        }
        self.supported(key, alg)?;
        let (mechanism, data) = signing_input(alg, hash)?;
        key.public(|public| key.session.verify(&mechanism, public, &data, signature))?
            .map_err(ck_error(format!("verifying with key `{}`", key.name)))
    }

    /// `message` hashed on the token as `alg` signs it.
    fn digest(
        &self,
        key: &OpenKey<'_>,
        alg: AsymmetricSignature,
        message: &[u8],
    ) -> Result<Vec<u8>> {
        let hash = message_hash(alg)?;
        key.session
            .digest(&digest_mechanism(hash)?, message)
            .map_err(ck_error(format!("hashing a message with {hash:?}")))
    }
}

impl AsymmetricSigning for Pkcs11Provider {
    fn sign_hash(
        &self,
        app: &Application,
        op: psa_sign_hash::Operation,
    ) -> Result<psa_sign_hash::Result> {
        let key = self.use_key(
            app,
            &op.key_name,
            Some(Usage::SignHash),
            Some(op.alg.into()),
        )?;
        let signature = self.sign(&key, op.alg, &op.hash)?;
        Ok(psa_sign_hash::Result { signature })
    }

    fn verify_hash(
        &self,
        app: &Application,
        op: psa_verify_hash::Operation,
    ) -> Result<psa_verify_hash::Result> {
        let key = self.use_key(
            app,
            &op.key_name,
            Some(Usage::VerifyHash),
            Some(op.alg.into()),
        )?;
        self.verify(&key, op.alg, &op.hash, &op.signature)?;
        Ok(psa_verify_hash::Result {})
    }

    fn sign_message(
        &self,
        app: &Application,
        op: psa_sign_message::Operation,
    ) -> Result<psa_sign_message::Result> {
        let key = self.use_key(
            app,
            &op.key_name,
            Some(Usage::SignMessage),
            Some(op.alg.into()),
        )?;
        let hash = self.digest(&key, op.alg, &op.message)?;
        let signature = self.sign(&key, op.alg, &hash)?;
        Ok(psa_sign_message::Result { signature })
    }

    fn verify_message(
        &self,
        app: &Application,
        op: psa_verify_message::Operation,
    ) -> Result<psa_verify_message::Result> {
        let key = self.use_key(
            app,
            &op.key_name,
            Some(Usage::VerifyMessage),
            Some(op.alg.into()),
        )?;
        #[cfg(feature = "software-public-operations")]
        if self.software_public_operations {
            self.verify_message_in_software(&key, op.alg, &op.message, &op.signature)?;
            return Ok(psa_verify_message::Result {});
        }
        let hash = self.digest(&key, op.alg, &op.message)?;
        self.verify(&key, op.alg, &hash, &op.signature)?;
        Ok(psa_verify_message::Result {})
    }
}
