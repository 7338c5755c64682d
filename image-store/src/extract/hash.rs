//! Reading the layer stream while a helper thread computes its diff ID.
//!
//! sha256 is about a third of the CPU time of extracting an uncompressed layer, and it does not
//! depend on anything the extraction does, so [`TeeReader`] reads the stream in large chunks,
//! serves them to the tar parser, and hands each chunk to a hashing thread (running
//! [`HashingReader`] over the chunks) once the parser is done with it. A small pool of recycled
//! buffers bounds the memory used and the distance between the two.

use crate::digest::{Digest, HashingReader};
use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self, JoinHandle};

const CHUNK: usize = 256 * 1024;
const POOL: usize = 4;

type Chunk = (Vec<u8>, usize);

pub struct TeeReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    allocated: usize,
    to_hasher: Option<Sender<Chunk>>,
    free: Receiver<Vec<u8>>,
    hasher: Option<JoinHandle<io::Result<(Digest, u64)>>>,
}

fn hasher_gone() -> io::Error {
    io::Error::other("the layer hashing thread stopped")
}

impl<R: Read> TeeReader<R> {
    pub fn new(inner: R) -> io::Result<Self> {
        let (to_hasher, chunks) = mpsc::channel::<Chunk>();
        let (free_tx, free) = mpsc::channel();
        let hasher = thread::Builder::new()
            .name("layer-diffid".into())
            .spawn(move || {
                HashingReader::new(ChunkReader {
                    chunks,
                    free: free_tx,
                    cur: None,
                    pos: 0,
                })
                .finish()
            })?;
        Ok(TeeReader {
            inner,
            buf: Vec::new(),
            pos: 0,
            len: 0,
            eof: false,
            allocated: 0,
            to_hasher: Some(to_hasher),
            free,
            hasher: Some(hasher),
        })
    }

    /// Passes the consumed chunk on and reads the next one.
    fn refill(&mut self) -> io::Result<()> {
        let tx = self.to_hasher.as_ref().ok_or_else(hasher_gone)?;
        if self.len > 0 {
            tx.send((std::mem::take(&mut self.buf), self.len))
                .map_err(|_| hasher_gone())?;
            self.pos = 0;
            self.len = 0;
        }
        if self.eof {
            return Ok(());
        }
        if self.buf.is_empty() {
            self.buf = match self.free.try_recv() {
                Ok(b) => b,
                Err(TryRecvError::Empty) if self.allocated < POOL => {
                    self.allocated += 1;
                    vec![0; CHUNK]
                }
                Err(_) => self.free.recv().map_err(|_| hasher_gone())?,
            };
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the rest of the stream (trailing blocks and all) and returns its digest and size.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        loop {
            self.pos = self.len;
            self.refill()?;
            if self.len == 0 {
                break;
            }
        }
        drop(self.to_hasher.take());
        let hasher = self.hasher.take().ok_or_else(hasher_gone)?;
        hasher.join().map_err(|_| hasher_gone())?
    }
}

impl<R: Read> Read for TeeReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.len {
            self.refill()?;
            if self.len == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The hashing thread's view of the chunks: a reader that ends when the sender is dropped.
struct ChunkReader {
    chunks: Receiver<Chunk>,
    free: Sender<Vec<u8>>,
    cur: Option<Chunk>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some((buf, len)) = &self.cur {
                if self.pos < *len {
                    let n = out.len().min(len - self.pos);
                    out[..n].copy_from_slice(&buf[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
            }
            if let Some((buf, _)) = self.cur.take() {
                // The reader may be gone (extraction failed); then the buffer is just dropped.
                let _ = self.free.send(buf);
            }
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.cur = Some(chunk);
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns at most `step` bytes per read, to exercise partial chunks.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(self.1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn hashes_everything_read_or_not() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
        for step in [1000, 100_000, usize::MAX] {
            for consumed in [0, 1, 512, 1_000_000, data.len()] {
                let mut r = TeeReader::new(Trickle(&data, step)).unwrap();
                let mut got = vec![0u8; consumed];
                r.read_exact(&mut got).unwrap();
                assert_eq!(got, data[..consumed]);
                let (d, n) = r.finish().unwrap();
                assert_eq!(n, data.len() as u64);
                assert_eq!(d, Digest::of_bytes(&data));
            }
        }
        let (d, n) = TeeReader::new(&b""[..]).unwrap().finish().unwrap();
        assert_eq!((d, n), (Digest::of_bytes(b""), 0));
    }

    #[test]
    fn dropping_early_does_not_hang() {
        let data = vec![1u8; 5 * CHUNK];
        let mut r = TeeReader::new(&data[..]).unwrap();
        let mut got = vec![0u8; 3 * CHUNK];
        r.read_exact(&mut got).unwrap();
        drop(r);
    }
}
