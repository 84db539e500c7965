use super::*;
use crate::backoff::{Backoff, Jitter, Schedule};
use crate::window::{CountWindow, TimeWindow};
use crate::Ratio;

type B10 = Breaker<CountWindow<10>>;

fn cfg() -> BreakerConfig {
    BreakerConfig {
        min_calls: 4,
        ..BreakerConfig::new(crate::TickUnit::MILLIS)
    }
}

fn call(b: &mut B10, outcome: Outcome, now: u64) -> Option<Transition> {
    let p = b.try_acquire(now).expect("admitted");
    b.record(p, outcome, 1, now)
}

fn opened(reason: Reason) -> Option<Transition> {
    Some(Transition {
        from: State::Closed,
        to: State::Open,
        reason,
    })
}

#[test]
fn failure_rate_waits_for_min_calls_then_trips_at_threshold() {
    let mut b = B10::new(cfg()).unwrap();
    assert_eq!(call(&mut b, Outcome::Failure, 0), None);
    assert_eq!(call(&mut b, Outcome::Failure, 0), None);
    assert_eq!(call(&mut b, Outcome::Success, 0), None);
    // 4th call: 3 failures of 4 = 75% >= 50%
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        opened(Reason::FailureRate)
    );
    assert_eq!(b.state(), State::Open);
}

#[test]
fn above_comparison_needs_strictly_more() {
    let c = BreakerConfig {
        comparison: Comparison::Above,
        ..cfg()
    };
    let mut b = B10::new(c).unwrap();
    for o in [Outcome::Success, Outcome::Success, Outcome::Failure] {
        call(&mut b, o, 0);
    }
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        None,
        "2/4 is not above 50%"
    );
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        opened(Reason::FailureRate)
    );
}

#[test]
fn successes_never_trip_the_failure_rule() {
    let mut b = B10::new(BreakerConfig {
        failure_rate: Some(Ratio::ZERO),
        ..cfg()
    })
    .unwrap();
    for _ in 0..20 {
        assert_eq!(call(&mut b, Outcome::Success, 0), None);
    }
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        opened(Reason::FailureRate)
    );
}

#[test]
fn slow_calls_trip_the_slow_rule() {
    let c = BreakerConfig {
        failure_rate: None,
        slow_call_rate: Some(Ratio::percent(50)),
        slow_call_duration: 100,
        ..cfg()
    };
    let mut b = B10::new(c).unwrap();
    let mut t = None;
    for d in [10, 100, 20, 150] {
        let p = b.try_acquire(0).unwrap();
        t = b.record(p, Outcome::Success, d, 0);
    }
    assert_eq!(t, opened(Reason::SlowCallRate));
    assert_eq!(b.snapshot(0).counts.slow, 2);
}

#[test]
fn consecutive_failures_ignore_min_calls_and_reset_on_success() {
    let c = BreakerConfig {
        failure_rate: None,
        consecutive_failures: Some(3),
        min_calls: 100,
        ..cfg()
    };
    let mut b = B10::new(c).unwrap();
    call(&mut b, Outcome::Failure, 0);
    call(&mut b, Outcome::Timeout, 0);
    call(&mut b, Outcome::Success, 0);
    call(&mut b, Outcome::Failure, 0);
    call(&mut b, Outcome::Ignored, 0);
    assert_eq!(call(&mut b, Outcome::Failure, 0), None);
    assert_eq!(b.snapshot(0).consecutive_failures, 2);
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        opened(Reason::ConsecutiveFailures)
    );
}

fn tripped(config: BreakerConfig) -> B10 {
    let mut b = B10::new(BreakerConfig {
        consecutive_failures: Some(1),
        ..config
    })
    .unwrap();
    call(&mut b, Outcome::Failure, 0);
    assert_eq!(b.state(), State::Open);
    b
}

#[test]
fn open_rejects_with_the_time_left_then_admits_bounded_probes() {
    let mut b = tripped(BreakerConfig {
        half_open_probes: 2,
        ..cfg()
    });
    let r = b.try_acquire(400).unwrap_err();
    assert_eq!(
        (r.retry_after, r.state, r.transition),
        (600, State::Open, None)
    );
    let p1 = b.try_acquire(1000).unwrap();
    assert_eq!(
        p1.transition,
        Some(Transition {
            from: State::Open,
            to: State::HalfOpen,
            reason: Reason::OpenElapsed
        })
    );
    assert!(p1.is_probe());
    let p2 = b.try_acquire(1001).unwrap();
    let r = b.try_acquire(1002).unwrap_err();
    assert_eq!(r.state, State::HalfOpen);
    // The rest of the dwell: one open duration (1000) from 1000.
    assert_eq!(r.retry_after, 998);
    assert_eq!(b.snapshot(1002).probes_in_flight, 2);
    assert_eq!(b.record(p1, Outcome::Success, 1, 1003), None);
    let closed = b.record(p2, Outcome::Success, 1, 1004);
    assert_eq!(
        closed,
        Some(Transition {
            from: State::HalfOpen,
            to: State::Closed,
            reason: Reason::ProbesPassed
        })
    );
    assert_eq!(
        b.snapshot(1004).counts,
        Counts::default(),
        "window reset on close"
    );
}

#[test]
fn a_failed_probe_reopens_with_a_growing_duration_reset_on_close() {
    let backoff = Backoff::new(
        Schedule::Exponential {
            base: 1000,
            factor_milli: 2000,
        },
        Jitter::None,
        3000,
    )
    .unwrap();
    let mut b = tripped(BreakerConfig {
        open_backoff: backoff,
        ..cfg()
    });
    assert_eq!(b.snapshot(0).open_until, 1000);
    let p = b.try_acquire(1000).unwrap();
    assert_eq!(
        b.record(p, Outcome::Failure, 1, 1000).unwrap().reason,
        Reason::ProbesFailed
    );
    assert_eq!(b.snapshot(1000).open_until, 3000);
    let p = b.try_acquire(3000).unwrap();
    b.record(p, Outcome::Timeout, 1, 3000);
    assert_eq!(b.snapshot(3000).open_until, 6000, "capped at 3000");
    let p = b.try_acquire(6000).unwrap();
    b.record(p, Outcome::Success, 1, 6000);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot(6000).reopens, 0);
    call(&mut b, Outcome::Failure, 7000);
    assert_eq!(b.snapshot(7000).open_until, 8000, "back to the base");
}

#[test]
fn late_outcomes_from_an_earlier_generation_cannot_move_the_breaker() {
    let mut b = B10::new(BreakerConfig {
        consecutive_failures: Some(1),
        ..cfg()
    })
    .unwrap();
    let early = b.try_acquire(0).unwrap();
    call(&mut b, Outcome::Failure, 0);
    let probe = b.try_acquire(1000).unwrap();
    // the pre-open call finally fails: counted, but no reopen
    assert_eq!(b.record(early, Outcome::Failure, 5, 1001), None);
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(
        b.record(probe, Outcome::Success, 1, 1002).unwrap().to,
        State::Closed
    );
    // a stale probe from that half-open period cannot reopen the closed breaker
    let stale = Permit::from_raw(u64::from(b.generation() - 1) | 1 << 32);
    assert_eq!(b.record(stale, Outcome::Failure, 1, 1003), None);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn released_and_ignored_probes_give_their_slot_back() {
    let mut b = tripped(cfg());
    let p = b.try_acquire(1000).unwrap();
    assert!(b.try_acquire(1000).is_err());
    assert_eq!(b.release(p, 1000), None);
    let p = b.try_acquire(1000).unwrap();
    assert_eq!(b.record(p, Outcome::Ignored, 1, 1000), None);
    let p = b.try_acquire(1000).unwrap();
    assert_eq!(
        b.record(p, Outcome::Success, 1, 1000).unwrap().to,
        State::Closed
    );
    // releasing a closed-state permit changes nothing
    let p = b.try_acquire(1001).unwrap();
    assert_eq!(b.release(p, 1001), None);
    assert_eq!(b.snapshot(1001).probes_in_flight, 0);
}

#[test]
fn rates_rule_judges_all_probes_together() {
    let mut b = tripped(BreakerConfig {
        half_open_probes: 4,
        half_open_rule: HalfOpenRule::Rates,
        ..cfg()
    });
    let ps: [Permit; 4] = core::array::from_fn(|_| b.try_acquire(1000).unwrap());
    let [a, c, d, e] = ps;
    assert_eq!(b.record(a, Outcome::Failure, 1, 1000), None);
    assert_eq!(b.record(c, Outcome::Success, 1, 1000), None);
    assert_eq!(b.record(d, Outcome::Success, 1, 1000), None);
    // 1 of 4 failed: 25% < 50%: close
    assert_eq!(
        b.record(e, Outcome::Success, 1, 1000).unwrap().to,
        State::Closed
    );
}

#[test]
fn half_open_dwell_expires_into_the_configured_state() {
    for (expiry, to) in [
        (DwellExpiry::Reopen, State::Open),
        (DwellExpiry::Close, State::Closed),
    ] {
        let mut b = tripped(BreakerConfig {
            half_open_max_dwell: 50,
            dwell_expiry: expiry,
            ..cfg()
        });
        let probe = b.try_acquire(1000).unwrap();
        assert_eq!(b.try_acquire(1020).unwrap_err().retry_after, 30);
        let t = b.poll(1050).unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (State::HalfOpen, to, Reason::DwellExpired)
        );
        assert_eq!(b.record(probe, Outcome::Success, 1, 1060), None);
        assert_eq!(b.state(), to);
    }
}

#[test]
fn host_states_hold_until_the_host_moves() {
    let mut b = B10::new(cfg()).unwrap();
    let t = b.force_open(5).unwrap();
    assert_eq!((t.to, t.reason), (State::ForcedOpen, Reason::Host));
    assert_eq!(b.force_open(6), None);
    assert_eq!(
        b.try_acquire(u64::MAX - 1).unwrap_err().retry_after,
        u64::MAX
    );
    let mut b = B10::new(cfg()).unwrap();
    b.disable(0);
    for _ in 0..20 {
        assert_eq!(call(&mut b, Outcome::Failure, 1), None);
    }
    let s = b.snapshot(1);
    assert_eq!((s.state, s.counts.failures), (State::Disabled, 0));
    assert_eq!(b.close(2).unwrap().to, State::Closed);
    assert_eq!(b.trip(3).unwrap().to, State::Open);
    assert_eq!(b.trip(4), None);
    call_rejected(&mut b, 5);
    assert_eq!(b.reset(6).unwrap().to, State::Closed);
    assert_eq!(b.snapshot(6).counts, Counts::default());
}

fn call_rejected(b: &mut B10, now: u64) {
    assert!(b.try_acquire(now).is_err());
}

#[test]
fn time_going_backwards_is_clamped_and_counted() {
    let mut b = tripped(cfg());
    assert_eq!(b.try_acquire(900).unwrap_err().retry_after, 100);
    assert_eq!(b.try_acquire(10).unwrap_err().retry_after, 100);
    assert_eq!(b.snapshot(0).clock_regressions, 2);
    let p = b.try_acquire(u64::MAX).unwrap();
    assert_eq!(
        b.record(p, Outcome::Failure, u64::MAX, u64::MAX)
            .unwrap()
            .to,
        State::Open
    );
    // open_until saturates at u64::MAX, the end of time: the next call probes
    assert!(b.try_acquire(u64::MAX).unwrap().is_probe());
}

#[test]
fn rejections_count_in_the_rate_with_all_calls_basis() {
    let c = BreakerConfig {
        rate_basis: RateBasis::AllCalls,
        comparison: Comparison::Above,
        reset_window_on_close: false,
        ..cfg()
    };
    let mut b = B10::new(c).unwrap();
    b.force_open(0);
    for _ in 0..4 {
        call_rejected(&mut b, 0);
    }
    b.close(0);
    // 2 failures of 6 calls (4 rejected) = 33%: stays closed
    assert_eq!(call(&mut b, Outcome::Failure, 0), None);
    assert_eq!(call(&mut b, Outcome::Failure, 0), None);
    assert_eq!(call(&mut b, Outcome::Failure, 0), None, "3/7");
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        None,
        "4/8 is not above 50%"
    );
    assert_eq!(
        call(&mut b, Outcome::Failure, 0),
        opened(Reason::FailureRate)
    );
}

#[test]
fn time_window_forgets_old_failures() {
    let window = TimeWindow::<10, 32>::new(1000, 10).unwrap();
    let mut b = Breaker::with_window(cfg(), window).unwrap();
    for t in [0, 10, 20] {
        let p = b.try_acquire(t).unwrap();
        b.record(p, Outcome::Failure, 7, t);
    }
    // the three failures have left the window by 1100
    for t in [1100, 1110, 1120] {
        let p = b.try_acquire(t).unwrap();
        assert_eq!(b.record(p, Outcome::Success, 3, t), None);
    }
    let p = b.try_acquire(1130).unwrap();
    assert_eq!(b.record(p, Outcome::Failure, 3, 1130), None, "1/4 failed");
    assert_eq!(b.mean_latency(1130), Some(3));
    assert_eq!(b.percentile(1130, 990_000), Some(3));
}

#[test]
fn permits_survive_a_trip_through_an_integer() {
    let mut b = tripped(cfg());
    let p = b.try_acquire(1000).unwrap();
    let raw = b.permit_into_raw(p);
    let back = Permit::from_raw(raw);
    assert!(back.is_probe());
    assert_eq!(back.generation(), b.generation());
    assert_eq!(
        b.record(back, Outcome::Success, 0, 1000).unwrap().to,
        State::Closed
    );
}

static RULES: Rules = match BreakerConfig::new(crate::TickUnit::MILLIS).validate() {
    Ok(r) => r,
    Err(_) => panic!("default config is valid"),
};

#[test]
fn builds_in_const_context() {
    const B: Breaker<CountWindow<8>> = Breaker::from_rules(RULES, CountWindow::new());
    let mut b = B;
    assert!(b.try_acquire(0).is_ok());
    assert_eq!(b.config().min_calls, 10);
}

#[test]
fn set_config_keeps_state_generation_and_window() {
    let mut b = B10::new(cfg()).unwrap();
    call(&mut b, Outcome::Failure, 0);
    call(&mut b, Outcome::Failure, 0);
    b.trip(1);
    let generation = b.generation();
    let bad = BreakerConfig {
        half_open_probes: 0,
        ..cfg()
    };
    assert_eq!(b.set_config(bad).unwrap_err().field, "half_open_probes");
    b.set_config(BreakerConfig {
        half_open_probes: 2,
        ..cfg()
    })
    .unwrap();
    let s = b.snapshot(2);
    assert_eq!(
        (s.state, s.generation, s.counts.failures),
        (State::Open, generation, 2)
    );
    assert_eq!(s.open_until, 1001, "the running open period keeps its end");
    let a = b.try_acquire(1001).unwrap();
    let c = b.try_acquire(1001).unwrap();
    assert!(
        a.is_probe() && c.is_probe(),
        "two probes under the new config"
    );
    b.release(a, 1001);
    b.release(c, 1001);
}

#[test]
fn the_host_can_move_to_half_open() {
    let mut b = B10::new(cfg()).unwrap();
    let t = b.half_open(5).unwrap();
    assert_eq!(
        (t.from, t.to, t.reason),
        (State::Closed, State::HalfOpen, Reason::Host)
    );
    assert_eq!(b.half_open(6), None);
    let p = b.try_acquire(7).unwrap();
    assert!(p.is_probe());
    assert!(b.try_acquire(7).is_err());
    assert_eq!(
        b.record(p, Outcome::Success, 1, 8).unwrap().to,
        State::Closed
    );
}

#[test]
fn each_call_makes_at_most_one_transition_and_reports_it() {
    // Open until 1000; at 5000 the probe is due, but only calls that can
    // report it take that step.
    let mut b = tripped(cfg());
    let generation = b.generation();
    let s = b.snapshot(5000);
    assert_eq!(
        (s.state, s.generation),
        (State::Open, generation),
        "a read moves nothing"
    );
    assert_eq!(
        b.trip(5000),
        None,
        "already open: the host's trip changes nothing"
    );
    let t = b.close(5000).unwrap();
    assert_eq!(
        (t.from, t.to, t.reason),
        (State::Open, State::Closed, Reason::Host)
    );
    assert_eq!(b.generation(), generation + 1);
    let mut b = tripped(cfg());
    let t = b.poll(5000).unwrap();
    assert_eq!((t.from, t.to), (State::Open, State::HalfOpen));
}

// Issue 13: nothing a caller forgets may wedge a breaker.

#[test]
fn a_lost_probe_costs_one_dwell_with_default_config() {
    let mut b = B10::new(cfg()).unwrap();
    b.trip(0);
    let lost = b.try_acquire(1000).unwrap(); // the probe, never handed back
    assert!(lost.is_probe());
    let _ = b.permit_into_raw(lost); // a binding's integer, dropped
    let r = b.try_acquire(1500).unwrap_err();
    assert_eq!((r.state, r.retry_after), (State::HalfOpen, 500));
    // One open duration later the half-open period ends, reopens, and the
    // next open period lets a fresh probe through.
    let t = b.poll(2000).unwrap();
    assert_eq!(
        (t.from, t.to, t.reason),
        (State::HalfOpen, State::Open, Reason::DwellExpired)
    );
    let p = b.try_acquire(3000).unwrap();
    assert!(p.is_probe());
    assert_eq!(
        b.record(p, Outcome::Success, 1, 3001).map(|t| t.to),
        Some(State::Closed)
    );
    assert_eq!(b.snapshot(3001).permits_out, 1, "the lost one is still out");
}

#[test]
fn the_dwell_follows_the_open_duration_drawn() {
    let backoff = Backoff::new(
        Schedule::Exponential {
            base: 100,
            factor_milli: 2000,
        },
        Jitter::None,
        10_000,
    )
    .unwrap();
    let mut b = B10::new(BreakerConfig {
        open_backoff: backoff,
        ..cfg()
    })
    .unwrap();
    b.trip(0); // open 100
    let p = b.try_acquire(100).unwrap();
    assert_eq!(
        b.record(p, Outcome::Failure, 1, 100).map(|t| t.to),
        Some(State::Open)
    ); // open 200
    let _lost = b.try_acquire(300).unwrap(); // never handed back
    assert_eq!(b.try_acquire(499).unwrap_err().retry_after, 1);
    assert_eq!(b.poll(500).map(|t| t.reason), Some(Reason::DwellExpired));
    // From a host's half_open, never opened: the first open duration.
    let mut h = B10::new(cfg()).unwrap();
    h.half_open(0);
    let _lost = h.try_acquire(0).unwrap(); // never handed back
    assert_eq!(h.try_acquire(10).unwrap_err().retry_after, 990);
    // An explicit u64::MAX waits for the probes forever.
    let mut w = B10::new(BreakerConfig {
        half_open_max_dwell: u64::MAX,
        ..cfg()
    })
    .unwrap();
    w.half_open(0);
    let _lost = w.try_acquire(0).unwrap(); // never handed back
    assert_eq!(w.poll(u64::MAX - 1), None);
    assert_eq!(w.state(), State::HalfOpen);
}

#[test]
fn a_permit_counts_once() {
    let mut b = B10::new(cfg()).unwrap();
    let p1 = b.try_acquire(0).unwrap();
    let p1 = b.permit_into_raw(p1);
    let p2 = b.try_acquire(0).unwrap();
    let p2 = b.permit_into_raw(p2);
    assert_eq!(b.record(Permit::from_raw(p1), Outcome::Failure, 1, 1), None);
    // The same permit again, with another in flight: refused, not counted.
    assert_eq!(b.record(Permit::from_raw(p1), Outcome::Failure, 1, 2), None);
    assert_eq!(b.release(Permit::from_raw(p1), 2), None);
    let s = b.snapshot(2);
    assert_eq!(
        (s.counts.failures, s.refused_permits, s.permits_out),
        (1, 2, 1)
    );
    // A made-up value, and one whose bits were mangled.
    assert_eq!(
        b.record(Permit::from_raw(12345), Outcome::Failure, 1, 3),
        None
    );
    assert_eq!(
        b.record(Permit::from_raw(p2 ^ 1 << 20), Outcome::Failure, 1, 3),
        None
    );
    assert_eq!(b.snapshot(3).refused_permits, 4);
    // The real second permit still counts.
    b.record(Permit::from_raw(p2), Outcome::Success, 1, 4);
    let s = b.snapshot(4);
    assert_eq!(
        (s.counts.failures, s.counts.successes, s.permits_out),
        (1, 1, 0)
    );
}

#[test]
fn a_probe_recorded_twice_settles_once() {
    let mut b = B10::new(BreakerConfig {
        half_open_probes: 2,
        ..cfg()
    })
    .unwrap();
    b.trip(0);
    let p = b.try_acquire(1000).unwrap();
    let p = b.permit_into_raw(p);
    let _q = b.try_acquire(1000).unwrap();
    assert_eq!(
        b.record(Permit::from_raw(p), Outcome::Success, 1, 1001),
        None
    );
    // Twice would have closed the breaker on one probe's word.
    assert_eq!(
        b.record(Permit::from_raw(p), Outcome::Success, 1, 1002),
        None
    );
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.snapshot(1002).refused_permits, 1);
}

#[test]
fn raw_permits_fit_a_javascript_number() {
    let mut b = B10::new(cfg()).unwrap();
    for now in 0..2000 {
        let p = b.try_acquire(now).unwrap();
        let raw = b.permit_into_raw(p);
        assert!(raw < 1 << 53);
        b.release(Permit::from_raw(raw), now);
    }
    assert_eq!(b.snapshot(2000).refused_permits, 0);
}

#[test]
fn started_basis_counts_calls_when_they_start() {
    let mut b: Breaker<TimeWindow<4, 0>> = Breaker::with_window(
        BreakerConfig {
            rate_basis: RateBasis::Started,
            min_calls: 4,
            comparison: Comparison::Above,
            ..BreakerConfig::new(crate::TickUnit::MILLIS)
        },
        TimeWindow::new(1000, 4).unwrap(),
    )
    .unwrap();
    // Three calls in flight and one failed: 1 of 4 started, 25 %.
    let held: [Permit; 3] = core::array::from_fn(|_| b.try_acquire(0).unwrap());
    let f = b.try_acquire(0).unwrap();
    assert_eq!(b.record(f, Outcome::Failure, 1, 1), None);
    assert_eq!(b.snapshot(1).counts.started(), 4);
    // Two more failures: 3 of 4 started is above 50 %.
    let [a, c, d] = held;
    assert_eq!(
        b.record(a, Outcome::Failure, 1, 2),
        None,
        "2 of 4 is not above 50 %"
    );
    assert_eq!(
        b.record(c, Outcome::Failure, 1, 3).map(|t| t.reason),
        Some(Reason::FailureRate)
    );
    b.record(d, Outcome::Success, 1, 4);
}

#[test]
fn untripped_outcomes_count_but_never_open() {
    let mut b = B10::new(cfg()).unwrap();
    for now in 0..6 {
        let p = b.try_acquire(now).unwrap();
        assert_eq!(b.record_untripped(p, Outcome::Failure, 1, now), None);
    }
    assert_eq!(b.snapshot(6).counts.failures, 6);
    let p = b.try_acquire(7).unwrap();
    assert_eq!(
        b.record(p, Outcome::Failure, 1, 7).map(|t| t.reason),
        Some(Reason::FailureRate)
    );
}

#[test]
fn configs_that_never_trip_are_refused_at_construction() {
    let e = B10::new(BreakerConfig {
        min_calls: 11,
        ..cfg()
    })
    .unwrap_err();
    assert_eq!(
        (e.field, e.problem),
        ("min_calls", crate::Problem::ExceedsWindow)
    );
    let e = Breaker::<CountWindow<16>>::new(BreakerConfig {
        min_calls: 17,
        ..cfg()
    })
    .unwrap_err();
    assert_eq!(e.field, "min_calls");
    assert!(Breaker::<CountWindow<16>>::new(BreakerConfig {
        min_calls: 16,
        ..cfg()
    })
    .is_ok());
}

/// fuzz/regressions.md, finding 5: a permit whose 16 generation bits match
/// the generation a time-driven move just entered is from 65536
/// generations ago, not from the new one: judging it made a second
/// transition (half-open -> closed by dwell, then closed -> open) and
/// reported only the second.
#[test]
fn a_permit_of_an_aliased_generation_never_makes_a_second_transition() {
    let mut b = B10::new(BreakerConfig {
        consecutive_failures: Some(1),
        half_open_max_dwell: 10,
        dwell_expiry: DwellExpiry::Close,
        ..cfg()
    })
    .unwrap();
    let old = b.try_acquire(0).unwrap(); // generation 0, still out
    for i in 0..0xFFFF_u32 {
        if i % 2 == 0 {
            b.half_open(0);
        } else {
            b.close(0);
        }
    }
    assert_eq!((b.state(), b.generation()), (State::HalfOpen, 0xFFFF));
    // The dwell is over: this call closes the breaker (generation 0x10000,
    // whose low 16 bits are the old permit's); the old failure must not
    // also trip it.
    let t = b.record(old, Outcome::Failure, 1, 10);
    assert_eq!(
        t,
        Some(Transition {
            from: State::HalfOpen,
            to: State::Closed,
            reason: Reason::DwellExpired
        })
    );
    assert_eq!((b.state(), b.generation()), (State::Closed, 0x10000));
    assert_eq!(
        b.snapshot(10).counts.failures,
        1,
        "still counted in the window"
    );
}

/// fuzz/regressions.md, finding 6: `u64::MAX` is "wait for the probes
/// forever", even at the end of time.
#[test]
fn a_forever_dwell_outlasts_the_end_of_time() {
    let mut b = B10::new(BreakerConfig {
        half_open_max_dwell: u64::MAX,
        ..cfg()
    })
    .unwrap();
    b.half_open(0);
    let _lost = b.try_acquire(0).unwrap();
    assert_eq!(b.poll(u64::MAX), None);
    assert_eq!(b.state(), State::HalfOpen);
}

// ---- host-given open durations, saved states, tolerated probes, and the
// failures a host may count itself (fusewire/cockatiel's needs, #19)

#[test]
fn a_host_sets_the_open_period_after_the_trip() {
    let mut b = tripped(cfg());
    assert!(b.set_open_duration(50));
    assert_eq!(b.snapshot(0).open_until, 50);
    let r = b.try_acquire(49).unwrap_err();
    assert_eq!((r.state, r.retry_after), (State::Open, 1));
    let p = b
        .try_acquire(50)
        .expect("a probe at the end of the host's period");
    assert!(p.is_probe());
    assert_eq!(p.transition.map(|t| t.to), Some(State::HalfOpen));
    assert!(
        !b.set_open_duration(10),
        "only an open breaker takes a period"
    );
    assert_eq!(b.state(), State::HalfOpen);
    b.release(p, 50);
}

#[test]
fn a_saved_open_state_comes_back_with_its_start_and_attempt() {
    let mut b = B10::new(cfg()).unwrap();
    let t = b.restore_open(1000, 900, 300, 3);
    assert_eq!(
        t.map(|t| (t.to, t.reason)),
        Some((State::Open, Reason::Host))
    );
    let s = b.snapshot(1000);
    assert_eq!(
        (s.state, s.since, s.open_until, s.reopens),
        (State::Open, 900, 1200, 3)
    );
    assert!(b.try_acquire(1199).is_err());
    let p = b.try_acquire(1200).unwrap();
    assert!(p.is_probe());
    // a failed probe reopens as the 4th attempt
    b.record(p, Outcome::Failure, 0, 1200);
    assert_eq!(b.snapshot(1200).reopens, 4);
    // a period long over: the next call is a probe
    let mut b = B10::new(cfg()).unwrap();
    b.restore_open(1000, 0, 300, 1);
    assert!(b.try_acquire(1000).unwrap().is_probe());
    // already open: the new period, no transition
    let mut b = tripped(cfg());
    assert_eq!(b.restore_open(5, 5, 7, 2), None);
    assert_eq!(b.snapshot(5).open_until, 12);
}

#[test]
fn tolerated_probe_failures_reopen_only_beyond_the_tolerance() {
    let config = BreakerConfig {
        half_open_probes: 4,
        ..cfg()
    };
    let half_open = |b: &mut B10| {
        let t = b.snapshot(0).open_until;
        (0..4)
            .map(|_| b.try_acquire(t).unwrap())
            .collect::<Vec<_>>()
    };
    // one failure of four tolerated: closes when all four settled
    let mut b = tripped(config);
    b.set_half_open_tolerance(1);
    assert_eq!(b.half_open_tolerance(), 1);
    let mut p = half_open(&mut b);
    assert_eq!(b.record(p.remove(0), Outcome::Failure, 0, 1000), None);
    assert_eq!(b.record(p.remove(0), Outcome::Success, 0, 1000), None);
    assert_eq!(b.record(p.remove(0), Outcome::Success, 0, 1000), None);
    let t = b.record(p.remove(0), Outcome::Success, 0, 1000);
    assert_eq!(
        t.map(|t| (t.to, t.reason)),
        Some((State::Closed, Reason::ProbesPassed))
    );
    // the second failure reopens at once, with probes still out
    let mut b = tripped(config);
    b.set_half_open_tolerance(1);
    let mut p = half_open(&mut b);
    assert_eq!(b.record(p.remove(0), Outcome::Failure, 0, 1000), None);
    let t = b.record(p.remove(0), Outcome::Failure, 0, 1000);
    assert_eq!(
        t.map(|t| (t.to, t.reason)),
        Some((State::Open, Reason::ProbesFailed))
    );
    for q in p {
        assert_eq!(
            b.record(q, Outcome::Success, 0, 1000),
            None,
            "late probes do not move it"
        );
    }
    // no tolerance: the first failure reopens (AllSucceed as documented)
    let mut b = tripped(config);
    let mut p = half_open(&mut b);
    let t = b.record(p.remove(0), Outcome::Failure, 0, 1000);
    assert_eq!(t.map(|t| t.to), Some(State::Open));
    for q in p {
        b.release(q, 1000);
    }
}

/// Records `n` failures at `now`; the first transition, if any.
fn fail_n<W: Window>(b: &mut Breaker<W>, n: u32, now: u64) -> Option<Transition> {
    for _ in 0..n {
        let p = b.try_acquire(now).unwrap();
        if let Some(t) = b.record(p, Outcome::Failure, 0, now) {
            return Some(t);
        }
    }
    None
}

#[test]
fn failures_before_trip_is_exact_for_a_run_and_never_too_many() {
    let mut b = B10::new(BreakerConfig {
        failure_rate: None,
        consecutive_failures: Some(5),
        ..cfg()
    })
    .unwrap();
    assert_eq!(b.failures_before_trip(0, 100), 4);
    assert_eq!(b.failures_before_trip(0, 3), 3, "at most the limit");
    fail_n(&mut b, 2, 0);
    assert_eq!(b.failures_before_trip(0, 100), 2);
    assert_eq!(fail_n(&mut b, 2, 0), None);
    assert_eq!(b.failures_before_trip(0, 100), 0);
    assert_eq!(fail_n(&mut b, 1, 0).map(|t| t.to), Some(State::Open));
    assert_eq!(b.failures_before_trip(0, 100), 0, "not closed");

    // Rate rules, count and time windows, from many mixes of outcomes: the
    // failures it allows never trip, and the next one is the first that may.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..if cfg!(miri) { 24 } else { 400u32 } {
        let min_calls = 1 + round % 10;
        let comparison = if round % 2 == 0 {
            Comparison::AtLeast
        } else {
            Comparison::Above
        };
        let config = BreakerConfig {
            failure_rate: Some(Ratio::percent(10 + (round % 8) * 10)),
            consecutive_failures: (round % 3 == 0).then_some(3 + round % 5),
            min_calls,
            comparison,
            reset_window_on_close: false,
            ..BreakerConfig::new(crate::TickUnit::MILLIS)
        };
        let mut count = Breaker::<CountWindow<10>>::new(config).unwrap();
        let mut time: Breaker<TimeWindow<4, 0>> =
            Breaker::with_window(config, TimeWindow::new(100, 4).unwrap()).unwrap();
        for _ in 0..(round % 15) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let o = if seed % 3 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            if let Ok(p) = count.try_acquire(0) {
                count.record(p, o, 0, 0);
            }
            if let Ok(p) = time.try_acquire(0) {
                time.record(p, o, 0, 0);
            }
        }
        if count.state() == State::Closed {
            let h = count.failures_before_trip(0, 64);
            assert_eq!(fail_n(&mut count, h, 0), None, "round {round}: {h} allowed");
        }
        if time.state() == State::Closed {
            let h = time.failures_before_trip(0, 64);
            assert_eq!(fail_n(&mut time, h, 0), None, "round {round}: {h} allowed");
            // a time window's bound is exact: the next failure trips
            if h < 64 {
                assert!(fail_n(&mut time, 1, 0).is_some(), "round {round}");
            }
        }
    }
}
