//! Keys: making them (in the TPM, wrapped under the storage primary key, or
//! from an imported public key), the key store steps, loading a key for one
//! operation and flushing it after, exporting public keys, destroying.

use crate::TpmProvider;
use crate::blob::{KeyBlob, left_pad, parse_rsa_public_key_der, rsa_public_key_der};
use crate::support::rsa_key_bits;
use crate::tpm::tpm_error;
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::operations::{
    psa_destroy_key, psa_export_public_key, psa_generate_key, psa_import_key,
};
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{Attributes, Lifetime, Type};
use psec_provider::policy::{Usage, require};
use psec_provider::{
    Application, KeyInfo, KeyManagement, ProviderError, Result, check_generatable,
    check_policy_fits,
};
use tss_esapi::Context;
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::handles::KeyHandle;
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::structures::{
    EccParameter, EccPoint, EccScheme, KeyDerivationFunctionScheme, Public, PublicBuilder,
    PublicEccParameters, PublicKeyRsa, PublicRsaParametersBuilder, RsaExponent, RsaScheme,
    SymmetricDefinitionObject,
};

/// The exponent of every RSA key the TPM makes (0 is the TPM's "default",
/// which is this).
const RSA_DEFAULT_EXPONENT: u32 = 65537;

/// An application's key, loaded in the TPM for one operation.
pub(crate) struct LoadedKey<'a> {
    /// The key's name, for error messages.
    pub(crate) name: &'a str,
    /// The key's attributes, as created.
    pub(crate) attributes: Attributes,
    /// Whether it is a key pair (or a lone public key).
    pub(crate) is_pair: bool,
    /// Its handle.
    pub(crate) handle: KeyHandle,
}

impl LoadedKey<'_> {
    /// The size of the key in bytes (of the modulus, or of a coordinate).
    pub(crate) fn bytes(&self) -> usize {
        self.attributes.bits.div_ceil(8)
    }

    /// Refuses what only a key pair can do.
    pub(crate) fn need_pair(&self, what: &str) -> Result<()> {
        if self.is_pair {
            Ok(())
        } else {
            Err(ProviderError::InvalidArgument(format!(
                "key `{}` is a public key: it can not {what}",
                self.name
            )))
        }
    }
}

impl TpmProvider {
    /// `app`'s key `name`, as stored. A key of another application, or
    /// none, does not exist.
    pub(crate) fn ready_key(&self, app: &Application, name: &str) -> Result<(KeyInfo, KeyBlob)> {
        let info = self.keys().ready(app, name)?;
        let blob = KeyBlob::from_backend_id(&info.backend_id)?;
        Ok((info, blob))
    }

    /// Runs `f` on `app`'s key `name`, loaded in the TPM, once its policy
    /// allows `usage` with `alg`; the key is flushed after, whatever `f`
    /// returns. A key of another application, or none, does not exist.
    pub(crate) fn use_key<T>(
        &self,
        app: &Application,
        name: &str,
        usage: Usage,
        alg: Algorithm,
        f: impl FnOnce(&mut Context, &LoadedKey<'_>) -> Result<T>,
    ) -> Result<T> {
        let (info, blob) = self.ready_key(app, name)?;
        require(name, &info.attributes, usage, Some(alg))?;
        self.with_loaded(name, info, blob, f)
    }

    /// Runs `f` on key `name` (`info` and `blob` as stored, its policy
    /// already checked), loaded in the TPM; the key is flushed after,
    /// whatever `f` returns.
    pub(crate) fn with_loaded<T>(
        &self,
        name: &str,
        info: KeyInfo,
        blob: KeyBlob,
        f: impl FnOnce(&mut Context, &LoadedKey<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut tpm = self.tpm();
        let loaded = match &blob {
            KeyBlob::Pair {
                public, private, ..
            } => tpm.load(
                private.clone(),
                public.clone(),
                &format!("loading key `{name}`"),
            ),
            KeyBlob::Public { public } => tpm
                .load_public(public.clone())
                .map_err(|error| tpm_error(error, format!("loading key `{name}`"))),
        };
        let handle = loaded?;
        let key = LoadedKey {
            name,
            attributes: info.attributes,
            is_pair: matches!(blob, KeyBlob::Pair { .. }),
            handle,
        };
        let result = f(&mut tpm.context, &key);
        tpm.flush(handle);
        result
    }

    /// Records `app`'s new key `name` through the key lifecycle. The key
    /// is its blob, already made and in the row: the backend step is empty,
    /// and a failure only drops the row.
    fn store(&self, app: &Application, name: &str, info: KeyInfo) -> Result<()> {
        self.keys().create(app, name, &info, || Ok(()), |()| Ok(()))
    }

    fn generate(&self, app: &Application, name: &str, attributes: Attributes) -> Result<()> {
        let attributes = Attributes {
            lifetime: Lifetime::Persistent,
            ..attributes
        };
        // Saves making an RSA key for nothing; the store checks again.
        self.keys().check_name_free(app, name)?;
        check_generatable(&attributes)?;
        check_policy_fits(&attributes)?;
        self.support().check(CheckType::Generate, &attributes)?;
        let template = pair_template(&attributes)?;
        let blob = {
            let mut tpm = self.tpm();
            let (private, public) =
                tpm.create(template, &format!("creating key `{name}` in the TPM"))?;
            KeyBlob::Pair {
                parent_name: tpm.primary_name().to_vec(),
                public,
                private,
            }
        };
        let info = KeyInfo {
            backend_id: blob.to_backend_id()?,
            attributes,
        };
        self.store(app, name, info)
    }

    fn import(
        &self,
        app: &Application,
        name: &str,
        attributes: Attributes,
        data: &[u8],
    ) -> Result<()> {
        let attributes = Attributes {
            lifetime: Lifetime::Persistent,
            bits: imported_bits(&attributes, data)?,
            ..attributes
        };
        check_policy_fits(&attributes)?;
        self.support().check(CheckType::Import, &attributes)?;
        let public = public_template(&attributes, data)?;
        // The TPM checks the key (an RSA modulus's size, an EC point on its
        // curve) as it loads it.
        {
            let mut tpm = self.tpm();
            let handle = tpm
                .load_public(public.clone())
                .map_err(|error| tpm_error(error, format!("checking imported key `{name}`")))?;
            tpm.flush(handle);
        }
        let info = KeyInfo {
            backend_id: KeyBlob::Public { public }.to_backend_id()?,
            attributes,
        };
        self.store(app, name, info)
    }
}

/// The object attributes of a key used with `alg`: signing, decryption, or
/// both for a key with no algorithm.
fn object_attributes(
    alg: Algorithm,
    pair: bool,
) -> Result<tss_esapi::attributes::ObjectAttributes> {
    let (sign, decrypt) = match alg {
        Algorithm::AsymmetricSignature(_) => (true, false),
        Algorithm::AsymmetricEncryption(_) => (false, true),
        _ => (true, true),
    };
    ObjectAttributesBuilder::new()
        .with_fixed_tpm(pair)
        .with_fixed_parent(pair)
        .with_sensitive_data_origin(pair)
        .with_user_with_auth(true)
        .with_sign_encrypt(sign)
        .with_decrypt(decrypt)
        .with_restricted(false)
        .build()
        .map_err(|error| tpm_error(error, "building object attributes"))
}

fn curve_of(bits: usize) -> Result<EccCurve> {
    match bits {
        256 => Ok(EccCurve::NistP256),
        384 => Ok(EccCurve::NistP384),
        521 => Ok(EccCurve::NistP521),
        _ => Err(ProviderError::NotSupported(format!(
            "{bits}-bit SECP R1 curves"
        ))),
    }
}

/// A public area for `attributes`, with `unique` (RSA modulus or EC point).
fn template(
    attributes: &Attributes,
    pair: bool,
    rsa: Option<(PublicKeyRsa, u32)>,
    ecc: Option<EccPoint>,
) -> Result<Public> {
    let alg = attributes.policy.permitted_algorithms;
    let object = object_attributes(alg, pair)?;
    let failed = |error| tpm_error(error, "building the key's public area");
    let builder = PublicBuilder::new()
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(object);
    let builder = match attributes.key_type {
        Type::RsaKeyPair | Type::RsaPublicKey => {
            let key_bits = rsa_key_bits(attributes.bits).ok_or_else(|| {
                ProviderError::NotSupported(format!("{}-bit RSA keys", attributes.bits))
            })?;
            let (unique, exponent) = rsa.unwrap_or_default();
            let exponent = if exponent == RSA_DEFAULT_EXPONENT {
                0
            } else {
                exponent
            };
            let parameters = PublicRsaParametersBuilder::new()
                .with_scheme(RsaScheme::Null)
                .with_key_bits(key_bits)
                .with_exponent(RsaExponent::create(exponent).map_err(failed)?)
                .with_is_signing_key(object.sign_encrypt())
                .with_is_decryption_key(object.decrypt())
                .with_restricted(false)
                .build()
                .map_err(failed)?;
            builder
                .with_public_algorithm(PublicAlgorithm::Rsa)
                .with_rsa_parameters(parameters)
                .with_rsa_unique_identifier(unique)
        }
        Type::EccKeyPair { .. } | Type::EccPublicKey { .. } => {
            // Built directly: the builder insists on a signing scheme for a
            // signing key, where the TPM takes a Null one (the scheme is then
            // chosen at each signature).
            let parameters = PublicEccParameters::new(
                SymmetricDefinitionObject::Null,
                EccScheme::Null,
                curve_of(attributes.bits)?,
                KeyDerivationFunctionScheme::Null,
            );
            builder
                .with_public_algorithm(PublicAlgorithm::Ecc)
                .with_ecc_parameters(parameters)
                .with_ecc_unique_identifier(ecc.unwrap_or_default())
        }
        other => {
            return Err(ProviderError::NotSupported(format!(
                "keys of type {other:?}"
            )));
        }
    };
    builder.build().map_err(failed)
}

/// The template of a key pair the TPM is to make.
fn pair_template(attributes: &Attributes) -> Result<Public> {
    template(attributes, true, None, None)
}

fn invalid(what: impl Into<String>) -> ProviderError {
    ProviderError::InvalidArgument(what.into())
}

/// The size of an imported public key, from its data; it must match the
/// size asked for, if any.
fn imported_bits(attributes: &Attributes, data: &[u8]) -> Result<usize> {
    let bits = match attributes.key_type {
        Type::RsaPublicKey => {
            let (modulus, _) = parse_rsa_public_key_der(data)?;
            modulus.len() * 8
        }
        Type::EccPublicKey { .. } => match data.len() {
            65 => 256,
            97 => 384,
            133 => 521,
            len => return Err(invalid(format!("{len} bytes is no uncompressed point"))),
        },
        Type::RsaKeyPair | Type::EccKeyPair { .. } => {
            return Err(ProviderError::NotSupported(
                "importing private keys into the TPM provider".into(),
            ));
        }
        other => {
            return Err(ProviderError::NotSupported(format!(
                "keys of type {other:?}"
            )));
        }
    };
    if attributes.bits != 0 && attributes.bits != bits {
        return Err(invalid(format!(
            "the key data is of a {bits}-bit key, not {} bits",
            attributes.bits
        )));
    }
    Ok(bits)
}

/// The public area of an imported public key.
fn public_template(attributes: &Attributes, data: &[u8]) -> Result<Public> {
    match attributes.key_type {
        Type::RsaPublicKey => {
            let (modulus, exponent) = parse_rsa_public_key_der(data)?;
            let modulus = PublicKeyRsa::try_from(modulus)
                .map_err(|error| tpm_error(error, "reading the modulus"))?;
            template(attributes, false, Some((modulus, exponent)), None)
        }
        _ => {
            let bytes = attributes.bits.div_ceil(8);
            let (x, y) = match data.split_first() {
                Some((0x04, point)) if point.len() == 2 * bytes => point.split_at(bytes),
                _ => return Err(invalid("the data is not an uncompressed EC point")),
            };
            let coordinate = |value: &[u8]| {
                EccParameter::try_from(value.to_vec())
                    .map_err(|error| tpm_error(error, "reading the point"))
            };
            let point = EccPoint::new(coordinate(x)?, coordinate(y)?);
            template(attributes, false, None, Some(point))
        }
    }
}

/// The PSA public key format of a public area: a DER RSAPublicKey
/// (exponent 0, the TPM's default, is 65537), or an uncompressed point of
/// a curve of `bits`.
pub(crate) fn psa_public_key(public: &Public, bits: usize) -> Result<Vec<u8>> {
    match public {
        Public::Rsa {
            parameters, unique, ..
        } => {
            let exponent = match parameters.exponent().value() {
                0 => RSA_DEFAULT_EXPONENT,
                other => other,
            };
            rsa_public_key_der(unique.value(), exponent)
        }
        Public::Ecc { unique, .. } => {
            let bytes = bits.div_ceil(8);
            let mut point = vec![0x04];
            point.extend(left_pad(unique.x().value(), bytes));
            point.extend(left_pad(unique.y().value(), bytes));
            Ok(point)
        }
        _ => Err(ProviderError::NotSupported(
            "exporting this kind of key".into(),
        )),
    }
}

impl KeyManagement for TpmProvider {
    fn generate_key(
        &self,
        app: &Application,
        op: psa_generate_key::Operation,
    ) -> Result<psa_generate_key::Result> {
        self.generate(app, &op.key_name, op.attributes)?;
        Ok(psa_generate_key::Result {})
    }

    fn import_key(
        &self,
        app: &Application,
        op: psa_import_key::Operation,
    ) -> Result<psa_import_key::Result> {
        self.import(app, &op.key_name, op.attributes, &op.data)?;
        Ok(psa_import_key::Result {})
    }

    /// Needs no TPM: the public part is in the stored blob.
    fn export_public_key(
        &self,
        app: &Application,
        op: psa_export_public_key::Operation,
    ) -> Result<psa_export_public_key::Result> {
        let (info, blob) = self.ready_key(app, &op.key_name)?;
        let data = psa_public_key(blob.public(), info.attributes.bits)?;
        Ok(psa_export_public_key::Result { data })
    }

    /// Destroys a key through the key lifecycle: the wrapped key is in
    /// its row only, so there is nothing to destroy in the TPM.
    fn destroy_key(
        &self,
        app: &Application,
        op: psa_destroy_key::Operation,
    ) -> Result<psa_destroy_key::Result> {
        self.keys().destroy(app, &op.key_name, self)?;
        Ok(psa_destroy_key::Result {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::ResponseStatus;
    use psec_interface::psa_crypto::types::algorithm::{AsymmetricEncryption, AsymmetricSignature};
    use psec_interface::psa_crypto::types::key::EccFamily;
    use psec_provider::KeyStore;
    use std::sync::atomic::Ordering;

    fn public_of(pair: Attributes) -> Attributes {
        let key_type = match pair.key_type {
            Type::EccKeyPair { curve_family } => Type::EccPublicKey { curve_family },
            _ => Type::RsaPublicKey,
        };
        Attributes { key_type, ..pair }
    }

    #[test]
    fn generated_keys_export_their_public_keys_in_psa_format() {
        let setup = setup();
        let owner = app("alice");
        let provider = &setup.provider;
        generate(provider, &owner, "p256", ecc_key(256)).unwrap();
        let point = export_public(provider, &owner, "p256").unwrap();
        assert_eq!(point.len(), 65);
        assert_eq!(point[0], 0x04);
        if provider.support().ecc_bits.contains(&384) {
            generate(provider, &owner, "p384", ecc_key(384)).unwrap();
            assert_eq!(export_public(provider, &owner, "p384").unwrap().len(), 97);
        }
        let pss = AsymmetricSignature::RsaPss {
            hash_alg: Hash::Sha256.into(),
        };
        generate(provider, &owner, "rsa", rsa_signing_key(2048, pss)).unwrap();
        let der = export_public(provider, &owner, "rsa").unwrap();
        let (modulus, exponent) = parse_rsa_public_key_der(&der).unwrap();
        assert_eq!(modulus.len(), 256);
        assert_eq!(exponent, 65537);
        let info = setup
            .store
            .get(&identity_of(&owner, "rsa"))
            .unwrap()
            .unwrap();
        assert_eq!(info.attributes.lifetime, Lifetime::Persistent);
        assert!(matches!(
            KeyBlob::from_backend_id(&info.backend_id).unwrap(),
            KeyBlob::Pair { .. }
        ));
    }

    use psec_interface::psa_crypto::types::algorithm::Hash;

    #[test]
    fn an_exported_public_key_imports_and_exports_the_same_bytes() {
        let setup = setup();
        let owner = app("alice");
        let provider = &setup.provider;
        let pkcs1 = AsymmetricSignature::RsaPkcs1v15Sign {
            hash_alg: Hash::Sha256.into(),
        };
        for (name, pair) in [("ecc", ecc_key(256)), ("rsa", rsa_signing_key(2048, pkcs1))] {
            generate(provider, &owner, name, pair).unwrap();
            let public = export_public(provider, &owner, name).unwrap();
            let mut attributes = public_of(pair);
            attributes.bits = 0;
            let copy = format!("{name}-public");
            import(provider, &owner, &copy, attributes, &public).unwrap();
            assert_eq!(export_public(provider, &owner, &copy).unwrap(), public);
            let info = setup
                .store
                .get(&identity_of(&owner, &copy))
                .unwrap()
                .unwrap();
            assert_eq!(info.attributes.bits, pair.bits, "{name}");
        }
    }

    #[test]
    fn bad_public_key_data_is_an_invalid_argument_and_leaves_no_row() {
        let setup = setup();
        let owner = app("alice");
        let ecc = public_of(ecc_key(256));
        let mut off_curve = vec![0x04];
        off_curve.extend([0x11; 64]);
        let rsa = public_of(rsa_signing_key(
            2048,
            AsymmetricSignature::RsaPkcs1v15Sign {
                hash_alg: Hash::Sha256.into(),
            },
        ));
        let cases = [
            (ecc, &b"short"[..]),
            (ecc, &off_curve[..]),
            (rsa, &b"not DER"[..]),
            (rsa, &rsa_public_key_der(&[0xc5; 128], 65537).unwrap()[..]),
        ];
        for (index, (attributes, data)) in cases.into_iter().enumerate() {
            let error = import(&setup.provider, &owner, "k", attributes, data).unwrap_err();
            assert!(
                matches!(
                    error.status(),
                    ResponseStatus::PsaErrorInvalidArgument | ResponseStatus::PsaErrorNotSupported
                ),
                "case {index}: {error}"
            );
        }
        assert!(
            setup
                .store
                .get(&identity_of(&owner, "k"))
                .unwrap()
                .is_none()
        );
        assert!(setup.store.unfinished(PROVIDER_NAME).unwrap().is_empty());
    }

    #[test]
    fn private_keys_can_not_be_imported() {
        let setup = setup();
        let error =
            import(&setup.provider, &app("alice"), "k", ecc_key(256), &[7; 32]).unwrap_err();
        assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
    }

    #[test]
    fn generating_a_public_key_type_is_an_invalid_argument() {
        let setup = setup();
        let owner = app("alice");
        let pss = AsymmetricSignature::RsaPss {
            hash_alg: Hash::Sha256.into(),
        };
        for (name, attributes) in [
            ("rsa", public_of(rsa_signing_key(2048, pss))),
            ("ecc", public_of(ecc_key(256))),
        ] {
            let error = generate(&setup.provider, &owner, name, attributes).unwrap_err();
            assert_eq!(
                error.status(),
                ResponseStatus::PsaErrorInvalidArgument,
                "{name}: {error}"
            );
        }
        assert!(setup.store.keys_in(PROVIDER_NAME).unwrap().is_empty());
        assert!(setup.store.unfinished(PROVIDER_NAME).unwrap().is_empty());
    }

    #[test]
    fn a_second_key_of_the_same_name_already_exists() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let error = generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyAlreadyExists(_)),
            "{error}"
        );
        generate(&setup.provider, &app("bob"), "k", ecc_key(256)).unwrap();
    }

    #[test]
    fn unknown_keys_and_other_applications_keys_do_not_exist() {
        let setup = setup();
        let provider = &setup.provider;
        generate(provider, &app("alice"), "k", ecc_key(256)).unwrap();
        for (owner, name) in [(app("alice"), "nope"), (app("bob"), "k")] {
            let errors = [
                export_public(provider, &owner, name).unwrap_err(),
                sign_hash(provider, &owner, name, ECDSA_SHA256, &[1; 32]).unwrap_err(),
                verify_hash(provider, &owner, name, ECDSA_SHA256, &[1; 32], &[0; 64]).unwrap_err(),
                destroy(provider, &owner, name).unwrap_err(),
            ];
            for error in errors {
                assert!(
                    matches!(error, ProviderError::KeyDoesNotExist(_)),
                    "{error}"
                );
            }
        }
        export_public(provider, &app("alice"), "k").unwrap();
    }

    #[test]
    fn destroy_drops_the_row_and_frees_the_name() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        destroy(&setup.provider, &owner, "k").unwrap();
        assert!(
            setup
                .store
                .get(&identity_of(&owner, "k"))
                .unwrap()
                .is_none()
        );
        assert!(setup.store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        let error = sign_hash(&setup.provider, &owner, "k", ECDSA_SHA256, &[1; 32]).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
    }

    #[test]
    fn a_failed_commit_leaves_no_row_behind() {
        let setup = setup();
        let owner = app("alice");
        setup.store.fail_commits.store(true, Ordering::SeqCst);
        let error = generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap_err();
        assert!(matches!(error, ProviderError::KeyStore(_)), "{error}");
        assert!(setup.store.unfinished(PROVIDER_NAME).unwrap().is_empty());
        setup.store.fail_commits.store(false, Ordering::SeqCst);
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
    }

    #[test]
    fn unsupported_key_types_and_sizes_are_refused_before_any_step() {
        let setup = setup();
        let owner = app("alice");
        let cases = [
            attributes(Type::Aes, 128, Algorithm::None, |_| {}),
            attributes(
                Type::EccKeyPair {
                    curve_family: EccFamily::SecpK1,
                },
                256,
                Algorithm::None,
                |_| {},
            ),
            ecc_key(224),
            rsa_crypt_key(1000, AsymmetricEncryption::RsaPkcs1v15Crypt),
            ecc_key(0),
        ];
        for attributes in cases {
            let error = generate(&setup.provider, &owner, "k", attributes).unwrap_err();
            assert!(
                matches!(error, ProviderError::NotSupported(_)),
                "{attributes:?}: {error}"
            );
        }
        assert!(setup.store.keys_in(PROVIDER_NAME).unwrap().is_empty());
    }

    #[test]
    fn a_key_that_no_longer_loads_is_an_error_not_a_panic() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "k", ecc_key(256)).unwrap();
        let identity = identity_of(&owner, "k");
        let info = setup.store.begin_destroy(&identity).unwrap().unwrap();
        setup.store.finish_destroy(&identity).unwrap();
        let KeyBlob::Pair {
            public,
            mut private,
            ..
        } = KeyBlob::from_backend_id(&info.backend_id).unwrap()
        else {
            panic!("a key pair");
        };
        let mut bytes = private.value().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        private = tss_esapi::structures::Private::try_from(bytes).unwrap();
        let tampered = KeyInfo {
            backend_id: KeyBlob::Pair {
                parent_name: setup.provider.tpm().primary_name().to_vec(),
                public,
                private,
            }
            .to_backend_id()
            .unwrap(),
            attributes: info.attributes,
        };
        setup.store.begin_create(&identity, &tampered).unwrap();
        setup.store.commit_create(&identity).unwrap();
        let error = sign_hash(&setup.provider, &owner, "k", ECDSA_SHA256, &[1; 32]).unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorCorruptionDetected,
            "{error}"
        );
        // The failed load left nothing behind: other keys still work.
        generate(&setup.provider, &owner, "other", ecc_key(256)).unwrap();
        sign_hash(&setup.provider, &owner, "other", ECDSA_SHA256, &[1; 32]).unwrap();
    }
}
