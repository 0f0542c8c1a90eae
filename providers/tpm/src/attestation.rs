//! Key attestation through TPM2_ActivateCredential, as Parsec defines it.
//!
//! The attesting key is the TPM's endorsement key: RSA 2048 from the TCG
//! default template, re-created from the endorsement seed when needed (an
//! attesting key of the application's own is not supported).
//!
//! - PrepareKeyAttestation gives the verifier the attested key's TPM name,
//!   its marshalled public area (TPMT_PUBLIC) and the endorsement key's
//!   public key as a DER RSAPublicKey (PKCS#1: `SEQUENCE { modulus,
//!   publicExponent }`), as Parsec gives it.
//! - The verifier runs TPM2_MakeCredential with the endorsement key's
//!   public part and the name, and sends the credential blob and secret.
//! - AttestKey activates the credential with the attested key and the
//!   endorsement key, in a policy session satisfied by the endorsement
//!   hierarchy's auth, and returns the credential: only this TPM, holding
//!   that very key, can.
//!
//! At most three objects are loaded at once: the storage primary key, the
//! attested key and the endorsement key.

use crate::TpmProvider;
use crate::blob::KeyBlob;
use crate::keys::psa_public_key;
use crate::tpm::{Tpm, tpm_error};
use psec_interface::SecretBytes;
use psec_interface::operations::attest_key::{self, AttestationOutput, AttestationParams};
use psec_interface::operations::prepare_key_attestation::{
    self, PrepareKeyAttestationOutput, PrepareKeyAttestationParams,
};
use psec_provider::{Application, Attestation, ProviderError, Result};
use tss_esapi::abstraction::ek::create_ek_public_from_default_template_2;
use tss_esapi::abstraction::{AsymmetricAlgorithmSelection, DefaultKey};
use tss_esapi::constants::SessionType;
use tss_esapi::handles::{AuthHandle, KeyHandle, SessionHandle};
use tss_esapi::interface_types::algorithm::HashingAlgorithm;
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::{AuthSession, PolicySession};
use tss_esapi::structures::{EncryptedSecret, IdObject, Public, SymmetricDefinition};
use tss_esapi::traits::Marshall;

/// The endorsement key's public template.
pub(crate) fn endorsement_key_template() -> Result<Public> {
    create_ek_public_from_default_template_2(
        AsymmetricAlgorithmSelection::Rsa(RsaKeyBits::Rsa2048),
        DefaultKey,
    )
    .map_err(|error| tpm_error(error, "building the endorsement key template"))
}

fn no_own_attesting_key(attesting_key_name: Option<&String>) -> Result<()> {
    match attesting_key_name {
        None => Ok(()),
        Some(_) => Err(ProviderError::NotSupported(
            "attesting with a key other than the TPM's endorsement key".into(),
        )),
    }
}

impl Tpm {
    /// Creates the endorsement key (a primary key of the endorsement
    /// hierarchy).
    fn endorsement_key(&mut self) -> Result<KeyHandle> {
        let template = endorsement_key_template()?;
        self.context
            .execute_with_session(Some(AuthSession::Password), |context| {
                context.create_primary(Hierarchy::Endorsement, template, None, None, None, None)
            })
            .map(|made| made.key_handle)
            .map_err(|error| tpm_error(error, "creating the endorsement key"))
    }

    /// Activates the credential with `attested` and the endorsement key.
    fn activate(
        &mut self,
        attested: KeyHandle,
        credential_blob: IdObject,
        secret: EncryptedSecret,
    ) -> Result<Vec<u8>> {
        let session = self
            .context
            .start_auth_session(
                None,
                None,
                None,
                SessionType::Policy,
                SymmetricDefinition::AES_128_CFB,
                HashingAlgorithm::Sha256,
            )
            .map_err(|error| tpm_error(error, "starting a policy session"))?
            .ok_or_else(|| {
                ProviderError::backend(
                    psec_interface::ResponseStatus::PsaErrorHardwareFailure,
                    "the TPM started no policy session",
                )
            })?;
        let result = self.activate_in(session, attested, credential_blob, secret);
        if let Err(error) = self
            .context
            .flush_context(SessionHandle::from(session).into())
        {
            log::warn!("could not flush a policy session from the TPM: {error}");
        }
        result
    }

    fn activate_in(
        &mut self,
        session: AuthSession,
        attested: KeyHandle,
        credential_blob: IdObject,
        secret: EncryptedSecret,
    ) -> Result<Vec<u8>> {
        let policy = PolicySession::try_from(session)
            .map_err(|error| tpm_error(error, "using the policy session"))?;
        self.context
            .execute_with_session(Some(AuthSession::Password), |context| {
                context.policy_secret(
                    policy,
                    AuthHandle::Endorsement,
                    Default::default(),
                    Default::default(),
                    Default::default(),
                    None,
                )
            })
            .map_err(|error| tpm_error(error, "authorizing with the endorsement hierarchy"))?;
        let endorsement = self.endorsement_key()?;
        let activated = self.context.execute_with_sessions(
            (Some(AuthSession::Password), Some(session), None),
            |context| context.activate_credential(attested, endorsement, credential_blob, secret),
        );
        self.flush(endorsement);
        activated
            .map(|credential| credential.value().to_vec())
            .map_err(|error| tpm_error(error, "activating the credential"))
    }
}

impl TpmProvider {
    /// Loads `app`'s key pair `name`, runs `f` on it, flushes it.
    fn with_pair<T>(
        &self,
        app: &Application,
        name: &str,
        f: impl FnOnce(&mut Tpm, KeyHandle, &Public) -> Result<T>,
    ) -> Result<T> {
        let info = self.keys().ready(app, name)?;
        let KeyBlob::Pair {
            public, private, ..
        } = KeyBlob::from_backend_id(&info.backend_id)?
        else {
            return Err(ProviderError::InvalidArgument(format!(
                "key `{name}` is a public key: only a key pair made in the TPM can be attested"
            )));
        };
        let mut tpm = self.tpm();
        let handle = tpm.load(private, public.clone(), &format!("loading key `{name}`"))?;
        let result = f(&mut tpm, handle, &public);
        tpm.flush(handle);
        result
    }
}

impl Attestation for TpmProvider {
    fn attest_key(
        &self,
        app: &Application,
        op: attest_key::Operation,
    ) -> Result<attest_key::Result> {
        no_own_attesting_key(op.attesting_key_name.as_ref())?;
        let AttestationParams::ActivateCredential {
            credential_blob,
            secret,
        } = op.parameters
        else {
            return Err(ProviderError::NotSupported(
                "this attestation mechanism".into(),
            ));
        };
        let credential_blob = IdObject::try_from(credential_blob).map_err(|_| {
            ProviderError::InvalidArgument("the credential blob is too long".into())
        })?;
        let secret = EncryptedSecret::try_from(secret)
            .map_err(|_| ProviderError::InvalidArgument("the secret is too long".into()))?;
        let credential = self.with_pair(app, &op.attested_key_name, |tpm, handle, _| {
            tpm.activate(handle, credential_blob, secret)
        })?;
        Ok(attest_key::Result {
            output: AttestationOutput::ActivateCredential {
                credential: SecretBytes::from(credential),
            },
        })
    }

    fn prepare_key_attestation(
        &self,
        app: &Application,
        op: prepare_key_attestation::Operation,
    ) -> Result<prepare_key_attestation::Result> {
        let PrepareKeyAttestationParams::ActivateCredential {
            attested_key_name,
            attesting_key_name,
        } = op.parameters
        else {
            return Err(ProviderError::NotSupported(
                "this attestation mechanism".into(),
            ));
        };
        no_own_attesting_key(attesting_key_name.as_ref())?;
        let (name, public) = self.with_pair(app, &attested_key_name, |tpm, handle, public| {
            let name = tpm
                .context
                .tr_get_name(handle.into())
                .map_err(|error| tpm_error(error, "reading the key's name"))?;
            let public = public
                .marshall()
                .map_err(|error| tpm_error(error, "marshalling the key's public area"))?;
            Ok((name.value().to_vec(), public))
        })?;
        let attesting_key_pub = {
            let mut tpm = self.tpm();
            let endorsement = tpm.endorsement_key()?;
            let read = tpm.context.read_public(endorsement);
            tpm.flush(endorsement);
            match read.map_err(|error| tpm_error(error, "reading the endorsement key"))? {
                (public @ Public::Rsa { .. }, _, _) => psa_public_key(&public, 2048)?,
                _ => {
                    return Err(ProviderError::NotSupported(
                        "an endorsement key that is not RSA".into(),
                    ));
                }
            }
        };
        Ok(prepare_key_attestation::Result {
            output: PrepareKeyAttestationOutput::ActivateCredential {
                name,
                public,
                attesting_key_pub,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use psec_interface::ResponseStatus;
    use psec_provider::Provider;
    use tss_esapi::structures::{Digest, Name, PublicKeyRsa};
    use tss_esapi::traits::UnMarshall;

    fn prepare(setup: &Setup, name: &str) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let op = prepare_key_attestation::Operation {
            parameters: PrepareKeyAttestationParams::ActivateCredential {
                attested_key_name: name.into(),
                attesting_key_name: None,
            },
        };
        match setup
            .provider
            .prepare_key_attestation(&app("alice"), op)?
            .output
        {
            PrepareKeyAttestationOutput::ActivateCredential {
                name,
                public,
                attesting_key_pub,
            } => Ok((name, public, attesting_key_pub)),
            other => panic!("{other:?}"),
        }
    }

    fn attest(setup: &Setup, name: &str, blob: Vec<u8>, secret: Vec<u8>) -> Result<Vec<u8>> {
        let op = attest_key::Operation {
            attested_key_name: name.into(),
            parameters: AttestationParams::ActivateCredential {
                credential_blob: blob,
                secret,
            },
            attesting_key_name: None,
        };
        match setup.provider.attest_key(&app("alice"), op)?.output {
            AttestationOutput::ActivateCredential { credential } => Ok(credential.to_vec()),
            other => panic!("{other:?}"),
        }
    }

    /// The verifier's part: TPM2_MakeCredential to the endorsement key
    /// (from its modulus alone) for the key of TPM name `name`. Any TPM
    /// can do it; this one is the provider's.
    fn make_credential(
        setup: &Setup,
        ek_modulus: &[u8],
        name: &[u8],
        credential: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let Public::Rsa {
            object_attributes,
            name_hashing_algorithm,
            auth_policy,
            parameters,
            ..
        } = endorsement_key_template().unwrap()
        else {
            panic!("an RSA template");
        };
        let ek_public = Public::Rsa {
            object_attributes,
            name_hashing_algorithm,
            auth_policy,
            parameters,
            unique: PublicKeyRsa::try_from(ek_modulus.to_vec()).unwrap(),
        };
        let mut tpm = setup.provider.tpm();
        let handle = tpm.load_public(ek_public).unwrap();
        let made = tpm.context.make_credential(
            handle,
            Digest::try_from(credential.to_vec()).unwrap(),
            Name::try_from(name.to_vec()).unwrap(),
        );
        tpm.flush(handle);
        let (blob, secret) = made.unwrap();
        (blob.value().to_vec(), secret.value().to_vec())
    }

    /// The endorsement key's modulus, as the TPM gives it (ReadPublic).
    fn endorsement_key_modulus(setup: &Setup) -> Vec<u8> {
        let mut tpm = setup.provider.tpm();
        let handle = tpm.endorsement_key().unwrap();
        let read = tpm.context.read_public(handle);
        tpm.flush(handle);
        let (Public::Rsa { unique, .. }, _, _) = read.unwrap() else {
            panic!("an RSA endorsement key");
        };
        unique.value().to_vec()
    }

    /// Runs openssl with `args` in `dir`; its standard output.
    fn openssl(dir: &std::path::Path, args: &[&str]) -> String {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (is it installed?)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The modulus of the DER RSAPublicKey `der`, as openssl reads it;
    /// openssl must also write the same bytes back, so `der` is exactly
    /// `SEQUENCE { modulus INTEGER, publicExponent INTEGER }` in DER, and
    /// the exponent must be 65537.
    fn modulus_as_openssl_reads_it(der: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.der"), der).unwrap();
        let read = [
            "rsa",
            "-RSAPublicKey_in",
            "-inform",
            "DER",
            "-in",
            "key.der",
        ];
        let text = openssl(dir.path(), &[&read[..], &["-noout", "-text"]].concat());
        assert!(text.contains("Exponent: 65537"), "{text}");
        let modulus = openssl(dir.path(), &[&read[..], &["-noout", "-modulus"]].concat());
        let hex = modulus.trim().strip_prefix("Modulus=").unwrap();
        let write_back = ["-RSAPublicKey_out", "-outform", "DER", "-out", "again.der"];
        openssl(dir.path(), &[&read[..], &write_back[..]].concat());
        assert_eq!(std::fs::read(dir.path().join("again.der")).unwrap(), der);
        (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_attesting_key_is_given_as_the_endorsement_keys_der_rsa_public_key() {
        let setup = setup();
        generate(&setup.provider, &app("alice"), "attested", ecc_key(256)).unwrap();
        let (_, _, attesting_key_pub) = prepare(&setup, "attested").unwrap();
        let modulus = modulus_as_openssl_reads_it(&attesting_key_pub);
        assert_eq!(modulus.len(), 256);
        assert_eq!(modulus, endorsement_key_modulus(&setup));
    }

    #[test]
    fn the_credential_comes_back_only_for_the_key_it_was_made_for() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "attested", ecc_key(256)).unwrap();
        generate(&setup.provider, &owner, "other", ecc_key(256)).unwrap();
        let (name, public, ek) = prepare(&setup, "attested").unwrap();
        let (modulus, _) = crate::blob::parse_rsa_public_key_der(&ek).unwrap();
        // The public area is the key's: its name is the hash of it.
        let public = Public::unmarshall(&public).unwrap();
        assert!(matches!(public, Public::Ecc { .. }));
        let (other_name, _, same_ek) = prepare(&setup, "other").unwrap();
        assert_eq!(same_ek, ek);
        assert_ne!(other_name, name);

        let (blob, secret) = make_credential(&setup, &modulus, &name, b"the verifier's secret");
        let credential = attest(&setup, "attested", blob.clone(), secret.clone()).unwrap();
        assert_eq!(credential, b"the verifier's secret");

        let error = attest(&setup, "other", blob, secret).unwrap_err();
        assert!(matches!(error, ProviderError::Backend { .. }), "{error}");
        // Nothing leaked: the TPM still attests.
        let (blob, secret) = make_credential(&setup, &modulus, &other_name, b"second");
        assert_eq!(attest(&setup, "other", blob, secret).unwrap(), b"second");
    }

    #[test]
    fn unknown_keys_public_keys_and_own_attesting_keys_are_refused() {
        let setup = setup();
        let owner = app("alice");
        generate(&setup.provider, &owner, "pair", ecc_key(256)).unwrap();
        let public = export_public(&setup.provider, &owner, "pair").unwrap();
        let mut attributes = ecc_key(256);
        attributes.key_type = psec_interface::psa_crypto::types::key::Type::EccPublicKey {
            curve_family: psec_interface::psa_crypto::types::key::EccFamily::SecpR1,
        };
        import(&setup.provider, &owner, "public", attributes, &public).unwrap();
        let error = prepare(&setup, "nope").unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
        let error = attest(&setup, "nope", vec![0; 4], vec![0; 4]).unwrap_err();
        assert!(
            matches!(error, ProviderError::KeyDoesNotExist(_)),
            "{error}"
        );
        let error = prepare(&setup, "public").unwrap_err();
        assert_eq!(
            error.status(),
            ResponseStatus::PsaErrorInvalidArgument,
            "{error}"
        );
        let op = prepare_key_attestation::Operation {
            parameters: PrepareKeyAttestationParams::ActivateCredential {
                attested_key_name: "pair".into(),
                attesting_key_name: Some("pair".into()),
            },
        };
        let error = setup
            .provider
            .prepare_key_attestation(&owner, op)
            .unwrap_err();
        assert!(matches!(error, ProviderError::NotSupported(_)), "{error}");
        assert!(setup.provider.attestation().is_some());
    }
}
