//! What a client does with the bytes the service sends back: read a
//! response, then decode its body for the opcode in the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_interface::{NativeResult, Response};

const BODY_LEN_LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut stream = data;
    if let Ok(response) = Response::read_from(&mut stream, BODY_LEN_LIMIT) {
        if let Ok(result) = NativeResult::from_body(response.header.opcode, &response.body) {
            let _ = result.into_body().expect("a decoded result encodes");
        }
    }
});
