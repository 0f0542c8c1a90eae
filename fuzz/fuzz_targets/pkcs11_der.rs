//! What the PKCS#11 provider does with the key data of a PsaImportKey: the
//! RSA key pair (PKCS#1 `RSAPrivateKey`) or public key (PKCS#1
//! `RSAPublicKey`) DER is read by RustCrypto's `pkcs1`
//! (providers/pkcs11/src/der.rs), then the key is made on a SoftHSM2
//! token. Any bytes must give a key or an error, never a panic. The first
//! byte picks the key type, the rest is the key data.
//!
//! Needs SoftHSM2 (`softhsm2-util` and its library, found as
//! psec-test-support finds it: `PSEC_SOFTHSM2_LIB`, then the known paths):
//! the target makes a token in a temporary directory when it starts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_interface::AuthType;
use psec_interface::operations::{psa_destroy_key, psa_import_key};
use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, SignHash};
use psec_interface::psa_crypto::types::key::{Attributes, Lifetime, Policy, Type, UsageFlags};
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider::{Application, KeyManagement};
use psec_provider_pkcs11::{Pkcs11Provider, Pkcs11Settings};
use psec_test_support::softhsm2::{self, SoftHsm2, USER_PIN};
use std::sync::{Arc, OnceLock};

/// A provider over a fresh SoftHSM2 token, made once per fuzzing process.
fn provider() -> &'static Pkcs11Provider {
    // Never dropped (libFuzzer ends the process with exit): the token
    // serves every input, and its few kilobytes stay in the temporary
    // directory afterwards, as they always did.
    static TOKEN: OnceLock<SoftHsm2> = OnceLock::new();
    static PROVIDER: OnceLock<Pkcs11Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let token =
            TOKEN.get_or_init(|| SoftHsm2::with_token("fuzz").unwrap_or_else(|e| panic!("{e}")));
        let library = softhsm2::library().unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: set once, before the PKCS#11 library is loaded, while
        // libFuzzer runs inputs on this one thread and no other thread of
        // the process reads the environment.
        unsafe { std::env::set_var(softhsm2::CONF_ENV, token.conf()) };
        let settings = Pkcs11Settings::new(library)
            .with_user_pin(zeroize::Zeroizing::new(USER_PIN.as_bytes().to_vec()));
        Pkcs11Provider::new(
            "pkcs11-fuzz".to_owned(),
            Arc::new(InMemoryKeyStoreForTests::default()),
            settings,
        )
        .expect("a PKCS#11 provider over SoftHSM2")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, key_data)) = data.split_first() else {
        return;
    };
    let key_type = if selector & 1 == 0 {
        Type::RsaKeyPair
    } else {
        Type::RsaPublicKey
    };
    let mut usage_flags = UsageFlags::default();
    let _ = usage_flags.set_verify_hash();
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        key_type,
        bits: 0,
        policy: Policy {
            usage_flags,
            permitted_algorithms: AsymmetricSignature::RsaPkcs1v15Sign {
                hash_alg: SignHash::Any,
            }
            .into(),
        },
    };
    let app = Application::new(AuthType::Direct, "fuzz");
    let import = psa_import_key::Operation {
        key_name: "key".to_owned(),
        attributes,
        data: key_data.to_vec().into(),
    };
    if provider().import_key(&app, import).is_ok() {
        let destroy = psa_destroy_key::Operation {
            key_name: "key".to_owned(),
        };
        provider()
            .destroy_key(&app, destroy)
            .expect("an imported key is destroyed");
    }
});
