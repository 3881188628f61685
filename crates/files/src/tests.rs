use std::os::unix::fs::symlink;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use super::*;

/// Runs `read_text` on another thread: a FIFO read that blocks would hang the test
/// binary, so a hang is a failure after a few seconds instead.
fn read_soon(path: &Path, kind: Kind) -> Result<String, ReadError> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(read_text(&path, kind));
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("read_text returned instead of blocking")
}

#[test]
fn a_symlink_to_dev_zero_is_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("environments.yaml");
    symlink("/dev/zero", &path).unwrap();
    let err = read_soon(&path, Kind::Config).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: not a regular file (a character device)",
            path.display()
        )
    );
    assert_eq!(
        check(&path, Kind::Kubeconfig).unwrap_err().reason(),
        err.reason()
    );
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.yaml");
    let made = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success());
    let err = read_soon(&path, Kind::Config).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: not a regular file (a FIFO)", path.display())
    );
}

#[test]
fn an_oversized_file_is_refused_with_its_size_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("environments.yaml");
    // Sparse: 200 MB said by the file system, nothing written to disk.
    let file = File::create(&path).unwrap();
    file.set_len(200_000_000).unwrap();
    let err = read_soon(&path, Kind::Config).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: 190.7 MiB is over the 4 MiB limit for a config file",
            path.display()
        )
    );
    let err = read_soon(&path, Kind::Migration).unwrap_err();
    assert_eq!(
        err.reason(),
        "190.7 MiB is over the 16 MiB limit for a migration file"
    );
    // One byte over is over.
    file.set_len(Kind::Config.limit() + 1).unwrap();
    assert_eq!(
        read_soon(&path, Kind::Config).unwrap_err().reason(),
        "4194305 bytes is over the 4 MiB limit for a config file"
    );
}

#[test]
fn a_normal_file_and_a_symlink_to_one_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("theme.yaml");
    std::fs::write(&path, "accent: cyan\n").unwrap();
    assert_eq!(read_soon(&path, Kind::Config).unwrap(), "accent: cyan\n");
    let link = dir.path().join("link.yaml");
    symlink(&path, &link).unwrap();
    assert_eq!(read_soon(&link, Kind::Config).unwrap(), "accent: cyan\n");
    // Exactly at the limit is still read.
    let full = dir.path().join("full.yaml");
    std::fs::write(&full, vec![b'#'; Kind::Config.limit() as usize]).unwrap();
    assert_eq!(
        read_soon(&full, Kind::Config).unwrap().len() as u64,
        Kind::Config.limit()
    );
}

#[test]
fn other_refusals_say_what_the_file_is() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        read_soon(dir.path(), Kind::Config).unwrap_err().reason(),
        "not a regular file (a directory)"
    );
    let missing = dir.path().join("missing.yaml");
    let err = read_soon(&missing, Kind::Config).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let binary = dir.path().join("binary.yaml");
    std::fs::write(&binary, b"ok: \xff\xfe").unwrap();
    assert_eq!(
        read_soon(&binary, Kind::Config).unwrap_err().reason(),
        "not UTF-8 text (invalid byte at offset 4)"
    );
}

#[test]
fn a_file_longer_than_it_said_is_read_only_to_the_limit() {
    // /proc files say 0 bytes and then have more: the size is only a hint.
    let file = File::open("/proc/self/status").unwrap();
    let meta = file.metadata().unwrap();
    assert_eq!(meta.len(), 0);
    let bytes = read_at_most(file, &meta, 10).unwrap();
    assert_eq!(bytes.len(), 11, "one past the limit, to tell it was over");
}

#[test]
fn sizes_read_in_the_limits_units() {
    assert_eq!(human(512), "512 bytes");
    assert_eq!(human(3 * 1024 + 512), "3.5 KiB");
    assert_eq!(human(4 * MIB), "4 MiB");
    assert_eq!(human(200_000_000), "190.7 MiB");
}
