//! The host region: binding, the typed errors, fork, and lock-free use by
//! many threads. (Many real processes: py/tests/test_host_store.py,
//! node/test/host-store.test.js.)

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use fusewire::{BreakerConfig, Outcome, State, TickUnit};
use fusewire_store::config::{Config, Value, Window};
use fusewire_store::shm::{now, Handle, Region, ShmError, DEFAULT_SIZE};

/// A region name of its own per test, removed at the end.
struct Temp(String);

impl Temp {
    fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Region::unlink(&name).unwrap();
        Self(name)
    }
    fn open(&self) -> Arc<Region> {
        Region::open(&self.0, DEFAULT_SIZE).unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = Region::unlink(&self.0);
    }
}

fn bucket(h: Handle) -> impl std::ops::Deref<Target = fusewire::SharedBucket> {
    match h {
        Handle::Bucket(b) => b,
        _ => panic!("not a bucket"),
    }
}

#[test]
fn two_openings_share_one_bucket() {
    let t = Temp::new("share");
    let config = Config::bucket(3, 1, 1_000_000_000);
    let a = bucket(t.open().bind("api", &config).unwrap());
    let b = bucket(t.open().bind("api", &config).unwrap());
    let at = now();
    assert!(a.try_acquire(2, at).is_ok());
    assert!(b.try_acquire(1, at).is_ok());
    assert!(
        a.try_acquire(1, at).is_err(),
        "the two handles are one bucket"
    );
}

#[test]
fn a_second_name_is_a_second_policy() {
    let t = Temp::new("names");
    let r = t.open();
    let config = Config::bucket(1, 1, 1_000_000_000);
    let a = bucket(r.bind("a", &config).unwrap());
    let b = bucket(r.bind("b", &config).unwrap());
    assert!(a.try_acquire(1, now()).is_ok());
    assert!(b.try_acquire(1, now()).is_ok());
    assert_eq!(r.entries(), 2);
}

#[test]
fn the_same_name_with_another_config_names_the_first_difference() {
    let t = Temp::new("config");
    let r = t.open();
    r.bind("api", &Config::bucket(10, 1, 1_000_000_000))
        .unwrap();
    let err = r
        .bind("api", &Config::bucket(10, 1, 2_000_000_000))
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            ShmError::ConfigMismatch {
                field: "period",
                ours: Value::Int(2_000_000_000),
                theirs: Value::Int(1_000_000_000),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.field(), "period");
    assert!(err.to_string().contains("period"), "{err}");
}

#[test]
fn the_same_name_with_another_kind_is_refused() {
    let t = Temp::new("kind");
    let r = t.open();
    r.bind("x", &Config::bucket(10, 1, 1_000_000_000)).unwrap();
    let err = r.bind("x", &Config::budget(10, 100)).err().unwrap();
    assert!(matches!(err, ShmError::KindMismatch { .. }), "{err:?}");
    assert_eq!(err.field(), "name");
}

#[test]
fn bad_names_are_refused() {
    let t = Temp::new("badname");
    let r = t.open();
    let c = Config::budget(10, 100);
    for (name, field) in [
        ("", "name"),
        (&"x".repeat(65)[..], "name"),
        ("a\nb", "name"),
    ] {
        let err = r.bind(name, &c).err().unwrap();
        assert_eq!(err.field(), field, "{name:?}: {err}");
    }
    for name in ["", "a/b", "a b", "../x", &"x".repeat(201)] {
        let err = Region::open(name, DEFAULT_SIZE).err().unwrap();
        assert_eq!(err.field(), "store", "{name:?}: {err}");
    }
    assert!(r.bind(&"x".repeat(64), &c).is_ok());
    assert!(r.bind("ünïcode ok", &c).is_ok());
}

#[test]
fn a_full_region_says_so() {
    let t = Temp::new("full");
    let r = Region::open(&t.0, 64 * 1024).unwrap();
    let c = Config::budget(10, 100);
    let mut made = 0;
    let err = loop {
        match r.bind(&format!("b{made}"), &c) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
        assert!(made < 100_000);
    };
    assert!(matches!(err, ShmError::Full { .. }), "{err:?}");
    assert!(made > 10, "{made}");
    // Names already bound still bind.
    assert!(r.bind("b0", &c).is_ok());
}

#[test]
fn another_build_is_refused() {
    let t = Temp::new("build");
    let r = t.open();
    drop(r);
    // Corrupt the build fingerprint as another build would have written it.
    let path = format!("/dev/shm/fusewire.{}", t.0);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = Region::open(&t.0, DEFAULT_SIZE).err().unwrap();
    assert!(matches!(err, ShmError::BuildMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("build"), "{err}");
    // Not a fusewire region at all.
    bytes[0] = b'X';
    std::fs::write(&path, &bytes).unwrap();
    let err = Region::open(&t.0, DEFAULT_SIZE).err().unwrap();
    assert!(err.to_string().contains("not a fusewire store"), "{err}");
}

#[test]
fn breakers_take_supported_count_windows_and_refuse_time_windows() {
    let t = Temp::new("window");
    let r = t.open();
    let mut c = BreakerConfig::new(TickUnit::NANOS);
    c.min_calls = 2;
    c.consecutive_failures = Some(2);
    let ok = Config::breaker(&c, Window::Count { size: 10 });
    let Handle::Breaker(b) = r.bind("b", &ok).unwrap() else {
        panic!()
    };
    let at = now();
    for _ in 0..2 {
        let p = b.try_acquire(at).unwrap();
        b.record(p, Outcome::Failure, 1, at);
    }
    assert_eq!(b.state(), State::Open);
    let odd = Config::breaker(&c, Window::Count { size: 7 });
    assert_eq!(r.bind("c", &odd).err().unwrap().field(), "window_size");
    let timed = Config::breaker(
        &c,
        Window::Time {
            duration: 1_000_000_000,
            buckets: 10,
        },
    );
    assert_eq!(
        r.bind("d", &timed).err().unwrap().field(),
        "window_duration"
    );
}

#[test]
fn many_threads_never_take_more_than_the_burst() {
    let t = Temp::new("threads");
    let r = t.open();
    // 100 tokens, refilled one per hour: exactly 100 grants in all.
    let config = Config::bucket(100, 1, 3_600_000_000_000);
    let granted = AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            let b = bucket(r.bind("b", &config).unwrap());
            let granted = &granted;
            s.spawn(move || {
                for _ in 0..1000 {
                    if b.try_acquire(1, now()).is_ok() {
                        granted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(granted.load(Ordering::Relaxed), 100);
}

#[test]
fn a_region_mapped_before_fork_is_shared_with_the_child() {
    let t = Temp::new("fork");
    let r = t.open();
    let b = bucket(
        r.bind("b", &Config::bucket(10, 1, 3_600_000_000_000))
            .unwrap(),
    );
    // SAFETY: the child only takes tokens (atomics on the mapping) and
    // leaves with _exit, touching nothing the fork could have left locked.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let mut taken = 0;
        while b.try_acquire(1, now()).is_ok() {
            taken += 1;
        }
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(taken) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(
        libc::WEXITSTATUS(status),
        10,
        "the child took the 10 tokens"
    );
    assert!(
        b.try_acquire(1, now()).is_err(),
        "and the parent sees them gone"
    );
}
