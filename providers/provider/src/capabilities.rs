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

/// Declares the routing of operations to capabilities from one table, and
/// derives from it both [`supported_opcodes`] and [`execute`], so that the
/// list a provider reports and the operations it answers can not differ.
///
/// Each row reads `Opcode => accessor.method(needs)`: the operation
/// `Opcode` is served by `method` of the capability that
/// `Provider::accessor` returns; `needs` is `app` if the operation needs an
/// authenticated application (which `execute` checks, and hands to the
/// method) or `anyone` if it does not. A test checks that the table names
/// every non-core opcode once and agrees with [`Opcode::needs_auth`] on
/// every row.
macro_rules! routing {
    ($( $opcode:ident => $accessor:ident . $method:ident ($needs:ident); )+) => {
        /// The opcodes a provider supports, derived from the capabilities it
        /// returns. Core opcodes are never in the list: they are the core
        /// provider's.
        pub fn supported_opcodes(provider: &dyn Provider) -> BTreeSet<Opcode> {
            let mut opcodes = BTreeSet::new();
            $(
                if provider.$accessor().is_some() {
                    opcodes.insert(Opcode::$opcode);
                }
            )+
            opcodes
        }

        /// Runs `op` on the capability of `provider` that implements it.
        ///
        /// `app` is the authenticated application, if any; an operation that
        /// needs one ([`Opcode::needs_auth`]) without one gives
        /// [`ProviderError::NotAuthenticated`]. A capability the provider
        /// lacks, or a core operation, gives [`ProviderError::NotSupported`]
        /// (a lacking capability is reported before a lacking application).
        pub fn execute(
            provider: &dyn Provider,
            app: Option<&Application>,
            op: NativeOperation,
        ) -> Result<NativeResult> {
            let opcode = op.opcode();
            let app = || app.ok_or(ProviderError::NotAuthenticated);
            Ok(match op {
                $(
                    NativeOperation::$opcode(op) => NativeResult::$opcode(routing!(
                        @call $needs, app, need(provider.$accessor(), opcode)?, $method, op
                    )?),
                )+
                NativeOperation::Ping(_)
                | NativeOperation::ListProviders(_)
                | NativeOperation::ListOpcodes(_)
                | NativeOperation::ListAuthenticators(_)
                | NativeOperation::ListKeys(_)
                | NativeOperation::ListClients(_)
                | NativeOperation::DeleteClient(_) => return Err(missing(opcode)),
                // Only an operation added to psec-interface after this table
                // (the enum is non-exhaustive) gets here; the routing test
                // fails until the table names it.
                _ => return Err(missing(opcode)),
            })
        }

        /// The table, for the tests: each opcode and whether it needs an
        /// application.
        #[cfg(test)]
        const ROUTES: &[(Opcode, bool)] = &[$( (Opcode::$opcode, routing!(@needs $needs)), )+];
    };
    (@call app, $app:ident, $capability:expr, $method:ident, $op:ident) => {
        $capability.$method($app()?, $op)
    };
    (@call anyone, $app:ident, $capability:expr, $method:ident, $op:ident) => {
        $capability.$method($op)
    };
    (@needs app) => { true };
    (@needs anyone) => { false };
}

routing! {
    PsaGenerateKey => key_management.generate_key(app);
    PsaImportKey => key_management.import_key(app);
    PsaExportPublicKey => key_management.export_public_key(app);
    PsaDestroyKey => key_management.destroy_key(app);
    PsaExportKey => key_export.export_key(app);
    PsaSignHash => asymmetric_signing.sign_hash(app);
    PsaVerifyHash => asymmetric_signing.verify_hash(app);
    PsaSignMessage => asymmetric_signing.sign_message(app);
    PsaVerifyMessage => asymmetric_signing.verify_message(app);
    PsaAsymmetricEncrypt => asymmetric_encryption.asymmetric_encrypt(app);
    PsaAsymmetricDecrypt => asymmetric_encryption.asymmetric_decrypt(app);
    PsaAeadEncrypt => aead.aead_encrypt(app);
    PsaAeadDecrypt => aead.aead_decrypt(app);
    PsaCipherEncrypt => cipher.cipher_encrypt(app);
    PsaCipherDecrypt => cipher.cipher_decrypt(app);
    PsaMacCompute => mac.mac_compute(app);
    PsaMacVerify => mac.mac_verify(app);
    PsaHashCompute => hashing.hash_compute(anyone);
    PsaHashCompare => hashing.hash_compare(anyone);
    PsaRawKeyAgreement => key_agreement.raw_key_agreement(app);
    PsaGenerateRandom => random.generate_random(anyone);
    AttestKey => attestation.attest_key(app);
    PrepareKeyAttestation => attestation.prepare_key_attestation(app);
    CanDoCrypto => can_do_crypto.answer(app);
}

impl dyn CanDoCrypto + '_ {
    /// CanDoCrypto: the provider's checks inside the common frame. Only an
    /// authenticated application may ask (as Parsec's opcode table says),
    /// but the answer is about the backend, the same for every one.
    fn answer(
        &self,
        _: &Application,
        op: can_do_crypto::Operation,
    ) -> Result<can_do_crypto::Result> {
        crate::can_do_crypto(self, op)
    }
}

fn missing(opcode: Opcode) -> ProviderError {
    ProviderError::NotSupported(format!("this provider does not implement {opcode:?}"))
}

/// The capability, or NotSupported for `opcode` if the provider lacks it.
fn need<T: ?Sized>(capability: Option<&T>, opcode: Opcode) -> Result<&T> {
    capability.ok_or_else(|| missing(opcode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use psec_interface::operations::attest_key::AttestationParams;
    use psec_interface::operations::can_do_crypto::CheckType;
    use psec_interface::operations::prepare_key_attestation::PrepareKeyAttestationParams;
    use psec_interface::psa_crypto::types::algorithm::{
        Aead as AeadAlg, AeadWithDefaultLengthTag, AsymmetricEncryption as EncryptionAlg,
        AsymmetricSignature, Cipher as CipherAlg, FullLengthMac, Hash, Mac as MacAlg,
        RawKeyAgreement,
    };
    use psec_interface::psa_crypto::types::key::{EccFamily, Lifetime, Policy, Type, UsageFlags};
    use psec_interface::{AuthType, ProviderId, ResponseStatus, SecretBytes};

    /// Which trait method the routing must call for each non-core opcode,
    /// written out here rather than taken from the table.
    const EXPECTED: &[(Opcode, &str)] = &[
        (Opcode::PsaGenerateKey, "KeyManagement::generate_key"),
        (Opcode::PsaDestroyKey, "KeyManagement::destroy_key"),
        (Opcode::PsaSignHash, "AsymmetricSigning::sign_hash"),
        (Opcode::PsaVerifyHash, "AsymmetricSigning::verify_hash"),
        (Opcode::PsaImportKey, "KeyManagement::import_key"),
        (
            Opcode::PsaExportPublicKey,
            "KeyManagement::export_public_key",
        ),
        (
            Opcode::PsaAsymmetricEncrypt,
            "AsymmetricEncryption::asymmetric_encrypt",
        ),
        (
            Opcode::PsaAsymmetricDecrypt,
            "AsymmetricEncryption::asymmetric_decrypt",
        ),
        (Opcode::PsaExportKey, "KeyExport::export_key"),
        (Opcode::PsaGenerateRandom, "Random::generate_random"),
        (Opcode::PsaHashCompute, "Hashing::hash_compute"),
        (Opcode::PsaHashCompare, "Hashing::hash_compare"),
        (Opcode::PsaAeadEncrypt, "Aead::aead_encrypt"),
        (Opcode::PsaAeadDecrypt, "Aead::aead_decrypt"),
        (
            Opcode::PsaRawKeyAgreement,
            "KeyAgreement::raw_key_agreement",
        ),
        (Opcode::PsaCipherEncrypt, "Cipher::cipher_encrypt"),
        (Opcode::PsaCipherDecrypt, "Cipher::cipher_decrypt"),
        (Opcode::PsaMacCompute, "Mac::mac_compute"),
        (Opcode::PsaMacVerify, "Mac::mac_verify"),
        (Opcode::PsaSignMessage, "AsymmetricSigning::sign_message"),
        (
            Opcode::PsaVerifyMessage,
            "AsymmetricSigning::verify_message",
        ),
        (Opcode::AttestKey, "Attestation::attest_key"),
        (
            Opcode::PrepareKeyAttestation,
            "Attestation::prepare_key_attestation",
        ),
        // The sample asks a Generate check, which the frame hands to
        // generate_check first.
        (Opcode::CanDoCrypto, "CanDoCrypto::generate_check"),
    ];

    /// Opcodes whose routing asks for the application but does not hand it
    /// on, because the answer is the same for every application.
    const APPLICATION_NOT_HANDED_ON: &[Opcode] = &[Opcode::CanDoCrypto];

    /// The recognisable answer of every method of [`Everything`]: a backend
    /// error whose context names the method and the application it got.
    fn called(method: &str, app: Option<&Application>) -> ProviderError {
        let who = app.map_or_else(|| "no application".to_string(), ToString::to_string);
        ProviderError::backend(
            ResponseStatus::PsaErrorBadState,
            format!("{method} for {who}"),
        )
    }

    /// Which method answered, and for whom, from [`called`]'s error.
    fn answered_by(result: Result<NativeResult>) -> String {
        match result {
            Err(ProviderError::Backend {
                status: ResponseStatus::PsaErrorBadState,
                context,
            }) => context,
            other => panic!("not an answer of the double: {other:?}"),
        }
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            uuid: ProviderId::MbedCrypto.uuid(),
            description: "test double".into(),
            vendor: "psec".into(),
            version_maj: 0,
            version_min: 1,
            version_rev: 0,
            id: ProviderId::MbedCrypto,
        }
    }

    /// A provider with every capability, whose every method answers
    /// [`called`].
    struct Everything;

    /// A provider with no capability.
    struct Nothing;

    impl Provider for Nothing {
        fn info(&self) -> ProviderInfo {
            info()
        }
    }

    impl Provider for Everything {
        fn info(&self) -> ProviderInfo {
            info()
        }
        fn key_management(&self) -> Option<&dyn KeyManagement> {
            Some(self)
        }
        fn key_export(&self) -> Option<&dyn KeyExport> {
            Some(self)
        }
        fn asymmetric_signing(&self) -> Option<&dyn AsymmetricSigning> {
            Some(self)
        }
        fn asymmetric_encryption(&self) -> Option<&dyn AsymmetricEncryption> {
            Some(self)
        }
        fn aead(&self) -> Option<&dyn Aead> {
            Some(self)
        }
        fn cipher(&self) -> Option<&dyn Cipher> {
            Some(self)
        }
        fn mac(&self) -> Option<&dyn Mac> {
            Some(self)
        }
        fn hashing(&self) -> Option<&dyn Hashing> {
            Some(self)
        }
        fn key_agreement(&self) -> Option<&dyn KeyAgreement> {
            Some(self)
        }
        fn random(&self) -> Option<&dyn Random> {
            Some(self)
        }
        fn attestation(&self) -> Option<&dyn Attestation> {
            Some(self)
        }
        fn can_do_crypto(&self) -> Option<&dyn CanDoCrypto> {
            Some(self)
        }
    }

    /// Implements trait methods that take the application as [`called`].
    macro_rules! answer {
        ($trait:ident: $( $method:ident($module:ident) ),+) => {
            impl $trait for Everything {
                $(
                    fn $method(
                        &self,
                        app: &Application,
                        _: $module::Operation,
                    ) -> Result<$module::Result> {
                        Err(called(concat!(stringify!($trait), "::", stringify!($method)), Some(app)))
                    }
                )+
            }
        };
    }

    answer!(KeyManagement: generate_key(psa_generate_key), import_key(psa_import_key),
        export_public_key(psa_export_public_key), destroy_key(psa_destroy_key));
    answer!(KeyExport: export_key(psa_export_key));
    answer!(AsymmetricSigning: sign_hash(psa_sign_hash), verify_hash(psa_verify_hash),
        sign_message(psa_sign_message), verify_message(psa_verify_message));
    answer!(AsymmetricEncryption: asymmetric_encrypt(psa_asymmetric_encrypt),
        asymmetric_decrypt(psa_asymmetric_decrypt));
    answer!(Aead: aead_encrypt(psa_aead_encrypt), aead_decrypt(psa_aead_decrypt));
    answer!(Cipher: cipher_encrypt(psa_cipher_encrypt), cipher_decrypt(psa_cipher_decrypt));
    answer!(Mac: mac_compute(psa_mac_compute), mac_verify(psa_mac_verify));
    answer!(KeyAgreement: raw_key_agreement(psa_raw_key_agreement));
    answer!(Attestation: attest_key(attest_key),
        prepare_key_attestation(prepare_key_attestation));

    impl Hashing for Everything {
        fn hash_compute(&self, _: psa_hash_compute::Operation) -> Result<psa_hash_compute::Result> {
            Err(called("Hashing::hash_compute", None))
        }
        fn hash_compare(&self, _: psa_hash_compare::Operation) -> Result<psa_hash_compare::Result> {
            Err(called("Hashing::hash_compare", None))
        }
    }

    impl Random for Everything {
        fn generate_random(
            &self,
            _: psa_generate_random::Operation,
        ) -> Result<psa_generate_random::Result> {
            Err(called("Random::generate_random", None))
        }
    }

    impl CanDoCrypto for Everything {
        fn generate_check(&self, _: &Attributes) -> Result<()> {
            Err(called("CanDoCrypto::generate_check", None))
        }
        fn import_check(&self, _: &Attributes) -> Result<()> {
            Err(called("CanDoCrypto::import_check", None))
        }
        fn use_check(&self, _: &Attributes) -> Result<()> {
            Err(called("CanDoCrypto::use_check", None))
        }
    }

    fn attributes() -> Attributes {
        let mut usage_flags = UsageFlags::default();
        usage_flags.set_sign_hash();
        Attributes {
            lifetime: Lifetime::Persistent,
            key_type: Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            },
            bits: 256,
            policy: Policy {
                usage_flags,
                permitted_algorithms: signature().into(),
            },
        }
    }

    fn signature() -> AsymmetricSignature {
        AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        }
    }

    fn bytes() -> SecretBytes {
        SecretBytes::new(vec![1, 2, 3])
    }

    /// An operation for every non-core opcode; panics on an opcode it does
    /// not know, so a new one fails the tests until it has a sample.
    fn sample(opcode: Opcode) -> NativeOperation {
        use NativeOperation as O;
        let key_name = || "k".to_string();
        let hmac = MacAlg::FullLength(FullLengthMac::Hmac {
            hash_alg: Hash::Sha256,
        });
        let gcm = AeadAlg::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);
        match opcode {
            Opcode::PsaGenerateKey => O::PsaGenerateKey(psa_generate_key::Operation {
                key_name: key_name(),
                attributes: attributes(),
            }),
            Opcode::PsaDestroyKey => O::PsaDestroyKey(psa_destroy_key::Operation {
                key_name: key_name(),
            }),
            Opcode::PsaSignHash => O::PsaSignHash(psa_sign_hash::Operation {
                key_name: key_name(),
                alg: signature(),
                hash: vec![0; 32],
            }),
            Opcode::PsaVerifyHash => O::PsaVerifyHash(psa_verify_hash::Operation {
                key_name: key_name(),
                alg: signature(),
                hash: vec![0; 32],
                signature: vec![0; 64],
            }),
            Opcode::PsaImportKey => O::PsaImportKey(psa_import_key::Operation {
                key_name: key_name(),
                attributes: attributes(),
                data: bytes(),
            }),
            Opcode::PsaExportPublicKey => O::PsaExportPublicKey(psa_export_public_key::Operation {
                key_name: key_name(),
            }),
            Opcode::PsaAsymmetricEncrypt => {
                O::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
                    key_name: key_name(),
                    alg: EncryptionAlg::RsaPkcs1v15Crypt,
                    plaintext: bytes(),
                    salt: None,
                })
            }
            Opcode::PsaAsymmetricDecrypt => {
                O::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
                    key_name: key_name(),
                    alg: EncryptionAlg::RsaPkcs1v15Crypt,
                    ciphertext: vec![1],
                    salt: None,
                })
            }
            Opcode::PsaExportKey => O::PsaExportKey(psa_export_key::Operation {
                key_name: key_name(),
            }),
            Opcode::PsaGenerateRandom => {
                O::PsaGenerateRandom(psa_generate_random::Operation { size: 8 })
            }
            Opcode::PsaHashCompute => O::PsaHashCompute(psa_hash_compute::Operation {
                alg: Hash::Sha256,
                input: bytes(),
            }),
            Opcode::PsaHashCompare => O::PsaHashCompare(psa_hash_compare::Operation {
                alg: Hash::Sha256,
                input: bytes(),
                hash: vec![0; 32],
            }),
            Opcode::PsaAeadEncrypt => O::PsaAeadEncrypt(psa_aead_encrypt::Operation {
                key_name: key_name(),
                alg: gcm,
                nonce: vec![0; 12],
                additional_data: vec![],
                plaintext: bytes(),
            }),
            Opcode::PsaAeadDecrypt => O::PsaAeadDecrypt(psa_aead_decrypt::Operation {
                key_name: key_name(),
                alg: gcm,
                nonce: vec![0; 12],
                additional_data: vec![],
                ciphertext: vec![0; 16],
            }),
            Opcode::PsaRawKeyAgreement => O::PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
                alg: RawKeyAgreement::Ecdh,
                private_key_name: key_name(),
                peer_key: vec![4],
            }),
            Opcode::PsaCipherEncrypt => O::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
                key_name: key_name(),
                alg: CipherAlg::Ctr,
                plaintext: bytes(),
            }),
            Opcode::PsaCipherDecrypt => O::PsaCipherDecrypt(psa_cipher_decrypt::Operation {
                key_name: key_name(),
                alg: CipherAlg::Ctr,
                ciphertext: vec![1],
            }),
            Opcode::PsaMacCompute => O::PsaMacCompute(psa_mac_compute::Operation {
                key_name: key_name(),
                alg: hmac,
                input: bytes(),
            }),
            Opcode::PsaMacVerify => O::PsaMacVerify(psa_mac_verify::Operation {
                key_name: key_name(),
                alg: hmac,
                input: bytes(),
                mac: vec![0; 32],
            }),
            Opcode::PsaSignMessage => O::PsaSignMessage(psa_sign_message::Operation {
                key_name: key_name(),
                alg: signature(),
                message: bytes(),
            }),
            Opcode::PsaVerifyMessage => O::PsaVerifyMessage(psa_verify_message::Operation {
                key_name: key_name(),
                alg: signature(),
                message: bytes(),
                signature: vec![0; 64],
            }),
            Opcode::AttestKey => O::AttestKey(attest_key::Operation {
                attested_key_name: key_name(),
                parameters: AttestationParams::ActivateCredential {
                    credential_blob: vec![1],
                    secret: vec![2],
                },
                attesting_key_name: None,
            }),
            Opcode::PrepareKeyAttestation => {
                O::PrepareKeyAttestation(prepare_key_attestation::Operation {
                    parameters: PrepareKeyAttestationParams::ActivateCredential {
                        attested_key_name: key_name(),
                        attesting_key_name: None,
                    },
                })
            }
            Opcode::CanDoCrypto => O::CanDoCrypto(can_do_crypto::Operation {
                check_type: CheckType::Generate,
                attributes: attributes(),
            }),
            other => panic!("no sample operation for {other:?}"),
        }
    }

    /// An operation for every core opcode.
    fn core_sample(opcode: Opcode) -> NativeOperation {
        use NativeOperation as O;
        match opcode {
            Opcode::Ping => O::Ping(ping::Operation {}),
            Opcode::ListProviders => O::ListProviders(list_providers::Operation {}),
            Opcode::ListOpcodes => O::ListOpcodes(list_opcodes::Operation {
                provider_id: ProviderId::MbedCrypto,
            }),
            Opcode::ListAuthenticators => O::ListAuthenticators(list_authenticators::Operation {}),
            Opcode::ListKeys => O::ListKeys(list_keys::Operation {}),
            Opcode::ListClients => O::ListClients(list_clients::Operation {}),
            Opcode::DeleteClient => {
                O::DeleteClient(delete_client::Operation { client: "c".into() })
            }
            other => panic!("no sample operation for {other:?}"),
        }
    }

    fn crypto_opcodes() -> impl Iterator<Item = Opcode> {
        Opcode::ALL
            .iter()
            .copied()
            .filter(|opcode| !opcode.is_core())
    }

    fn core_opcodes() -> impl Iterator<Item = Opcode> {
        Opcode::ALL
            .iter()
            .copied()
            .filter(|opcode| opcode.is_core())
    }

    #[test]
    fn the_table_names_every_non_core_opcode_once_and_no_core_opcode() {
        let table: Vec<Opcode> = ROUTES.iter().map(|(opcode, _)| *opcode).collect();
        let unique: BTreeSet<Opcode> = table.iter().copied().collect();
        assert_eq!(unique.len(), table.len(), "an opcode twice: {table:?}");
        assert_eq!(unique, crypto_opcodes().collect::<BTreeSet<_>>());
        let expected: BTreeSet<Opcode> = EXPECTED.iter().map(|(opcode, _)| *opcode).collect();
        assert_eq!(expected, unique, "the test's own list is out of date");
    }

    #[test]
    fn the_table_asks_for_an_application_exactly_where_the_opcode_needs_one() {
        for &(opcode, needs_app) in ROUTES {
            assert_eq!(needs_app, opcode.needs_auth(), "{opcode:?}");
        }
    }

    #[test]
    fn a_provider_with_every_capability_lists_every_non_core_opcode() {
        assert_eq!(
            supported_opcodes(&Everything),
            crypto_opcodes().collect::<BTreeSet<_>>()
        );
    }

    #[test]
    fn every_non_core_opcode_is_routed_to_its_method_with_the_application() {
        let alice = Application::new(AuthType::UnixPeerCredentials, "alice");
        for &(opcode, method) in EXPECTED {
            let answer = answered_by(execute(&Everything, Some(&alice), sample(opcode)));
            let takes_app = opcode.needs_auth() && !APPLICATION_NOT_HANDED_ON.contains(&opcode);
            let expected = if takes_app {
                format!("{method} for {alice}")
            } else {
                format!("{method} for no application")
            };
            assert_eq!(answer, expected, "{opcode:?}");
        }
    }

    #[test]
    fn an_operation_that_needs_an_application_is_refused_without_one() {
        for &(opcode, method) in EXPECTED {
            let result = execute(&Everything, None, sample(opcode));
            if opcode.needs_auth() {
                assert!(
                    matches!(result, Err(ProviderError::NotAuthenticated)),
                    "{opcode:?}: {result:?}"
                );
            } else {
                assert_eq!(answered_by(result), format!("{method} for no application"));
            }
        }
    }

    #[test]
    fn a_provider_with_no_capability_lists_nothing_and_supports_nothing() {
        assert!(supported_opcodes(&Nothing).is_empty());
        let alice = Application::new(AuthType::UnixPeerCredentials, "alice");
        for opcode in crypto_opcodes() {
            for app in [None, Some(&alice)] {
                let error = execute(&Nothing, app, sample(opcode)).unwrap_err();
                assert_eq!(
                    error.status(),
                    ResponseStatus::PsaErrorNotSupported,
                    "{opcode:?}"
                );
            }
        }
    }

    #[test]
    fn a_core_operation_sent_to_a_provider_is_not_supported() {
        let alice = Application::new(AuthType::UnixPeerCredentials, "alice");
        for opcode in core_opcodes() {
            for app in [None, Some(&alice)] {
                let error = execute(&Everything, app, core_sample(opcode)).unwrap_err();
                assert_eq!(
                    error.status(),
                    ResponseStatus::PsaErrorNotSupported,
                    "{opcode:?}"
                );
            }
        }
    }
}
