//! Borrower id → the borrower's place in the book.
//!
//! Looked up for every event, in a book of hundreds of thousands of borrowers, so the lookup is
//! one cache miss, not two: an id of up to [`INLINE`] bytes (every id we have seen) is kept
//! inside the table's own slot, where a map keyed by `Arc<str>` would follow a pointer to the
//! string to compare it. Longer ids (the contract allows 64 characters) live on the heap.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Longest id kept inside the table.
const INLINE: usize = 22;

/// An id as the table keeps it.
#[derive(Debug, Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Key {
    fn new(id: &str) -> Self {
        match id.len() {
            len if len <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..len].copy_from_slice(id.as_bytes());
                Key::Inline {
                    len: len as u8,
                    bytes,
                }
            }
            _ => Key::Heap(id.into()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(s) => s.as_bytes(),
        }
    }
}

/// The book's index: each borrower id to its position in the borrower list.
#[derive(Debug, Default)]
pub(super) struct Index {
    table: HashTable<(Key, u32)>,
}

fn hash(id: &[u8]) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl Index {
    /// The position of borrower `id`.
    pub(super) fn get(&self, id: &str) -> Option<u32> {
        let id = id.as_bytes();
        self.table
            .find(hash(id), |(k, _)| k.bytes() == id)
            .map(|(_, i)| *i)
    }

    /// Files borrower `id` at position `i` (replacing its old position).
    pub(super) fn insert(&mut self, id: &str, i: u32) {
        let bytes = id.as_bytes();
        match self.table.entry(
            hash(bytes),
            |(k, _)| k.bytes() == bytes,
            |(k, _)| hash(k.bytes()),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut e) => e.get_mut().1 = i,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert((Key::new(id), i));
            }
        }
    }

    /// Moves borrower `id` to position `i`, if filed.
    pub(super) fn relocate(&mut self, id: &str, i: u32) {
        let bytes = id.as_bytes();
        if let Some((_, at)) = self
            .table
            .find_mut(hash(bytes), |(k, _)| k.bytes() == bytes)
        {
            *at = i;
        }
    }

    /// Forgets borrower `id`.
    pub(super) fn remove(&mut self, id: &str) {
        let bytes = id.as_bytes();
        if let Ok(e) = self
            .table
            .find_entry(hash(bytes), |(k, _)| k.bytes() == bytes)
        {
            e.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Index;

    #[test]
    fn short_and_long_ids_are_found_moved_and_forgotten() {
        let long = "B".repeat(64);
        let ids = [
            "",
            "B1",
            "B000041",
            "exactly-twenty-two-by",
            "twenty-three-bytes-long",
            &long,
        ];
        let mut index = Index::default();
        for (i, id) in ids.iter().enumerate() {
            index.insert(id, i as u32);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id), Some(i as u32), "{id}");
        }
        assert_eq!(index.get("B2"), None);
        assert_eq!(index.get(&"B".repeat(63)), None);
        index.relocate(&long, 9);
        index.insert("B1", 7);
        assert_eq!((index.get(&long), index.get("B1")), (Some(9), Some(7)));
        index.remove("B000041");
        index.remove("never filed");
        assert_eq!(index.get("B000041"), None);
        assert_eq!(index.get("twenty-three-bytes-long"), Some(4));
    }
}
