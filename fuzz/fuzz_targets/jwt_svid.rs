//! What psecd's JwtSvid authenticator does with a request's auth bytes: any
//! bytes must give a SPIFFE ID or an error, never a panic. The bundle trusts
//! one authority of each algorithm (psec_jwt_svid::testing), so the seeds
//! (valid tokens of each) reach the signature and claim checks; time is
//! fixed so a seed stays valid. An input starting with `{` is read as a
//! bundle file instead.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_jwt_svid::testing::{FIXED_NOW, bundle_set, sample_authorities};
use psec_jwt_svid::{JwtBundles, Validator};
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

fn bundles() -> &'static JwtBundles {
    static BUNDLES: OnceLock<JwtBundles> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        let signers = sample_authorities();
        let refs: Vec<_> = signers.iter().collect();
        JwtBundles::from_json(bundle_set(&[("example.org", &refs)]).as_bytes())
            .expect("the sample bundle")
    })
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        if let Ok(parsed) = JwtBundles::from_json(data) {
            assert!(parsed.trust_domains().count() <= data.len());
        }
        return;
    }
    let at = UNIX_EPOCH + Duration::from_secs(FIXED_NOW);
    if let Ok(id) = Validator::default().validate(data, bundles(), at) {
        assert_eq!(id.trust_domain(), "example.org");
        assert!(id.as_str().starts_with("spiffe://example.org/"));
    }
});
