//! A nesting bound checked before parsing. serde_json stops at 128 levels, but every level
//! still costs stack and an allocation in `serde_json::Value`; an Aircall envelope nests about
//! four deep, so anything much deeper is not a webhook.

/// True when `body` opens more than `max` arrays or objects inside one another. Brackets inside
/// strings do not count; the scan is linear and allocates nothing. Invalid JSON is left for the
/// parser to reject.
pub fn exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::exceeds;

    #[test]
    fn counts_nesting_not_brackets_in_strings() {
        assert!(!exceeds(br#"{"a":{"b":[1,2,{"c":3}]}}"#, 4));
        assert!(exceeds(br#"{"a":{"b":[1,2,{"c":3}]}}"#, 3));
        assert!(!exceeds(br#"{"a":"[[[[[[[[\"{{{{{{"}"#, 1));
        assert!(exceeds(&[b'['; 33], 32));
        assert!(!exceeds(&[b'['; 32], 32));
    }
}
