//! The provider itself: settings, construction, the start-up checks and
//! recovery, and the capabilities it returns.

use crate::blob::KeyBlob;
use crate::support::Support;
use crate::tpm::{Connection, Tpm};
use psec_interface::operations::list_providers::ProviderInfo;
use psec_interface::{ProviderId, ResponseStatus};
use psec_provider::{
    AsymmetricEncryption, AsymmetricSigning, Attestation, CanDoCrypto, Hashing, KeyBackend,
    KeyInfo, KeyLifecycle, KeyManagement, KeyStore, Provider, ProviderError, Random,
};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use zeroize::Zeroizing;

/// Settings of the TPM provider, as the service's configuration gives them.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TpmSettings {
    /// The TCTI as Parsec writes it: `device:/dev/tpmrm0`,
    /// `mssim:host=127.0.0.1,port=2321`, `swtpm:host=..,port=..`,
    /// `tabrmd:bus_name=..`.
    pub tcti: String,
    /// The owner hierarchy's auth value, already decoded from the
    /// configuration's `str:` or `hex:` form. Empty if it has none.
    pub owner_hierarchy_auth: Zeroizing<Vec<u8>>,
    /// The endorsement hierarchy's auth value, decoded: key attestation
    /// uses the endorsement key.
    pub endorsement_hierarchy_auth: Zeroizing<Vec<u8>>,
}

impl TpmSettings {
    /// Settings for the TPM at `tcti`, with empty hierarchy auths.
    pub fn new(tcti: impl Into<String>) -> Self {
        TpmSettings {
            tcti: tcti.into(),
            owner_hierarchy_auth: Zeroizing::new(Vec::new()),
            endorsement_hierarchy_auth: Zeroizing::new(Vec::new()),
        }
    }

    /// With the owner hierarchy auth `auth`.
    pub fn with_owner_hierarchy_auth(mut self, auth: Zeroizing<Vec<u8>>) -> Self {
        self.owner_hierarchy_auth = auth;
        self
    }

    /// With the endorsement hierarchy auth `auth`.
    pub fn with_endorsement_hierarchy_auth(mut self, auth: Zeroizing<Vec<u8>>) -> Self {
        self.endorsement_hierarchy_auth = auth;
        self
    }
}

impl fmt::Debug for TpmSettings {
    /// Never shows the auth values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TpmSettings")
            .field("tcti", &self.tcti)
            .field("owner_hierarchy_auth", &"<redacted>")
            .field("endorsement_hierarchy_auth", &"<redacted>")
            .finish()
    }
}

/// The TPM provider: keys wrapped by a TPM 2.0, used one at a time in it.
/// Built by [`build`].
pub struct TpmProvider {
    /// Which application owns which wrapped key, under the configured
    /// name.
    keys: KeyLifecycle,
    /// The TPM; every command goes through this lock.
    tpm: Mutex<Tpm>,
    /// What the TPM implements.
    support: Support,
}

impl fmt::Debug for TpmProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TpmProvider")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// Connects to the TPM, re-creates the storage primary key, checks that it
/// is the one the stored keys were made under, finishes the key steps a
/// crash left half-done for provider `name`, and returns the provider.
///
/// # Errors
///
/// - no TPM answers at the TCTI: a backend error with status
///   `PsaErrorCommunicationFailure`;
/// - the owner hierarchy auth is wrong, or the TPM is in dictionary-attack
///   lockout: status `PsaErrorNotPermitted`, the message says which;
/// - the TPM was cleared (or is another TPM) since keys were made: status
///   `PsaErrorCorruptionDetected`;
/// - a TCTI string that can not be read: `InvalidArgument`.
pub fn build(
    name: String,
    key_store: Arc<dyn KeyStore>,
    settings: TpmSettings,
) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(Arc::new(TpmProvider::new(name, key_store, settings)?))
}

impl TpmProvider {
    pub(crate) fn new(
        name: String,
        key_store: Arc<dyn KeyStore>,
        settings: TpmSettings,
    ) -> Result<Self, ProviderError> {
        let mut tpm = Tpm::open(&Connection {
            tcti: &settings.tcti,
            owner_auth: &settings.owner_hierarchy_auth,
            endorsement_auth: &settings.endorsement_hierarchy_auth,
        })?;
        let support = Support::query(&mut tpm)?;
        log::info!(
            "{name}: TPM at `{}`: hashes {:?}, P-curves {:?}, RSA sizes {:?}",
            settings.tcti,
            support.hashes,
            support.ecc_bits,
            support.rsa_bits
        );
        let provider = TpmProvider {
            keys: KeyLifecycle::new(name, key_store),
            tpm: Mutex::new(tpm),
            support,
        };
        provider.keys.recover(&provider)?;
        provider.check_primary()?;
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

    pub(crate) fn support(&self) -> &Support {
        &self.support
    }

    /// The TPM, for one sequence of commands. A panic in another thread's
    /// sequence leaves the TPM usable: each sequence loads what it needs.
    pub(crate) fn tpm(&self) -> MutexGuard<'_, Tpm> {
        self.tpm.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks that every stored key pair was made under the primary key the
    /// TPM has now. A TPM cleared (or replaced) since gives another primary
    /// key, under which none of them loads: that is reported here rather
    /// than as failures of each later operation.
    fn check_primary(&self) -> Result<(), ProviderError> {
        let tpm = self.tpm();
        let current = tpm.primary_name();
        let mut lost = 0usize;
        for (_, info) in self.keys.store().keys_in(self.name())? {
            match KeyBlob::from_backend_id(&info.backend_id) {
                Ok(KeyBlob::Pair { parent_name, .. }) if parent_name != current => lost += 1,
                Ok(_) => {}
                // One unreadable row fails its own operations, not the start.
                Err(error) => log::warn!("{}: {error}", self.name()),
            }
        }
        if lost == 0 {
            return Ok(());
        }
        Err(ProviderError::backend(
            ResponseStatus::PsaErrorCorruptionDetected,
            format!(
                "{lost} key(s) of provider `{}` were made under another storage primary key \
                 than this TPM's: the TPM was cleared, or this is another TPM; those keys can \
                 not be loaded any more and must be destroyed",
                self.name()
            ),
        ))
    }
}

/// A key pair is wrapped under the storage primary key and lives in its
/// row only, so the TPM holds nothing to destroy.
impl KeyBackend for TpmProvider {
    fn destroy(&self, _: &KeyInfo) -> Result<bool, ProviderError> {
        Ok(false)
    }
}

fn version_part(text: &str) -> u32 {
    text.parse().unwrap_or(0)
}

impl Provider for TpmProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            uuid: ProviderId::Tpm.uuid(),
            description: "TPM provider, interfacing with a library implementing the TCG TSS 2.0 \
                          Enhanced System API specification"
                .to_owned(),
            vendor: "Trusted Computing Group (TCG)".to_owned(),
            version_maj: version_part(env!("CARGO_PKG_VERSION_MAJOR")),
            version_min: version_part(env!("CARGO_PKG_VERSION_MINOR")),
            version_rev: version_part(env!("CARGO_PKG_VERSION_PATCH")),
            id: ProviderId::Tpm,
        }
    }

    fn key_management(&self) -> Option<&dyn KeyManagement> {
        Some(self)
    }
    fn asymmetric_signing(&self) -> Option<&dyn AsymmetricSigning> {
        Some(self)
    }
    fn asymmetric_encryption(&self) -> Option<&dyn AsymmetricEncryption> {
        Some(self)
    }
    fn hashing(&self) -> Option<&dyn Hashing> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::Opcode;
    use psec_interface::operations::{psa_generate_key, psa_sign_hash};
    use psec_interface::{NativeOperation, NativeResult};
    use psec_provider::{Hashing, Random, execute, supported_opcodes};
    use tss_esapi::Context;
    use tss_esapi::handles::AuthHandle;
    use tss_esapi::interface_types::session_handles::AuthSession;
    use tss_esapi::structures::Auth;
    use tss_esapi::tcti_ldr::TctiNameConf;

    /// Runs `f` on a context of our own on `swtpm` (no provider may be
    /// connected: swtpm serves one client at a time).
    fn on_tpm(swtpm: &Swtpm, f: impl FnOnce(&mut Context)) {
        let tcti: TctiNameConf = swtpm.tcti().parse().unwrap();
        let mut context = Context::new(tcti).unwrap();
        f(&mut context);
    }

    #[test]
    fn the_opcodes_are_those_of_the_capabilities_it_has() {
        let setup = setup();
        let opcodes = supported_opcodes(&setup.provider);
        assert_eq!(opcodes.len(), 16, "{opcodes:?}");
        assert!(opcodes.contains(&Opcode::PsaSignMessage));
        assert!(opcodes.contains(&Opcode::PsaAsymmetricDecrypt));
        assert!(opcodes.contains(&Opcode::PsaHashCompare));
        assert!(opcodes.contains(&Opcode::CanDoCrypto));
        assert!(!opcodes.contains(&Opcode::PsaExportKey));
        assert!(opcodes.contains(&Opcode::AttestKey));
        let info = setup.provider.info();
        assert_eq!(info.id, ProviderId::Tpm);
        assert_eq!(setup.provider.name(), PROVIDER_NAME);
    }

    #[test]
    fn build_returns_a_provider_and_operations_route_through_execute() {
        let swtpm = Swtpm::start();
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let provider = build("p".into(), store, TpmSettings::new(swtpm.tcti())).unwrap();
        let owner = app("alice");
        let generate = NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
            key_name: "k".into(),
            attributes: ecc_key(256),
        });
        let error = execute(provider.as_ref(), None, generate.clone()).unwrap_err();
        assert!(matches!(error, ProviderError::NotAuthenticated), "{error}");
        execute(provider.as_ref(), Some(&owner), generate).unwrap();
        let sign = NativeOperation::PsaSignHash(psa_sign_hash::Operation {
            key_name: "k".into(),
            alg: ECDSA_SHA256,
            hash: vec![7; 32],
        });
        let result = execute(provider.as_ref(), Some(&owner), sign).unwrap();
        assert!(matches!(result, NativeResult::PsaSignHash(_)));
    }

    #[test]
    fn no_tpm_at_the_tcti_is_a_communication_failure_that_names_it() {
        let swtpm = Swtpm::start();
        let tcti = swtpm.tcti();
        drop(swtpm);
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let error =
            TpmProvider::new("p".into(), store, TpmSettings::new(tcti.clone())).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorCommunicationFailure,
            "{error}"
        );
        assert!(error.to_string().contains("no TPM answers"), "{error}");
        assert!(error.to_string().contains(&tcti), "{error}");
    }

    #[test]
    fn a_tcti_that_can_not_be_read_is_an_invalid_argument() {
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let error =
            TpmProvider::new("p".into(), store, TpmSettings::new("carrier-pigeon:")).unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidArgument(_)),
            "{error}"
        );
    }

    #[test]
    fn a_wrong_owner_auth_is_not_permitted_and_says_so() {
        let swtpm = Swtpm::start();
        on_tpm(&swtpm, |context| {
            context
                .execute_with_session(Some(AuthSession::Password), |context| {
                    context.hierarchy_change_auth(
                        AuthHandle::Owner,
                        Auth::try_from(b"right".to_vec()).unwrap(),
                    )
                })
                .unwrap();
        });
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let auth = |bytes: &[u8]| {
            TpmSettings::new(swtpm.tcti()).with_owner_hierarchy_auth(Zeroizing::new(bytes.to_vec()))
        };
        for wrong in [&b""[..], b"wrong"] {
            let error = try_provider_on(&swtpm, &store, auth(wrong)).unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorNotPermitted,
                "{error}"
            );
            assert!(
                error.to_string().contains("owner hierarchy auth is wrong"),
                "{error}"
            );
        }
        let provider = try_provider_on(&swtpm, &store, auth(b"right")).unwrap();
        generate(&provider, &app("alice"), "k", ecc_key(256)).unwrap();
    }

    #[test]
    fn settings_never_show_the_auth_values() {
        let settings = TpmSettings::new("swtpm:port=1")
            .with_owner_hierarchy_auth(Zeroizing::new(b"owner-secret".to_vec()))
            .with_endorsement_hierarchy_auth(Zeroizing::new(b"ek-secret".to_vec()));
        let shown = format!("{settings:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("swtpm:port=1"), "{shown}");
    }

    #[test]
    fn keys_survive_a_provider_restart() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let public = export_public(&setup.provider, &owner, "k").unwrap();
        drop(setup.provider);
        let restarted = provider_on(&setup.swtpm, &setup.store);
        assert_eq!(export_public(&restarted, &owner, "k").unwrap(), public);
        let signature = sign_hash(&restarted, &owner, "k", ECDSA_SHA256, &[3; 32]).unwrap();
        verify_hash(&restarted, &owner, "k", ECDSA_SHA256, &[3; 32], &signature).unwrap();
    }

    #[test]
    fn keys_still_sign_after_a_tpm_power_cycle() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let before = sign_hash(&setup.provider, &owner, "k", ECDSA_SHA256, &[4; 32]).unwrap();
        drop(setup.provider);
        let state = setup.swtpm.state_dir();
        let swtpm = setup.swtpm.power_cycle();
        assert_eq!(swtpm.state_dir(), state);
        let provider = provider_on(&swtpm, &setup.store);
        let after = sign_hash(&provider, &owner, "k", ECDSA_SHA256, &[4; 32]).unwrap();
        for signature in [before, after] {
            verify_hash(&provider, &owner, "k", ECDSA_SHA256, &[4; 32], &signature).unwrap();
        }
    }

    #[test]
    fn a_tpm_reset_under_a_running_provider_is_recovered_from() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let before = sign_hash(&setup.provider, &owner, "k", ECDSA_SHA256, &[4; 32]).unwrap();
        setup.swtpm.reset();
        // The first command after the reset starts the TPM again and
        // re-creates the primary key.
        let after = sign_hash(&setup.provider, &owner, "k", ECDSA_SHA256, &[4; 32]).unwrap();
        for signature in [before, after] {
            verify_hash(
                &setup.provider,
                &owner,
                "k",
                ECDSA_SHA256,
                &[4; 32],
                &signature,
            )
            .unwrap();
        }
        generate(&setup.provider, &owner, "new", ecc_key(256)).unwrap();
        setup.swtpm.reset();
        let op = psec_interface::operations::psa_generate_random::Operation { size: 8 };
        setup.provider.generate_random(op).unwrap();
        setup.swtpm.reset();
        let op = psec_interface::operations::psa_hash_compute::Operation {
            alg: psec_interface::psa_crypto::types::algorithm::Hash::Sha256,
            input: b"abc".to_vec().into(),
        };
        setup.provider.hash_compute(op).unwrap();
    }

    #[test]
    fn a_cleared_tpm_is_reported_at_start_up() {
        let setup = setup();
        generate(&setup.provider, &app("alice"), "k", ecc_key(256)).unwrap();
        drop(setup.provider);
        on_tpm(&setup.swtpm, |context| {
            context
                .execute_with_session(Some(AuthSession::Password), |context| {
                    context.clear(AuthHandle::Lockout)
                })
                .unwrap();
        });
        let error = try_provider_on(
            &setup.swtpm,
            &setup.store,
            TpmSettings::new(setup.swtpm.tcti()),
        )
        .unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorCorruptionDetected,
            "{error}"
        );
        assert!(error.to_string().contains("cleared"), "{error}");
    }

    #[test]
    fn start_up_drops_the_rows_a_crash_left_unfinished() {
        let setup = setup();
        let owner = app("crashed");
        generate(&setup.provider, &owner, "half-made", ecc_key(256)).unwrap();
        generate(&setup.provider, &owner, "half-destroyed", ecc_key(256)).unwrap();
        let made = identity_of(&owner, "half-made");
        let info = setup.store.begin_destroy(&made).unwrap().unwrap();
        setup.store.finish_destroy(&made).unwrap();
        setup.store.begin_create(&made, &info).unwrap();
        let destroyed = identity_of(&owner, "half-destroyed");
        setup.store.begin_destroy(&destroyed).unwrap().unwrap();
        assert_eq!(setup.store.unfinished(PROVIDER_NAME).unwrap().len(), 2);
        drop(setup.provider);

        let restarted = provider_on(&setup.swtpm, &setup.store);

        assert!(setup.store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        for name in ["half-made", "half-destroyed"] {
            let error = export_public(&restarted, &owner, name).unwrap_err();
            assert!(
                matches!(error, ProviderError::KeyDoesNotExist(_)),
                "{error}"
            );
            generate(&restarted, &owner, name, ecc_key(256)).unwrap();
        }
    }

    #[test]
    fn many_threads_can_use_one_provider_and_every_key_is_flushed() {
        let setup = setup();
        let provider = Arc::new(setup.provider);
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let provider = Arc::clone(&provider);
                std::thread::spawn(move || {
                    let owner = app(&format!("thread-{thread}"));
                    for round in 0..3 {
                        let name = format!("k{round}");
                        generate(&*provider, &owner, &name, ecc_key(256)).unwrap();
                        sign_hash(&*provider, &owner, &name, ECDSA_SHA256, &[round; 32]).unwrap();
                        destroy(&*provider, &owner, &name).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // Twelve loads on a TPM of three transient slots: each was flushed.
        let owner = app("after");
        generate(&*provider, &owner, "k", ecc_key(256)).unwrap();
        sign_hash(&*provider, &owner, "k", ECDSA_SHA256, &[0; 32]).unwrap();
    }
}
