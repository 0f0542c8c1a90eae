//! The Workload API client against the stand-in agent, over a real Unix
//! socket and real HTTP/2: bundles streamed and rotated, SVIDs for the
//! caller's uid, validation by the agent, an agent that stops and returns.
#![cfg(all(feature = "workload-api", feature = "testing"))]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use psec_jwt_svid::testing::{Signer, StandInWorkloadApi};
use psec_jwt_svid::workload_api::{WorkloadApiClient, WorkloadApiError};
use psec_jwt_svid::{JwtBundles, Validator};
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

fn my_uid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn kids(bundles: &JwtBundles) -> usize {
    bundles.authority_count()
}

#[test]
fn bundles_stream_and_follow_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let a = Signer::es256("a", "authority a");
    let b = Signer::rs256("b", 0);
    let agent = StandInWorkloadApi::start(
        &dir.path().join("agent.sock"),
        "example.org",
        vec![a.clone()],
    )
    .unwrap();
    runtime().block_on(async {
        let client = WorkloadApiClient::connect(&agent.endpoint()).await.unwrap();
        let mut stream = client.fetch_jwt_bundles().await.unwrap();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.trust_domains().collect::<Vec<_>>(), ["example.org"]);
        assert_eq!(kids(&first), 1);
        let v = Validator::default();
        let id = "spiffe://example.org/web";
        assert!(
            v.validate(
                a.mint(id, &["parsec"]).as_bytes(),
                &first,
                SystemTime::now()
            )
            .is_ok()
        );

        agent.rotate(vec![b.clone(), a.clone()]);
        let second = stream.next().await.unwrap().unwrap();
        assert_eq!(kids(&second), 2);
        agent.rotate(vec![b.clone()]);
        let third = stream.next().await.unwrap().unwrap();
        assert_eq!(kids(&third), 1);
        assert!(
            v.validate(
                b.mint(id, &["parsec"]).as_bytes(),
                &third,
                SystemTime::now()
            )
            .is_ok()
        );
        assert!(
            v.validate(
                a.mint(id, &["parsec"]).as_bytes(),
                &third,
                SystemTime::now()
            )
            .is_err()
        );
    });
}

#[test]
fn svids_carry_the_callers_uid_and_the_agent_validates_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = Signer::es256("a", "authority a");
    let agent =
        StandInWorkloadApi::start(&dir.path().join("agent.sock"), "example.org", vec![a]).unwrap();
    let mine = agent.spiffe_id_of_uid(my_uid());
    assert_eq!(mine, format!("spiffe://example.org/uid/{}", my_uid()));
    runtime().block_on(async {
        let client = WorkloadApiClient::connect(&agent.endpoint()).await.unwrap();
        let svids = client.fetch_jwt_svids(&["parsec"], None).await.unwrap();
        assert_eq!(svids.len(), 1);
        assert_eq!(svids[0].spiffe_id, mine);
        let answer = client
            .validate_jwt_svid("parsec", &svids[0].svid)
            .await
            .unwrap();
        assert_eq!(answer.spiffe_id, mine);
        let claims = answer.claims.unwrap();
        assert!(claims.fields.contains_key("exp") && claims.fields.contains_key("aud"));

        // Errors come back as gRPC statuses.
        match client.validate_jwt_svid("vault", &svids[0].svid).await {
            Err(WorkloadApiError::Status { code: 3, message }) => {
                assert!(message.contains("audience"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        match client.fetch_jwt_svids(&[], None).await {
            Err(WorkloadApiError::Status { code: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
        match client
            .fetch_jwt_svids(&["parsec"], Some("spiffe://example.org/uid/123456"))
            .await
        {
            Err(WorkloadApiError::Status { code: 7, .. }) => {}
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn an_agent_that_stops_ends_the_stream_and_serves_again_after_resuming() {
    let dir = tempfile::tempdir().unwrap();
    let a = Signer::es256("a", "authority a");
    let b = Signer::es384("b", "authority b");
    let mut agent =
        StandInWorkloadApi::start(&dir.path().join("agent.sock"), "example.org", vec![a]).unwrap();
    let rt = runtime();
    let endpoint = agent.endpoint();
    let mut stream = rt.block_on(async {
        let client = WorkloadApiClient::connect(&endpoint).await.unwrap();
        let mut stream = client.fetch_jwt_bundles().await.unwrap();
        stream.next().await.unwrap().unwrap();
        stream
    });
    agent.stop();
    rt.block_on(async {
        assert!(!matches!(stream.next().await, Ok(Some(_))));
        match WorkloadApiClient::connect(&endpoint).await {
            Err(WorkloadApiError::Connect { .. }) => {}
            other => panic!("{other:?}"),
        }
    });
    // Rotated while down: the new bundle is what it serves on return.
    agent.rotate(vec![b]);
    agent.resume().unwrap();
    rt.block_on(async {
        let client = WorkloadApiClient::connect(&endpoint).await.unwrap();
        let mut stream = client.fetch_jwt_bundles().await.unwrap();
        let bundles = stream.next().await.unwrap().unwrap();
        assert_eq!(bundles.authority_count(), 1);
        let v = Validator::default();
        let token = Signer::es384("b", "authority b").mint("spiffe://example.org/x", &["parsec"]);
        assert!(
            v.validate(token.as_bytes(), &bundles, SystemTime::now())
                .is_ok()
        );
    });
}

#[test]
fn tcp_endpoints_are_refused_saying_so() {
    runtime().block_on(async {
        let error = WorkloadApiClient::connect("tcp://127.0.0.1:8081")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("tcp: endpoints are not supported"),
            "{error}"
        );
    });
}
