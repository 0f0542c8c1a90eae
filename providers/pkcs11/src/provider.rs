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
    Aead, AsymmetricEncryption, AsymmetricSigning, CanDoCrypto, Cipher, Hashing, KeyAgreement,
    KeyBackend, KeyExport, KeyInfo, KeyLifecycle, KeyManagement, KeyStore, Mac, Provider,
    ProviderError, Random,
};
use std::fmt;
use std::sync::Arc;

/// The PKCS#11 provider: PSA Crypto operations done by a PKCS#11 token on
/// token objects. Built by [`build`].
pub struct Pkcs11Provider {
    /// Which application owns which token objects, under the configured
    /// name.
    keys: KeyLifecycle,
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
            .field("name", &self.name())
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
            keys: KeyLifecycle::new(name, key_store),
            token,
            allow_export: settings.allow_export,
            software_public_operations: settings.software_public_operations,
        };
        provider.keys.recover(&provider)?;
        if settings.user_pin.is_some() {
            let session = provider.token.session()?;
            provider.keys.drop_vanished(|info| {
                let template = [
                    Attribute::Token(true),
                    Attribute::Id(info.backend_id.clone()),
                ];
                let found = session
                    .find_objects(&template)
                    .map_err(ck_error("looking for the objects of a key"))?;
                Ok(!found.is_empty())
            })?;
        } else {
            // Not logged in, the token hides its private objects: a key
            // would look vanished when it is not.
            log::warn!(
                "{}: no user_pin, so keys whose token objects vanished are not looked for",
                provider.name()
            );
        }
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

    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    /// Makes this provider read remembered handles back before each use,
    /// as it does on libraries that may issue a handle number twice.
    #[cfg(test)]
    pub(crate) fn read_handles_back_for_tests(&mut self) {
        self.token.read_handles_back_for_tests();
    }

    /// Makes this provider keep at most `limit` session copies of key
    /// objects.
    #[cfg(test)]
    pub(crate) fn limit_copies_for_tests(&mut self, limit: usize) {
        self.token.limit_copies_for_tests(limit);
    }

    pub(crate) fn allow_export(&self) -> bool {
        self.allow_export
    }

    pub(crate) fn support(&self) -> Support<'_> {
        Support { token: &self.token }
    }
}

/// A key's backend id is the `CKA_ID` of its token objects; destroying
/// a key destroys every object with that id, if there is any.
impl KeyBackend for Pkcs11Provider {
    fn destroy(&self, info: &KeyInfo) -> Result<bool, ProviderError> {
        let destroyed = destroy_objects(&self.token.session()?, &info.backend_id)?;
        Ok(destroyed > 0)
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
