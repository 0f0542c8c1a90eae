//! The TPM itself: one ESAPI context behind a lock, the storage primary key
//! every application key is wrapped under, loading a key for one operation
//! and flushing it after, and the mapping of TPM errors to PSA statuses.

use psec_interface::ResponseStatus;
use psec_provider::{ProviderError, Result};
use std::str::FromStr;
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::constants::StartupType;
use tss_esapi::constants::Tss2ResponseCodeKind as Kind;
use tss_esapi::handles::{KeyHandle, ObjectHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Auth, EccParameter, EccPoint, Private, Public, PublicEccParametersBuilder,
    SymmetricDefinitionObject,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::{Context, Error as TssError, WrapperErrorKind};

/// What makes the storage primary key this provider's own: the TPM
/// derives a primary key from its hierarchy seed and its template, of
/// which this is part.
const PRIMARY_UNIQUE: &[u8] = b"psec storage primary key v1";

/// The PSA status of a TPM or ESAPI error.
pub(crate) fn status_of(error: &TssError) -> ResponseStatus {
    use ResponseStatus as S;
    match error {
        TssError::WrapperError(
            WrapperErrorKind::WrongParamSize
            | WrapperErrorKind::ParamsMissing
            | WrapperErrorKind::InconsistentParams
            | WrapperErrorKind::InvalidParam,
        ) => S::PsaErrorInvalidArgument,
        TssError::WrapperError(WrapperErrorKind::UnsupportedParam) => S::PsaErrorNotSupported,
        TssError::WrapperError(_) => S::PsaErrorGenericError,
        TssError::Tss2Error(code) => match code.kind() {
            Some(Kind::Signature) => S::PsaErrorInvalidSignature,
            Some(Kind::AuthFail | Kind::BadAuth | Kind::Lockout | Kind::AuthMissing) => {
                S::PsaErrorNotPermitted
            }
            Some(Kind::Value | Kind::Size | Kind::EccPoint | Kind::Range) => {
                S::PsaErrorInvalidArgument
            }
            Some(
                Kind::Scheme
                | Kind::Hash
                | Kind::Curve
                | Kind::KeySize
                | Kind::Asymmetric
                | Kind::Mode
                | Kind::Type
                | Kind::Kdf
                | Kind::Mgf
                | Kind::Symmetric,
            ) => S::PsaErrorNotSupported,
            Some(Kind::Integrity | Kind::Binding | Kind::Sensitive) => {
                S::PsaErrorCorruptionDetected
            }
            Some(
                Kind::ObjectMemory
                | Kind::ObjectHandles
                | Kind::Memory
                | Kind::SessionMemory
                | Kind::SessionHandles,
            ) => S::PsaErrorInsufficientMemory,
            None => S::PsaErrorCommunicationFailure,
            Some(_) => S::PsaErrorHardwareFailure,
        },
    }
}

/// A TPM error of `context`, with its PSA status.
pub(crate) fn tpm_error(error: TssError, context: impl std::fmt::Display) -> ProviderError {
    ProviderError::backend(status_of(&error), format!("{context}: {error}"))
}

/// Whether `error` is the TPM's dictionary-attack lockout.
fn is_lockout(error: &TssError) -> bool {
    matches!(error, TssError::Tss2Error(code) if code.kind() == Some(Kind::Lockout))
}

/// Whether `error` is a refused authorization value.
fn is_bad_auth(error: &TssError) -> bool {
    matches!(error, TssError::Tss2Error(code)
        if matches!(code.kind(), Some(Kind::AuthFail | Kind::BadAuth)))
}

/// How to reach the TPM and authorize the hierarchies.
pub(crate) struct Connection<'a> {
    pub(crate) tcti: &'a str,
    pub(crate) owner_auth: &'a [u8],
    pub(crate) endorsement_auth: &'a [u8],
}

/// The TPM as the provider uses it. Only reachable through the provider's
/// lock, so commands never interleave.
pub(crate) struct Tpm {
    pub(crate) context: Context,
    /// The storage primary key, loaded for the provider's life (and
    /// re-created after a TPM reset).
    primary: KeyHandle,
    /// Its TPM name (name algorithm and digest of its public area).
    primary_name: Vec<u8>,
    /// The TCTI, for messages.
    tcti: String,
}

impl std::fmt::Debug for Tpm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tpm").finish_non_exhaustive()
    }
}

/// The template of the storage primary key: ECC P-256 (every TPM 2.0 has
/// it, and it is made in milliseconds where RSA takes seconds), restricted
/// to decryption, wrapping its children with AES-128-CFB.
fn primary_template() -> Result<Public, TssError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_no_da(true)
        .with_decrypt(true)
        .with_restricted(true)
        .build()?;
    let parameters = PublicEccParametersBuilder::new_restricted_decryption_key(
        SymmetricDefinitionObject::AES_128_CFB,
        EccCurve::NistP256,
    )
    .build()?;
    let unique = EccPoint::new(
        EccParameter::try_from(PRIMARY_UNIQUE)?,
        EccParameter::default(),
    );
    tss_esapi::structures::PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(parameters)
        .with_ecc_unique_identifier(unique)
        .build()
}

impl Tpm {
    /// Opens the TPM at `connection.tcti` and re-creates the storage
    /// primary key under the owner hierarchy.
    pub(crate) fn open(connection: &Connection<'_>) -> Result<Self> {
        let tcti = connection.tcti;
        let name_conf = TctiNameConf::from_str(tcti).map_err(|error| {
            ProviderError::InvalidArgument(format!(
                "`{tcti}` is not a TCTI (device:, mssim:, swtpm: or tabrmd:): {error}"
            ))
        })?;
        let mut context = Context::new(name_conf).map_err(|error| {
            ProviderError::backend(
                ResponseStatus::PsaErrorCommunicationFailure,
                format!("no TPM answers at TCTI `{tcti}`: {error}"),
            )
        })?;
        let owner_auth = Auth::try_from(connection.owner_auth).map_err(|_| {
            ProviderError::InvalidArgument(
                "the owner hierarchy auth is longer than the TPM allows".into(),
            )
        })?;
        context
            .tr_set_auth(ObjectHandle::Owner, owner_auth)
            .map_err(|error| tpm_error(error, "setting the owner hierarchy auth"))?;
        let endorsement_auth = Auth::try_from(connection.endorsement_auth).map_err(|_| {
            ProviderError::InvalidArgument(
                "the endorsement hierarchy auth is longer than the TPM allows".into(),
            )
        })?;
        context
            .tr_set_auth(ObjectHandle::Endorsement, endorsement_auth)
            .map_err(|error| tpm_error(error, "setting the endorsement hierarchy auth"))?;
        let (primary, primary_name) = make_primary(&mut context, tcti)?;
        Ok(Tpm {
            context,
            primary,
            primary_name,
            tcti: tcti.to_owned(),
        })
    }

    /// After a TPM reset (TPM2_Init) under the provider: starts the TPM if
    /// no one has, and re-creates the storage primary key, which must be
    /// the same one.
    fn recover(&mut self) -> Result<()> {
        log::warn!(
            "the TPM at `{}` was reset: re-creating the storage primary key",
            self.tcti
        );
        // TPM_RC_INITIALIZE if someone else started it: fine.
        if let Err(error) = self.context.startup(StartupType::Clear) {
            log::debug!("TPM2_Startup after a reset: {error}");
        }
        let mut stale = ObjectHandle::from(self.primary);
        if let Err(error) = self.context.tr_close(&mut stale) {
            log::debug!("forgetting the old primary key: {error}");
        }
        let (primary, name) = make_primary(&mut self.context, &self.tcti)?;
        self.primary = primary;
        if name != self.primary_name {
            return Err(ProviderError::backend(
                ResponseStatus::PsaErrorCorruptionDetected,
                format!(
                    "the TPM at `{}` has another storage primary key since its reset: it was \
                     cleared, or it is another TPM",
                    self.tcti
                ),
            ));
        }
        Ok(())
    }

    /// Runs `command`; if the TPM was reset since the last command,
    /// recovers and runs it once more.
    pub(crate) fn again_after_reset<T>(
        &mut self,
        what: &str,
        mut command: impl FnMut(&mut Context, KeyHandle) -> Result<T, TssError>,
    ) -> Result<T> {
        match command(&mut self.context, self.primary) {
            Err(error) if is_reset(&error) => {
                self.recover()?;
                command(&mut self.context, self.primary).map_err(|error| tpm_error(error, what))
            }
            other => other.map_err(|error| tpm_error(error, what)),
        }
    }

    /// The TPM name of the storage primary key: it changes when the owner
    /// seed does (TPM2_Clear), and then no wrapped key loads any more.
    pub(crate) fn primary_name(&self) -> &[u8] {
        &self.primary_name
    }

    /// Creates a key pair from `template` under the primary key; returns
    /// its wrapped private part and its public part. `what` names the key
    /// for an error.
    pub(crate) fn create(&mut self, template: Public, what: &str) -> Result<(Private, Public)> {
        let made = self.again_after_reset(what, |context, primary| {
            context.execute_with_session(Some(AuthSession::Password), |context| {
                context.create(primary, template.clone(), None, None, None, None)
            })
        })?;
        Ok((made.out_private, made.out_public))
    }

    /// Loads a wrapped key pair under the primary key.
    pub(crate) fn load(
        &mut self,
        private: Private,
        public: Public,
        what: &str,
    ) -> Result<KeyHandle> {
        self.again_after_reset(what, |context, primary| {
            context.execute_with_session(Some(AuthSession::Password), |context| {
                context.load(primary, private.clone(), public.clone())
            })
        })
    }

    /// Loads a lone public key.
    pub(crate) fn load_public(&mut self, public: Public) -> Result<KeyHandle, TssError> {
        self.context.load_external_public(public, Hierarchy::Null)
    }

    /// Flushes a loaded key; a failure is logged, as there is nothing else
    /// to do about it.
    pub(crate) fn flush(&mut self, handle: KeyHandle) {
        if let Err(error) = self.context.flush_context(handle.into()) {
            log::warn!("could not flush a loaded key from the TPM: {error}");
        }
    }
}

/// Whether `error` says the TPM was reset under us: it needs TPM2_Startup,
/// or the primary key's handle is gone.
fn is_reset(error: &TssError) -> bool {
    matches!(error, TssError::Tss2Error(code)
        if matches!(code.kind(), Some(Kind::Initialize | Kind::ReferenceH0 | Kind::Handle)))
}

/// Creates the storage primary key; returns its handle and TPM name.
fn make_primary(context: &mut Context, tcti: &str) -> Result<(KeyHandle, Vec<u8>)> {
    let template = primary_template()
        .map_err(|error| tpm_error(error, "building the primary key template"))?;
    let primary = context
        .execute_with_session(Some(AuthSession::Password), |context| {
            context.create_primary(Hierarchy::Owner, template, None, None, None, None)
        })
        .map_err(|error| primary_failed(error, tcti))?
        .key_handle;
    let name = context
        .tr_get_name(primary.into())
        .map_err(|error| tpm_error(error, "reading the primary key's name"))?
        .value()
        .to_vec();
    Ok((primary, name))
}

/// Why the primary key could not be made, in words an operator can act on.
fn primary_failed(error: TssError, tcti: &str) -> ProviderError {
    if is_lockout(&error) {
        ProviderError::backend(
            ResponseStatus::PsaErrorNotPermitted,
            format!(
                "the TPM at `{tcti}` is in dictionary-attack lockout; wait for it to end or \
                 reset it with the lockout auth: {error}"
            ),
        )
    } else if is_bad_auth(&error) {
        ProviderError::backend(
            ResponseStatus::PsaErrorNotPermitted,
            format!("the owner hierarchy auth is wrong for the TPM at `{tcti}`: {error}"),
        )
    } else {
        tpm_error(
            error,
            format_args!("creating the storage primary key on the TPM at `{tcti}`"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(rc: u32) -> ResponseStatus {
        status_of(&TssError::Tss2Error(
            tss_esapi::constants::response_code::Tss2ResponseCode::from(rc),
        ))
    }

    #[test]
    fn tpm_response_codes_map_to_their_psa_statuses() {
        // TPM_RC_SIGNATURE, TPM_RC_VALUE (parameter 1), TPM_RC_LOCKOUT,
        // TPM_RC_BAD_AUTH (session 1), TPM_RC_INTEGRITY (parameter 1),
        // TPM_RC_OBJECT_MEMORY, TPM_RC_CURVE (parameter 1).
        assert_eq!(status(0x09b), ResponseStatus::PsaErrorInvalidSignature);
        assert_eq!(status(0x1c4), ResponseStatus::PsaErrorInvalidArgument);
        assert_eq!(status(0x921), ResponseStatus::PsaErrorNotPermitted);
        assert_eq!(status(0x9a2), ResponseStatus::PsaErrorNotPermitted);
        assert_eq!(status(0x1df), ResponseStatus::PsaErrorCorruptionDetected);
        assert_eq!(status(0x902), ResponseStatus::PsaErrorInsufficientMemory);
        assert_eq!(status(0x1e6), ResponseStatus::PsaErrorNotSupported);
    }

    #[test]
    fn lockout_and_bad_auth_are_told_apart_at_start_up() {
        let lockout = primary_failed(
            TssError::Tss2Error(tss_esapi::constants::response_code::Tss2ResponseCode::from(
                0x921,
            )),
            "swtpm:port=1",
        );
        assert!(lockout.to_string().contains("lockout"), "{lockout}");
        let bad_auth = primary_failed(
            TssError::Tss2Error(tss_esapi::constants::response_code::Tss2ResponseCode::from(
                0x9a2,
            )),
            "swtpm:port=1",
        );
        assert!(
            bad_auth
                .to_string()
                .contains("owner hierarchy auth is wrong"),
            "{bad_auth}"
        );
    }
}
