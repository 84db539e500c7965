//! The mapped region: header, entry table, payloads, and registration.

use std::ffi::CString;
use std::io;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use fusewire::{SharedBucket, SharedBudget, SharedBulkhead};

use super::handle::{self, Handle};
use super::ShmError;
use crate::config::{Config, Kind, MAX_FIELDS};

/// The region size when none is given: 1 MiB (256 entries and their
/// payloads; a breaker over 1000 calls takes about 1.2 KiB).
pub const DEFAULT_SIZE: usize = 1 << 20;

/// The longest entry name, in bytes.
pub const MAX_NAME: usize = 64;

const MAGIC: [u8; 8] = *b"FUSEWIRE";
/// Bumped whenever the header, the entry table or a payload changes layout.
const LAYOUT: u32 = 1;
const HEADER_SIZE: usize = 512;
const ALIGN: usize = 64;
const MIN_SIZE: usize = 64 * 1024;

/// The header at offset 0. Written once, under the lock, by the process
/// that creates the region.
#[repr(C)]
struct Header {
    magic: [u8; 8],
    layout: u32,
    capacity: u32,
    size: u64,
    /// Where the next payload goes (bytes from the start), under the lock.
    cursor: AtomicU64,
    build: [u8; 128],
}

/// One entry of the table. `state` is 0 (free) or 1 (its payload is
/// constructed and published), written last with `Release`.
#[repr(C)]
struct Entry {
    state: AtomicU32,
    kind: u32,
    name_len: u32,
    fields: u32,
    name: [u8; MAX_NAME],
    offset: u64,
    len: u64,
    config: [u64; MAX_FIELDS],
}

const _: () = assert!(size_of::<Header>() <= HEADER_SIZE);

/// What makes two builds able to share a region: the layout version, the
/// crate version, the target, and the size and alignment of every shared
/// form (a change to a `repr(C)` payload changes them). Two processes of
/// one build, Python or Node, always agree.
pub fn build_fingerprint() -> String {
    let shapes = [
        (size_of::<SharedBucket>(), align_of::<SharedBucket>()),
        (size_of::<SharedBulkhead>(), align_of::<SharedBulkhead>()),
        (size_of::<SharedBudget>(), align_of::<SharedBudget>()),
        (size_of::<Entry>(), align_of::<Entry>()),
        handle::breaker_shape(),
    ];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (s, a) in shapes {
        for b in (s as u64)
            .to_le_bytes()
            .into_iter()
            .chain((a as u64).to_le_bytes())
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!(
        "fusewire {} layout {} {}-{} shapes {:016x}",
        env!("CARGO_PKG_VERSION"),
        LAYOUT,
        std::env::consts::ARCH,
        std::env::consts::OS,
        h
    )
}

/// A region mapped into this process. Cheap to share (`Arc`); every
/// [`Handle`] keeps it mapped.
pub struct Region {
    name: String,
    fd: i32,
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is shared memory accessed only through atomics (the
// core's shared forms, the entry states) or under the region's flock
// (registration); the raw pointer is never handed out mutably.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Region")
            .field("name", &self.name)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

fn os(call: &'static str) -> ShmError {
    ShmError::Os {
        call,
        reason: io::Error::last_os_error().to_string(),
    }
}

/// Checks a region name: 1 to 200 bytes of `A-Z a-z 0-9 . _ -`.
fn check_region_name(name: &str) -> Result<(), ShmError> {
    let bad = |reason: &str| ShmError::BadName {
        field: "store",
        reason: reason.into(),
    };
    if name.is_empty() {
        return Err(bad("a host store's name must not be empty"));
    }
    if name.len() > 200 {
        return Err(bad("a host store's name must be at most 200 bytes"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(bad(&format!(
            "a host store's name may use letters, digits, '.', '_' and '-', not {c:?}"
        )));
    }
    Ok(())
}

/// Checks a policy name: 1 to [`MAX_NAME`] bytes, no control characters.
fn check_entry_name(name: &str) -> Result<(), ShmError> {
    let bad = |reason: String| ShmError::BadName {
        field: "name",
        reason,
    };
    if name.is_empty() {
        return Err(bad("must not be empty".into()));
    }
    if name.len() > MAX_NAME {
        return Err(bad(format!(
            "{name:?} is {} bytes; a host store keeps names of at most {MAX_NAME}",
            name.len()
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(bad(format!("must not hold control characters ({c:?})")));
    }
    Ok(())
}

/// Holds the region's flock until dropped.
struct Locked(i32);

impl Locked {
    fn take(fd: i32) -> Result<Self, ShmError> {
        loop {
            // SAFETY: `fd` is an open descriptor owned by the caller.
            if unsafe { libc::flock(fd, libc::LOCK_EX) } == 0 {
                return Ok(Self(fd));
            }
            if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return Err(os("flock"));
            }
        }
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: unlocking a descriptor we locked.
        unsafe { libc::flock(self.0, libc::LOCK_UN) };
    }
}

impl Region {
    /// Opens the region `name` (`/dev/shm/fusewire.<name>` on Linux),
    /// making it `size` bytes if it does not exist yet (an existing one
    /// keeps its size). Mode 0600: the processes sharing it run as one user.
    pub fn open(name: &str, size: usize) -> Result<Arc<Region>, ShmError> {
        check_region_name(name)?;
        if size < MIN_SIZE {
            return Err(ShmError::BadName {
                field: "size",
                reason: format!("must be at least {MIN_SIZE} bytes"),
            });
        }
        let path = CString::new(format!("/fusewire.{name}")).map_err(|_| ShmError::BadName {
            field: "store",
            reason: "must not hold a NUL byte".into(),
        })?;
        // SAFETY: `path` is a valid C string; the flags and mode are plain ints.
        let fd = unsafe {
            libc::shm_open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC,
                0o600 as libc::mode_t,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(if e.kind() == io::ErrorKind::PermissionDenied {
                ShmError::PermissionDenied {
                    region: name.into(),
                }
            } else {
                os("shm_open")
            });
        }
        let lock = match Locked::take(fd) {
            Ok(l) => l,
            Err(e) => {
                // SAFETY: closing the descriptor we opened; nothing maps it.
                unsafe { libc::close(fd) };
                return Err(e);
            }
        };
        let mapped = Self::map(name, fd, size);
        drop(lock);
        match mapped {
            Ok((base, len)) => {
                let region = Region {
                    name: name.into(),
                    fd,
                    base,
                    len,
                };
                Ok(Arc::new(region))
            }
            Err((e, mapping)) => {
                // SAFETY: undoing what `map` did: the mapping (if any) and
                // the descriptor, neither used by anything else.
                unsafe {
                    if let Some((base, len)) = mapping {
                        libc::munmap(base.as_ptr().cast(), len);
                    }
                    libc::close(fd);
                }
                Err(e)
            }
        }
    }

    /// Sizes, maps and checks (or initialises) the region, the lock held.
    /// On error, the mapping made so far for the caller to undo.
    #[allow(clippy::type_complexity)]
    fn map(
        name: &str,
        fd: i32,
        size: usize,
    ) -> Result<(NonNull<u8>, usize), (ShmError, Option<(NonNull<u8>, usize)>)> {
        // SAFETY: `st` is written by fstat before it is read.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open; `st` is a valid out pointer.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return Err((os("fstat"), None));
        }
        let existing = st.st_size as usize;
        let len = if existing == 0 {
            // SAFETY: `fd` is open for writing.
            if unsafe { libc::ftruncate(fd, size as libc::off_t) } != 0 {
                return Err((os("ftruncate"), None));
            }
            size
        } else {
            existing
        };
        if len < HEADER_SIZE {
            return Err((
                ShmError::BuildMismatch {
                    region: name.into(),
                    ours: build_fingerprint(),
                    theirs: format!("a {len}-byte object that is not a fusewire store"),
                },
                None,
            ));
        }
        // SAFETY: mapping `len` bytes of an open shared-memory object, shared,
        // read-write; the result is checked against MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err((os("mmap"), None));
        }
        let Some(base) = NonNull::new(base.cast::<u8>()) else {
            return Err((os("mmap"), None));
        };
        let header: *mut Header = base.as_ptr().cast();
        // SAFETY: the header lies within the mapping (len >= HEADER_SIZE);
        // we hold the lock, so no other process writes it now.
        let magic = unsafe { (*header).magic };
        if magic == [0; 8] {
            // SAFETY: the mapping is `len` bytes, zero (new), and ours under the lock.
            unsafe { init(header, len) };
        } else {
            // SAFETY: as above.
            let (layout, build) = unsafe { ((*header).layout, (*header).build) };
            let theirs = String::from_utf8_lossy(&build)
                .trim_end_matches('\0')
                .to_owned();
            let ours = build_fingerprint();
            if magic != MAGIC || layout != LAYOUT || theirs != ours {
                let theirs = if magic == MAGIC {
                    theirs
                } else {
                    "not a fusewire store".into()
                };
                let err = ShmError::BuildMismatch {
                    region: name.into(),
                    ours,
                    theirs,
                };
                return Err((err, Some((base, len))));
            }
        }
        Ok((base, len))
    }

    fn header_ptr(&self) -> *mut Header {
        self.base.as_ptr().cast()
    }

    fn header(&self) -> &Header {
        // SAFETY: the header was validated or written by `map`, lies within
        // the mapping, and its fields read after that are atomics or
        // never change.
        unsafe { &*self.header_ptr() }
    }

    fn entry_ptr(&self, i: usize) -> *mut Entry {
        // SAFETY: `i < capacity`, and the table lies within the mapping
        // (capacity was sized from its length).
        unsafe { self.base.as_ptr().add(HEADER_SIZE).cast::<Entry>().add(i) }
    }

    fn entry(&self, i: usize) -> &Entry {
        // SAFETY: see `entry_ptr`; entries are only written under the lock
        // before their `state` publishes them.
        unsafe { &*self.entry_ptr(i) }
    }

    /// The region's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mapping's size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: a region has a header).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries in use.
    pub fn entries(&self) -> usize {
        (0..self.header().capacity as usize)
            .filter(|&i| self.entry(i).state.load(Ordering::Acquire) == 1)
            .count()
    }

    /// The policy `name` of this config's kind: bound to what the region
    /// holds under that name, or made there (full, closed, empty) if the
    /// name is new. Typed errors: a bad name, another kind or another
    /// config under the name, a config this tier cannot hold, a full region.
    pub fn bind(self: &Arc<Self>, name: &str, config: &Config) -> Result<Handle, ShmError> {
        check_entry_name(name)?;
        let layout = handle::layout_of(config)?;
        let _lock = Locked::take(self.fd)?;
        let capacity = self.header().capacity as usize;
        let mut free = None;
        for i in 0..capacity {
            let e = self.entry(i);
            if e.state.load(Ordering::Acquire) != 1 {
                free = free.or(Some(i));
                continue;
            }
            if &e.name[..e.name_len as usize] != name.as_bytes() {
                continue;
            }
            let found = Kind::from_u32(e.kind).unwrap_or(config.kind);
            if found != config.kind || e.kind != config.kind as u32 {
                return Err(ShmError::KindMismatch {
                    name: name.into(),
                    wanted: config.kind,
                    found,
                });
            }
            let theirs = Config::decode(config.kind, &e.config);
            if let Some((field, ours, theirs)) = config.first_difference(&theirs) {
                return Err(ShmError::ConfigMismatch {
                    name: name.into(),
                    field,
                    ours,
                    theirs,
                });
            }
            let at = self.payload(e.offset as usize, e.len as usize, layout.size)?;
            // SAFETY: the payload at `at` was constructed by `handle::place`
            // for this kind and config (same build, checked at open).
            return Ok(unsafe { handle::attach(Arc::clone(self), at, config) });
        }
        let Some(i) = free else {
            return Err(ShmError::Full {
                region: self.name.clone(),
                what: "entries",
            });
        };
        let cursor = self.header().cursor.load(Ordering::Relaxed) as usize;
        let offset = align_up(cursor);
        let end = offset.saturating_add(layout.size);
        if end > self.len {
            return Err(ShmError::Full {
                region: self.name.clone(),
                what: "bytes",
            });
        }
        let at = self.payload(offset, layout.size, layout.size)?;
        // SAFETY: `at..at+size` is within the mapping, 64-byte aligned, and
        // not used by any entry (past the cursor), and we hold the lock.
        unsafe { handle::place(at, config)? };
        self.header()
            .cursor
            .store(align_up(end) as u64, Ordering::Relaxed);
        let mut stored_name = [0u8; MAX_NAME];
        stored_name[..name.len()].copy_from_slice(name.as_bytes());
        let e = self.entry_ptr(i);
        // SAFETY: entry `i` is free (state 0) and we hold the lock: no
        // process reads its fields until `state` says 1.
        unsafe {
            (*e).kind = config.kind as u32;
            (*e).name_len = name.len() as u32;
            (*e).fields = config.values.len() as u32;
            (*e).name = stored_name;
            (*e).offset = offset as u64;
            (*e).len = layout.size as u64;
            (*e).config = config.encode();
        }
        self.entry(i).state.store(1, Ordering::Release);
        // SAFETY: constructed just above.
        Ok(unsafe { handle::attach(Arc::clone(self), at, config) })
    }

    fn payload(&self, offset: usize, len: usize, want: usize) -> Result<NonNull<u8>, ShmError> {
        if len != want || offset % ALIGN != 0 || offset.saturating_add(len) > self.len {
            return Err(ShmError::BuildMismatch {
                region: self.name.clone(),
                ours: build_fingerprint(),
                theirs: "an entry of another size".into(),
            });
        }
        // SAFETY: `offset + len <= self.len`: within the mapping.
        Ok(unsafe { NonNull::new_unchecked(self.base.as_ptr().add(offset)) })
    }

    /// Removes the region's name: processes that have it mapped keep
    /// using it; the next `open` of the name makes a new, empty one.
    pub fn unlink(name: &str) -> Result<(), ShmError> {
        check_region_name(name)?;
        let path = CString::new(format!("/fusewire.{name}")).map_err(|_| ShmError::BadName {
            field: "store",
            reason: "must not hold a NUL byte".into(),
        })?;
        // SAFETY: `path` is a valid C string.
        if unsafe { libc::shm_unlink(path.as_ptr()) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::NotFound {
                return Err(os("shm_unlink"));
            }
        }
        Ok(())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping we made, once; no handle is left
        // (each holds an `Arc<Region>`).
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
            libc::close(self.fd);
        }
    }
}

/// Writes a fresh header.
///
/// # Safety
/// `h` starts a zeroed mapping of `len` bytes that only this process, holding
/// the region's lock, touches. The magic is written last so a crash before it
/// leaves a region that the next opener initialises again.
unsafe fn init(h: *mut Header, len: usize) {
    let per = size_of::<Entry>() + 512;
    let capacity = ((len - HEADER_SIZE) / per).clamp(1, 4096) as u32;
    let table_end = HEADER_SIZE + capacity as usize * size_of::<Entry>();
    let mut build = [0u8; 128];
    let fp = build_fingerprint();
    let n = fp.len().min(127);
    build[..n].copy_from_slice(&fp.as_bytes()[..n]);
    // SAFETY: the caller's contract.
    unsafe {
        (*h).layout = LAYOUT;
        (*h).capacity = capacity;
        (*h).size = len as u64;
        (*h).cursor
            .store(align_up(table_end) as u64, Ordering::Relaxed);
        (*h).build = build;
        std::sync::atomic::fence(Ordering::Release);
        (*h).magic = MAGIC;
    }
}

const fn align_up(n: usize) -> usize {
    (n + ALIGN - 1) & !(ALIGN - 1)
}
