//! From a request to a response: authentication, the checks in the order
//! the protocol gives, and the provider that does the work.
//!
//! The order of checks, after the front end has read a well-formed header
//! and a body within the limit:
//!
//! 1. authentication: an auth type that is not enabled gives
//!    `AuthenticatorNotRegistered`, bad credentials `AuthenticationError`;
//! 2. an operation that needs an application, sent without one:
//!    `NotAuthenticated`;
//! 3. the provider: not configured, `ProviderNotRegistered`; a core
//!    operation sent to a crypto provider or the reverse,
//!    `PsaErrorNotSupported`;
//! 4. an admin operation from a non-admin: `AdminOperation`;
//! 5. the body: `DeserializingBodyFailed` or `InvalidEncoding`;
//! 6. generating a key with a deprecated primitive, unless allowed:
//!    `DeprecatedPrimitive` (importing one is only logged, as in Parsec);
//! 7. a buffer to fill over `buffer_size_limit`: `ResponseTooLarge`;
//! 8. the provider's own answer.

use crate::authenticators::{Authenticators, PeerCredentials};
use crate::core_provider::{self, ServiceInfo, ServiceView};
use crate::deprecated::deprecated_in_new_key;
use psec_interface::operations::list_authenticators::AuthenticatorInfo;
use psec_interface::operations::list_providers::ProviderInfo;
use psec_interface::{
    NativeOperation, NativeResult, ProviderId, Request, Response, ResponseStatus,
};
use psec_provider::{Application, KeyStore, Provider, ProviderError};
use std::sync::Arc;

/// A running provider with its configured name and its key info store.
pub(crate) struct Backend {
    /// The configured name.
    pub(crate) name: String,
    /// The provider.
    pub(crate) provider: Arc<dyn Provider>,
    /// Where its key info lives.
    pub(crate) store: Arc<dyn KeyStore>,
    /// Its info for ListProviders, asked once.
    pub(crate) info: ProviderInfo,
}

/// Settings the dispatcher applies to every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DispatchSettings {
    /// Let deprecated primitives through.
    pub(crate) allow_deprecated: bool,
    /// Largest output a client may ask for (PsaGenerateRandom).
    pub(crate) buffer_size_limit: usize,
    /// Log why a request failed, not only that it did.
    pub(crate) log_error_details: bool,
}

/// Everything needed to answer requests; replaced whole on SIGHUP.
pub(crate) struct Dispatcher {
    /// Crypto providers in priority order.
    backends: Vec<Backend>,
    /// Enabled authenticators.
    authenticators: Authenticators,
    /// Request policy.
    settings: DispatchSettings,
}

impl Dispatcher {
    /// A dispatcher over these providers (in priority order) and
    /// authenticators.
    pub(crate) fn new(
        backends: Vec<Backend>,
        authenticators: Authenticators,
        settings: DispatchSettings,
    ) -> Self {
        Dispatcher {
            backends,
            authenticators,
            settings,
        }
    }

    /// The enabled authenticators.
    pub(crate) fn authenticators(&self) -> &Authenticators {
        &self.authenticators
    }

    /// The crypto provider with this id, if configured.
    fn backend(&self, id: ProviderId) -> Option<&Backend> {
        self.backends.iter().find(|b| b.info.id == id)
    }

    /// Answers one request. Never fails: every problem is a status.
    pub(crate) fn handle(&self, request: Request, peer: Option<PeerCredentials>) -> Response {
        let header = request.header;
        let outcome = self
            .answer(request, peer)
            .and_then(|result| result.into_body());
        match outcome {
            Ok(body) => {
                log::debug!("{:?} to {:?}: success", header.opcode, header.provider);
                Response {
                    header: header.reply(ResponseStatus::Success),
                    body,
                }
            }
            Err(status) => Response::status_only(&header, status),
        }
    }

    fn answer(
        &self,
        request: Request,
        peer: Option<PeerCredentials>,
    ) -> Result<NativeResult, ResponseStatus> {
        let header = request.header;
        let opcode = header.opcode;
        let app = self
            .authenticators
            .authenticate(header.auth_type, &request.auth, peer)?;
        if opcode.needs_auth() && app.is_none() {
            return Err(ResponseStatus::NotAuthenticated);
        }
        let backend = if header.provider == ProviderId::Core {
            if !opcode.is_core() {
                return Err(ResponseStatus::PsaErrorNotSupported);
            }
            None
        } else {
            let backend = self
                .backend(header.provider)
                .ok_or(ResponseStatus::ProviderNotRegistered)?;
            if opcode.is_core() {
                return Err(ResponseStatus::PsaErrorNotSupported);
            }
            Some(backend)
        };
        if opcode.is_admin()
            && !app
                .as_ref()
                .is_some_and(|a| self.authenticators.is_admin(a))
        {
            return Err(ResponseStatus::AdminOperation);
        }
        let op = NativeOperation::from_body(opcode, &request.body)?;
        if let Some(what) = deprecated_in_new_key(&op) {
            let generating = matches!(op, NativeOperation::PsaGenerateKey(_));
            if generating && !self.settings.allow_deprecated {
                log::info!("{opcode:?} refused: {what} is deprecated (allow_deprecated = false)");
                return Err(ResponseStatus::DeprecatedPrimitive);
            }
            log::warn!("{opcode:?}: the key uses {what}, which is deprecated");
        }
        self.check_buffer_size(&op)?;
        let result = match backend {
            None => core_provider::execute(self, app.as_ref(), op),
            Some(backend) => psec_provider::execute(backend.provider.as_ref(), app.as_ref(), op),
        };
        result.map_err(|error| self.report(opcode, app.as_ref(), &error))
    }

    fn check_buffer_size(&self, op: &NativeOperation) -> Result<(), ResponseStatus> {
        match op {
            NativeOperation::PsaGenerateRandom(random)
                if random.size > self.settings.buffer_size_limit =>
            {
                Err(ResponseStatus::ResponseTooLarge)
            }
            _ => Ok(()),
        }
    }

    /// Logs a failed operation (never a key or a plaintext: only the error
    /// text, which names keys but holds no material) and gives its status.
    fn report(
        &self,
        opcode: psec_interface::Opcode,
        app: Option<&Application>,
        error: &ProviderError,
    ) -> ResponseStatus {
        let status = error.status();
        let who = app.map_or_else(
            || "an unauthenticated client".to_string(),
            |a| a.to_string(),
        );
        if self.settings.log_error_details {
            log::warn!("{opcode:?} for {who} failed: {error}");
        } else {
            log::info!("{opcode:?} for {who} failed: {status:?}");
        }
        status
    }
}

impl ServiceInfo for Dispatcher {
    fn provider_infos(&self) -> Vec<ProviderInfo> {
        self.backends.iter().map(|b| b.info.clone()).collect()
    }

    fn provider(&self, id: ProviderId) -> Option<&dyn Provider> {
        self.backend(id).map(|b| b.provider.as_ref())
    }

    fn authenticator_infos(&self) -> Vec<AuthenticatorInfo> {
        self.authenticators.infos()
    }
}

impl ServiceView for Dispatcher {
    fn stores(&self) -> Vec<Arc<dyn KeyStore>> {
        let mut stores: Vec<Arc<dyn KeyStore>> = Vec::new();
        for backend in &self.backends {
            if !stores.iter().any(|s| Arc::ptr_eq(s, &backend.store)) {
                stores.push(Arc::clone(&backend.store));
            }
        }
        stores
    }

    fn provider_named(&self, name: &str) -> Option<(ProviderId, &dyn Provider)> {
        self.backends
            .iter()
            .find(|b| b.name == name)
            .map(|b| (b.info.id, b.provider.as_ref()))
    }
}
