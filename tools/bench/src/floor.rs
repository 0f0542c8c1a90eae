//! The floor: the least any server on a Unix socket can do per request,
//! as the yardstick for psecd's own round trip. One thread accepts, reads
//! the 36-byte header and the body and auth bytes it announces, writes a
//! canned 36-byte reply and closes: no decoding beyond two lengths, no
//! dispatch, no crypto, no timeouts.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;

/// The header length of the Parsec wire protocol.
const HEADER_LEN: usize = 36;

/// The most body and auth bytes it reads of one request; a request that
/// announces more is answered without reading them.
const MOST: u64 = 1 << 20;

/// Serves on `path` until killed.
pub(crate) fn serve(path: &str) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    // A Ping reply header with no body: the bytes are not checked by the
    // bare-socket client, only counted.
    let reply = psec_interface::RawHeader::unreadable_request_reply(
        psec_interface::ResponseStatus::Success,
    )
    .encode();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let mut header = [0u8; HEADER_LEN];
        if stream.read_exact(&mut header).is_err() {
            continue;
        }
        let body_len = header
            .get(22..26)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes);
        let auth_len = header
            .get(26..28)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map_or(0, u16::from_le_bytes);
        let rest = (u64::from(body_len) + u64::from(auth_len)).min(MOST);
        if std::io::copy(&mut (&mut stream).take(rest), &mut std::io::sink()).is_err() {
            continue;
        }
        let _ = stream.write_all(&reply);
    }
    Ok(())
}
