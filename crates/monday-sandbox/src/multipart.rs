//! A minimal multipart/form-data reader for `/v2/file` (parts are small and arrive whole).

pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// `name="x"` / `filename="y"` from a Content-Disposition header value.
fn disposition_param(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_string())
    })
}

pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let boundary = boundary(content_type).ok_or("expected multipart/form-data with a boundary")?;
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0).ok_or("multipart body has no boundary")? + delim.len();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        let head_start = pos + 2; // skip CRLF after the delimiter
        let head_end =
            find(body, b"\r\n\r\n", head_start).ok_or("multipart part without headers")?;
        let head = String::from_utf8_lossy(&body[head_start.min(head_end)..head_end]).to_string();
        let data_start = head_end + 4;
        let mut end_marker = b"\r\n".to_vec();
        end_marker.extend_from_slice(&delim);
        let data_end =
            find(body, &end_marker, data_start).ok_or("multipart part is not terminated")?;
        let disposition = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| v.to_string())
            })
            .ok_or("multipart part without Content-Disposition")?;
        parts.push(Part {
            name: disposition_param(&disposition, "name").unwrap_or_default(),
            filename: disposition_param(&disposition, "filename"),
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + end_marker.len();
        if pos > body.len() {
            return Err("multipart body truncated".into());
        }
    }
}
