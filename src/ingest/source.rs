//! Finding inputs and opening them as byte streams: files, folders
//! (walked recursively, in path order, symlink loops cut), `.gz` files,
//! `.zip` members (streamed, never extracted; member names are labels,
//! never paths) and standard input.

use flate2::read::MultiGzDecoder;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Decompressed data may be at most this many times the compressed size
/// (plus a fixed allowance): sign-in exports compress 10-50x, a zip bomb
/// thousands of times.
pub const MAX_EXPANSION_RATIO: u64 = 200;
const EXPANSION_ALLOWANCE: u64 = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// `head`: the first bytes, already taken from standard input to see
    /// whether it holds a zip archive.
    Stdin {
        head: Vec<u8>,
    },
    File(PathBuf),
    ZipMember {
        archive: PathBuf,
        index: usize,
        /// Most bytes the member may expand to (see [`MAX_EXPANSION_RATIO`]).
        budget: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Input {
    /// What the user sees: the path, `archive.zip!member`, or `-`.
    pub display: String,
    /// The base name used for file-name conventions (portal CSV types).
    pub file_name: String,
    pub origin: Origin,
    /// Notes gathered while finding the input (odd zip member names…).
    pub notes: Vec<String>,
}

/// An input that could not even be listed (missing path, unreadable
/// folder, broken archive).
#[derive(Debug, Clone)]
pub struct Unlisted {
    pub display: String,
    pub reason: String,
}

/// Lists every input below `paths`, sorted so that results never depend on
/// the order the operating system lists a folder in.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<Unlisted>) {
    let mut files = Vec::new();
    let mut bad = Vec::new();
    let mut stdin = false;
    for p in paths {
        if p.as_os_str() == "-" {
            stdin = true;
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut seen = BTreeSet::new();
                let before = (files.len(), bad.len());
                walk(p, &mut seen, &mut files, &mut bad);
                // Said out loud: a wrong folder must not pass as a clean run.
                if (files.len(), bad.len()) == before {
                    bad.push(Unlisted {
                        display: p.display().to_string(),
                        reason: "folder holds no files to read".into(),
                    });
                }
            }
            Ok(_) => files.push(p.clone()),
            Err(e) => bad.push(Unlisted {
                display: p.display().to_string(),
                reason: io_reason(&e),
            }),
        }
    }
    files.sort();
    files.dedup();
    let mut inputs = Vec::new();
    if stdin {
        match stdin_inputs() {
            Ok(found) => inputs.extend(found),
            Err(reason) => bad.push(Unlisted {
                display: "-".into(),
                reason,
            }),
        }
    }
    for f in files {
        if is_zip(&f) {
            match list_zip(&f, &f.display().to_string()) {
                Ok(members) => inputs.extend(members),
                Err(reason) => bad.push(Unlisted {
                    display: f.display().to_string(),
                    reason,
                }),
            }
        } else {
            inputs.push(Input {
                display: f.display().to_string(),
                file_name: f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                origin: Origin::File(f),
                notes: Vec::new(),
            });
        }
    }
    (inputs, bad)
}

/// Standard input copied to a temporary file because it held a zip
/// archive; removed by [`remove_spooled`].
static SPOOLED: Mutex<Vec<tempfile::TempPath>> = Mutex::new(Vec::new());

/// Removes the temporary copies of standard input, once every input is
/// read.
pub fn remove_spooled() {
    SPOOLED.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// Standard input as one input, or, when it holds a zip archive, as that
/// archive's members: a zip's list of members sits at its end, so the
/// stream is first copied to a temporary file and read from there.
fn stdin_inputs() -> Result<Vec<Input>, String> {
    let mut stdin = io::stdin().lock();
    let mut head = Vec::with_capacity(4);
    (&mut stdin)
        .take(4)
        .read_to_end(&mut head)
        .map_err(|e| io_reason(&e))?;
    if head != ZIP_MAGIC {
        return Ok(vec![Input {
            display: "-".into(),
            file_name: "stdin".into(),
            origin: Origin::Stdin { head },
            notes: Vec::new(),
        }]);
    }
    let failed = |e: io::Error| {
        format!("standard input holds a zip archive, which could not be copied to a temporary file to be read: {e}")
    };
    let mut spool = tempfile::Builder::new()
        .prefix("entrasift-stdin-")
        .suffix(".zip")
        .tempfile()
        .map_err(failed)?;
    spool.write_all(&head).map_err(failed)?;
    io::copy(&mut stdin, &mut spool).map_err(failed)?;
    let path = spool.into_temp_path();
    let listed = list_zip(&path, "-");
    // Kept until the run has read the members, removed if nothing is.
    SPOOLED.lock().unwrap_or_else(|p| p.into_inner()).push(path);
    let mut members = listed?;
    for m in &mut members {
        m.notes.push(
            "read from a zip archive on standard input, copied to a temporary file that is removed when the run ends"
                .into(),
        );
    }
    Ok(members)
}

pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or folder".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn walk(
    dir: &Path,
    seen: &mut BTreeSet<PathBuf>,
    files: &mut Vec<PathBuf>,
    bad: &mut Vec<Unlisted>,
) {
    // Canonical paths break symlink loops.
    let canon = match std::fs::canonicalize(dir) {
        Ok(c) => c,
        Err(e) => {
            bad.push(Unlisted {
                display: dir.display().to_string(),
                reason: io_reason(&e),
            });
            return;
        }
    };
    if !seen.insert(canon) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            bad.push(Unlisted {
                display: dir.display().to_string(),
                reason: io_reason(&e),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, seen, files, bad),
            Ok(m) if m.is_file() => files.push(p),
            Ok(_) => {}
            Err(e) => bad.push(Unlisted {
                display: p.display().to_string(),
                reason: io_reason(&e),
            }),
        }
    }
}

fn magic(path: &Path) -> [u8; 4] {
    let mut m = [0u8; 4];
    if let Ok(mut f) = File::open(path) {
        let _ = f.read(&mut m);
    }
    m
}

const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

fn is_zip(path: &Path) -> bool {
    magic(path) == *ZIP_MAGIC
}

/// Makes a zip member name safe to show: control characters replaced.
fn label(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The archive's members as inputs, shown as `shown!member`.
fn list_zip(path: &Path, shown: &str) -> Result<Vec<Input>, String> {
    let file = File::open(path).map_err(|e| io_reason(&e))?;
    let archive_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| format!("unreadable zip archive: {e}"))?;
    let names: Vec<&str> = archive.file_names().collect();
    if let Some(what) = super::magic::office_package(&names) {
        return Err(what.to_string());
    }
    // The fixed allowance is shared by all members, so an archive of many
    // small bombs gets no more than one; a member's declared size is
    // believed only up to the archive's own size.
    let allowance = EXPANSION_ALLOWANCE / archive.len().max(1) as u64;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let entry = match archive.by_index_raw(i) {
            Ok(e) => e,
            Err(e) => return Err(format!("unreadable zip entry #{i}: {e}")),
        };
        if entry.is_dir() {
            continue;
        }
        let name = label(&String::from_utf8_lossy(entry.name_raw()));
        let mut notes = Vec::new();
        if name.starts_with('/')
            || name.starts_with('\\')
            || name.split(['/', '\\']).any(|c| c == "..")
            || name.contains(':')
        {
            notes.push("zip member name looks like a path escape; it is only read as data, never written anywhere".to_string());
        }
        let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
        out.push(Input {
            display: format!("{shown}!{name}"),
            file_name: base,
            origin: Origin::ZipMember {
                archive: path.to_path_buf(),
                index: i,
                budget: entry
                    .compressed_size()
                    .min(archive_len)
                    .saturating_mul(MAX_EXPANSION_RATIO)
                    .saturating_add(allowance),
            },
            notes,
        });
    }
    Ok(out)
}

use super::digest::hashing;
pub use super::digest::{Digestor, BYTES_READ};

/// Stops a decompressor that expands past its budget.
struct Capped<R> {
    inner: R,
    left: u64,
    what: &'static str,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} expands more than {MAX_EXPANSION_RATIO}x its compressed size; stopped (decompression-bomb guard)", self.what),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn budget(compressed: u64) -> u64 {
    compressed
        .saturating_mul(MAX_EXPANSION_RATIO)
        .saturating_add(EXPANSION_ALLOWANCE)
}

/// Opens an input and hands its decompressed byte stream to `f`; gzip is
/// recognised by its magic bytes, not by its name. The hash covers the
/// bytes as stored (the `.gz` file itself; a zip member's uncompressed
/// content). Returns `f`'s result and whether the stream was gzip.
pub fn read_with<T>(
    input: &Input,
    f: impl FnOnce(&mut dyn Read) -> T,
) -> io::Result<(T, Digestor, bool)> {
    match &input.origin {
        Origin::Stdin { head } => {
            let (raw, digest) = hashing(io::Cursor::new(head.clone()).chain(io::stdin().lock()));
            let (t, gz) = maybe_gunzip(raw, u64::MAX / MAX_EXPANSION_RATIO, f)?;
            Ok((t, digest, gz))
        }
        Origin::File(p) => {
            let file = File::open(p)?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let (raw, digest) = hashing(file);
            let (t, gz) = maybe_gunzip(raw, len, f)?;
            Ok((t, digest, gz))
        }
        Origin::ZipMember {
            archive,
            index,
            budget,
        } => {
            let file = File::open(archive)?;
            let archive_len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let mut z = zip::ZipArchive::new(file)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let member = z.by_index(*index).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("zip member: {e}"))
            })?;
            let compressed = member.compressed_size().min(archive_len);
            let capped = Capped {
                inner: member,
                left: *budget,
                what: "zip member",
            };
            let (raw, digest) = hashing(capped);
            let (t, gz) = maybe_gunzip(raw, compressed, f)?;
            Ok((t, digest, gz))
        }
    }
}

/// Hands bytes held in memory to `f` exactly as [`read_with`] would hand
/// a file with that content (gzip detection and bomb guard included).
pub(crate) fn read_bytes<T>(
    bytes: &[u8],
    f: impl FnOnce(&mut dyn Read) -> T,
) -> io::Result<(T, Digestor, bool)> {
    let (raw, digest) = hashing(bytes);
    let (t, gz) = maybe_gunzip(raw, bytes.len() as u64, f)?;
    Ok((t, digest, gz))
}

fn maybe_gunzip<R: Read, T>(
    raw: R,
    compressed_size: u64,
    f: impl FnOnce(&mut dyn Read) -> T,
) -> io::Result<(T, bool)> {
    let mut peek = io::BufReader::with_capacity(1 << 16, raw);
    let head = io::BufRead::fill_buf(&mut peek)?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let gz = MultiGzDecoder::new(peek);
        let mut capped = Capped {
            inner: gz,
            left: budget(compressed_size),
            what: "gzip stream",
        };
        return Ok((f(&mut capped), true));
    }
    Ok((f(&mut peek), false))
}
