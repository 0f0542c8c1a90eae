//! The provider itself: construction, recovery of what a crash left, and
//! the capabilities it returns.

use crate::keys::destroy_objects;
use crate::settings::Pkcs11Settings;
use crate::support::Support;
use crate::token::{Token, ck_error};
use cryptoki::object::Attribute;
use psec_interface::ProviderId;
use psec_interface::operations::list_providers::ProviderInfo;
use psec_provider::{
    Aead, Application, AsymmetricEncryption, AsymmetricSigning, CanDoCrypto, Cipher, Hashing,
    KeyAgreement, KeyExport, KeyIdentity, KeyInfo, KeyManagement, KeyState, KeyStore, Mac,
    Provider, ProviderError, Random,
};
use std::fmt;
use std::sync::Arc;

/// The PKCS#11 provider: PSA Crypto operations done by a PKCS#11 token on
/// token objects. Built by [`build`].
pub struct Pkcs11Provider {
    /// The configured name, the provider part of every key's identity.
    name: String,
    /// Which application owns which token objects.
    key_store: Arc<dyn KeyStore>,
    /// The token, logged in.
    token: Token,
    /// Whether PsaExportKey is offered.
    allow_export: bool,
    /// Whether signatures are verified and data encrypted to public keys
    /// in software (see `software.rs`). Always false without the
    /// `software-public-operations` feature.
    #[cfg_attr(
        not(feature = "software-public-operations"),
        allow(dead_code, reason = "read only by the feature's code")
    )]
    pub(crate) software_public_operations: bool,
}

impl fmt::Debug for Pkcs11Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Provider")
            .field("name", &self.name)
            .field("token", &self.token.label)
            .finish_non_exhaustive()
    }
}

/// Loads the PKCS#11 library, opens the token `settings` names and logs in
/// to it, finishes the key creations and destructions a crash left
/// half-done for provider `name`, drops the keys whose token objects have
/// vanished, and returns the provider.
pub fn build(
    name: String,
    key_store: Arc<dyn KeyStore>,
    settings: Pkcs11Settings,
) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(Arc::new(Pkcs11Provider::new(name, key_store, settings)?))
}

impl Pkcs11Provider {
    /// As [`build`], returning the concrete provider.
    pub fn new(
        name: String,
        key_store: Arc<dyn KeyStore>,
        settings: Pkcs11Settings,
    ) -> Result<Self, ProviderError> {
        if settings.software_public_operations && !cfg!(feature = "software-public-operations") {
            return Err(ProviderError::backend(
                psec_interface::ResponseStatus::PsaErrorNotSupported,
                format!(
                    "{name}: software_public_operations = true needs psec-provider-pkcs11 built \
                     with its `software-public-operations` feature; set it to false or rebuild"
                ),
            ));
        }
        let token = Token::open(&settings)?;
        let provider = Pkcs11Provider {
            name,
            key_store,
            token,
            allow_export: settings.allow_export,
            software_public_operations: settings.software_public_operations,
        };
        provider.recover()?;
        if settings.user_pin.is_some() {
            provider.drop_vanished()?;
        } else {
            // Not logged in, the token hides its private objects: a key
            // would look vanished when it is not.
            log::warn!(
                "{}: no user_pin, so keys whose token objects vanished are not looked for",
                provider.name
            );
        }
        Ok(provider)
    }

    /// The configured name of this provider.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn key_store(&self) -> &dyn KeyStore {
        self.key_store.as_ref()
    }

    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    pub(crate) fn allow_export(&self) -> bool {
        self.allow_export
    }

    pub(crate) fn support(&self) -> Support<'_> {
        Support { token: &self.token }
    }

    /// The full name of `app`'s key `key_name` in this provider.
    pub(crate) fn identity(&self, app: &Application, key_name: &str) -> KeyIdentity {
        KeyIdentity {
            application: app.clone(),
            provider: self.name.clone(),
            key_name: key_name.to_owned(),
        }
    }

    /// Finishes every key left `Creating` or `Destroying`: its token
    /// objects, if any, are destroyed and its row dropped.
    fn recover(&self) -> Result<(), ProviderError> {
        for (identity, info, state) in self.key_store.unfinished(&self.name)? {
            self.finish(&identity, &info, state)?;
        }
        Ok(())
    }

    fn finish(
        &self,
        identity: &KeyIdentity,
        info: &KeyInfo,
        state: KeyState,
    ) -> Result<(), ProviderError> {
        let destroyed = match state {
            KeyState::Ready => return Ok(()),
            KeyState::Creating | KeyState::Destroying => {
                destroy_objects(&self.token.session()?, &info.backend_id)?
            }
        };
        if state == KeyState::Creating {
            self.key_store.abort_create(identity)?;
        } else {
            self.key_store.finish_destroy(identity)?;
        }
        log::info!(
            "{}: finished {state:?} key `{}` of {} ({destroyed} token objects destroyed)",
            self.name,
            identity.key_name,
            identity.application,
        );
        Ok(())
    }

    /// Drops the `Ready` rows whose token objects are all gone (someone
    /// deleted them on the token). Token objects without a row are never
    /// touched.
    fn drop_vanished(&self) -> Result<(), ProviderError> {
        let session = self.token.session()?;
        for (identity, info) in self.key_store.keys_in(&self.name)? {
            let template = [
                Attribute::Token(true),
                Attribute::Id(info.backend_id.clone()),
            ];
            let found = session
                .find_objects(&template)
                .map_err(ck_error("looking for the objects of a key"))?;
            if !found.is_empty() {
                continue;
            }
            log::warn!(
                "{}: key `{}` of {} has no object on token `{}` any more; dropping it",
                self.name,
                identity.key_name,
                identity.application,
                self.token.label,
            );
            if self.key_store.begin_destroy(&identity)?.is_some() {
                self.key_store.finish_destroy(&identity)?;
            }
        }
        Ok(())
    }
}

fn version_part(text: &str) -> u32 {
    text.parse().unwrap_or(0)
}

impl Provider for Pkcs11Provider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            uuid: ProviderId::Pkcs11.uuid(),
            description: "PKCS#11 provider, fronting a token through cryptoki".to_owned(),
            vendor: "OASIS Standard".to_owned(),
            version_maj: version_part(env!("CARGO_PKG_VERSION_MAJOR")),
            version_min: version_part(env!("CARGO_PKG_VERSION_MINOR")),
            version_rev: version_part(env!("CARGO_PKG_VERSION_PATCH")),
            id: ProviderId::Pkcs11,
        }
    }

    fn key_management(&self) -> Option<&dyn KeyManagement> {
        if self.support().can_make_keys() {
            Some(self)
        } else {
            None
        }
    }
    fn key_export(&self) -> Option<&dyn KeyExport> {
        if self.allow_export { Some(self) } else { None }
    }
    fn asymmetric_signing(&self) -> Option<&dyn AsymmetricSigning> {
        if self.support().can_sign() {
            Some(self)
        } else {
            None
        }
    }
    fn asymmetric_encryption(&self) -> Option<&dyn AsymmetricEncryption> {
        if self.support().can_encrypt() {
            Some(self)
        } else {
            None
        }
    }
    fn aead(&self) -> Option<&dyn Aead> {
        if self.support().can_aead() {
            Some(self)
        } else {
            None
        }
    }
    fn cipher(&self) -> Option<&dyn Cipher> {
        if self.support().can_cipher() {
            Some(self)
        } else {
            None
        }
    }
    fn mac(&self) -> Option<&dyn Mac> {
        if self.support().can_mac() {
            Some(self)
        } else {
            None
        }
    }
    fn hashing(&self) -> Option<&dyn Hashing> {
        if self.support().can_hash() {
            Some(self)
        } else {
            None
        }
    }
    fn key_agreement(&self) -> Option<&dyn KeyAgreement> {
        if self.support().can_agree() {
            Some(self)
        } else {
            None
        }
    }
    fn random(&self) -> Option<&dyn Random> {
        if self.token.has_rng { Some(self) } else { None }
    }
    fn can_do_crypto(&self) -> Option<&dyn CanDoCrypto> {
        Some(self)
    }
}
