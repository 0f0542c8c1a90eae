//! The key info store as providers see it.
//!
//! A key is named by (authenticator, application, provider, key name); the
//! store maps that name to what the backend needs to find the key (its
//! backend id) and the key's PSA attributes.
//!
//! Creating or destroying a key touches two places, the backend and the
//! store, and a process can be killed between the two. So both are done in
//! steps, each step one atomic change of the store:
//!
//! | step | store | backend |
//! |---|---|---|
//! | [`KeyStore::begin_create`] | row `Creating` | |
//! | | | key created |
//! | [`KeyStore::commit_create`] | row `Ready` | |
//! | [`KeyStore::begin_destroy`] | row `Destroying` | |
//! | | | key destroyed |
//! | [`KeyStore::finish_destroy`] | row gone | |
//!
//! Only `Ready` keys are visible to clients. At start-up a provider asks for
//! [`KeyStore::unfinished`] rows and finishes them: a `Creating` row's backend
//! key (if the kill came after the backend made it) is destroyed and the row
//! dropped, since its client never got a success; a `Destroying` row's
//! backend key is destroyed and the row dropped. Every listed key is then
//! usable, and no backend key is left without its row.

use psec_interface::AuthType;
use psec_interface::psa_crypto::types::key::Attributes;
use std::fmt;

/// Who owns a key: the authenticator that vouched for the application, and
/// the application's name. Two authenticators can never see each other's
/// keys, even for the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Application {
    /// The authenticator that authenticated the request.
    pub auth: AuthType,
    /// The application's name as that authenticator gives it.
    pub name: String,
}

impl Application {
    /// An application authenticated by `auth`.
    pub fn new(auth: AuthType, name: impl Into<String>) -> Self {
        Application {
            auth,
            name: name.into(),
        }
    }
}

impl fmt::Display for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.auth)
    }
}

/// The full name of a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyIdentity {
    /// The owner.
    pub application: Application,
    /// The configured name of the provider that holds the key.
    pub provider: String,
    /// The key's name, chosen by the application.
    pub key_name: String,
}

/// What the store keeps about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// How the backend finds the key (a PSA key id, a PKCS#11 CKA_ID, a TPM
    /// key blob...), in the provider's own encoding.
    pub backend_id: Vec<u8>,
    /// The key's PSA attributes.
    pub attributes: Attributes,
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Being created: the backend key may or may not exist yet.
    Creating,
    /// Usable and visible to its application.
    Ready,
    /// Being destroyed: the backend key may or may not exist still.
    Destroying,
}

/// Why the key info store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// A key of that name already exists (in any state).
    #[error("a key with that name already exists")]
    AlreadyExists,
    /// No key of that name is in the state the step needs.
    #[error("no key with that name in the expected state")]
    NotFound,
    /// The storage failed (I/O, database).
    #[error("storage failed: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// The key info store, shared by every provider of the service.
///
/// Each method is one atomic change: after a crash the store holds either
/// the state before the call or the state after it.
pub trait KeyStore: Send + Sync {
    /// Records a key being created, in state [`KeyState::Creating`].
    /// Fails with [`KeyStoreError::AlreadyExists`] if the name is taken in any
    /// state.
    fn begin_create(&self, key: &KeyIdentity, info: &KeyInfo) -> Result<(), KeyStoreError>;

    /// Marks a `Creating` key `Ready`.
    fn commit_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError>;

    /// Forgets a `Creating` key whose creation failed or was rolled back.
    fn abort_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError>;

    /// The info of a `Ready` key, or `None`.
    fn get(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError>;

    /// Marks a `Ready` key `Destroying` and returns its info; `None` if no
    /// `Ready` key has that name.
    fn begin_destroy(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError>;

    /// Forgets a `Destroying` key once its backend key is gone.
    fn finish_destroy(&self, key: &KeyIdentity) -> Result<(), KeyStoreError>;

    /// The `Ready` keys of one application, in every provider.
    fn keys_of(
        &self,
        application: &Application,
    ) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError>;

    /// The `Ready` keys held by one provider.
    fn keys_in(&self, provider: &str) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError>;

    /// The applications that own at least one `Ready` key.
    fn applications(&self) -> Result<Vec<Application>, KeyStoreError>;

    /// The keys of one provider left `Creating` or `Destroying` by a crash,
    /// for the provider to finish at start-up.
    fn unfinished(
        &self,
        provider: &str,
    ) -> Result<Vec<(KeyIdentity, KeyInfo, KeyState)>, KeyStoreError>;
}
