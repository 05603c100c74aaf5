//! Small filesystems for the disk tests: a size-limited tmpfs, or an ext4 image on a loop
//! device that can be forced read-only under a running process (`errors=remount-ro` and the
//! kernel's `trigger_fs_error`). Mounting needs root; without it the test is skipped with a
//! printed reason, unless CI requires it (`BRIDGE_TEST_REQUIRE_MOUNTS=1`, set by .ci/run when it
//! runs as root).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Mount {
    dir: tempfile::TempDir,
    image: Option<PathBuf>,
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn skip_or_fail(why: String) -> Option<Mount> {
    assert!(
        std::env::var_os("BRIDGE_TEST_REQUIRE_MOUNTS").is_none(),
        "cannot mount ({why}), and BRIDGE_TEST_REQUIRE_MOUNTS is set"
    );
    eprintln!("skipped: cannot mount a test filesystem ({why}); run the tests as root");
    None
}

impl Mount {
    /// A tmpfs of `size` (e.g. "4m").
    pub fn tmpfs(size: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().display().to_string();
        match run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
                &at,
            ],
        ) {
            Ok(()) => Some(Mount { dir, image: None }),
            Err(e) => skip_or_fail(e),
        }
    }

    /// An ext4 filesystem of `mib` MiB that turns itself read-only on an error.
    pub fn ext4(mib: u64) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let image = std::env::temp_dir().join(format!("bridge-test-{}.img", rand_suffix()));
        let file = std::fs::File::create(&image).unwrap();
        file.set_len(mib << 20).unwrap();
        let at = dir.path().display().to_string();
        let img = image.display().to_string();
        let made = run("mkfs.ext4", &["-q", &img])
            .and_then(|()| run("mount", &["-o", "loop,errors=remount-ro", &img, &at]));
        match made {
            Ok(()) => Some(Mount {
                dir,
                image: Some(image),
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&image);
                skip_or_fail(e)
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn remount(&self, options: &str) {
        run(
            "mount",
            &[
                "-o",
                &format!("remount,{options}"),
                &self.path().display().to_string(),
            ],
        )
        .unwrap();
    }

    /// What the kernel does on a metadata error with `errors=remount-ro`: the filesystem turns
    /// read-only under every open file.
    pub fn force_read_only(&self) {
        let out = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE", &self.path().display().to_string()])
            .output()
            .unwrap();
        let source = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let dev = Path::new(&source)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        std::fs::write(format!("/sys/fs/ext4/{dev}/trigger_fs_error"), "1").unwrap();
    }

    /// Fills the filesystem until it refuses a byte; the file that did it.
    pub fn fill(&self, name: &str) -> PathBuf {
        use std::io::Write;
        let path = self.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 << 10];
        // Smaller and smaller writes, so the last few bytes go too.
        let mut size = chunk.len();
        while size > 0 {
            match f.write(&chunk[..size]) {
                Ok(0) | Err(_) => size /= 2,
                Ok(_) => {}
            }
        }
        let _ = f.sync_all();
        path
    }

    /// A file of `bytes` bytes taking room.
    pub fn ballast(&self, name: &str, bytes: usize) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, vec![1u8; bytes]).unwrap();
        path
    }
}

fn rand_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazy: a process that still holds a file must not keep the mount (or the test) alive.
        let _ = run("umount", &["-l", &self.path().display().to_string()]);
        if let Some(image) = &self.image {
            let _ = std::fs::remove_file(image);
        }
    }
}
