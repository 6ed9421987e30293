//! Output files written whole or not at all: the bytes go to a temporary file in the same
//! directory (`.<name>.tmp-<pid>`), which is flushed, synced and renamed over the target only
//! when complete. A run that fails, or is stopped (Ctrl-C: the default SIGINT action ends the
//! process), never leaves a partial file under the target's name: the target either keeps its
//! old content or holds the complete new one (rename within one directory is atomic on POSIX
//! file systems). A stopped run may leave the hidden temporary file behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The temporary name for `path`: `.<file name>.tmp-<pid>` in the same directory.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// A file being written under a temporary name (it implements [`Write`]); [`Pending::commit`]
/// renames it to its target. Dropped without a commit, it removes the temporary file.
pub struct Pending {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl Pending {
    /// Creates the temporary file for `target`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the target when it cannot be created.
    pub fn create(target: impl AsRef<Path>) -> Result<Pending> {
        let target = target.as_ref().to_path_buf();
        let temp = temp_path(&target);
        let file = File::create(&temp).map_err(|e| Error::io(&target, e))?;
        Ok(Pending { writer: Some(BufWriter::with_capacity(1 << 20, file)), target, temp })
    }

    /// Flushes and syncs the file, then renames it to the target; on failure the temporary
    /// file is removed.
    ///
    /// # Errors
    /// [`Error::Io`] naming the target.
    pub fn commit(mut self) -> Result<()> {
        let result = self.finish();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }

    fn finish(&mut self) -> Result<()> {
        let target = self.target.clone();
        let io = |e| Error::io(&target, e);
        let writer = self.writer.take().ok_or_else(|| io(std::io::Error::other("already committed")))?;
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&self.temp, &self.target).map_err(io)
    }
}

/// Writes go (buffered) to the temporary file.
impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.writer {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `path` whole or not at all (see the module docs).
///
/// # Errors
/// [`Error::Io`] naming `path`.
pub fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Result<()> {
    let path = path.as_ref();
    let mut f = Pending::create(path)?;
    f.write_all(bytes.as_ref()).map_err(|e| Error::io(path, e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("mr-outfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.txt");
        write(&p, "one").unwrap();
        write(&p, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        {
            let mut f = Pending::create(&p).unwrap();
            f.write_all(b"partial").unwrap();
            // dropped without commit: the target keeps its old content, no temp is left
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(write(dir.join("no/such/dir/x"), "x").is_err());
        // a target that is a directory: the rename fails and the temporary file goes
        let sub = dir.join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(write(&sub, "x").is_err());
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
