//! Keys: creating and destroying them in the steps the key store asks for,
//! finding an application's key, and key management and export.
//!
//! Every key is a persistent PSA key with a random id in the user range;
//! the key store keeps that id (4 bytes little-endian) as the key's
//! backend id, with the attributes the key was created with.

use crate::MbedCryptoProvider;
use crate::backend::{KeyId, Psa, SecretBuffer, psa_error};
use crate::support;
use psa_crypto::operations::key_management;
use psa_crypto::types::algorithm::Algorithm;
use psa_crypto::types::key::{Attributes, EccFamily, Id, Lifetime, Type};
use psa_crypto::types::status::Error as PsaError;
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::operations::{
    psa_destroy_key, psa_export_key, psa_export_public_key, psa_generate_key, psa_import_key,
};
use psec_provider::policy::{Usage, require};
use psec_provider::{
    Application, KeyExport, KeyInfo, KeyManagement, ProviderError, Result, check_generatable,
    check_policy_fits,
};

/// Where a new key's material comes from.
enum Source<'a> {
    Generate,
    Import(&'a [u8]),
}

/// An application's key, opened in Mbed TLS, while PSA calls on it may be
/// made.
pub(crate) struct OpenKey<'a> {
    /// The key's name, for error messages.
    pub(crate) name: &'a str,
    /// The PSA key.
    pub(crate) id: Id,
    /// The key's attributes, as created (with its real size).
    pub(crate) attributes: Attributes,
    /// The key's id as Mbed TLS numbers it.
    pub(crate) key_id: KeyId,
    /// Proof that PSA calls on the key may be made while it is open.
    pub(crate) psa: &'a Psa,
}

impl OpenKey<'_> {
    /// Maps a PSA error of `operation` on this key. A key the store lists
    /// but Mbed TLS lacks (its file was removed) does not exist.
    pub(crate) fn failed(&self, operation: &str) -> impl FnOnce(PsaError) -> ProviderError {
        let context = format!("{operation} with key `{}`", self.name);
        move |error| match error {
            PsaError::InvalidHandle | PsaError::DoesNotExist => psa_error(
                PsaError::DoesNotExist,
                format!("{context}: Mbed TLS does not have the key"),
            ),
            error => psa_error(error, context),
        }
    }
}

impl MbedCryptoProvider {
    /// Runs `f` on `app`'s key `name` once its policy allows `usage` (with
    /// `alg`, if given). A key of another application, or none, does not
    /// exist.
    pub(crate) fn use_key<T>(
        &self,
        app: &Application,
        name: &str,
        usage: Usage,
        alg: Option<Algorithm>,
        f: impl FnOnce(&OpenKey<'_>) -> Result<T>,
    ) -> Result<T> {
        open_key(&self.keys().usable(app, name, usage, alg)?, name, f)
    }

    /// Runs `f` on `app`'s key `name`, for what needs no usage flag.
    fn with_key<T>(
        &self,
        app: &Application,
        name: &str,
        f: impl FnOnce(&OpenKey<'_>) -> Result<T>,
    ) -> Result<T> {
        open_key(&self.keys().ready(app, name)?, name, f)
    }

    /// Creates `app`'s key `name` in Mbed TLS, through the key lifecycle.
    fn create(
        &self,
        app: &Application,
        name: &str,
        attributes: Attributes,
        source: Source<'_>,
    ) -> Result<()> {
        // As Parsec: a taken name is reported before what is wrong with
        // the key.
        self.keys().check_name_free(app, name)?;
        // Held from choosing the id to making the key. The id is reserved
        // until then too, for when PSA calls run in parallel.
        let psa = Psa::lock();
        let attributes = prepared(&psa, attributes, &source)?;
        let reserved = psa
            .free_key_id()
            .map_err(|error| psa_error(error, "choosing a key id"))?;
        let key_id = reserved.key_id();
        let info = KeyInfo {
            backend_id: key_id.to_backend_id(),
            attributes,
        };
        self.keys().create(
            app,
            name,
            &info,
            || psa.naming(key_id, || make_key(&psa, key_id, attributes, source)),
            |_id| {
                psa.destroy_persistent(key_id).map_err(|error| {
                    psa_error(error, format!("destroying PSA key {:#x}", key_id.0))
                })
            },
        )
    }
}

/// Runs `f` on the key `info` describes, with the PSA lock held (or, when
/// PSA calls run in parallel, the key kept from being destroyed).
fn open_key<T>(info: &KeyInfo, name: &str, f: impl FnOnce(&OpenKey<'_>) -> Result<T>) -> Result<T> {
    let key_id = KeyId::from_backend_id(&info.backend_id)?;
    let psa = Psa::for_key(key_id);
    let id = key_id
        .psa_id()
        .map_err(|error| psa_error(error, format!("naming key `{name}`")))?;
    f(&OpenKey {
        name,
        id,
        attributes: info.attributes,
        key_id,
        psa: &psa,
    })
}

/// The attributes a new key gets: persistent, with its real size, and
/// only if this provider supports them.
fn prepared(psa: &Psa, attributes: Attributes, source: &Source<'_>) -> Result<Attributes> {
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        ..sized(psa, attributes, source)?
    };
    let check = match source {
        Source::Generate => {
            check_generatable(&attributes)?;
            CheckType::Generate
        }
        Source::Import(_) => CheckType::Import,
    };
    check_policy_fits(&attributes)?;
    support::check_size_exists(&attributes, check == CheckType::Generate)?;
    support::check(check, &attributes)?;
    Ok(attributes)
}

/// The attributes with the key's real size: an import may leave the size
/// to the key data, but the store keeps the real one (operations size
/// their outputs from it).
fn sized(psa: &Psa, attributes: Attributes, source: &Source<'_>) -> Result<Attributes> {
    let (Source::Import(data), 0) = (source, attributes.bits) else {
        return Ok(attributes);
    };
    let bits = psa
        .measure(attributes.key_type, data)
        .map_err(|error| psa_error(error, "reading the size of the key data"))?;
    Ok(Attributes { bits, ..attributes })
}

/// Whether psa-crypto 0.13 refuses the size of these attributes: it takes
/// secp384r1 for "284 bits" and rejects 384. Mbed TLS itself is fine, so
/// such keys are given to it with size 0 (taken from the key data).
fn psa_crypto_rejects_size(attributes: &Attributes) -> bool {
    let secp_r1 = match attributes.key_type {
        Type::EccKeyPair { curve_family } | Type::EccPublicKey { curve_family } => {
            curve_family == EccFamily::SecpR1
        }
        _ => false,
    };
    secp_r1 && attributes.bits == 384
}

fn make_key(psa: &Psa, key_id: KeyId, attributes: Attributes, source: Source<'_>) -> Result<Id> {
    let made = match (source, psa_crypto_rejects_size(&attributes)) {
        (Source::Generate, false) => key_management::generate(attributes, Some(key_id.0)),
        (Source::Import(data), false) => key_management::import(attributes, Some(key_id.0), data),
        (Source::Generate, true) => generate_sizeless(psa, key_id, attributes),
        (Source::Import(data), true) => import_sizeless(psa, key_id, attributes, data),
    };
    made.map_err(|error| psa_error(error, format!("creating PSA key {:#x}", key_id.0)))
}

/// Imports `data` with size 0, once its length shows the size asked for:
/// Mbed TLS takes the curve from the length (48 bytes for a secp384r1
/// private key, 97 for a public one).
fn import_sizeless(
    _held: &Psa,
    key_id: KeyId,
    attributes: Attributes,
    data: &[u8],
) -> Result<Id, PsaError> {
    let bytes = attributes.bits.div_ceil(8);
    let expected = if attributes.key_type.is_public_key() {
        2 * bytes + 1
    } else {
        bytes
    };
    if data.len() != expected {
        return Err(PsaError::InvalidArgument);
    }
    let sizeless = Attributes {
        bits: 0,
        ..attributes
    };
    key_management::import(sizeless, Some(key_id.0), data)
}

/// How many random scalars [`generate_sizeless`] tries.
const SCALAR_ATTEMPTS: usize = 8;

/// Generates a secp384r1 key pair as Mbed TLS does (a random scalar,
/// redrawn if out of range), then imports it. The scalar comes from the
/// PSA random generator and is wiped once imported.
fn generate_sizeless(psa: &Psa, key_id: KeyId, attributes: Attributes) -> Result<Id, PsaError> {
    let scalar_len = attributes.bits.div_ceil(8);
    for _ in 0..SCALAR_ATTEMPTS {
        let scalar = psa.random(scalar_len)?;
        match import_sizeless(psa, key_id, attributes, &scalar) {
            // Zero, or not below the group order: draw again.
            Err(PsaError::InvalidArgument) => continue,
            made => return made,
        }
    }
    Err(PsaError::InsufficientEntropy)
}

impl KeyManagement for MbedCryptoProvider {
    fn generate_key(
        &self,
        app: &Application,
        op: psa_generate_key::Operation,
    ) -> Result<psa_generate_key::Result> {
        self.create(app, &op.key_name, op.attributes, Source::Generate)?;
        Ok(psa_generate_key::Result {})
    }

    fn import_key(
        &self,
        app: &Application,
        op: psa_import_key::Operation,
    ) -> Result<psa_import_key::Result> {
        self.create(app, &op.key_name, op.attributes, Source::Import(&op.data))?;
        Ok(psa_import_key::Result {})
    }

    fn export_public_key(
        &self,
        app: &Application,
        op: psa_export_public_key::Operation,
    ) -> Result<psa_export_public_key::Result> {
        self.with_key(app, &op.key_name, |key| {
            let failed = key.failed("exporting the public key");
            let size = key.attributes.export_public_key_output_size();
            let mut data = vec![0; size.map_err(key.failed("sizing the public key"))?];
            let len = key_management::export_public(key.id, &mut data).map_err(failed)?;
            data.truncate(len);
            Ok(psa_export_public_key::Result { data })
        })
    }

    /// Destroys a key through the key lifecycle (the Mbed TLS part is the
    /// provider's `KeyBackend`).
    fn destroy_key(
        &self,
        app: &Application,
        op: psa_destroy_key::Operation,
    ) -> Result<psa_destroy_key::Result> {
        self.keys().destroy(app, &op.key_name, self)?;
        Ok(psa_destroy_key::Result {})
    }
}

impl KeyExport for MbedCryptoProvider {
    fn export_key(
        &self,
        app: &Application,
        op: psa_export_key::Operation,
    ) -> Result<psa_export_key::Result> {
        let name = &op.key_name;
        let info = self.keys().ready(app, name)?;
        // PSA exports a public key whatever its policy's flags (so does
        // Mbed TLS); anything else needs the export flag.
        if !info.attributes.key_type.is_public_key() {
            require(name, &info.attributes, Usage::Export, None)?;
        }
        open_key(&info, name, |key| {
            let size = key.attributes.export_key_output_size();
            let mut data = SecretBuffer::new(size.map_err(key.failed("sizing the key"))?);
            let len = key_management::export(key.id, data.as_mut())
                .map_err(key.failed("exporting the key"))?;
            Ok(psa_export_key::Result {
                data: data.into_secret(len),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psa_crypto::types::algorithm::{AsymmetricEncryption, Cipher};
    use psa_crypto::types::key::{PSA_KEY_ID_USER_MAX, PSA_KEY_ID_USER_MIN};
    use psec_interface::ResponseStatus;
    use psec_interface::SecretBytes;
    use psec_provider::KeyStore;
    use std::sync::atomic::Ordering;

    fn export_public(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
    ) -> Result<Vec<u8>> {
        let op = psa_export_public_key::Operation {
            key_name: name.into(),
        };
        provider
            .export_public_key(owner, op)
            .map(|result| result.data)
    }

    fn export(
        provider: &MbedCryptoProvider,
        owner: &Application,
        name: &str,
    ) -> Result<SecretBytes> {
        let op = psa_export_key::Operation {
            key_name: name.into(),
        };
        provider.export_key(owner, op).map(|result| result.data)
    }

    #[test]
    fn a_generated_key_is_persistent_with_a_user_range_id_in_four_bytes() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let info = store.get(&identity_of(&owner, "k")).unwrap().unwrap();
        assert_eq!(info.backend_id.len(), 4);
        let key_id = KeyId::from_backend_id(&info.backend_id).unwrap();
        assert!((PSA_KEY_ID_USER_MIN..=PSA_KEY_ID_USER_MAX).contains(&key_id.0));
        assert!(backend_key_exists(key_id));
        assert_eq!(info.attributes.lifetime, Lifetime::Persistent);
    }

    #[test]
    fn public_keys_of_every_supported_curve_and_rsa_export_in_psa_format() {
        let (_, provider) = setup();
        let owner = app("alice");
        let cases = [
            (ecc_key(EccFamily::SecpR1, 256), 65),
            (ecc_key(EccFamily::SecpR1, 384), 97),
            (ecc_key(EccFamily::SecpR1, 521), 133),
            (ecc_key(EccFamily::SecpK1, 256), 65),
            (ecc_key(EccFamily::BrainpoolPR1, 256), 65),
            (ecc_key(EccFamily::BrainpoolPR1, 384), 97),
            (ecc_key(EccFamily::BrainpoolPR1, 512), 129),
            (ecdh_key(EccFamily::Montgomery, 255), 32),
            (ecdh_key(EccFamily::Montgomery, 448), 56),
        ];
        for (index, (attributes, len)) in cases.into_iter().enumerate() {
            let name = format!("key-{index}");
            generate(&provider, &owner, &name, attributes).unwrap();
            let public = export_public(&provider, &owner, &name).unwrap();
            assert_eq!(public.len(), len, "{attributes:?}");
        }
        let rsa = rsa_key(
            1024,
            AsymmetricEncryption::RsaPkcs1v15Crypt.into(),
            |flags| {
                flags.set_encrypt();
            },
        );
        generate(&provider, &owner, "rsa", rsa).unwrap();
        // DER RSAPublicKey: SEQUENCE { modulus, exponent }.
        assert_eq!(export_public(&provider, &owner, "rsa").unwrap()[0], 0x30);
    }

    #[test]
    fn an_imported_exportable_key_exports_the_same_bytes() {
        let (_, provider) = setup();
        let owner = app("alice");
        let key = [0x2bu8; 32];
        let attributes = aes_key(256, Cipher::Ctr.into(), |flags| {
            flags.set_export();
        });
        import(&provider, &owner, "aes", attributes, &key).unwrap();
        assert_eq!(&*export(&provider, &owner, "aes").unwrap(), &key);
    }

    #[test]
    fn a_p384_key_imports_and_exports_despite_the_psa_crypto_size_check() {
        let (_, provider) = setup();
        let owner = app("alice");
        let mut attributes = ecc_key(EccFamily::SecpR1, 384);
        attributes.policy.usage_flags.set_export();
        generate(&provider, &owner, "made", attributes).unwrap();
        let private = export(&provider, &owner, "made").unwrap();
        assert_eq!(private.len(), 48);
        import(&provider, &owner, "copy", attributes, &private).unwrap();
        assert_eq!(
            export_public(&provider, &owner, "copy").unwrap(),
            export_public(&provider, &owner, "made").unwrap()
        );
    }

    #[test]
    fn importing_a_p256_scalar_as_p384_is_an_invalid_argument() {
        let (store, provider) = setup();
        let owner = app("alice");
        let error = import(
            &provider,
            &owner,
            "k",
            ecc_key(EccFamily::SecpR1, 384),
            &[7; 32],
        )
        .unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
        assert!(store.get(&identity_of(&owner, "k")).unwrap().is_none());
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
    }

    #[test]
    fn exporting_a_key_without_the_export_flag_is_not_permitted() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(
            &provider,
            &owner,
            "k",
            aes_key(128, Cipher::Ctr.into(), |_| {}),
        )
        .unwrap();
        let error = export(&provider, &owner, "k").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorNotPermitted,
            "{error}"
        );
    }

    #[test]
    fn a_public_key_exports_without_the_export_flag() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "pair", ecc_p256_signing_key()).unwrap();
        let point = export_public(&provider, &owner, "pair").unwrap();
        let mut public = ecc_p256_signing_key();
        public.key_type = Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        };
        assert!(!public.policy.usage_flags.export());
        import(&provider, &owner, "ecc", public, &point).unwrap();
        assert_eq!(&*export(&provider, &owner, "ecc").unwrap(), &point[..]);

        let mut rsa = rsa_key(1024, AsymmetricEncryption::RsaPkcs1v15Crypt.into(), |_| {});
        generate(&provider, &owner, "rsa-pair", rsa).unwrap();
        let der = export_public(&provider, &owner, "rsa-pair").unwrap();
        rsa.key_type = Type::RsaPublicKey;
        import(&provider, &owner, "rsa", rsa, &der).unwrap();
        assert_eq!(&*export(&provider, &owner, "rsa").unwrap(), &der[..]);
        // The key pair itself still needs the flag.
        let error = export(&provider, &owner, "pair").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorNotPermitted,
            "{error}"
        );
    }

    #[test]
    fn raw_data_keys_are_generated_and_imported_and_export_their_bytes() {
        let (store, provider) = setup();
        let owner = app("alice");
        let raw = |bits| {
            let mut attributes = aes_key(bits, Algorithm::None, |flags| {
                flags.set_export();
            });
            attributes.key_type = Type::RawData;
            attributes
        };
        generate(&provider, &owner, "made", raw(128)).unwrap();
        let made = export(&provider, &owner, "made").unwrap();
        assert_eq!(made.len(), 16);
        assert_ne!(&*made, &[0; 16]);
        let secret = [0x3c; 40];
        import(&provider, &owner, "given", raw(0), &secret).unwrap();
        assert_eq!(&*export(&provider, &owner, "given").unwrap(), &secret);
        let info = store.get(&identity_of(&owner, "given")).unwrap().unwrap();
        assert_eq!(info.attributes.bits, 320);
        // It has no public part.
        let error = export_public(&provider, &owner, "made").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
    }

    #[test]
    fn a_second_key_of_the_same_name_already_exists() {
        let (_, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let error = generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyAlreadyExists(_)),
            "{error}"
        );
        // Another application may use the name.
        generate(&provider, &app("bob"), "k", ecc_p256_signing_key()).unwrap();
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let (_, provider) = setup();
        generate(&provider, &app("alice"), "k", ecc_p256_signing_key()).unwrap();
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                export_public(&provider, &owner, name).unwrap_err(),
                export(&provider, &owner, name).unwrap_err(),
                destroy(&provider, &owner, name).unwrap_err(),
            ];
            for error in errors {
                assert!(
                    matches!(error, ProviderError::KeyDoesNotExist(_)),
                    "{error}"
                );
            }
        }
        // Bob's attempt did not destroy Alice's key.
        export_public(&provider, &app("alice"), "k").unwrap();
    }

    #[test]
    fn destroy_removes_the_backend_key_and_frees_the_name() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let info = store.get(&identity_of(&owner, "k")).unwrap().unwrap();
        destroy(&provider, &owner, "k").unwrap();
        assert!(!backend_key_exists(
            KeyId::from_backend_id(&info.backend_id).unwrap()
        ));
        assert!(store.get(&identity_of(&owner, "k")).unwrap().is_none());
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        let error = export_public(&provider, &owner, "k").unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
    }

    #[test]
    fn a_backend_failure_leaves_no_row_behind() {
        let (store, provider) = setup();
        let owner = app("alice");
        let rsa = rsa_key(2048, AsymmetricEncryption::RsaPkcs1v15Crypt.into(), |_| {});
        let error = import(&provider, &owner, "k", rsa, b"not a DER key").unwrap_err();
        assert!(matches!(error, ProviderError::Backend { .. }), "{error}");
        assert!(store.get(&identity_of(&owner, "k")).unwrap().is_none());
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        assert_eq!(begun_ids(&store).len(), 1);
    }

    #[test]
    fn a_failed_commit_destroys_the_backend_key_and_drops_the_row() {
        let (store, provider) = setup();
        let owner = app("alice");
        store.fail_commits.store(true, Ordering::SeqCst);
        let error = generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap_err();
        assert!(matches!(error, ProviderError::KeyStore(_)), "{error}");
        let begun = begun_ids(&store);
        assert_eq!(begun.len(), 1);
        assert!(!backend_key_exists(begun[0]));
        assert!(store.unfinished(PROVIDER_NAME).unwrap().is_empty());
    }

    #[test]
    fn an_import_without_a_size_stores_the_size_of_the_data() {
        let (store, provider) = setup();
        let owner = app("alice");
        let aes = aes_key(0, Cipher::Ctr.into(), |_| {});
        import(&provider, &owner, "aes", aes, &[1; 24]).unwrap();
        let rsa = rsa_key(1024, AsymmetricEncryption::RsaPkcs1v15Crypt.into(), |_| {});
        generate(&provider, &owner, "pair", rsa).unwrap();
        let public = export_public(&provider, &owner, "pair").unwrap();
        let mut public_key = rsa_key(0, AsymmetricEncryption::RsaPkcs1v15Crypt.into(), |_| {});
        public_key.key_type = Type::RsaPublicKey;
        import(&provider, &owner, "public", public_key, &public).unwrap();
        for (name, bits) in [("aes", 192), ("public", 1024)] {
            let info = store.get(&identity_of(&owner, name)).unwrap().unwrap();
            assert_eq!(info.attributes.bits, bits, "{name}");
        }
        assert_eq!(export_public(&provider, &owner, "public").unwrap(), public);
    }

    #[test]
    fn a_listed_key_missing_from_mbed_tls_does_not_exist_and_can_be_destroyed() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let info = store.get(&identity_of(&owner, "k")).unwrap().unwrap();
        let key_id = KeyId::from_backend_id(&info.backend_id).unwrap();
        assert!(Psa::lock().destroy_if_present(key_id).unwrap());
        let error = export_public(&provider, &owner, "k").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorDoesNotExist,
            "{error}"
        );
        destroy(&provider, &owner, "k").unwrap();
        assert!(store.get(&identity_of(&owner, "k")).unwrap().is_none());
    }

    #[test]
    fn keys_survive_a_restart() {
        let (store, provider) = setup();
        let owner = app("alice");
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let public = export_public(&provider, &owner, "k").unwrap();
        drop(provider);
        let restarted = restart(&store);
        assert_eq!(export_public(&restarted, &owner, "k").unwrap(), public);
    }

    #[test]
    fn generating_a_public_key_type_is_an_invalid_argument_after_the_name_check() {
        let (store, provider) = setup();
        let owner = app("alice");
        let mut ecc_public = ecc_p256_signing_key();
        ecc_public.key_type = Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        };
        let mut rsa_public = rsa_key(2048, AsymmetricEncryption::RsaPkcs1v15Crypt.into(), |_| {});
        rsa_public.key_type = Type::RsaPublicKey;
        for attributes in [ecc_public, rsa_public] {
            let error = generate(&provider, &owner, "k", attributes).unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidArgument,
                "{attributes:?}: {error}"
            );
        }
        assert!(begun_ids(&store).is_empty());
        // A name already taken is reported first, as Parsec does.
        generate(&provider, &owner, "k", ecc_p256_signing_key()).unwrap();
        let error = generate(&provider, &owner, "k", ecc_public).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyAlreadyExists(_)),
            "{error}"
        );
    }

    #[test]
    fn a_curve_size_no_curve_has_is_an_invalid_argument_to_generate_and_import() {
        let (store, provider) = setup();
        let owner = app("alice");
        let odd = ecc_key(EccFamily::SecpR1, 255);
        let error = generate(&provider, &owner, "k", odd).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
        let error = import(&provider, &owner, "k", odd, &[7; 32]).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
        let error = generate(&provider, &owner, "k", ecc_key(EccFamily::SecpR1, 0)).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
        assert!(begun_ids(&store).is_empty());
    }

    #[test]
    fn unsupported_key_types_and_sizes_are_refused_before_any_step() {
        let (store, provider) = setup();
        let owner = app("alice");
        let error = generate(
            &provider,
            &owner,
            "k",
            aes_key(512, Cipher::Ctr.into(), |_| {}),
        )
        .unwrap_err();
        assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        let error = generate(&provider, &owner, "k", ecc_key(EccFamily::SecpR1, 224)).unwrap_err();
        assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        assert!(begun_ids(&store).is_empty());
    }
}
