//! What the import targets share: reading the input (a 2-byte big-endian
//! length N, N bytes of protobuf `KeyAttributes` decoded as the service
//! decodes a client's, then the key data), one import round, and the check
//! that nothing is left in the store.

use psec_interface::AuthType;
use psec_interface::operations::{
    decode_key_attributes, psa_destroy_key, psa_export_public_key, psa_import_key,
};
use psec_interface::psa_crypto::types::key::Attributes;
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider::{Application, KeyManagement, KeyStore, ProviderError};

/// The application every import runs as.
pub fn app() -> Application {
    Application::new(AuthType::Direct, "fuzz")
}

/// The attributes and key data of an input, if its attributes decode.
pub fn parse(data: &[u8]) -> Option<(Attributes, &[u8])> {
    let (length, rest) = data.split_first_chunk::<2>()?;
    let (attributes, key_data) = rest.split_at_checked(u16::from_be_bytes(*length).into())?;
    Some((decode_key_attributes(attributes).ok()?, key_data))
}

/// Imports `data` as `app`'s key `name`.
pub fn import(
    keys: &dyn KeyManagement,
    app: &Application,
    name: &str,
    attributes: Attributes,
    data: &[u8],
) -> Result<(), ProviderError> {
    let op = psa_import_key::Operation {
        key_name: name.to_owned(),
        attributes,
        data: data.to_vec().into(),
    };
    keys.import_key(app, op).map(drop)
}

/// Destroys `app`'s key `name`.
pub fn destroy(
    keys: &dyn KeyManagement,
    app: &Application,
    name: &str,
) -> Result<(), ProviderError> {
    let op = psa_destroy_key::Operation {
        key_name: name.to_owned(),
    };
    keys.destroy_key(app, op).map(drop)
}

/// One round: imports the key; if that works, exports its public part
/// (which must work when `public_part_expected`) and destroys it (which
/// must work).
pub fn round(
    keys: &dyn KeyManagement,
    attributes: Attributes,
    data: &[u8],
    public_part_expected: bool,
) {
    let app = app();
    if import(keys, &app, "key", attributes, data).is_err() {
        return;
    }
    let export = psa_export_public_key::Operation {
        key_name: "key".to_owned(),
    };
    let exported = keys.export_public_key(&app, export);
    if public_part_expected {
        exported.expect("an imported key's public part exports");
    }
    destroy(keys, &app, "key").expect("an imported key is destroyed");
}

/// Fails unless `provider` left no key unfinished and the application no
/// key at all.
pub fn assert_nothing_left(store: &InMemoryKeyStoreForTests, provider: &str) {
    let unfinished = store.unfinished(provider).expect("the store reads");
    assert!(unfinished.is_empty(), "left unfinished: {unfinished:?}");
    let left = store.keys_of(&app()).expect("the store reads");
    assert!(left.is_empty(), "left in the store: {left:?}");
}
