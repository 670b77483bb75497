//! BITS 1.5 upload ([MC-BUP]) vocabulary: packets, headers, ranges, errors.
//!
//! Every request is `BITS_POST` with a `BITS-Packet-Type`; every answer is an
//! `Ack` with an empty body, and errors travel as an HRESULT in
//! `BITS-Error-Code`. Client and server share the names here, and errors are
//! shown by name next to their hex value, as Windows' tools print them.

use http::HeaderMap;

use super::text;

/// The HTTP method of every BITS request.
pub const METHOD: &str = "BITS_POST";
/// BITS 1.5 Upload, the one protocol [MC-BUP] defines.
pub const PROTOCOL_GUID: &str = "{7df0354d-249b-430f-820d-3d2a9bef4931}";

pub const PACKET_TYPE: &str = "BITS-Packet-Type";
pub const SUPPORTED_PROTOCOLS: &str = "BITS-Supported-Protocols";
pub const PROTOCOL: &str = "BITS-Protocol";
pub const SESSION_ID: &str = "BITS-Session-Id";
pub const RECEIVED_CONTENT_RANGE: &str = "BITS-Received-Content-Range";
pub const ERROR_CODE: &str = "BITS-Error-Code";
pub const ERROR_CONTEXT: &str = "BITS-Error-Context";
/// The error happened on the server (as opposed to 0x7, its application).
pub const CONTEXT_SERVER: &str = "0x5";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet {
    Ping,
    CreateSession,
    Fragment,
    CloseSession,
    CancelSession,
}

impl Packet {
    pub const ALL: [Packet; 5] = [
        Packet::Ping,
        Packet::CreateSession,
        Packet::Fragment,
        Packet::CloseSession,
        Packet::CancelSession,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Packet::Ping => "Ping",
            Packet::CreateSession => "Create-Session",
            Packet::Fragment => "Fragment",
            Packet::CloseSession => "Close-Session",
            Packet::CancelSession => "Cancel-Session",
        }
    }

    /// The packet a request carries; the name is case-insensitive.
    pub fn of(headers: &HeaderMap) -> Option<Packet> {
        let name = text(headers, PACKET_TYPE)?.trim();
        Packet::ALL
            .into_iter()
            .find(|packet| packet.name().eq_ignore_ascii_case(name))
    }
}

/// The HRESULTs ferry sends or reads, with the names Windows gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    pub const INVALID_ARG: ErrorCode = ErrorCode(0x8007_0057);
    pub const ACCESS_DENIED: ErrorCode = ErrorCode(0x8007_0005);
    pub const DISK_FULL: ErrorCode = ErrorCode(0x8007_0070);
    pub const SESSION_NOT_FOUND: ErrorCode = ErrorCode(0x8020_001F);
    pub const TOO_LARGE: ErrorCode = ErrorCode(0x8020_0020);
    pub const INTERNAL: ErrorCode = ErrorCode(0x8000_4005);

    const NAMES: [(ErrorCode, &'static str); 6] = [
        (ErrorCode::INVALID_ARG, "E_INVALIDARG"),
        (ErrorCode::ACCESS_DENIED, "E_ACCESSDENIED"),
        (ErrorCode::DISK_FULL, "ERROR_DISK_FULL"),
        (ErrorCode::SESSION_NOT_FOUND, "BG_E_SESSION_NOT_FOUND"),
        (ErrorCode::TOO_LARGE, "BG_E_TOO_LARGE"),
        (ErrorCode::INTERNAL, "E_FAIL"),
    ];

    /// `0x8020001F`, as the header carries it.
    pub fn hex(self) -> String {
        format!("0x{:08X}", self.0)
    }

    /// The code in an answer's `BITS-Error-Code`, when it has a readable one.
    pub fn of(headers: &HeaderMap) -> Option<ErrorCode> {
        let value = text(headers, ERROR_CODE)?.trim();
        let digits = value
            .strip_prefix("0x")
            .or_else(|| value.strip_prefix("0X"))
            .unwrap_or(value);
        u32::from_str_radix(digits, 16).ok().map(ErrorCode)
    }
}

impl std::fmt::Display for ErrorCode {
    /// `BG_E_SESSION_NOT_FOUND (0x8020001F)`, or the hex alone when unnamed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match ErrorCode::NAMES.iter().find(|(code, _)| code == self) {
            Some((_, name)) => write!(f, "{name} ({})", self.hex()),
            None => f.write_str(&self.hex()),
        }
    }
}

/// `Content-Range: bytes first-last/total` of a fragment (0-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentRange {
    pub first: u64,
    pub last: u64,
    pub total: u64,
}

impl FragmentRange {
    /// The range of `len` (> 0) bytes from `offset` of a `total`-byte file.
    pub fn new(offset: u64, len: u64, total: u64) -> FragmentRange {
        FragmentRange {
            first: offset,
            last: offset + len - 1,
            total,
        }
    }

    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// A range always holds at least one byte (`read` refuses others).
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn write(&self) -> String {
        format!("bytes {}-{}/{}", self.first, self.last, self.total)
    }

    /// Reads `Content-Range`; `None` when absent or not a closed range
    /// inside its total.
    pub fn read(headers: &HeaderMap) -> Option<FragmentRange> {
        let value = text(headers, "Content-Range")?.trim();
        let rest = value.strip_prefix("bytes")?.trim_start();
        let (range, total) = rest.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let number = |text: &str| text.trim().parse::<u64>().ok();
        let range = FragmentRange {
            first: number(first)?,
            last: number(last)?,
            total: number(total)?,
        };
        (range.first <= range.last && range.last < range.total).then_some(range)
    }
}

/// `BITS-Received-Content-Range`: the next byte the server expects.
pub fn received(headers: &HeaderMap) -> Option<u64> {
    text(headers, RECEIVED_CONTENT_RANGE)?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_headers as headers;

    #[test]
    fn packets_ranges_and_error_names() {
        let h = headers(&[
            ("bits-packet-type", "create-session"),
            ("content-range", "bytes 10-19/100"),
            ("bits-error-code", "0x8020001f"),
            ("bits-received-content-range", "20"),
        ]);
        assert_eq!(Packet::of(&h), Some(Packet::CreateSession));
        let range = FragmentRange::read(&h).unwrap();
        assert_eq!(range, FragmentRange::new(10, 10, 100));
        assert_eq!(range.write(), "bytes 10-19/100");
        assert_eq!(ErrorCode::of(&h), Some(ErrorCode::SESSION_NOT_FOUND));
        assert_eq!(
            ErrorCode::SESSION_NOT_FOUND.to_string(),
            "BG_E_SESSION_NOT_FOUND (0x8020001F)"
        );
        assert_eq!(ErrorCode(0x1).to_string(), "0x00000001");
        assert_eq!(received(&h), Some(20));
        for bad in ["bytes 5-4/10", "bytes 0-10/10", "bytes -1/2", "items 0-1/2"] {
            let h = headers(&[("content-range", bad)]);
            assert_eq!(FragmentRange::read(&h), None, "{bad}");
        }
    }
}
