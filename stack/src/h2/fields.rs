//! HTTP semantics of a decoded field block (RFC 9113 §8.1–§8.3): what
//! makes a request, a response or a trailer section malformed.
//!
//! > Malformed requests or responses that are detected MUST be treated as a
//! > stream error (Section 5.4.2) of type PROTOCOL_ERROR. (§8.1.1)
//!
//! The connection calls [`check`] on every whole block it receives, once
//! the stream's state allowed the frame, and resets the stream with
//! PROTOCOL_ERROR when it fails. What is checked, in order: each field
//! line (§8.2.1, §8.2.2), then the pseudo-headers (§8.3). Not checked:
//! leading or trailing whitespace in values (§8.2.1 lets an implementation
//! choose), and the syntax of `:authority` and `:path` beyond being there.

/// Which header block of a message a block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    /// A request (a server receives it, or a client receives one promised
    /// by PUSH_PROMISE).
    Request,
    /// A response (informational or final).
    Response,
    /// A trailer section (§8.1).
    Trailers,
}

/// A field block's HTTP semantics, checked: `Err` names the rule broken.
pub(crate) fn check(block: Block, fields: &[(Vec<u8>, Vec<u8>)]) -> Result<(), &'static str> {
    let mut regular_seen = false;
    let mut seen: Vec<&[u8]> = Vec::new();
    for (name, value) in fields {
        line(block, name, value)?;
        if name.first() == Some(&b':') {
            // > Pseudo-header fields MUST NOT appear in a trailer section.
            // > (§8.1)
            if block == Block::Trailers {
                return Err("pseudo-header in a trailer section (§8.1)");
            }
            // > All pseudo-header fields MUST appear in a field block before
            // > all regular field lines. (§8.3)
            if regular_seen {
                return Err("pseudo-header after a regular field (§8.3)");
            }
            // > The same pseudo-header field name MUST NOT appear more than
            // > once in a field block. (§8.3)
            if seen.contains(&name.as_slice()) {
                return Err("pseudo-header repeated (§8.3)");
            }
            seen.push(name);
            // > Endpoints MUST treat a request or response that contains
            // > undefined or invalid pseudo-header fields as malformed ...
            // > Pseudo-header fields defined for requests MUST NOT appear in
            // > responses; pseudo-header fields defined for responses MUST
            // > NOT appear in requests. (§8.3)
            let known: &[&[u8]] = match block {
                Block::Request => &[b":method", b":scheme", b":path", b":authority"],
                _ => &[b":status"],
            };
            if !known.contains(&name.as_slice()) {
                return Err("pseudo-header undefined for this message (§8.3)");
            }
        } else {
            regular_seen = true;
        }
    }
    let value_of = |n: &[u8]| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v);
    match block {
        Block::Request => {
            // > All HTTP/2 requests MUST include exactly one valid value for
            // > the ":method", ":scheme", and ":path" pseudo-header fields,
            // > unless they are CONNECT requests (§8.3.1); a CONNECT request
            // > has ":authority" and neither ":scheme" nor ":path" (§8.5).
            let Some(method) = value_of(b":method") else {
                return Err("request without :method (§8.3.1)");
            };
            if method.as_slice() == b"CONNECT" {
                if value_of(b":authority").is_none()
                    || value_of(b":scheme").is_some()
                    || value_of(b":path").is_some()
                {
                    return Err("CONNECT request with the wrong pseudo-headers (§8.5)");
                }
            } else {
                if value_of(b":scheme").is_none_or(|v| v.is_empty()) {
                    return Err("request without :scheme (§8.3.1)");
                }
                // > This pseudo-header field MUST NOT be empty for "http" or
                // > "https" URIs (§8.3.1)
                if value_of(b":path").is_none_or(|v| v.is_empty()) {
                    return Err("request without :path (§8.3.1)");
                }
            }
        }
        Block::Response => {
            // > For HTTP/2 responses, a single ":status" pseudo-header field
            // > is defined ... This pseudo-header field MUST be included in
            // > all responses (§8.3.2)
            let status = value_of(b":status").ok_or("response without :status (§8.3.2)")?;
            if status.len() != 3 || !status.iter().all(u8::is_ascii_digit) {
                return Err("response with an invalid :status (§8.3.2)");
            }
        }
        Block::Trailers => {}
    }
    Ok(())
}

/// One field line's name and value (§8.2.1, §8.2.2).
fn line(block: Block, name: &[u8], value: &[u8]) -> Result<(), &'static str> {
    let regular = name.strip_prefix(b":").unwrap_or(name);
    // > A field name MUST NOT contain characters in the ranges 0x00-0x20,
    // > 0x41-0x5a, or 0x7f-0xff (all ranges inclusive). This specifically
    // > excludes all non-visible ASCII characters, ASCII SP (0x20), and
    // > uppercase characters ('A' to 'Z', ASCII 0x41 to 0x5a). (§8.2.1)
    if regular.is_empty()
        || regular
            .iter()
            .any(|&c| c <= 0x20 || c.is_ascii_uppercase() || c >= 0x7f)
    {
        return Err("field name with a forbidden character (§8.2.1)");
    }
    // > With the exception of pseudo-header fields (Section 8.3), which
    // > have a name that starts with a single colon, field names MUST NOT
    // > include a colon (ASCII COLON, 0x3a). (§8.2.1)
    if regular.contains(&b':') {
        return Err("colon inside a field name (§8.2.1)");
    }
    // > A field value MUST NOT contain the zero value (ASCII NUL, 0x00),
    // > line feed (ASCII LF, 0x0a), or carriage return (ASCII CR, 0x0d) at
    // > any position. (§8.2.1)
    if value.iter().any(|&c| matches!(c, 0x00 | 0x0a | 0x0d)) {
        return Err("NUL, LF or CR in a field value (§8.2.1)");
    }
    // > An endpoint MUST NOT generate an HTTP/2 message containing
    // > connection-specific header fields. This includes the Connection
    // > header field and those listed as having connection-specific
    // > semantics in Section 7.6.1 of [HTTP] (that is, Proxy-Connection,
    // > Keep-Alive, Transfer-Encoding, and Upgrade). Any message containing
    // > connection-specific header fields MUST be treated as malformed
    // > (§8.2.2)
    const CONNECTION_SPECIFIC: [&[u8]; 5] = [
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"transfer-encoding",
        b"upgrade",
    ];
    if CONNECTION_SPECIFIC.contains(&name) {
        return Err("connection-specific field (§8.2.2)");
    }
    // > The only exception to this is the TE header field, which MAY be
    // > present in an HTTP/2 request; when it is, it MUST NOT contain any
    // > value other than "trailers". (§8.2.2)
    if name == b"te" && (block != Block::Request || value != b"trailers") {
        return Err("te other than \"trailers\" in a request (§8.2.2)");
    }
    Ok(())
}

/// The `content-length` a block declares, if any (§8.1.1); a value that is
/// not a number is malformed (several equal values are one).
pub(crate) fn content_length(fields: &[(Vec<u8>, Vec<u8>)]) -> Result<Option<u64>, &'static str> {
    let mut found: Option<u64> = None;
    for (_, v) in fields.iter().filter(|(n, _)| n == b"content-length") {
        let text = std::str::from_utf8(v).map_err(|_| "content-length not a number")?;
        let n: u64 = text
            .trim()
            .parse()
            .map_err(|_| "content-length not a number")?;
        if found.is_some_and(|f| f != n) {
            return Err("content-length given twice, differently");
        }
        found = Some(n);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        pairs
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn request(extra: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut v = f(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "a"),
        ]);
        v.extend(f(extra));
        v
    }

    #[test]
    fn a_plain_request_response_and_trailers_pass() {
        assert_eq!(
            check(Block::Request, &request(&[("te", "trailers")])),
            Ok(())
        );
        assert_eq!(check(Block::Response, &f(&[(":status", "200")])), Ok(()));
        assert_eq!(check(Block::Trailers, &f(&[("x", "y")])), Ok(()));
        let connect = f(&[(":method", "CONNECT"), (":authority", "a:443")]);
        assert_eq!(check(Block::Request, &connect), Ok(()));
    }

    #[test]
    fn each_rule_fails_its_block() {
        let bad = [
            (Block::Request, f(&[(":scheme", "http"), (":path", "/")])),
            (Block::Request, f(&[(":method", "GET"), (":path", "/")])),
            (
                Block::Request,
                f(&[(":method", "GET"), (":scheme", "http")]),
            ),
            (Block::Request, request(&[(":path", "/")])),
            (Block::Request, request(&[(":status", "200")])),
            (Block::Request, request(&[("te", "gzip")])),
            (Block::Request, request(&[("X-Up", "1")])),
            (Block::Request, request(&[("x:y", "1")])),
            (Block::Request, request(&[("x", "a\rb")])),
            (Block::Request, request(&[("x", "a\nb")])),
            (Block::Request, request(&[("x", "a\0b")])),
            (Block::Request, request(&[("connection", "close")])),
            (Block::Request, request(&[("keep-alive", "1")])),
            (Block::Request, request(&[("proxy-connection", "1")])),
            (Block::Request, request(&[("transfer-encoding", "chunked")])),
            (Block::Request, request(&[("upgrade", "h2c")])),
            (
                Block::Request,
                f(&[
                    (":method", "GET"),
                    ("x", "1"),
                    (":scheme", "http"),
                    (":path", "/"),
                ]),
            ),
            (Block::Response, f(&[("x", "1")])),
            (
                Block::Response,
                f(&[(":status", "200"), (":method", "GET")]),
            ),
            (
                Block::Response,
                f(&[(":status", "200"), (":status", "200")]),
            ),
            (Block::Response, f(&[(":status", "2000")])),
            (Block::Trailers, f(&[(":path", "/")])),
        ];
        for (block, fields) in bad {
            assert!(check(block, &fields).is_err(), "{block:?} {fields:?}");
        }
    }

    #[test]
    fn content_length_is_read_once() {
        assert_eq!(content_length(&f(&[("content-length", "2")])), Ok(Some(2)));
        assert_eq!(content_length(&f(&[])), Ok(None));
        assert!(content_length(&f(&[("content-length", "x")])).is_err());
        assert!(content_length(&f(&[("content-length", "1"), ("content-length", "2")])).is_err());
    }
}
