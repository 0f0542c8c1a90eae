//! The core provider (id 0): what the service itself answers.
//!
//! ListClients and DeleteClient work within the administrator's own
//! authenticator: an admin authenticated by Direct sees and deletes Direct
//! applications, one authenticated by Unix peer credentials sees UIDs.
//!
//! The core provider sees the service through two small traits rather than
//! the dispatcher itself: [`ServiceInfo`], what the configuration holds in
//! memory, and [`ServiceView`], which adds the key info stores. The
//! operations that need no application are answered from the first alone
//! ([`answers_from_memory`]), so the front end may run them without a
//! worker thread.

use psec_interface::operations::list_authenticators::AuthenticatorInfo;
use psec_interface::operations::list_providers::ProviderInfo;
use psec_interface::operations::{
    delete_client, list_authenticators, list_clients, list_keys, list_opcodes, list_providers,
    ping, psa_destroy_key,
};
use psec_interface::{NativeOperation, NativeResult, Opcode, ProviderId, ResponseStatus, header};
use psec_provider::{Application, KeyStore, Provider, ProviderError, supported_opcodes};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

type Outcome = Result<NativeResult, ProviderError>;

/// What the core provider knows of the service from its configuration,
/// without touching a key info store.
pub(crate) trait ServiceInfo {
    /// The crypto providers' entries for ListProviders, in priority order.
    fn provider_infos(&self) -> Vec<ProviderInfo>;
    /// The crypto provider with this id, if configured.
    fn provider(&self, id: ProviderId) -> Option<&dyn Provider>;
    /// The enabled authenticators, for ListAuthenticators.
    fn authenticator_infos(&self) -> Vec<AuthenticatorInfo>;
}

/// The service as the core provider sees it: its configuration and its key
/// info stores.
pub(crate) trait ServiceView: ServiceInfo {
    /// Each key info store once, even when several providers share it.
    fn stores(&self) -> Vec<Arc<dyn KeyStore>>;
    /// The id and the provider configured under this name, if any.
    fn provider_named(&self, name: &str) -> Option<(ProviderId, &dyn Provider)>;
}

/// Whether the core provider answers `opcode` from memory alone (the
/// configuration, with no key info store or file behind it): the core
/// operations that need no application, as everything that belongs to an
/// application lives in the stores. [`execute`] routes by this same test.
pub(crate) fn answers_from_memory(opcode: Opcode) -> bool {
    opcode.is_core() && !opcode.needs_auth()
}

/// Runs a core operation.
pub(crate) fn execute<S: ServiceView>(
    service: &S,
    app: Option<&Application>,
    op: NativeOperation,
) -> Outcome {
    let opcode = op.opcode();
    if !opcode.is_core() {
        return Err(ProviderError::NotSupported(format!(
            "{opcode:?} is not a core operation"
        )));
    }
    if answers_from_memory(opcode) {
        from_memory(service, op)
    } else {
        from_stores(service, app.ok_or(ProviderError::NotAuthenticated)?, op)
    }
}

/// The core operations that need no application.
fn from_memory<S: ServiceInfo>(service: &S, op: NativeOperation) -> Outcome {
    use NativeOperation as O;
    match op {
        O::Ping(_) => Ok(NativeResult::Ping(ping::Result {
            wire_protocol_version_maj: header::VERSION_MAJOR,
            wire_protocol_version_min: header::VERSION_MINOR,
        })),
        O::ListProviders(_) => {
            let mut providers = service.provider_infos();
            providers.push(core_info());
            Ok(NativeResult::ListProviders(list_providers::Result {
                providers,
            }))
        }
        O::ListOpcodes(op) => list_opcodes(service, op.provider_id),
        O::ListAuthenticators(_) => Ok(NativeResult::ListAuthenticators(
            list_authenticators::Result {
                authenticators: service.authenticator_infos(),
            },
        )),
        other => Err(ProviderError::NotSupported(format!(
            "{:?} is not answered from memory",
            other.opcode()
        ))),
    }
}

/// The core operations of an application (or an administrator).
fn from_stores<S: ServiceView>(service: &S, app: &Application, op: NativeOperation) -> Outcome {
    use NativeOperation as O;
    match op {
        O::ListKeys(_) => list_keys(service, app),
        O::ListClients(_) => list_clients(service, app),
        O::DeleteClient(op) => delete_client(service, app, op),
        other => Err(ProviderError::NotSupported(format!(
            "{:?} is not answered from the key info stores",
            other.opcode()
        ))),
    }
}

/// The core provider's own entry in ListProviders.
fn core_info() -> ProviderInfo {
    let (maj, min, rev) = crate::version();
    ProviderInfo {
        uuid: ProviderId::Core.uuid(),
        description: "psec core provider: service information and administration".into(),
        vendor: "psec".into(),
        version_maj: maj,
        version_min: min,
        version_rev: rev,
        id: ProviderId::Core,
    }
}

fn core_opcodes() -> BTreeSet<Opcode> {
    Opcode::ALL
        .iter()
        .copied()
        .filter(|o| o.is_core())
        .collect()
}

fn list_opcodes<S: ServiceInfo>(service: &S, provider: ProviderId) -> Outcome {
    let opcodes = if provider == ProviderId::Core {
        core_opcodes()
    } else {
        let provider = service.provider(provider).ok_or_else(|| {
            ProviderError::backend(ResponseStatus::ProviderNotRegistered, "ListOpcodes")
        })?;
        supported_opcodes(provider)
    };
    // Parsec 1.x clients refuse the whole list if it names an opcode they
    // do not know (see psec_interface's crate docs): newer operations are
    // served but not listed.
    let opcodes = opcodes.into_iter().filter(|o| o.in_parsec_1()).collect();
    Ok(NativeResult::ListOpcodes(list_opcodes::Result { opcodes }))
}

fn list_keys<S: ServiceView>(service: &S, app: &Application) -> Outcome {
    let mut keys = Vec::new();
    for store in service.stores() {
        for (identity, info) in store.keys_of(app)? {
            // Keys of a provider that is no longer configured stay in the
            // store but are not usable, so they are not listed.
            if let Some((provider_id, _)) = service.provider_named(&identity.provider) {
                keys.push(list_keys::KeyInfo {
                    provider_id,
                    name: identity.key_name,
                    attributes: info.attributes,
                });
            }
        }
    }
    Ok(NativeResult::ListKeys(list_keys::Result { keys }))
}

fn list_clients<S: ServiceView>(service: &S, admin: &Application) -> Outcome {
    let mut seen = HashSet::new();
    let mut clients = Vec::new();
    for store in service.stores() {
        for app in store.applications()? {
            if app.auth == admin.auth && seen.insert(app.name.clone()) {
                clients.push(app.name);
            }
        }
    }
    clients.sort();
    Ok(NativeResult::ListClients(list_clients::Result { clients }))
}

fn delete_client<S: ServiceView>(
    service: &S,
    admin: &Application,
    op: delete_client::Operation,
) -> Outcome {
    let client = Application::new(admin.auth, op.client);
    for store in service.stores() {
        for (identity, _) in store.keys_of(&client)? {
            let Some((_, provider)) = service.provider_named(&identity.provider) else {
                continue;
            };
            let keys = provider.key_management().ok_or_else(|| {
                ProviderError::NotSupported(format!("{} can not destroy keys", identity.provider))
            })?;
            let _ = keys.destroy_key(
                &client,
                psa_destroy_key::Operation {
                    key_name: identity.key_name.clone(),
                },
            )?;
            log::info!(
                "deleted key {} of {client} in {} for {admin}",
                identity.key_name,
                identity.provider
            );
        }
    }
    Ok(NativeResult::DeleteClient(delete_client::Result {}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use psec_interface::{AuthType, Body};
    use std::cell::Cell;

    /// No crypto provider, one authenticator, and a count of the times the
    /// stores were asked for.
    #[derive(Default)]
    struct Fake {
        store_visits: Cell<usize>,
    }

    impl ServiceInfo for Fake {
        fn provider_infos(&self) -> Vec<ProviderInfo> {
            Vec::new()
        }
        fn provider(&self, _: ProviderId) -> Option<&dyn Provider> {
            None
        }
        fn authenticator_infos(&self) -> Vec<AuthenticatorInfo> {
            Vec::new()
        }
    }

    impl ServiceView for Fake {
        fn stores(&self) -> Vec<Arc<dyn KeyStore>> {
            self.store_visits.set(self.store_visits.get() + 1);
            Vec::new()
        }
        fn provider_named(&self, _: &str) -> Option<(ProviderId, &dyn Provider)> {
            None
        }
    }

    #[test]
    fn the_core_operations_from_memory_are_those_that_need_no_application() {
        let from_memory: BTreeSet<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|o| answers_from_memory(*o))
            .collect();
        let expected = BTreeSet::from([
            Opcode::Ping,
            Opcode::ListProviders,
            Opcode::ListOpcodes,
            Opcode::ListAuthenticators,
        ]);
        assert_eq!(from_memory, expected);
    }

    #[test]
    fn every_core_operation_touches_the_stores_exactly_when_not_answered_from_memory() {
        let admin = Application::new(AuthType::Direct, "admin");
        for opcode in Opcode::ALL.iter().copied().filter(|o| o.is_core()) {
            let service = Fake::default();
            let op = NativeOperation::from_body(opcode, &Body::default()).unwrap();
            let result = execute(&service, Some(&admin), op);
            assert!(result.is_ok(), "{opcode:?}: {result:?}");
            assert_eq!(
                service.store_visits.get() == 0,
                answers_from_memory(opcode),
                "{opcode:?}"
            );
        }
    }

    #[test]
    fn a_crypto_operation_is_not_a_core_operation() {
        let op = NativeOperation::from_body(Opcode::PsaGenerateRandom, &Body::default()).unwrap();
        let result = execute(&Fake::default(), None, op);
        assert!(matches!(result, Err(ProviderError::NotSupported(_))));
    }
}
