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

/// A new file readable and writable by its owner only (an export is a plaintext copy of an
/// encrypted workspace); never an existing one.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A new folder only its owner may enter.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Moves `from` to `to`, which must not exist: never replaces a file or folder that
/// appeared there meanwhile. Linux: one `renameat2(RENAME_NOREPLACE)`; elsewhere (or on a
/// file system without it) a file is hard-linked then unlinked, a folder renamed after a
/// check.
pub fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    let exists = || {
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists: nothing was replaced", to.display()),
        )
    };
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
        };
        let (f, t) = (c(from)?, c(to)?);
        // SAFETY: two valid NUL-terminated paths, relative to the working directory.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EEXIST) => return Err(exists()),
            Some(libc::EINVAL) | Some(libc::ENOSYS) => {}
            _ => return Err(e),
        }
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(exists());
    }
    if std::fs::symlink_metadata(from)?.is_dir() {
        return std::fs::rename(from, to);
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => std::fs::remove_file(from),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
        Err(_) => std::fs::rename(from, to),
    }
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

    #[test]
    fn exports_are_private_and_published_without_replacing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("export.partial");
        create_private_dir(&dir).unwrap();
        let file = tmp.path().join("journal.partial");
        drop(create_private(&file).unwrap());
        assert!(create_private(&file).is_err(), "never an existing file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&file), 0o600);
        }
        // A destination that appeared meanwhile is never replaced: file or folder, even empty.
        let taken = tmp.path().join("taken");
        std::fs::write(&taken, b"someone's").unwrap();
        let e = rename_no_replace(&file, &taken).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&taken).unwrap(), b"someone's");
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(rename_no_replace(&dir, &empty).is_err());
        assert!(
            dir.is_dir(),
            "the staged folder stays for its owner to remove"
        );
        rename_no_replace(&file, &tmp.path().join("journal")).unwrap();
        rename_no_replace(&dir, &tmp.path().join("export")).unwrap();
        assert!(tmp.path().join("journal").is_file() && tmp.path().join("export").is_dir());
    }
}
