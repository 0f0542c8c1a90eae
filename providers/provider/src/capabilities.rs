//! What a provider can do, one small trait per capability, and the routing
//! of operations to them.

use crate::{Application, ProviderError, Result};
use psec_interface::operations::list_providers::ProviderInfo;
use psec_interface::operations::*;
use psec_interface::psa_crypto::types::key::Attributes;
use psec_interface::{NativeOperation, NativeResult, Opcode};
use std::collections::BTreeSet;

/// A crypto backend.
///
/// A provider returns `Some(self)` from the accessor of each capability it
/// implements; the defaults say it has none. The opcodes it supports are
/// derived from these ([`supported_opcodes`]).
pub trait Provider: Send + Sync {
    /// Who the provider is, for ListProviders.
    fn info(&self) -> ProviderInfo;

    /// Generate, import, destroy keys and export public keys.
    fn key_management(&self) -> Option<&dyn KeyManagement> {
        None
    }
    /// Export key material.
    fn key_export(&self) -> Option<&dyn KeyExport> {
        None
    }
    /// Sign and verify hashes and messages.
    fn asymmetric_signing(&self) -> Option<&dyn AsymmetricSigning> {
        None
    }
    /// Encrypt and decrypt with key pairs.
    fn asymmetric_encryption(&self) -> Option<&dyn AsymmetricEncryption> {
        None
    }
    /// Authenticated encryption.
    fn aead(&self) -> Option<&dyn Aead> {
        None
    }
    /// Unauthenticated symmetric encryption.
    fn cipher(&self) -> Option<&dyn Cipher> {
        None
    }
    /// Message authentication codes.
    fn mac(&self) -> Option<&dyn Mac> {
        None
    }
    /// Hashing.
    fn hashing(&self) -> Option<&dyn Hashing> {
        None
    }
    /// Raw key agreement.
    fn key_agreement(&self) -> Option<&dyn KeyAgreement> {
        None
    }
    /// Random numbers.
    fn random(&self) -> Option<&dyn Random> {
        None
    }
    /// Key attestation.
    fn attestation(&self) -> Option<&dyn Attestation> {
        None
    }
    /// Answers CanDoCrypto.
    fn can_do_crypto(&self) -> Option<&dyn CanDoCrypto> {
        None
    }
}

/// Generate, import, destroy keys and export public keys.
pub trait KeyManagement: Send + Sync {
    /// PsaGenerateKey.
    fn generate_key(
        &self,
        app: &Application,
        op: psa_generate_key::Operation,
    ) -> Result<psa_generate_key::Result>;
    /// PsaImportKey.
    fn import_key(
        &self,
        app: &Application,
        op: psa_import_key::Operation,
    ) -> Result<psa_import_key::Result>;
    /// PsaExportPublicKey.
    fn export_public_key(
        &self,
        app: &Application,
        op: psa_export_public_key::Operation,
    ) -> Result<psa_export_public_key::Result>;
    /// PsaDestroyKey.
    fn destroy_key(
        &self,
        app: &Application,
        op: psa_destroy_key::Operation,
    ) -> Result<psa_destroy_key::Result>;
}

/// Export key material, where the key's policy allows it.
pub trait KeyExport: Send + Sync {
    /// PsaExportKey.
    fn export_key(
        &self,
        app: &Application,
        op: psa_export_key::Operation,
    ) -> Result<psa_export_key::Result>;
}

/// Sign and verify.
pub trait AsymmetricSigning: Send + Sync {
    /// PsaSignHash.
    fn sign_hash(
        &self,
        app: &Application,
        op: psa_sign_hash::Operation,
    ) -> Result<psa_sign_hash::Result>;
    /// PsaVerifyHash.
    fn verify_hash(
        &self,
        app: &Application,
        op: psa_verify_hash::Operation,
    ) -> Result<psa_verify_hash::Result>;
    /// PsaSignMessage.
    fn sign_message(
        &self,
        app: &Application,
        op: psa_sign_message::Operation,
    ) -> Result<psa_sign_message::Result>;
    /// PsaVerifyMessage.
    fn verify_message(
        &self,
        app: &Application,
        op: psa_verify_message::Operation,
    ) -> Result<psa_verify_message::Result>;
}

/// Encrypt and decrypt with key pairs.
pub trait AsymmetricEncryption: Send + Sync {
    /// PsaAsymmetricEncrypt.
    fn asymmetric_encrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_encrypt::Operation,
    ) -> Result<psa_asymmetric_encrypt::Result>;
    /// PsaAsymmetricDecrypt.
    fn asymmetric_decrypt(
        &self,
        app: &Application,
        op: psa_asymmetric_decrypt::Operation,
    ) -> Result<psa_asymmetric_decrypt::Result>;
}

/// Authenticated encryption.
pub trait Aead: Send + Sync {
    /// PsaAeadEncrypt.
    fn aead_encrypt(
        &self,
        app: &Application,
        op: psa_aead_encrypt::Operation,
    ) -> Result<psa_aead_encrypt::Result>;
    /// PsaAeadDecrypt.
    fn aead_decrypt(
        &self,
        app: &Application,
        op: psa_aead_decrypt::Operation,
    ) -> Result<psa_aead_decrypt::Result>;
}

/// Unauthenticated symmetric encryption.
pub trait Cipher: Send + Sync {
    /// PsaCipherEncrypt.
    fn cipher_encrypt(
        &self,
        app: &Application,
        op: psa_cipher_encrypt::Operation,
    ) -> Result<psa_cipher_encrypt::Result>;
    /// PsaCipherDecrypt.
    fn cipher_decrypt(
        &self,
        app: &Application,
        op: psa_cipher_decrypt::Operation,
    ) -> Result<psa_cipher_decrypt::Result>;
}

/// Message authentication codes.
pub trait Mac: Send + Sync {
    /// PsaMacCompute.
    fn mac_compute(
        &self,
        app: &Application,
        op: psa_mac_compute::Operation,
    ) -> Result<psa_mac_compute::Result>;
    /// PsaMacVerify.
    fn mac_verify(
        &self,
        app: &Application,
        op: psa_mac_verify::Operation,
    ) -> Result<psa_mac_verify::Result>;
}

/// Hashing; needs no key and no authentication.
pub trait Hashing: Send + Sync {
    /// PsaHashCompute.
    fn hash_compute(&self, op: psa_hash_compute::Operation) -> Result<psa_hash_compute::Result>;
    /// PsaHashCompare.
    fn hash_compare(&self, op: psa_hash_compare::Operation) -> Result<psa_hash_compare::Result>;
}

/// Raw key agreement.
pub trait KeyAgreement: Send + Sync {
    /// PsaRawKeyAgreement.
    fn raw_key_agreement(
        &self,
        app: &Application,
        op: psa_raw_key_agreement::Operation,
    ) -> Result<psa_raw_key_agreement::Result>;
}

/// Random numbers; needs no authentication.
pub trait Random: Send + Sync {
    /// PsaGenerateRandom.
    fn generate_random(
        &self,
        op: psa_generate_random::Operation,
    ) -> Result<psa_generate_random::Result>;
}

/// Key attestation.
pub trait Attestation: Send + Sync {
    /// AttestKey.
    fn attest_key(
        &self,
        app: &Application,
        op: attest_key::Operation,
    ) -> Result<attest_key::Result>;
    /// PrepareKeyAttestation.
    fn prepare_key_attestation(
        &self,
        app: &Application,
        op: prepare_key_attestation::Operation,
    ) -> Result<prepare_key_attestation::Result>;
}

/// What a provider's backend really supports, for CanDoCrypto: the
/// provider's own checks, which [`can_do_crypto`](crate::can_do_crypto)
/// calls inside the frame every provider shares (so no provider can skip
/// the common checks). Each answers `Ok`, or NotSupported saying why.
pub trait CanDoCrypto: Send + Sync {
    /// Whether a key with `attributes` can be generated. When the policy
    /// names an algorithm, [`use_check`](CanDoCrypto::use_check) is asked
    /// next.
    fn generate_check(&self, attributes: &Attributes) -> Result<()>;
    /// Whether a key with `attributes` can be imported (a size of 0: any
    /// size the data has). When the policy names an algorithm,
    /// [`use_check`](CanDoCrypto::use_check) is asked next.
    fn import_check(&self, attributes: &Attributes) -> Result<()>;
    /// Whether a key with `attributes` can be used for its policy's
    /// algorithm, once the common checks found that the policy names an
    /// algorithm the key type fits and allows a crypto use.
    fn use_check(&self, attributes: &Attributes) -> Result<()>;
}

/// The opcodes a provider supports, derived from the capabilities it
/// returns. Core opcodes are never in the list: they are the core
/// provider's.
pub fn supported_opcodes(provider: &dyn Provider) -> BTreeSet<Opcode> {
    let groups: [(bool, &[Opcode]); 12] = [
        (
            provider.key_management().is_some(),
            &[
                Opcode::PsaGenerateKey,
                Opcode::PsaImportKey,
                Opcode::PsaExportPublicKey,
                Opcode::PsaDestroyKey,
            ],
        ),
        (provider.key_export().is_some(), &[Opcode::PsaExportKey]),
        (
            provider.asymmetric_signing().is_some(),
            &[
                Opcode::PsaSignHash,
                Opcode::PsaVerifyHash,
                Opcode::PsaSignMessage,
                Opcode::PsaVerifyMessage,
            ],
        ),
        (
            provider.asymmetric_encryption().is_some(),
            &[Opcode::PsaAsymmetricEncrypt, Opcode::PsaAsymmetricDecrypt],
        ),
        (
            provider.aead().is_some(),
            &[Opcode::PsaAeadEncrypt, Opcode::PsaAeadDecrypt],
        ),
        (
            provider.cipher().is_some(),
            &[Opcode::PsaCipherEncrypt, Opcode::PsaCipherDecrypt],
        ),
        (
            provider.mac().is_some(),
            &[Opcode::PsaMacCompute, Opcode::PsaMacVerify],
        ),
        (
            provider.hashing().is_some(),
            &[Opcode::PsaHashCompute, Opcode::PsaHashCompare],
        ),
        (
            provider.key_agreement().is_some(),
            &[Opcode::PsaRawKeyAgreement],
        ),
        (provider.random().is_some(), &[Opcode::PsaGenerateRandom]),
        (
            provider.attestation().is_some(),
            &[Opcode::AttestKey, Opcode::PrepareKeyAttestation],
        ),
        (provider.can_do_crypto().is_some(), &[Opcode::CanDoCrypto]),
    ];
    groups
        .into_iter()
        .filter(|(present, _)| *present)
        .flat_map(|(_, opcodes)| opcodes.iter().copied())
        .collect()
}

fn missing(opcode: Opcode) -> ProviderError {
    ProviderError::NotSupported(format!("this provider does not implement {opcode:?}"))
}

/// The capability, or NotSupported for `opcode` if the provider lacks it.
fn need<T: ?Sized>(capability: Option<&T>, opcode: Opcode) -> Result<&T> {
    capability.ok_or_else(|| missing(opcode))
}

/// Runs `op` on the capability of `provider` that implements it.
///
/// `app` is the authenticated application, if any; an operation on keys
/// without one gives [`ProviderError::NotAuthenticated`]. A capability the
/// provider lacks, or a core operation, gives [`ProviderError::NotSupported`].
pub fn execute(
    provider: &dyn Provider,
    app: Option<&Application>,
    op: NativeOperation,
) -> Result<NativeResult> {
    let opcode = op.opcode();
    let app = || app.ok_or(ProviderError::NotAuthenticated);
    use NativeOperation as O;
    use NativeResult as R;
    Ok(match op {
        O::PsaGenerateKey(op) => {
            R::PsaGenerateKey(need(provider.key_management(), opcode)?.generate_key(app()?, op)?)
        }
        O::PsaImportKey(op) => {
            R::PsaImportKey(need(provider.key_management(), opcode)?.import_key(app()?, op)?)
        }
        O::PsaExportPublicKey(op) => R::PsaExportPublicKey(
            need(provider.key_management(), opcode)?.export_public_key(app()?, op)?,
        ),
        O::PsaDestroyKey(op) => {
            R::PsaDestroyKey(need(provider.key_management(), opcode)?.destroy_key(app()?, op)?)
        }
        O::PsaExportKey(op) => {
            R::PsaExportKey(need(provider.key_export(), opcode)?.export_key(app()?, op)?)
        }
        O::PsaSignHash(op) => {
            R::PsaSignHash(need(provider.asymmetric_signing(), opcode)?.sign_hash(app()?, op)?)
        }
        O::PsaVerifyHash(op) => {
            R::PsaVerifyHash(need(provider.asymmetric_signing(), opcode)?.verify_hash(app()?, op)?)
        }
        O::PsaSignMessage(op) => R::PsaSignMessage(
            need(provider.asymmetric_signing(), opcode)?.sign_message(app()?, op)?,
        ),
        O::PsaVerifyMessage(op) => R::PsaVerifyMessage(
            need(provider.asymmetric_signing(), opcode)?.verify_message(app()?, op)?,
        ),
        O::PsaAsymmetricEncrypt(op) => R::PsaAsymmetricEncrypt(
            need(provider.asymmetric_encryption(), opcode)?.asymmetric_encrypt(app()?, op)?,
        ),
        O::PsaAsymmetricDecrypt(op) => R::PsaAsymmetricDecrypt(
            need(provider.asymmetric_encryption(), opcode)?.asymmetric_decrypt(app()?, op)?,
        ),
        O::PsaAeadEncrypt(op) => {
            R::PsaAeadEncrypt(need(provider.aead(), opcode)?.aead_encrypt(app()?, op)?)
        }
        O::PsaAeadDecrypt(op) => {
            R::PsaAeadDecrypt(need(provider.aead(), opcode)?.aead_decrypt(app()?, op)?)
        }
        O::PsaCipherEncrypt(op) => {
            R::PsaCipherEncrypt(need(provider.cipher(), opcode)?.cipher_encrypt(app()?, op)?)
        }
        O::PsaCipherDecrypt(op) => {
            R::PsaCipherDecrypt(need(provider.cipher(), opcode)?.cipher_decrypt(app()?, op)?)
        }
        O::PsaMacCompute(op) => {
            R::PsaMacCompute(need(provider.mac(), opcode)?.mac_compute(app()?, op)?)
        }
        O::PsaMacVerify(op) => {
            R::PsaMacVerify(need(provider.mac(), opcode)?.mac_verify(app()?, op)?)
        }
        O::PsaHashCompute(op) => {
            R::PsaHashCompute(need(provider.hashing(), opcode)?.hash_compute(op)?)
        }
        O::PsaHashCompare(op) => {
            R::PsaHashCompare(need(provider.hashing(), opcode)?.hash_compare(op)?)
        }
        O::PsaRawKeyAgreement(op) => R::PsaRawKeyAgreement(
            need(provider.key_agreement(), opcode)?.raw_key_agreement(app()?, op)?,
        ),
        O::PsaGenerateRandom(op) => {
            R::PsaGenerateRandom(need(provider.random(), opcode)?.generate_random(op)?)
        }
        O::AttestKey(op) => {
            R::AttestKey(need(provider.attestation(), opcode)?.attest_key(app()?, op)?)
        }
        O::PrepareKeyAttestation(op) => R::PrepareKeyAttestation(
            need(provider.attestation(), opcode)?.prepare_key_attestation(app()?, op)?,
        ),
        O::CanDoCrypto(op) => R::CanDoCrypto(crate::can_do_crypto(
            need(provider.can_do_crypto(), opcode)?,
            op,
        )?),
        O::Ping(_)
        | O::ListProviders(_)
        | O::ListOpcodes(_)
        | O::ListAuthenticators(_)
        | O::ListKeys(_)
        | O::ListClients(_)
        | O::DeleteClient(_) => return Err(missing(opcode)),
        _ => return Err(missing(opcode)),
    })
}
