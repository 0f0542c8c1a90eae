//! The core provider (id 0): what the service itself answers.
//!
//! ListClients and DeleteClient work within the administrator's own
//! authenticator: an admin authenticated by Direct sees and deletes Direct
//! applications, one authenticated by Unix peer credentials sees UIDs.

use crate::dispatcher::Dispatcher;
use psec_interface::operations::list_providers::ProviderInfo;
use psec_interface::operations::{
    delete_client, list_authenticators, list_clients, list_keys, list_opcodes, list_providers,
    ping, psa_destroy_key,
};
use psec_interface::{NativeOperation, NativeResult, Opcode, ProviderId, header};
use psec_provider::{Application, ProviderError, supported_opcodes};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

type Outcome = Result<NativeResult, ProviderError>;

/// Runs a core operation.
pub fn execute(d: &Dispatcher, app: Option<&Application>, op: NativeOperation) -> Outcome {
    use NativeOperation as O;
    match op {
        O::Ping(_) => Ok(NativeResult::Ping(ping::Result {
            wire_protocol_version_maj: header::VERSION_MAJOR,
            wire_protocol_version_min: header::VERSION_MINOR,
        })),
        O::ListProviders(_) => Ok(NativeResult::ListProviders(list_providers::Result {
            providers: d
                .backends
                .iter()
                .map(|b| b.info.clone())
                .chain(std::iter::once(core_info()))
                .collect(),
        })),
        O::ListOpcodes(op) => list_opcodes(d, op.provider_id),
        O::ListAuthenticators(_) => Ok(NativeResult::ListAuthenticators(
            list_authenticators::Result {
                authenticators: d.authenticators.infos(),
            },
        )),
        O::ListKeys(_) => list_keys(d, app.ok_or(ProviderError::NotAuthenticated)?),
        O::ListClients(_) => list_clients(d, app.ok_or(ProviderError::NotAuthenticated)?),
        O::DeleteClient(op) => delete_client(d, app.ok_or(ProviderError::NotAuthenticated)?, op),
        other => Err(ProviderError::NotSupported(format!(
            "{:?} is not a core operation",
            other.opcode()
        ))),
    }
}

/// The core provider's own entry in ListProviders.
pub fn core_info() -> ProviderInfo {
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

fn list_opcodes(d: &Dispatcher, provider: ProviderId) -> Outcome {
    let opcodes = if provider == ProviderId::Core {
        core_opcodes()
    } else {
        let backend = d.backend(provider).ok_or_else(|| {
            ProviderError::backend(
                psec_interface::ResponseStatus::ProviderNotRegistered,
                "ListOpcodes",
            )
        })?;
        supported_opcodes(backend.provider.as_ref())
    };
    // Parsec 1.x clients refuse the whole list if it names an opcode they
    // do not know (see psec_interface's crate docs): newer operations are
    // served but not listed.
    let opcodes = opcodes.into_iter().filter(|o| o.in_parsec_1()).collect();
    Ok(NativeResult::ListOpcodes(list_opcodes::Result { opcodes }))
}

/// Each store once, even when several providers share it.
fn distinct_stores(d: &Dispatcher) -> Vec<Arc<dyn psec_provider::KeyStore>> {
    let mut stores: Vec<Arc<dyn psec_provider::KeyStore>> = Vec::new();
    for backend in &d.backends {
        if !stores.iter().any(|s| Arc::ptr_eq(s, &backend.store)) {
            stores.push(Arc::clone(&backend.store));
        }
    }
    stores
}

fn list_keys(d: &Dispatcher, app: &Application) -> Outcome {
    let mut keys = Vec::new();
    for store in distinct_stores(d) {
        for (identity, info) in store.keys_of(app)? {
            // Keys of a provider that is no longer configured stay in the
            // store but are not usable, so they are not listed.
            if let Some(backend) = d.backend_named(&identity.provider) {
                keys.push(list_keys::KeyInfo {
                    provider_id: backend.info.id,
                    name: identity.key_name,
                    attributes: info.attributes,
                });
            }
        }
    }
    Ok(NativeResult::ListKeys(list_keys::Result { keys }))
}

fn list_clients(d: &Dispatcher, admin: &Application) -> Outcome {
    let mut seen = HashSet::new();
    let mut clients = Vec::new();
    for store in distinct_stores(d) {
        for app in store.applications()? {
            if app.auth == admin.auth && seen.insert(app.name.clone()) {
                clients.push(app.name);
            }
        }
    }
    clients.sort();
    Ok(NativeResult::ListClients(list_clients::Result { clients }))
}

fn delete_client(d: &Dispatcher, admin: &Application, op: delete_client::Operation) -> Outcome {
    let client = Application::new(admin.auth, op.client);
    for store in distinct_stores(d) {
        for (identity, _) in store.keys_of(&client)? {
            let Some(backend) = d.backend_named(&identity.provider) else {
                continue;
            };
            let keys = backend.provider.key_management().ok_or_else(|| {
                ProviderError::NotSupported(format!("{} can not destroy keys", backend.name))
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
                backend.name
            );
        }
    }
    Ok(NativeResult::DeleteClient(delete_client::Result {}))
}
