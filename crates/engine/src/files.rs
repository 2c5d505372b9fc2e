//! Reading a file a person names (an import, an approval file, an export's manifest): only
//! a regular file, and never more than a limit. A device (`/dev/zero`) would be read forever
//! and a named pipe would hold the program until someone writes to it.

use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("it is not a regular file (a folder, a device or a pipe): give the path of a file")]
    NotAFile,
    #[error("it is larger than {limit} bytes, more than such a file can be")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The whole of the regular file `path`, at most `limit` bytes. The file is opened without
/// blocking and checked on the open handle, so a pipe swapped in after a check cannot hold
/// the reader.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if !std::fs::metadata(path)?.is_file() {
        return Err(ReadError::NotAFile);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path`, a new file, whole or not at all: a file of a random name beside
/// it, opened exclusively (no symlink or file planted there is followed or truncated), then
/// linked to `path`, which must not exist yet — nothing a person already has, nor what a
/// symlink there points to, is ever replaced. Every file Closebook creates for a person (an
/// approval file) goes through here.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".closebook-{}.partial", hex::encode(nonce)));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    let published = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a file is already there: choose another name (nothing was replaced)",
        )),
        // A file system without hard links: move it in, still never over anything.
        Err(_) if std::fs::symlink_metadata(path).is_err() => std::fs::rename(&tmp, path),
        Err(e) => Err(e),
    });
    let _ = std::fs::remove_file(&tmp);
    published
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a.csv");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_regular(&f, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_regular(&f, 9),
            Err(ReadError::TooLarge { limit: 9 })
        ));
        assert!(matches!(
            read_regular(tmp.path(), 100),
            Err(ReadError::NotAFile) | Err(ReadError::Io(_))
        ));
        assert!(matches!(
            read_regular(&tmp.path().join("none"), 100),
            Err(ReadError::Io(_))
        ));
        #[cfg(unix)]
        {
            assert!(matches!(
                read_regular(Path::new("/dev/zero"), 1 << 20),
                Err(ReadError::NotAFile)
            ));
            let fifo = tmp.path().join("pipe");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            // Returns at once: nobody writes to the pipe.
            assert!(matches!(read_regular(&fifo, 100), Err(ReadError::NotAFile)));
        }
    }

    #[test]
    fn a_new_file_is_written_whole_and_never_over_anything() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("approval.json");
        write_new(&f, b"{}").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"{}");
        let e = write_new(&f, b"other").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&f).unwrap(), b"{}", "untouched");
        #[cfg(unix)]
        {
            // A symlink at the destination, to a file the person cares about.
            let precious = tmp.path().join("bashrc");
            std::fs::write(&precious, b"mine").unwrap();
            let link = tmp.path().join("link.json");
            std::os::unix::fs::symlink(&precious, &link).unwrap();
            assert!(write_new(&link, b"attacker").is_err());
            assert_eq!(std::fs::read(&precious).unwrap(), b"mine");
        }
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "no temporary file left");
    }
}
