//! The source of an SFTP upload, read a half window at a time.
//!
//! Each half window is read by position on a blocking thread, straight
//! into its buffer (a `tokio::fs::File` reads into a buffer of its own and
//! copies from there), and a buffer whose writes are all done is read into
//! again: a fresh 4 MiB buffer each time cost a page fault per 4 KiB, the
//! bigger part of the client's CPU for a 1 GiB upload.

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// Buffers kept for reuse: the window is two halves, and one is read
/// while both are being written.
const SPARE: usize = 3;

pub(super) struct SourceWindows {
    file: Arc<std::fs::File>,
    spare: Vec<BytesMut>,
}

impl SourceWindows {
    pub(super) async fn of(source: &tokio::fs::File) -> std::io::Result<SourceWindows> {
        let file = source.try_clone().await?.into_std().await;
        Ok(SourceWindows {
            file: Arc::new(file),
            spare: Vec::new(),
        })
    }

    /// The file itself, to tell the kernel what is done with.
    pub(super) fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// The `len` bytes at `at`; `None` when the file ends before them.
    pub(super) async fn read(&mut self, at: u64, len: usize) -> std::io::Result<Option<Bytes>> {
        let mut buffer = self.spare.pop().unwrap_or_default();
        // Only a new or shorter buffer is zeroed: the bytes are read over.
        buffer.resize(len, 0);
        let file = self.file.clone();
        let read = tokio::task::spawn_blocking(move || match file.read_exact_at(&mut buffer, at) {
            Ok(()) => Ok(Some(buffer)),
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(error) => Err(error),
        });
        let read = read.await.map_err(std::io::Error::other)??;
        Ok(read.map(BytesMut::freeze))
    }

    /// A window whose writes are done: its buffer is read into again, if
    /// nothing else still holds it.
    pub(super) fn give_back(&mut self, window: Bytes) {
        if self.spare.len() < SPARE
            && let Ok(buffer) = window.try_into_mut()
        {
            self.spare.push(buffer);
        }
    }
}
