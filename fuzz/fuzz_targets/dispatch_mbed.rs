//! What the service does with a request body once the header is read, on
//! the Mbed Crypto provider: the first byte is the opcode's wire code, the
//! rest the body, decoded as the dispatcher decodes it
//! (`NativeOperation::from_body`) and run through `psec_provider::execute`,
//! as one application whose start-up keys (common/mbed_keys.rs) the
//! operations can name. Any input must give a result or an error, never a
//! panic; a key the input creates must destroy, and no key may be left half
//! made or half destroyed in the store.
//!
//! Mbed TLS keeps its keys as files in the current directory: the target
//! moves into a temporary directory of its own when it starts, so inputs
//! given on the command line need absolute paths (cargo fuzz gives them)
//! if there is more than one.
#![no_main]

#[path = "../common/mbed_keys.rs"]
mod mbed_keys;
#[path = "../common/mbed_provider.rs"]
mod mbed_provider;

use libfuzzer_sys::fuzz_target;
use psec_interface::operations::{psa_destroy_key, psa_generate_key};
use psec_interface::{AuthType, Body, NativeOperation, Opcode};
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider::{Application, KeyStore, Provider};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

struct Fixture {
    provider: Arc<dyn Provider>,
    store: Arc<InMemoryKeyStoreForTests>,
    app: Application,
    /// Where Mbed TLS writes its key files.
    dir: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (provider, store, dir) = mbed_provider::start("dispatch-mbed");
        let app = Application::new(AuthType::Direct, mbed_keys::APPLICATION);
        for (name, _) in mbed_keys::startup_keys() {
            generate(provider.as_ref(), &app, name);
        }
        Fixture {
            provider,
            store,
            app,
            dir,
        }
    })
}

/// Makes the start-up key `name`.
fn generate(provider: &dyn Provider, app: &Application, name: &str) {
    let (_, attributes) = mbed_keys::startup_keys()
        .into_iter()
        .find(|(key, _)| *key == name)
        .expect("a start-up key");
    let op = psa_generate_key::Operation {
        key_name: name.to_owned(),
        attributes,
    };
    psec_provider::execute(provider, Some(app), NativeOperation::PsaGenerateKey(op))
        .expect("a start-up key is generated");
}

/// How many files Mbed TLS has in `dir`.
fn key_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("the key directory reads")
        .count()
}

fuzz_target!(|data: &[u8]| {
    let Some((&code, body)) = data.split_first() else {
        return;
    };
    let Some(opcode) = Opcode::from_code(code.into()) else {
        return;
    };
    let Ok(op) = NativeOperation::from_body(opcode, &Body::new(body.to_vec())) else {
        return;
    };
    let fixture = fixture();
    // What the input creates or destroys, put back after it so that every
    // input starts from the same keys.
    let created = match &op {
        NativeOperation::PsaGenerateKey(op) => Some(op.key_name.clone()),
        NativeOperation::PsaImportKey(op) => Some(op.key_name.clone()),
        _ => None,
    };
    let destroyed = match &op {
        NativeOperation::PsaDestroyKey(op) => Some(op.key_name.clone()),
        _ => None,
    };

    let result = psec_provider::execute(fixture.provider.as_ref(), Some(&fixture.app), op);
    if let Ok(result) = result {
        // The dispatcher encodes every result it sends.
        let _ = result.into_body();
        if let Some(name) = created {
            let op = psa_destroy_key::Operation { key_name: name };
            psec_provider::execute(
                fixture.provider.as_ref(),
                Some(&fixture.app),
                NativeOperation::PsaDestroyKey(op),
            )
            .expect("a key just made is destroyed");
        }
        if let Some(name) = destroyed {
            generate(fixture.provider.as_ref(), &fixture.app, &name);
        }
    }
    let unfinished = fixture
        .store
        .unfinished(mbed_provider::PROVIDER)
        .expect("the store reads");
    assert!(unfinished.is_empty(), "left unfinished: {unfinished:?}");
    // One PSA key file per stored key: no backend key outlives its row.
    let keys = fixture
        .store
        .keys_of(&fixture.app)
        .expect("the store reads");
    assert_eq!(
        key_files(&fixture.dir),
        keys.len(),
        "key files for {keys:?}"
    );
});
