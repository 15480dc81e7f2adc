//! Gap-free numbers: one counter row per prefix, advanced by `UPDATE ... RETURNING` inside the
//! transaction that uses the number. Concurrent posts serialize on the row; a post that rolls
//! back gives its number back.

use diesel::prelude::*;
use shared::db::{DbConn, Uid, insert_if_missing};

use super::Result;
use super::schema::sequences;

/// The row key of a prefix: its bytes (at most 16, zero-padded) read as a UUID, so the key is
/// the same in every process and readable in the table.
pub fn key(prefix: &str) -> Uid {
    let mut bytes = [0u8; 16];
    for (slot, b) in bytes.iter_mut().zip(prefix.bytes()) {
        *slot = b;
    }
    Uid(uuid::Uuid::from_bytes(bytes))
}

/// Takes the next number of `prefix` (1 for the first).
pub fn next(conn: &mut DbConn, prefix: &str) -> Result<i64> {
    let id = key(prefix);
    insert_if_missing(conn, "sequences", "id", "last_number", id)?;
    let n = diesel::update(sequences::table.find(id))
        .set((sequences::last_number.eq(sequences::last_number + 1), sequences::prefix.eq(prefix)))
        .returning(sequences::last_number)
        .get_result(conn)?;
    Ok(n)
}
