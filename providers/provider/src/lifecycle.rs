//! A key's life over the key store, written once for every provider.
//!
//! [`KeyLifecycle`] takes each key through the steps [`KeyStore`] describes
//! (`Creating` → `Ready` → `Destroying` → gone), rolls a failed creation
//! back, and finishes at start-up what a crash left half done. A provider
//! gives only what its backend does: how to make a key and undo it (to
//! [`KeyLifecycle::create`]), and how to destroy one ([`KeyBackend`]).
//!
//! With the in-memory store of the `testing` feature:
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use psec_provider::{Application, KeyBackend, KeyInfo, KeyLifecycle, Result};
//! use psec_provider::testing::InMemoryKeyStoreForTests;
//! use psec_interface::AuthType;
//! use psec_interface::psa_crypto::types::key::{Attributes, Lifetime, Policy, Type, UsageFlags};
//! use psec_interface::psa_crypto::types::algorithm::Algorithm;
//! use std::sync::Arc;
//!
//! /// A backend that keeps nothing outside the row.
//! struct RowOnly;
//! impl KeyBackend for RowOnly {
//!     fn destroy(&self, _: &KeyInfo) -> Result<bool> {
//!         Ok(false)
//!     }
//! }
//!
//! let keys = KeyLifecycle::new("mine", Arc::new(InMemoryKeyStoreForTests::default()));
//! let alice = Application::new(AuthType::Direct, "alice");
//! let info = KeyInfo {
//!     backend_id: vec![1],
//!     attributes: Attributes {
//!         lifetime: Lifetime::Persistent,
//!         key_type: Type::RawData,
//!         bits: 8,
//!         policy: Policy { usage_flags: UsageFlags::default(), permitted_algorithms: Algorithm::None },
//!     },
//! };
//! keys.create(&alice, "k", &info, || Ok(()), |()| Ok(()))?;
//! assert_eq!(keys.ready(&alice, "k")?, info);
//! keys.destroy(&alice, "k", &RowOnly)?;
//! assert!(keys.ready(&alice, "k").is_err());
//! # }
//! # Ok::<(), psec_provider::ProviderError>(())
//! ```

use crate::policy::{Usage, require};
use crate::{
    Application, KeyIdentity, KeyInfo, KeyState, KeyStore, KeyStoreError, ProviderError, Result,
};
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use std::sync::Arc;

/// What only the backend can do to a key that already has its row.
pub trait KeyBackend {
    /// Destroys the backend key `info` names, if it is there; whether it
    /// was. Called for a key being destroyed and, at start-up, for every
    /// key a crash left `Creating` or `Destroying`, so it must accept a key
    /// that was never made or is already gone.
    fn destroy(&self, info: &KeyInfo) -> Result<bool>;
}

/// One provider's keys in the key store.
pub struct KeyLifecycle {
    provider: String,
    store: Arc<dyn KeyStore>,
}

impl KeyLifecycle {
    /// The keys that provider `provider` (its configured name) holds in
    /// `store`.
    pub fn new(provider: impl Into<String>, store: Arc<dyn KeyStore>) -> Self {
        KeyLifecycle {
            provider: provider.into(),
            store,
        }
    }

    /// The provider's configured name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The key store, for what the steps here do not cover (listing keys).
    pub fn store(&self) -> &dyn KeyStore {
        self.store.as_ref()
    }

    /// The full name of `app`'s key `name` in this provider.
    pub fn identity(&self, app: &Application, name: &str) -> KeyIdentity {
        KeyIdentity {
            application: app.clone(),
            provider: self.provider.clone(),
            key_name: name.to_owned(),
        }
    }

    /// `app`'s key `name`. A key of another application, one not yet
    /// created or being destroyed, or none, does not exist.
    pub fn ready(&self, app: &Application, name: &str) -> Result<KeyInfo> {
        self.store
            .get(&self.identity(app, name))?
            .ok_or_else(|| ProviderError::KeyDoesNotExist(name.to_owned()))
    }

    /// `app`'s key `name`, once its policy allows `usage` (with `alg`, if
    /// given): [`ready`](Self::ready), then [`require`].
    pub fn usable(
        &self,
        app: &Application,
        name: &str,
        usage: Usage,
        alg: Option<Algorithm>,
    ) -> Result<KeyInfo> {
        let info = self.ready(app, name)?;
        require(name, &info.attributes, usage, alg)?;
        Ok(info)
    }

    /// Fails with `KeyAlreadyExists` if `app` has a key `name`. Parsec
    /// reports a taken name before what is wrong with the new key, and a
    /// provider calls this first where that order matters or where making
    /// the key is costly; [`create`](Self::create) checks again anyway.
    pub fn check_name_free(&self, app: &Application, name: &str) -> Result<()> {
        match self.store.get(&self.identity(app, name))? {
            Some(_) => Err(ProviderError::KeyAlreadyExists(name.to_owned())),
            None => Ok(()),
        }
    }

    /// Creates `app`'s key `name`, described by `info`: row `Creating`,
    /// then `make` (the backend key), then row `Ready`.
    ///
    /// - The name taken (in any state): `KeyAlreadyExists`, `make` not
    ///   called.
    /// - `make` fails: the row is dropped, and its error returned.
    /// - The store fails to commit: `undo` gets what `make` returned, then
    ///   the row is dropped.
    ///
    /// A failure to undo or to drop the row is logged, not returned: the
    /// row is then still `Creating`, and [`recover`](Self::recover) at the
    /// next start destroys the backend key and drops the row. So no
    /// backend key outlives its row, and no client sees a key it was told
    /// failed.
    pub fn create<M>(
        &self,
        app: &Application,
        name: &str,
        info: &KeyInfo,
        make: impl FnOnce() -> Result<M>,
        undo: impl FnOnce(M) -> Result<()>,
    ) -> Result<()> {
        let identity = self.identity(app, name);
        self.store
            .begin_create(&identity, info)
            .map_err(|error| match error {
                KeyStoreError::AlreadyExists => ProviderError::KeyAlreadyExists(name.to_owned()),
                other => other.into(),
            })?;
        let made = match make() {
            Ok(made) => made,
            Err(error) => {
                self.abort(&identity);
                return Err(error);
            }
        };
        let Err(error) = self.store.commit_create(&identity) else {
            return Ok(());
        };
        if let Err(undo) = undo(made) {
            log::warn!(
                "{}: key `{name}`: could not undo the backend key of a failed creation ({undo}); \
                 it is destroyed at the next start",
                self.provider
            );
        }
        self.abort(&identity);
        Err(error.into())
    }

    /// Drops the `Creating` row of a failed creation. If even that fails,
    /// the row stays `Creating` and the next start finishes it.
    fn abort(&self, identity: &KeyIdentity) {
        if let Err(error) = self.store.abort_create(identity) {
            log::warn!(
                "{}: key `{}`: could not drop the row of a failed creation ({error}); \
                 it is dropped at the next start",
                self.provider,
                identity.key_name
            );
        }
    }

    /// Destroys `app`'s key `name`: row `Destroying` (from then on the key
    /// is unusable), the backend key, row gone. If the backend fails, the
    /// row stays `Destroying` and the next start finishes it.
    pub fn destroy(&self, app: &Application, name: &str, backend: &dyn KeyBackend) -> Result<()> {
        let identity = self.identity(app, name);
        let info = self
            .store
            .begin_destroy(&identity)?
            .ok_or_else(|| ProviderError::KeyDoesNotExist(name.to_owned()))?;
        backend.destroy(&info)?;
        self.store.finish_destroy(&identity)?;
        Ok(())
    }

    /// Finishes every key of this provider that a crash left `Creating` or
    /// `Destroying`: its backend key, if there is one, is destroyed and its
    /// row dropped. A provider calls this once at start-up, before it
    /// serves anything. Afterwards every row is `Ready` and every backend
    /// key made through [`create`](Self::create) has a `Ready` row.
    pub fn recover(&self, backend: &dyn KeyBackend) -> Result<()> {
        for (identity, info, state) in self.store.unfinished(&self.provider)? {
            let existed = match state {
                // The store lists none such; a `Ready` key is in use.
                KeyState::Ready => continue,
                KeyState::Creating | KeyState::Destroying => backend.destroy(&info)?,
            };
            if state == KeyState::Creating {
                self.store.abort_create(&identity)?;
            } else {
                self.store.finish_destroy(&identity)?;
            }
            log::info!(
                "{}: finished {state:?} key `{}` of {} (backend key {})",
                self.provider,
                identity.key_name,
                identity.application,
                if existed { "destroyed" } else { "absent" },
            );
        }
        Ok(())
    }

    /// Drops the `Ready` rows whose backend key `exists` says is gone
    /// (deleted behind the service's back), so they are no longer listed.
    /// A backend key without a row is never touched.
    pub fn drop_vanished(&self, mut exists: impl FnMut(&KeyInfo) -> Result<bool>) -> Result<()> {
        for (identity, info) in self.store.keys_in(&self.provider)? {
            if exists(&info)? {
                continue;
            }
            log::warn!(
                "{}: key `{}` of {} is gone from the backend; dropping its row",
                self.provider,
                identity.key_name,
                identity.application,
            );
            if self.store.begin_destroy(&identity)?.is_some() {
                self.store.finish_destroy(&identity)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::testing::InMemoryKeyStoreForTests;
    use psec_interface::AuthType;
    use psec_interface::ResponseStatus;
    use psec_interface::psa_crypto::types::key::{Attributes, Lifetime, Policy, Type, UsageFlags};
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;

    /// A backend whose keys are the backend ids in a set.
    #[derive(Default)]
    struct SetBackendForTests {
        keys: Mutex<BTreeSet<Vec<u8>>>,
        fail_destroy: bool,
    }

    impl SetBackendForTests {
        fn make(&self, info: &KeyInfo) -> Result<Vec<u8>> {
            self.keys.lock().unwrap().insert(info.backend_id.clone());
            Ok(info.backend_id.clone())
        }

        fn undo(&self, id: Vec<u8>) -> Result<()> {
            self.keys.lock().unwrap().remove(&id);
            Ok(())
        }

        fn has(&self, id: &[u8]) -> bool {
            self.keys.lock().unwrap().contains(id)
        }
    }

    impl KeyBackend for SetBackendForTests {
        fn destroy(&self, info: &KeyInfo) -> Result<bool> {
            if self.fail_destroy {
                return Err(ProviderError::Backend {
                    status: ResponseStatus::PsaErrorHardwareFailure,
                    context: "the backend is down (test)".into(),
                });
            }
            Ok(self.keys.lock().unwrap().remove(&info.backend_id))
        }
    }

    fn info(id: u8) -> KeyInfo {
        KeyInfo {
            backend_id: vec![id],
            attributes: Attributes {
                lifetime: Lifetime::Persistent,
                key_type: Type::RawData,
                bits: 8,
                policy: Policy {
                    usage_flags: UsageFlags::default(),
                    permitted_algorithms: Algorithm::None,
                },
            },
        }
    }

    fn setup() -> (
        Arc<InMemoryKeyStoreForTests>,
        KeyLifecycle,
        SetBackendForTests,
    ) {
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let keys = KeyLifecycle::new("p", store.clone());
        (store, keys, SetBackendForTests::default())
    }

    fn alice() -> Application {
        Application::new(AuthType::Direct, "alice")
    }

    fn create(keys: &KeyLifecycle, backend: &SetBackendForTests, name: &str, id: u8) -> Result<()> {
        let info = info(id);
        keys.create(
            &alice(),
            name,
            &info,
            || backend.make(&info),
            |id| backend.undo(id),
        )
    }

    #[test]
    fn a_created_key_is_ready_and_its_backend_key_exists() {
        let (_, keys, backend) = setup();
        create(&keys, &backend, "k", 1).unwrap();
        assert_eq!(keys.ready(&alice(), "k").unwrap(), info(1));
        assert!(backend.has(&[1]));
    }

    #[test]
    fn a_taken_name_is_refused_before_the_backend_is_asked() {
        let (_, keys, backend) = setup();
        create(&keys, &backend, "k", 1).unwrap();
        let error = create(&keys, &backend, "k", 2).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyAlreadyExists(_)),
            "{error}"
        );
        assert!(!backend.has(&[2]));
        let error = keys.check_name_free(&alice(), "k").unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyAlreadyExists(_)),
            "{error}"
        );
        // Another application may use the name.
        let bob = Application::new(AuthType::Direct, "bob");
        keys.check_name_free(&bob, "k").unwrap();
    }

    #[test]
    fn a_backend_failure_drops_the_row() {
        let (store, keys, _) = setup();
        let error = keys
            .create(
                &alice(),
                "k",
                &info(1),
                || -> Result<()> { Err(ProviderError::NotSupported("this key (test)".into())) },
                |()| Ok(()),
            )
            .unwrap_err();
        assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        assert!(store.unfinished("p").unwrap().is_empty());
        assert!(store.get(&keys.identity(&alice(), "k")).unwrap().is_none());
        keys.check_name_free(&alice(), "k").unwrap();
    }

    #[test]
    fn a_failed_commit_undoes_the_backend_key_and_drops_the_row() {
        let (store, keys, backend) = setup();
        store.fail_commits.store(true, Ordering::SeqCst);
        let error = create(&keys, &backend, "k", 1).unwrap_err();
        assert!(matches!(error, ProviderError::KeyStore(_)), "{error}");
        assert!(!backend.has(&[1]));
        assert!(store.unfinished("p").unwrap().is_empty());
    }

    #[test]
    fn destroy_removes_the_backend_key_and_the_row() {
        let (store, keys, backend) = setup();
        create(&keys, &backend, "k", 1).unwrap();
        keys.destroy(&alice(), "k", &backend).unwrap();
        assert!(!backend.has(&[1]));
        assert!(store.unfinished("p").unwrap().is_empty());
        let error = keys.ready(&alice(), "k").unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
    }

    #[test]
    fn destroying_another_applications_key_does_not_exist_and_leaves_it() {
        let (_, keys, backend) = setup();
        create(&keys, &backend, "k", 1).unwrap();
        let bob = Application::new(AuthType::Direct, "bob");
        let error = keys.destroy(&bob, "k", &backend).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
        assert!(backend.has(&[1]));
        keys.ready(&alice(), "k").unwrap();
    }

    #[test]
    fn a_backend_failure_on_destroy_leaves_the_key_unusable_until_recovery() {
        let (store, keys, mut backend) = setup();
        create(&keys, &backend, "k", 1).unwrap();
        backend.fail_destroy = true;
        let error = keys.destroy(&alice(), "k", &backend).unwrap_err();
        assert_eq!(error.status(), ResponseStatus::PsaErrorHardwareFailure);
        assert!(keys.ready(&alice(), "k").is_err());
        assert_eq!(store.unfinished("p").unwrap().len(), 1);
        backend.fail_destroy = false;
        keys.recover(&backend).unwrap();
        assert!(!backend.has(&[1]));
        assert!(store.unfinished("p").unwrap().is_empty());
        keys.check_name_free(&alice(), "k").unwrap();
    }

    #[test]
    fn recovery_destroys_the_backend_keys_of_unfinished_rows_of_this_provider_only() {
        let (store, keys, backend) = setup();
        // A crash after the backend made the key, before the commit.
        let made = info(1);
        store
            .begin_create(&keys.identity(&alice(), "made"), &made)
            .unwrap();
        backend.make(&made).unwrap();
        // A crash before the backend made the key.
        store
            .begin_create(&keys.identity(&alice(), "unmade"), &info(2))
            .unwrap();
        // A crash in the middle of a destruction.
        create(&keys, &backend, "going", 3).unwrap();
        store
            .begin_destroy(&keys.identity(&alice(), "going"))
            .unwrap();
        // A ready key, and another provider's unfinished one, stay.
        create(&keys, &backend, "kept", 4).unwrap();
        let other = KeyLifecycle::new("other", store.clone());
        store
            .begin_create(&other.identity(&alice(), "theirs"), &info(5))
            .unwrap();

        keys.recover(&backend).unwrap();
        assert!(store.unfinished("p").unwrap().is_empty());
        assert_eq!(store.unfinished("other").unwrap().len(), 1);
        for id in [1, 2, 3] {
            assert!(!backend.has(&[id]), "{id}");
        }
        assert!(backend.has(&[4]));
        keys.ready(&alice(), "kept").unwrap();
        for name in ["made", "unmade", "going"] {
            keys.check_name_free(&alice(), name).unwrap();
        }
    }

    #[test]
    fn rows_whose_backend_key_vanished_are_dropped_and_others_kept() {
        let (_, keys, backend) = setup();
        create(&keys, &backend, "gone", 1).unwrap();
        create(&keys, &backend, "here", 2).unwrap();
        backend.keys.lock().unwrap().remove(&vec![1]);
        keys.drop_vanished(|info| Ok(backend.has(&info.backend_id)))
            .unwrap();
        assert!(keys.ready(&alice(), "gone").is_err());
        keys.ready(&alice(), "here").unwrap();
    }

    #[test]
    fn usable_checks_the_policy_after_the_name() {
        let (_, keys, backend) = setup();
        create(&keys, &backend, "k", 1).unwrap();
        let error = keys.usable(&alice(), "k", Usage::Export, None).unwrap_err();
        assert_eq!(error.status(), ResponseStatus::PsaErrorNotPermitted);
        let error = keys
            .usable(&alice(), "nope", Usage::Export, None)
            .unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
    }
}
