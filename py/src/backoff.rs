//! `Backoff`: the core's delay schedules, in seconds.

use fusewire::{Jitter, Rng, Schedule};
use pyo3::prelude::*;

use crate::clock::{duration, positive_duration, seconds};
use crate::errors::{config_error, from_core};
use crate::int::Int;

/// A `Backoff` as `_restore` takes it: jitter name, the schedule's two
/// numbers (ticks, or ticks and the factor in thousandths), its kind
/// (0 constant, 1 linear, 2 exponential), jitter percent, cap.
type Parts = (&'static str, u64, u64, u8, u8, u64);

/// Most delays `Backoff.delays(n)` lists at once: a preview, not a stream.
const MAX_PREVIEW: u32 = 1 << 16;

/// A validated delay schedule (schedule, cap, jitter), shared by `Retrying`
/// and the breaker's `open_duration`.
#[pyclass(module = "fusewire._native", frozen, from_py_object)]
#[derive(Clone, Copy)]
pub struct Backoff {
    pub inner: fusewire::Backoff,
}

fn jitter(name: &str, percent: Option<Int<u8>>) -> PyResult<Jitter> {
    let percent = match percent {
        Some(p) => Some(p.get("jitter_percent")?),
        None => None,
    };
    let j = match name {
        "none" => Jitter::None,
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "decorrelated" => Jitter::Decorrelated,
        "proportional" => Jitter::Proportional {
            percent: percent.ok_or_else(|| {
                config_error(
                    "jitter_percent",
                    "is required when jitter is 'proportional'",
                )
            })?,
        },
        _ => {
            return Err(config_error(
                "jitter",
                "must be one of 'none', 'full', 'equal', 'decorrelated', 'proportional'",
            ))
        }
    };
    if percent.is_some() && !matches!(j, Jitter::Proportional { .. }) {
        return Err(config_error(
            "jitter_percent",
            "is only used with jitter='proportional'",
        ));
    }
    Ok(j)
}

fn build(schedule: Schedule, jitter: Jitter, cap: u64) -> PyResult<Backoff> {
    fusewire::Backoff::new(schedule, jitter, cap)
        .map(|inner| Backoff { inner })
        .map_err(|e| {
            from_core(e, &|f| {
                match f {
                    "schedule.delay" => "delay",
                    "schedule.base" => "base",
                    "schedule.factor_milli" => "factor",
                    "jitter.percent" => "jitter_percent",
                    other => other,
                }
                .to_owned()
            })
        })
}

fn cap_ticks(cap: Option<f64>) -> PyResult<u64> {
    match cap {
        None => Ok(u64::MAX),
        Some(c) => duration("cap", c),
    }
}

#[pymethods]
impl Backoff {
    /// The same delay every time.
    #[staticmethod]
    #[pyo3(signature = (delay, *, jitter="none", jitter_percent=None, cap=None))]
    fn constant(
        delay: f64,
        jitter: &str,
        jitter_percent: Option<Int<u8>>,
        cap: Option<f64>,
    ) -> PyResult<Self> {
        let delay = positive_duration("delay", delay)?;
        let j = self::jitter(jitter, jitter_percent)?;
        let cap = match cap {
            None if matches!(j, Jitter::None) => delay,
            other => cap_ticks(other)?,
        };
        build(Schedule::Constant { delay }, j, cap)
    }

    /// `base + step * n` seconds.
    #[staticmethod]
    #[pyo3(signature = (base, step, *, jitter="none", jitter_percent=None, cap=None))]
    fn linear(
        base: f64,
        step: f64,
        jitter: &str,
        jitter_percent: Option<Int<u8>>,
        cap: Option<f64>,
    ) -> PyResult<Self> {
        let base = positive_duration("base", base)?;
        let step = duration("step", step)?;
        build(
            Schedule::Linear { base, step },
            self::jitter(jitter, jitter_percent)?,
            cap_ticks(cap)?,
        )
    }

    /// `base * factor ** n` seconds; `factor` at least 1.0 (kept to 1/1000).
    #[staticmethod]
    #[pyo3(signature = (base, factor=2.0, *, jitter="none", jitter_percent=None, cap=None))]
    fn exponential(
        base: f64,
        factor: f64,
        jitter: &str,
        jitter_percent: Option<Int<u8>>,
        cap: Option<f64>,
    ) -> PyResult<Self> {
        let base = positive_duration("base", base)?;
        if !(1.0..=4_294_967.0).contains(&factor) {
            return Err(config_error("factor", "must be between 1.0 and 4294967.0"));
        }
        let factor_milli = (factor * 1000.0).round() as u32;
        build(
            Schedule::Exponential { base, factor_milli },
            self::jitter(jitter, jitter_percent)?,
            cap_ticks(cap)?,
        )
    }

    /// The first `n` delays in seconds for jitter seed `seed`, as a retry
    /// would draw them (for previews and tests).
    #[pyo3(signature = (n, *, seed=Int::of(0)), text_signature = "($self, /, n, *, seed=0)")]
    fn delays(&self, n: Int<u32>, seed: Int<u64>) -> PyResult<Vec<f64>> {
        let n = n.get("n")?;
        if n > MAX_PREVIEW {
            return Err(config_error(
                "n",
                &format!("must be at most {MAX_PREVIEW} (a preview of the first delays)"),
            ));
        }
        let mut rng = Rng::new(seed.get("seed")?);
        let mut prev = 0;
        Ok((0..n)
            .map(|i| {
                let d = self.inner.delay(i, prev, &mut rng);
                prev = d;
                seconds(d)
            })
            .collect())
    }

    /// Pickles by value (a `Backoff` has no state).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Parts)> {
        let b = slf.get().inner;
        let (kind, x, y) = match b.schedule() {
            Schedule::Constant { delay } => (0, delay, 0),
            Schedule::Linear { base, step } => (1, base, step),
            Schedule::Exponential { base, factor_milli } => (2, base, u64::from(factor_milli)),
        };
        let (j, pct) = match b.jitter() {
            Jitter::None => ("none", 0),
            Jitter::Full => ("full", 0),
            Jitter::Equal => ("equal", 0),
            Jitter::Decorrelated => ("decorrelated", 0),
            Jitter::Proportional { percent } => ("proportional", percent),
        };
        let restore = slf.get_type().getattr("_restore")?;
        Ok((restore, (j, x, y, kind, pct, b.cap())))
    }

    /// Rebuilds a pickled `Backoff` (ticks and the core's own fields).
    #[staticmethod]
    fn _restore(jitter: &str, x: u64, y: u64, kind: u8, percent: u8, cap: u64) -> PyResult<Self> {
        let schedule = match kind {
            0 => Schedule::Constant { delay: x },
            1 => Schedule::Linear { base: x, step: y },
            _ => Schedule::Exponential {
                base: x,
                factor_milli: u32::try_from(y).unwrap_or(u32::MAX),
            },
        };
        let percent = (jitter == "proportional").then_some(Int::of(percent));
        build(schedule, self::jitter(jitter, percent)?, cap)
    }

    /// The schedule's delay for attempt `n` (0 for the first) before any
    /// jitter, capped, in seconds.
    fn raw(&self, n: Int<u32>) -> PyResult<f64> {
        Ok(seconds(self.inner.raw(n.get("n")?)))
    }

    /// The cap, in seconds (`inf` when none).
    #[getter]
    fn cap(&self) -> f64 {
        seconds(self.inner.cap())
    }

    fn __repr__(&self) -> String {
        let j = match self.inner.jitter() {
            Jitter::None => "none".to_owned(),
            Jitter::Full => "full".to_owned(),
            Jitter::Equal => "equal".to_owned(),
            Jitter::Decorrelated => "decorrelated".to_owned(),
            Jitter::Proportional { percent } => format!("proportional({percent}%)"),
        };
        let cap = seconds(self.inner.cap());
        match self.inner.schedule() {
            Schedule::Constant { delay } => {
                format!(
                    "Backoff.constant({}, jitter={j}, cap={cap})",
                    seconds(delay)
                )
            }
            Schedule::Linear { base, step } => format!(
                "Backoff.linear({}, {}, jitter={j}, cap={cap})",
                seconds(base),
                seconds(step)
            ),
            Schedule::Exponential { base, factor_milli } => format!(
                "Backoff.exponential({}, {}, jitter={j}, cap={cap})",
                seconds(base),
                f64::from(factor_milli) / 1000.0
            ),
        }
    }
}
