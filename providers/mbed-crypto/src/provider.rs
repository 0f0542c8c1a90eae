//! The provider itself: construction, recovery of what a crash left, and
//! the capabilities it returns.

use crate::backend::{self, KeyId, Psa, psa_error};
use psec_interface::ProviderId;
use psec_interface::operations::list_providers::ProviderInfo;
use psec_provider::{
    Aead, AsymmetricEncryption, AsymmetricSigning, CanDoCrypto, Cipher, Hashing, KeyAgreement,
    KeyBackend, KeyExport, KeyInfo, KeyLifecycle, KeyManagement, KeyStore, Mac, Provider,
    ProviderError, Random,
};
use std::fmt;
use std::sync::Arc;

/// Settings of the Mbed Crypto provider. None is needed today; the type
/// exists so that settings can be added without breaking callers.
///
/// Where keys are kept is not a setting: Mbed TLS writes them to the
/// working directory of the process (see the crate documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MbedCryptoSettings {}

/// The Mbed Crypto provider: PSA Crypto operations done in this process by
/// Mbed TLS, on persistent PSA keys. Built by [`build`].
pub struct MbedCryptoProvider {
    /// Which application owns which PSA key, under the configured name.
    keys: KeyLifecycle,
}

impl fmt::Debug for MbedCryptoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MbedCryptoProvider")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// Starts Mbed TLS, finishes the key creations and destructions a crash
/// left half-done for provider `name`, and returns the provider.
///
/// Mbed TLS keeps its keys in files in the current working directory, so
/// the caller sets that directory (one private to this service) before
/// building the provider.
pub fn build(
    name: String,
    key_store: Arc<dyn KeyStore>,
    settings: MbedCryptoSettings,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let provider = MbedCryptoProvider::new(name, key_store, settings)?;
    Ok(Arc::new(provider))
}

impl MbedCryptoProvider {
    pub(crate) fn new(
        name: String,
        key_store: Arc<dyn KeyStore>,
        settings: MbedCryptoSettings,
    ) -> Result<Self, ProviderError> {
        let MbedCryptoSettings {} = settings;
        backend::init()?;
        let provider = MbedCryptoProvider {
            keys: KeyLifecycle::new(name, key_store),
        };
        provider.keys.recover(&provider)?;
        Ok(provider)
    }

    /// The configured name of this provider.
    pub fn name(&self) -> &str {
        self.keys.provider()
    }

    /// This provider's keys in the key store.
    pub(crate) fn keys(&self) -> &KeyLifecycle {
        &self.keys
    }
}

/// A PSA key's backend id is its key id; destroying one that Mbed TLS
/// does not have (never made, or its file removed) is no error.
impl KeyBackend for MbedCryptoProvider {
    fn destroy(&self, info: &KeyInfo) -> Result<bool, ProviderError> {
        let key_id = KeyId::from_backend_id(&info.backend_id)?;
        Psa::lock()
            .destroy_if_present(key_id)
            .map_err(|error| psa_error(error, format!("destroying PSA key {:#x}", key_id.0)))
    }
}

fn version_part(text: &str) -> u32 {
    text.parse().unwrap_or(0)
}

impl Provider for MbedCryptoProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            uuid: ProviderId::MbedCrypto.uuid(),
            description: "User space software provider, based on Mbed TLS 3.5 through psa-crypto"
                .to_owned(),
            vendor: "Trusted Firmware".to_owned(),
            version_maj: version_part(env!("CARGO_PKG_VERSION_MAJOR")),
            version_min: version_part(env!("CARGO_PKG_VERSION_MINOR")),
            version_rev: version_part(env!("CARGO_PKG_VERSION_PATCH")),
            id: ProviderId::MbedCrypto,
        }
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
    fn can_do_crypto(&self) -> Option<&dyn CanDoCrypto> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::public_key;
    use crate::test_support::*;
    use psa_crypto::operations::key_management;
    use psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
    use psa_crypto::types::key::{EccFamily, Type};
    use psec_interface::ResponseStatus;
    use psec_interface::operations::{
        can_do_crypto, psa_export_public_key, psa_generate_key, psa_sign_hash,
    };
    use psec_interface::{NativeOperation, NativeResult, Opcode};
    use psec_provider::{Application, KeyIdentity, execute, supported_opcodes};

    #[test]
    fn every_opcode_but_attestation_is_supported() {
        let (_, provider) = setup();
        let opcodes = supported_opcodes(&provider);
        assert_eq!(opcodes.len(), 22, "{opcodes:?}");
        assert!(!opcodes.contains(&Opcode::AttestKey));
        assert!(!opcodes.contains(&Opcode::PrepareKeyAttestation));
        assert!(opcodes.contains(&Opcode::PsaSignMessage));
        assert!(opcodes.contains(&Opcode::CanDoCrypto));
    }

    #[test]
    fn info_names_the_mbed_crypto_provider() {
        let (_, provider) = setup();
        let info = provider.info();
        assert_eq!(info.id, ProviderId::MbedCrypto);
        assert_eq!(info.uuid, ProviderId::MbedCrypto.uuid());
        assert_eq!(provider.name(), PROVIDER_NAME);
    }

    #[test]
    fn build_returns_a_provider_with_the_same_capabilities() {
        in_test_dir();
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let provider = build("p".into(), store, MbedCryptoSettings::default()).unwrap();
        assert_eq!(supported_opcodes(provider.as_ref()).len(), 22);
    }

    #[test]
    fn operations_route_through_execute() {
        let (_, provider) = setup();
        let owner = app("alice");
        let attributes = ecc_p256_signing_key();
        let can_do = NativeOperation::CanDoCrypto(can_do_crypto::Operation {
            check_type: can_do_crypto::CheckType::Generate,
            attributes,
        });
        let error = execute(&provider, None, can_do.clone()).unwrap_err();
        assert!(matches!(error, ProviderError::NotAuthenticated), "{error}");
        execute(&provider, Some(&owner), can_do).unwrap();
        let generate = NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
            key_name: "k".into(),
            attributes,
        });
        let error = execute(&provider, None, generate.clone()).unwrap_err();
        assert!(matches!(error, ProviderError::NotAuthenticated), "{error}");
        execute(&provider, Some(&owner), generate).unwrap();
        let export = NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
            key_name: "k".into(),
        });
        let result = execute(&provider, Some(&owner), export).unwrap();
        assert!(matches!(result, NativeResult::PsaExportPublicKey(_)));
    }

    #[test]
    fn many_threads_can_use_one_provider_at_once() {
        let (_, provider) = setup();
        let provider = Arc::new(provider);
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let provider = Arc::clone(&provider);
                std::thread::spawn(move || {
                    let owner = app(&format!("thread-{thread}"));
                    for round in 0..5 {
                        let name = format!("k{round}");
                        generate(&*provider, &owner, &name, ecc_p256_signing_key()).unwrap();
                        let op = psa_sign_hash::Operation {
                            key_name: name.clone(),
                            alg,
                            hash: vec![round; 32],
                        };
                        provider.sign_hash(&owner, op).unwrap();
                        destroy(&*provider, &owner, &name).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }

    /// Eight threads at once, against the real Mbed TLS (run in parallel
    /// on a thread-safe one, ci/mbedtls-threaded.sh): each signs with a
    /// key all share and with keys it creates, checks every signature with
    /// the key's public half (a volatile key in Mbed TLS) and through the
    /// provider, and destroys its keys; meanwhile one shared key is
    /// destroyed while every thread signs with it. Every signature made
    /// verifies, every key created is usable and, once destroyed, gone
    /// from the store and from Mbed TLS; a signature with the key
    /// destroyed mid-way is either made (and verifies) or refused as a key
    /// that does not exist.
    #[test]
    fn eight_threads_sign_create_and_destroy_keys_and_every_signature_verifies() {
        const THREADS: u8 = 8;
        const ROUNDS: u8 = 6;
        let (store, provider) = setup();
        let provider = Arc::new(provider);
        let alg = AsymmetricSignature::Ecdsa {
            hash_alg: Hash::Sha256.into(),
        };
        let owner = app("everyone");
        for name in ["shared", "doomed"] {
            generate(&*provider, &owner, name, ecc_p256_signing_key()).unwrap();
        }
        let shared_public = export_public(&*provider, &owner, "shared").unwrap();
        let doomed_public = export_public(&*provider, &owner, "doomed").unwrap();
        let doomed_id = key_id_of(&store, &owner, "doomed");
        let verifies = move |public: &[u8], hash: &[u8], signature: &[u8]| {
            let key = public_key::PublicKey {
                key_type: Type::EccPublicKey {
                    curve_family: EccFamily::SecpR1,
                },
                data: public,
            };
            public_key::verify_hash(key, alg, hash, signature).is_ok()
        };
        let start = Arc::new(std::sync::Barrier::new(usize::from(THREADS) + 1));
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (provider, store, start) = (provider.clone(), store.clone(), start.clone());
                let (owner, shared_public) = (owner.clone(), shared_public.clone());
                let doomed_public = doomed_public.clone();
                std::thread::spawn(move || {
                    let mine = app(&format!("thread-{thread}"));
                    let mut signatures = 0;
                    start.wait();
                    for round in 0..ROUNDS {
                        let hash = [thread, round].repeat(16);
                        // The key another thread is destroying.
                        match sign_hash(&*provider, &owner, "doomed", alg, &hash) {
                            Ok(signature) => {
                                assert!(verifies(&doomed_public, &hash, &signature));
                                signatures += 1;
                            }
                            Err(error) => assert_eq!(
                                error.status(),
                                ResponseStatus::PsaErrorDoesNotExist,
                                "{error}"
                            ),
                        }
                        let signature =
                            sign_hash(&*provider, &owner, "shared", alg, &hash).unwrap();
                        assert!(verifies(&shared_public, &hash, &signature));
                        verify_hash(&*provider, &owner, "shared", alg, &hash, &signature).unwrap();
                        signatures += 1;
                        let name = format!("k{round}");
                        generate(&*provider, &mine, &name, ecc_p256_signing_key()).unwrap();
                        let key_id = key_id_of(&store, &mine, &name);
                        assert!(backend_key_exists(key_id));
                        let public = export_public(&*provider, &mine, &name).unwrap();
                        let signature = sign_hash(&*provider, &mine, &name, alg, &hash).unwrap();
                        assert!(verifies(&public, &hash, &signature));
                        verify_hash(&*provider, &mine, &name, alg, &hash, &signature).unwrap();
                        signatures += 1;
                        destroy(&*provider, &mine, &name).unwrap();
                        assert!(store.get(&identity_of(&mine, &name)).unwrap().is_none());
                        assert!(!backend_key_exists(key_id), "{name} of {mine:?}");
                        let error = sign_hash(&*provider, &mine, &name, alg, &hash).unwrap_err();
                        assert_eq!(error.status(), ResponseStatus::PsaErrorDoesNotExist);
                    }
                    signatures
                })
            })
            .collect();
        start.wait();
        destroy(&*provider, &owner, "doomed").unwrap();
        let signatures: usize = threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum();
        let per_thread = 2 * usize::from(ROUNDS);
        assert!(
            signatures >= usize::from(THREADS) * per_thread,
            "{signatures}"
        );
        assert!(!backend_key_exists(doomed_id));
        assert_eq!(store.keys_in(PROVIDER_NAME).unwrap().len(), 1);
        let hash = [7; 32];
        let signature = sign_hash(&*provider, &owner, "shared", alg, &hash).unwrap();
        assert!(verifies(&shared_public, &hash, &signature));
    }

    /// The Mbed TLS key id of `owner`'s key `name`, from the store.
    fn key_id_of(store: &InMemoryKeyStoreForTests, owner: &Application, name: &str) -> KeyId {
        let info = store.get(&identity_of(owner, name)).unwrap().unwrap();
        KeyId::from_backend_id(&info.backend_id).unwrap()
    }

    /// A row `Creating` whose backend key was made: the crash came between
    /// the backend and `commit_create`.
    fn creating_row_with_backend_key(store: &InMemoryKeyStoreForTests) -> (KeyIdentity, KeyId) {
        let identity = identity_of(&app("crashed"), "half-made");
        let attributes = ecc_p256_signing_key();
        let psa = Psa::lock();
        let key_id = psa.free_key_id().unwrap().key_id();
        let info = KeyInfo {
            backend_id: key_id.to_backend_id(),
            attributes,
        };
        store.begin_create(&identity, &info).unwrap();
        key_management::generate(attributes, Some(key_id.0)).unwrap();
        (identity, key_id)
    }

    /// A row `Destroying` whose backend key still exists.
    fn destroying_row_with_backend_key(
        provider: &MbedCryptoProvider,
        store: &InMemoryKeyStoreForTests,
    ) -> (KeyIdentity, KeyId) {
        let owner = app("crashed");
        generate(provider, &owner, "half-destroyed", ecc_p256_signing_key()).unwrap();
        let identity = identity_of(&owner, "half-destroyed");
        let info = store.begin_destroy(&identity).unwrap().unwrap();
        (identity, KeyId::from_backend_id(&info.backend_id).unwrap())
    }

    #[test]
    fn start_up_destroys_the_backend_keys_of_unfinished_rows_and_drops_the_rows() {
        let (store, provider) = setup();
        let (creating, creating_id) = creating_row_with_backend_key(&store);
        let (destroying, destroying_id) = destroying_row_with_backend_key(&provider, &store);
        assert_eq!(store.unfinished(PROVIDER_NAME).unwrap().len(), 2);
        assert!(backend_key_exists(creating_id));
        assert!(backend_key_exists(destroying_id));

        let restarted = restart(&store);

        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        assert!(!backend_key_exists(creating_id));
        assert!(!backend_key_exists(destroying_id));
        // Both names are free again.
        for identity in [creating, destroying] {
            generate(
                &restarted,
                &identity.application,
                &identity.key_name,
                ecc_p256_signing_key(),
            )
            .unwrap();
        }
    }

    #[test]
    fn start_up_drops_a_creating_row_whose_backend_key_was_never_made() {
        let (store, _) = setup();
        let identity = identity_of(&app("crashed"), "never-made");
        let key_id = Psa::lock().free_key_id().unwrap().key_id();
        let info = KeyInfo {
            backend_id: key_id.to_backend_id(),
            attributes: ecc_p256_signing_key(),
        };
        store.begin_create(&identity, &info).unwrap();

        restart(&store);

        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        assert!(!backend_key_exists(key_id));
    }

    #[test]
    fn start_up_leaves_other_providers_rows_alone() {
        let (store, _) = setup();
        let mut identity = identity_of(&app("other"), "theirs");
        identity.provider = "another-provider".into();
        let info = KeyInfo {
            backend_id: vec![1, 0, 0, 0],
            attributes: ecc_p256_signing_key(),
        };
        store.begin_create(&identity, &info).unwrap();

        restart(&store);

        assert_eq!(store.unfinished("another-provider").unwrap().len(), 1);
    }
}
