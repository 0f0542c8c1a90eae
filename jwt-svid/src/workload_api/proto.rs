//! The messages of the SPIFFE Workload API (`workload.proto` of the SPIFFE
//! specification) that the JWT-SVID profile uses, with its field numbers,
//! and the `google.protobuf.Struct` that carries ValidateJWTSVID's claims.
//! Written as prost derives: no protoc, no build script.

use std::collections::{BTreeMap, HashMap};

/// `JWTSVIDRequest`: FetchJWTSVID's request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtSvidRequest {
    /// The audiences to put in the SVIDs' `aud` (required).
    #[prost(string, repeated, tag = "1")]
    pub audience: Vec<String>,
    /// The SPIFFE ID wanted; empty for every identity of the workload.
    #[prost(string, tag = "2")]
    pub spiffe_id: String,
}

/// `JWTSVIDResponse`: FetchJWTSVID's answer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtSvidResponse {
    /// One SVID per identity.
    #[prost(message, repeated, tag = "1")]
    pub svids: Vec<JwtSvid>,
}

/// `JWTSVID`: one JWT-SVID and its SPIFFE ID.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtSvid {
    /// Its SPIFFE ID.
    #[prost(string, tag = "1")]
    pub spiffe_id: String,
    /// The token, in JWS compact serialisation.
    #[prost(string, tag = "2")]
    pub svid: String,
    /// An operator's hint on which identity to use.
    #[prost(string, tag = "3")]
    pub hint: String,
}

/// `JWTBundlesRequest`: FetchJWTBundles' request, empty.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct JwtBundlesRequest {}

/// `JWTBundlesResponse`: one message of the FetchJWTBundles stream, the
/// whole set of JWT bundles.
#[derive(Clone, PartialEq, prost::Message)]
pub struct JwtBundlesResponse {
    /// Each trust domain's SPIFFE ID (`spiffe://example.org`) mapped to its
    /// JWT bundle, a JWKS document.
    #[prost(map = "string, bytes", tag = "1")]
    pub bundles: HashMap<String, Vec<u8>>,
}

/// `ValidateJWTSVIDRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateJwtSvidRequest {
    /// The audience the token must have.
    #[prost(string, tag = "1")]
    pub audience: String,
    /// The token.
    #[prost(string, tag = "2")]
    pub svid: String,
}

/// `ValidateJWTSVIDResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateJwtSvidResponse {
    /// The token's SPIFFE ID.
    #[prost(string, tag = "1")]
    pub spiffe_id: String,
    /// The token's claims.
    #[prost(message, optional, tag = "2")]
    pub claims: Option<Struct>,
}

/// `google.protobuf.Struct`: a JSON object.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Struct {
    /// Its members.
    #[prost(btree_map = "string, message", tag = "1")]
    pub fields: BTreeMap<String, Value>,
}

/// `google.protobuf.Value`: a JSON value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    /// Which kind of value, and the value.
    #[prost(oneof = "Kind", tags = "1, 2, 3, 4, 5, 6")]
    pub kind: Option<Kind>,
}

/// `google.protobuf.ListValue`: a JSON array.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListValue {
    /// Its elements.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<Value>,
}

/// The `kind` of a [`Value`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Kind {
    /// `null` (the enum `NullValue`, whose only value is 0).
    #[prost(int32, tag = "1")]
    NullValue(i32),
    /// A number.
    #[prost(double, tag = "2")]
    NumberValue(f64),
    /// A string.
    #[prost(string, tag = "3")]
    StringValue(String),
    /// A boolean.
    #[prost(bool, tag = "4")]
    BoolValue(bool),
    /// An object.
    #[prost(message, tag = "5")]
    StructValue(Struct),
    /// An array.
    #[prost(message, tag = "6")]
    ListValue(ListValue),
}

impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        let kind = match json {
            J::Null => Kind::NullValue(0),
            J::Bool(b) => Kind::BoolValue(*b),
            J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Kind::StringValue(s.clone()),
            J::Array(items) => Kind::ListValue(ListValue {
                values: items.iter().map(Value::from).collect(),
            }),
            J::Object(members) => Kind::StructValue(Struct::from(members)),
        };
        Value { kind: Some(kind) }
    }
}

impl From<&serde_json::Map<String, serde_json::Value>> for Struct {
    fn from(members: &serde_json::Map<String, serde_json::Value>) -> Self {
        Struct {
            fields: members
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use prost::Message;

    // The bytes follow from workload.proto's field numbers and wire types
    // (tag = field << 3 | 2 for strings, bytes and messages), written out by
    // hand so that a wrong number fails here.

    #[test]
    fn a_jwt_svid_request_has_audience_1_and_spiffe_id_2() {
        let request = JwtSvidRequest {
            audience: vec!["parsec".into()],
            spiffe_id: "x".into(),
        };
        assert_eq!(request.encode_to_vec(), b"\x0a\x06parsec\x12\x01x");
    }

    #[test]
    fn a_jwt_svid_has_spiffe_id_1_svid_2_hint_3() {
        let response = JwtSvidResponse {
            svids: vec![JwtSvid {
                spiffe_id: "a".into(),
                svid: "b".into(),
                hint: "c".into(),
            }],
        };
        assert_eq!(
            response.encode_to_vec(),
            b"\x0a\x09\x0a\x01a\x12\x01b\x1a\x01c"
        );
    }

    #[test]
    fn jwt_bundles_are_map_entries_of_field_1() {
        let response = JwtBundlesResponse {
            bundles: [("td".to_string(), b"{}".to_vec())].into(),
        };
        // An entry is a message: key = 1, value = 2.
        assert_eq!(response.encode_to_vec(), b"\x0a\x08\x0a\x02td\x12\x02{}");
    }

    #[test]
    fn validation_has_audience_1_svid_2_and_answers_spiffe_id_1_claims_2() {
        let request = ValidateJwtSvidRequest {
            audience: "p".into(),
            svid: "t".into(),
        };
        assert_eq!(request.encode_to_vec(), b"\x0a\x01p\x12\x01t");
        let claims = serde_json::json!({ "sub": "s" });
        let response = ValidateJwtSvidResponse {
            spiffe_id: "s".into(),
            claims: Some(Struct::from(claims.as_object().unwrap())),
        };
        // claims { fields { key "sub" value { string_value (3) "s" } } }
        assert_eq!(
            response.encode_to_vec(),
            b"\x0a\x01s\x12\x0c\x0a\x0a\x0a\x03sub\x12\x03\x1a\x01s"
        );
        assert_eq!(
            ValidateJwtSvidResponse::decode(response.encode_to_vec().as_slice()).unwrap(),
            response
        );
    }
}
