//! What the service does with the bytes a client sends: read a request from
//! the stream, then decode its body for the opcode in the header. Any input
//! must give a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_interface::{NativeOperation, Request};

/// The service's default body limit (1 MiB).
const BODY_LEN_LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut stream = data;
    if let Ok(request) = Request::read_from(&mut stream, BODY_LEN_LIMIT) {
        if let Ok(operation) = NativeOperation::from_body(request.header.opcode, &request.body) {
            // What decodes must encode again.
            let _ = operation.into_body().expect("a decoded operation encodes");
        }
    }
});
