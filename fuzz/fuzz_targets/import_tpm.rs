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

use libfuzzer_sys::fuzz_target;
use psec_interface::AuthType;
use psec_interface::operations::{
    decode_key_attributes, psa_destroy_key, psa_export_public_key, psa_import_key,
};
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider::{Application, KeyStore, Provider};
use psec_provider_tpm::TpmSettings;
use psec_test_support::Swtpm;
use std::sync::{Arc, OnceLock};

const PROVIDER: &str = "tpm-provider";

/// The P-256 base point, uncompressed: a public key every TPM loads.
const P256_G: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

struct Fixture {
    provider: Arc<dyn Provider>,
    store: Arc<InMemoryKeyStoreForTests>,
}

fn fixture() -> &'static Fixture {
    // Never dropped (libFuzzer ends the process with exit): swtpm serves
    // every input and is left for the system to reap, as the SoftHSM2 token
    // of pkcs11_der is left in the temporary directory.
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
    let Some((length, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Some((attributes, key_data)) = rest.split_at_checked(u16::from_be_bytes(*length).into())
    else {
        return;
    };
    let Ok(attributes) = decode_key_attributes(attributes) else {
        return;
    };
    let fixture = fixture();
    let keys = fixture
        .provider
        .key_management()
        .expect("the provider manages keys");
    let app = Application::new(AuthType::Direct, "fuzz");
    let import = |name: &str, attributes, data: &[u8]| {
        keys.import_key(
            &app,
            psa_import_key::Operation {
                key_name: name.to_owned(),
                attributes,
                data: data.to_vec().into(),
            },
        )
    };
    let destroy = |name: &str| {
        keys.destroy_key(
            &app,
            psa_destroy_key::Operation {
                key_name: name.to_owned(),
            },
        )
    };
    if import("key", attributes, key_data).is_ok() {
        let export = psa_export_public_key::Operation {
            key_name: "key".to_owned(),
        };
        keys.export_public_key(&app, export)
            .expect("an imported public key exports");
        destroy("key").expect("an imported key is destroyed");
    }
    // The TPM loads what it imports to check it: a load left behind would
    // take one of swtpm's three transient slots, and the third would make
    // this import fail.
    import("probe", p256_public(), &P256_G).expect("the TPM still loads a key");
    destroy("probe").expect("the probe key is destroyed");
    let unfinished = fixture.store.unfinished(PROVIDER).expect("the store reads");
    assert!(unfinished.is_empty(), "left unfinished: {unfinished:?}");
    let left = fixture.store.keys_of(&app).expect("the store reads");
    assert!(left.is_empty(), "left in the store: {left:?}");
});
