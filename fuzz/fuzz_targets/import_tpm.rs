//! The TPM provider's key import: attributes and key data from the input,
//! imported as a client's PsaImportKey would be, on a swtpm of the target's
//! own. The TPM takes public keys only (a DER RSAPublicKey or an
//! uncompressed point), which it loads to check, then flushes. A key that
//! imports has its public part exported and is destroyed. Any input must
//! give a key or an error, never a panic, and leave no key half made or
//! half destroyed in the store. An import that left its key loaded would
//! fill swtpm's three transient slots; the target checks after each input
//! that a key still loads.
//!
//! Input: as `import_mbed`'s, a 2-byte big-endian length N, N bytes of
//! protobuf `KeyAttributes`, then the key data.
//!
//! Needs swtpm: the target starts one on free loopback ports (through
//! psec-test-support) when it starts.
#![no_main]

#[path = "../common/import.rs"]
mod import;
#[path = "../common/p256.rs"]
mod p256;

use libfuzzer_sys::fuzz_target;
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_provider::Provider;
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider_tpm::TpmSettings;
use psec_test_support::Swtpm;
use std::sync::{Arc, OnceLock};

const PROVIDER: &str = "tpm-provider";

struct Fixture {
    provider: Arc<dyn Provider>,
    store: Arc<InMemoryKeyStoreForTests>,
}

fn fixture() -> &'static Fixture {
    // Never dropped (libFuzzer ends the process with exit): swtpm serves
    // every input and outlives the process; ci/fuzz-campaign.sh stops it
    // by its PID, found by its state directory under the campaign's TMPDIR,
    // as the SoftHSM2 token of pkcs11_der goes with that directory.
    static SWTPM: OnceLock<Swtpm> = OnceLock::new();
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let swtpm = SWTPM.get_or_init(|| Swtpm::start().unwrap_or_else(|e| panic!("{e}")));
        let store = Arc::new(InMemoryKeyStoreForTests::default());
        let provider = psec_provider_tpm::build(
            PROVIDER.to_owned(),
            store.clone(),
            TpmSettings::new(swtpm.tcti()),
        )
        .expect("the TPM provider starts on swtpm");
        Fixture { provider, store }
    })
}

/// A P-256 public key, to check that the TPM still has a free slot.
fn p256_public() -> Attributes {
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccPublicKey {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: UsageFlags::default(),
            permitted_algorithms: Algorithm::None,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((attributes, key_data)) = import::parse(data) else {
        return;
    };
    let fixture = fixture();
    let keys = fixture
        .provider
        .key_management()
        .expect("the provider manages keys");
    // The TPM imports public keys only: one that imports exports.
    import::round(keys, attributes, key_data, true);
    // The TPM loads what it imports to check it: a load left behind would
    // take one of swtpm's three transient slots, and the third would make
    // this import fail.
    let app = import::app();
    import::import(keys, &app, "probe", p256_public(), &p256::P256_G)
        .expect("the TPM still loads a key");
    import::destroy(keys, &app, "probe").expect("the probe key is destroyed");
    import::assert_nothing_left(&fixture.store, PROVIDER);
});
