//! The typed words of the store boundary as PostgreSQL text columns: written as their text,
//! read back strictly. Read them with `Row::try_get` (`get` would panic on a bad row): a row
//! with an unknown kind or state is an error, never a default.

use std::error::Error;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use crate::store::{Entity, EventState};

type BoxError = Box<dyn Error + Sync + Send>;

macro_rules! text_word {
    ($word:ty) => {
        impl<'a> FromSql<'a> for $word {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
                Ok(<&str as FromSql>::from_sql(ty, raw)?.parse::<$word>()?)
            }

            fn accepts(ty: &Type) -> bool {
                <&str as FromSql>::accepts(ty)
            }
        }

        impl ToSql for $word {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                self.as_str().to_sql(ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                <&str as ToSql>::accepts(ty)
            }

            to_sql_checked!();
        }
    };
}

text_word!(Entity);
text_word!(EventState);

/// Column `i` of `row` as a typed word; a value that is not one is an error.
pub(super) fn word<'a, T: FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, crate::store::StoreError> {
    row.try_get(i).map_err(|e| {
        // The driver's message says only "error deserializing column"; the cause says why.
        let cause = e.source().map(|c| c.to_string()).unwrap_or_default();
        crate::store::StoreError::Corrupt(format!("column {i}: {e}: {cause}"))
    })
}
