//! Stored payloads, compressed on both backends: an event's `data` and an entity's `observed`
//! state are JSON of 1 to 2 KB that zstd brings to under half. SQLite keeps the frame in the
//! same column as a BLOB, PostgreSQL in a `BYTEA` beside the old text column (its TOAST
//! compresses nothing in a row under about 2 KB). Rows written before compression keep their
//! text and are read as they are, so an old store needs no rewrite.

/// zstd's level 3 (its default): on a 1.5 KB call, the same size as level 9 at a fraction of
/// the time, a few microseconds.
const LEVEL: i32 = 3;

thread_local! {
    /// One compression context per thread: making one for every payload
    /// (`zstd::bulk::compress`) was 3 % of the bridge's CPU under a burst, most of it clearing
    /// the context's tables.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The bytes stored for `json`.
pub(super) fn compress(json: &str) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        // Making a context and compressing into memory fail only when they cannot allocate.
        let compressor = cell.get_or_insert_with(|| {
            zstd::bulk::Compressor::new(LEVEL).expect("a zstd compression context")
        });
        compressor
            .compress(json.as_bytes())
            .expect("zstd compression into memory")
    })
}

#[derive(Debug, thiserror::Error)]
pub(super) enum PayloadError {
    #[error("stored payload is not a zstd frame: {0}")]
    Frame(#[source] std::io::Error),
    #[error("stored payload is not UTF-8: {0}")]
    Text(#[source] std::string::FromUtf8Error),
}

/// The JSON a stored frame holds.
pub(super) fn decompress(frame: &[u8]) -> Result<String, PayloadError> {
    let raw = zstd::stream::decode_all(frame).map_err(PayloadError::Frame)?;
    String::from_utf8(raw).map_err(PayloadError::Text)
}
